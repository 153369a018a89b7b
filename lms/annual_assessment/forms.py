"""Forms of the yearly assessment: scheme, achievements, self-report, scores,
and the online student evaluation."""


from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DecimalField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
)

from lms.annual_assessment.labels import COMPONENT_KIND, DUTY_LABELS
from lms.annual_assessment.models import ComponentKind
from lms.choice_fields import SelectField
from lms.form_messages import PlatformForm
from lms.input_ranges import DateInRange, finite_decimal
from lms.records.events import ASSESSMENT_GRADE_LABELS


def finite_number(form, field) -> None:
    """Reject NaN and infinity in a DecimalField before any range check.

    Comparing a NaN Decimal raises InvalidOperation, so this validator stops
    the chain instead of letting NumberRange or the scheme rules compare it.
    """
    if field.data is not None and not field.data.is_finite():
        raise StopValidation(_l("Enter a number such as 25 or 33.3."))


def one_decimal_place(form, field) -> None:
    """Reject more than one decimal place, which storage would round away."""
    if field.data is not None and field.data.normalize().as_tuple().exponent < -1:
        raise StopValidation(_l("Enter at most one decimal place, such as 33.3."))


#: Blank rows offered for components and bands; blank rows are ignored.
COMPONENT_ROWS = 6
BAND_ROWS = 6
#: Enough rows for the nine duties and one more.
DIMENSION_ROWS = 10


class SchemeNumberField(DecimalField):
    """Decimal field of a scheme row that rejects text, NaN and infinity with one message.

    WTForms' ``DecimalField`` accepts "NaN" and "Infinity", and a NaN makes
    the range checks of ``scoring`` raise ``decimal.InvalidOperation``.
    """

    def process_formdata(self, valuelist) -> None:
        self.data = None
        self.data = finite_decimal(valuelist, _("Enter a number such as 25 or 33.3."))


class SchemeRow(PlatformForm):
    """A scheme form row; a PlatformForm so that WTForms' messages are reworded."""

    class Meta:
        # The scheme form around the rows carries the CSRF token.
        csrf = False


class ComponentRow(SchemeRow):
    name = StringField(_l("Component"), validators=[Optional(), Length(max=100)])
    kind = SelectField(
        _l("Scored by"),
        validate_choice=False,
        choices=[SelectChoice(kind.value, COMPONENT_KIND[kind.value]) for kind in ComponentKind],
    )
    weight = SchemeNumberField(_l("Weight"), places=1, validators=[Optional()])
    bonus_cap = SchemeNumberField(_l("Bonus cap"), places=1, validators=[Optional()])


class BandRow(SchemeRow):
    name = StringField(_l("Band name"), validators=[Optional(), Length(max=32)])
    min_score = SchemeNumberField(_l("Lower bound"), places=1, validators=[Optional()])
    grade = SelectField(
        _l("Record grade"),
        validate_choice=False,
        choices=[SelectChoice(value, label) for value, label in ASSESSMENT_GRADE_LABELS.items()],
    )


class DimensionRow(SchemeRow):
    name = StringField(_l("Dimension"), validators=[Optional(), Length(max=100)])
    min_score = IntegerField(_l("Lowest score"), validators=[Optional()])
    max_score = IntegerField(_l("Highest score"), validators=[Optional()])


class SchemeForm(PlatformForm):
    year = IntegerField(
        _l("Year"), validators=[InputRequired(), NumberRange(min=2000, max=2100)]
    )
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    min_sample_percent = DecimalField(
        _l("Minimum student sample (percent of the counselor's students)"),
        places=1,
        validators=[InputRequired(), finite_number, one_decimal_place, NumberRange(min=1, max=100)],
    )
    correction_reason = TextAreaField(
        _l("Reason for the correction"), validators=[Length(max=500)]
    )
    components = FieldList(FormField(ComponentRow), min_entries=COMPONENT_ROWS)
    bands = FieldList(FormField(BandRow), min_entries=BAND_ROWS)
    dimensions = FieldList(FormField(DimensionRow), min_entries=DIMENSION_ROWS)


class AchievementForm(PlatformForm):
    occurred_on = DateField(_l("Date"), validators=[InputRequired(), DateInRange()])
    duty = SelectField(
        _l("Duty"),
        choices=[SelectChoice(value, label) for value, label in DUTY_LABELS.items()],
    )
    description = TextAreaField(
        _l("Description"), validators=[DataRequired(), Length(max=2000)]
    )
    evidence = FileField(_l("Evidence (optional: a PDF, JPG, PNG or DOCX file)"))


class SelfReportForm(PlatformForm):
    self_report = TextAreaField(_l("Self-report"), validators=[Length(max=10000)])


class ActionForm(PlatformForm):
    """A button that posts with a CSRF token and nothing else."""


class ScoreForm(PlatformForm):
    score = StringField(_l("Score"))
    sample_size = StringField(_l("Sampled students"))
    student_count = StringField(_l("Number of students"))


class FinaliseForm(PlatformForm):
    """Finalises an assessment; a filing the counselor never submitted needs a reason."""

    unsubmitted_reason = TextAreaField(
        _l("Reason to finalise without the counselor's submitted filing"),
        validators=[Length(max=500)],
    )


class ReopenForm(PlatformForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class ImportForm(PlatformForm):
    file = FileField(_l("File"))


class ImportConfirmForm(PlatformForm):
    """Confirms a previewed score sheet; ``digest`` fingerprints the changes shown."""

    token = HiddenField()
    digest = HiddenField()


class OpenEvaluationForm(PlatformForm):
    # Text fields: the evaluation service checks the numbers and names the fix.
    student_count = StringField(_l("Number of students the counselor serves"))
    code_count = StringField(_l("Number of codes (empty for the minimum sample)"))


class AddCodesForm(PlatformForm):
    code_count = StringField(_l("Number of codes"))


class VoidCodesForm(PlatformForm):
    # A text field: the evaluation service checks each entry and names the fix.
    codes = TextAreaField(
        _l("Codes to void"),
        description=_l(
            "Numbers from the No. column of the code file, or the codes themselves, "
            "separated by commas or spaces."
        ),
    )


class DiscardEvaluationForm(PlatformForm):
    reason = TextAreaField(_l("Reason to discard the evaluation"))


class CodeLookupForm(PlatformForm):
    """The public form where a student types a code; a GET form without CSRF."""

    class Meta:
        csrf = False

    code = StringField(_l("Access code"), validators=[DataRequired(), Length(max=64)])


class StudentEvaluationForm(PlatformForm):
    """A student's scores; ``for_dimensions`` adds one field per dimension."""

    code = HiddenField()
    comment = TextAreaField(_l("Comment (optional)"), validators=[Length(max=1000)])

    @classmethod
    def for_dimensions(cls, dimensions) -> type["StudentEvaluationForm"]:
        """Return a form class with a required whole-number field per dimension."""

        class Scores(cls):
            pass

        for dimension in dimensions:
            message = _l(
                "Choose a score from %(low)s to %(high)s.",
                low=dimension.min_score,
                high=dimension.max_score,
            )
            field = IntegerField(
                dimension.name,
                validators=[
                    InputRequired(message=message),
                    NumberRange(dimension.min_score, dimension.max_score, message=message),
                ],
            )
            setattr(Scores, f"dimension_{dimension.id}", field)
        return Scores
