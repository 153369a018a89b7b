"""Forms for promotion rules, applications and review decisions."""

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
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
    Regexp,
    ValidationError,
)

from lms import labels
from lms.choice_fields import RadioField, SelectField
from lms.extensions import db
from lms.form_messages import PlatformForm
from lms.promotion.models import (
    COMPETENCY_LEVELS,
    GRADE_ORDER,
    STEP_NAMES,
    TRACK_STEPS,
    PromotionRule,
    PromotionTrack,
    ReviewOutcome,
)

TRACK_LABELS = {
    "competency_level": _l("Competency level"),
    "professional_title": _l("Professional title"),
    "administrative_rank": _l("Administrative rank"),
}
labels.register("promotion_track", TRACK_LABELS)

OUTCOME_LABELS = {
    "approve": _l("Approve"),
    "return": _l("Return for changes"),
    "reject": _l("Reject the application"),
}

#: Labels of recorded decisions in the review history and exports, in the past tense.
DECISION_LABELS = {
    "approve": _l("Approved"),
    "return": _l("Returned for changes"),
    "reject": _l("Rejected"),
}

_BLANK = SelectChoice("", _l("None"))


#: Label table (a ``lms.labels.label`` table name) of each track's steps.
#: STEP_NAMES contains the stored Chinese names, which are not translated.
_STEP_LABEL_TABLES = {
    PromotionTrack.COMPETENCY_LEVEL: "level",
    PromotionTrack.PROFESSIONAL_TITLE: "professional_title",
    PromotionTrack.ADMINISTRATIVE_RANK: "cadre_rank",
}


def _step_label(track: PromotionTrack, value: str) -> str:
    """Return a step's label in the reader's language, or its stored name."""
    # Registers the professional_title and cadre_rank tables.
    import lms.records.events  # noqa: F401

    translated = labels.label(value, _STEP_LABEL_TABLES[track])
    return translated if translated != value else STEP_NAMES[track][value]


def _step_choices() -> dict:
    """Group every step under its track, so one select serves all tracks."""
    return {
        str(TRACK_LABELS[track.value]): [
            SelectChoice(f"{track.value}:{value}", _step_label(track, value))
            for value in TRACK_STEPS[track]
        ]
        for track in PromotionTrack
    }


class RuleForm(PlatformForm):
    """Add or edit a promotion rule of the editor's institution."""

    code = StringField(
        _l("Code"),
        # Stripped before the checks, because the rule stores the stripped code.
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(
                r"^[a-z0-9][a-z0-9-]*$",
                message=_l(
                    "Use lower-case letters, digits and hyphens, e.g. title-lecturer."
                ),
            ),
        ],
    )
    name = StringField(_l("Rule name"), validators=[DataRequired(), Length(max=200)])
    from_step = SelectField(_l("From"), validators=[InputRequired()])
    to_step = SelectField(_l("To"), validators=[InputRequired()])
    min_years = IntegerField(
        _l("Minimum whole years in the current step"),
        default=0,
        validators=[InputRequired(), NumberRange(min=0, max=40)],
    )
    assessment_years = IntegerField(
        _l("Annual assessments checked (years before this one)"),
        validators=[Optional(), NumberRange(min=1, max=10)],
    )
    min_grade = SelectField(_l("Lowest accepted grade in each checked year"))
    min_excellent = IntegerField(
        _l("Excellent grades needed in the checked years"),
        default=0,
        validators=[InputRequired(), NumberRange(min=0, max=10)],
    )
    compliance_required = BooleanField(_l("No training-hour rule may be missed"))
    required_programme = SelectField(_l("Certificate of programme required"))
    required_level = SelectField(_l("Competency level required"))
    source = TextAreaField(_l("Source"), validators=[Length(max=2000)])
    active = BooleanField(_l("Active"), default=True)

    def __init__(self, *args, institution_id: int, rule=None, programmes=(), **kw):
        super().__init__(*args, **kw)
        self.institution_id = institution_id
        self.rule = rule
        steps = _step_choices()
        self.from_step.choices = steps
        self.to_step.choices = steps
        from lms.records.events import ASSESSMENT_GRADE_LABELS

        self.min_grade.choices = [_BLANK] + [
            SelectChoice(grade, ASSESSMENT_GRADE_LABELS[grade]) for grade in GRADE_ORDER
        ]
        self.required_programme.choices = [_BLANK] + [
            SelectChoice(str(programme.id), programme.title) for programme in programmes
        ]
        self.required_level.choices = [_BLANK] + [
            SelectChoice(value, _step_label(PromotionTrack.COMPETENCY_LEVEL, value))
            for value in COMPETENCY_LEVELS
        ]

    def validate_code(self, field) -> None:
        clash = db.session.scalar(
            sa.select(PromotionRule.id).where(
                PromotionRule.institution_id == self.institution_id,
                PromotionRule.code == field.data,
            )
        )
        if clash is not None and (self.rule is None or clash != self.rule.id):
            raise ValidationError(code_taken_message(field.data))

    def validate_to_step(self, field) -> None:
        from_track, _sep, from_value = (self.from_step.data or "").partition(":")
        to_track, _sep, to_value = (field.data or "").partition(":")
        if from_track != to_track:
            raise ValidationError(_("Choose a step on the same track as From."))
        # A value outside the listed steps already has the choice field's
        # error, and it may name no track at all.
        if to_track not in {track.value for track in PromotionTrack}:
            return
        steps = TRACK_STEPS[PromotionTrack(to_track)]
        if from_value not in steps or to_value not in steps:
            raise ValidationError(_("Choose a step from the list."))
        if steps.index(to_value) <= steps.index(from_value):
            raise ValidationError(_("Choose a step above From."))
        next_value = steps[steps.index(from_value) + 1]
        if to_value != next_value:
            raise ValidationError(
                _(
                    "A rule moves a person up one step, so choose %(next)s, "
                    "the step right after From.",
                    next=STEP_NAMES[PromotionTrack(to_track)][next_value],
                )
            )

    def validate_min_excellent(self, field) -> None:
        years = self.assessment_years.data
        if field.data and not years:
            raise ValidationError(
                _("Also set how many annual assessments are checked.")
            )
        if years and field.data and field.data > years:
            raise ValidationError(
                _(
                    "At most %(years)s, one per checked year.",
                    years=years,
                )
            )

    def validate_assessment_years(self, field) -> None:
        asks = bool(self.min_grade.data) or bool(self.min_excellent.data)
        if field.data and not asks:
            raise ValidationError(
                _(
                    "Choose a lowest grade or a number of "
                    "excellent grades, or leave this empty."
                )
            )

    def validate(self, extra_validators=None) -> bool:
        """Validate the fields, and require the years that a lowest grade applies to.

        ``Optional`` ends the checks of an empty field before its own
        validator runs, so the pair is checked here.
        """
        valid = super().validate(extra_validators)
        years = self.assessment_years
        if self.min_grade.data and years.data is None and not years.errors:
            years.errors.append(_("Set how many years the lowest grade applies to."))
            return False
        return valid

    def fill(self, rule: PromotionRule) -> None:
        """Copy the rule's values into an unsubmitted form."""
        self.code.data = rule.code
        self.name.data = rule.name
        self.from_step.data = f"{rule.track.value}:{rule.from_value}"
        self.to_step.data = f"{rule.track.value}:{rule.to_value}"
        self.min_years.data = rule.min_years
        self.assessment_years.data = rule.assessment_years
        self.min_grade.data = rule.min_grade or ""
        self.min_excellent.data = rule.min_excellent
        self.compliance_required.data = rule.compliance_required
        self.required_programme.data = (
            str(rule.required_programme_id) if rule.required_programme_id else ""
        )
        self.required_level.data = rule.required_level or ""
        self.source.data = rule.source
        self.active.data = rule.active

    def apply_to(self, rule: PromotionRule) -> None:
        """Copy the validated values onto ``rule``."""
        track, _sep, from_value = self.from_step.data.partition(":")
        rule.code = self.code.data.strip()
        rule.name = self.name.data.strip()
        rule.track = PromotionTrack(track)
        rule.from_value = from_value
        rule.to_value = self.to_step.data.partition(":")[2]
        rule.min_years = self.min_years.data
        rule.assessment_years = self.assessment_years.data or None
        rule.min_grade = self.min_grade.data or None
        rule.min_excellent = self.min_excellent.data or 0
        rule.compliance_required = self.compliance_required.data
        rule.required_programme_id = (
            int(self.required_programme.data) if self.required_programme.data else None
        )
        rule.required_level = self.required_level.data or None
        rule.source = (self.source.data or "").strip()
        rule.active = self.active.data


class ApplicationForm(PlatformForm):
    statement = TextAreaField(
        _l("Your statement to the reviewers"),
        validators=[Length(max=4000)],
        description=_l("Work achievements and anything the record does not show."),
    )


class DecisionForm(PlatformForm):
    #: The step and submission the page showed, so a decision sent after
    #: someone else decided that step is recognised as stale.
    step = HiddenField()
    revision = HiddenField()
    outcome = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice(outcome.value, OUTCOME_LABELS[outcome.value])
            for outcome in ReviewOutcome
        ],
        validators=[
            InputRequired(
                message=_l(
                    "Choose approve, return for changes or reject the application."
                )
            )
        ],
    )
    comment = TextAreaField(
        _l("Comment to the applicant"), validators=[Length(max=4000)]
    )
    #: Needed only to approve when the check at decision time fails.
    override_reason = TextAreaField(
        _l("Reason to approve despite the failed check"),
        validators=[Length(max=4000)],
    )

    def __init__(self, *args, rule_active: bool = True, **kw):
        super().__init__(*args, **kw)
        self.rule_active = rule_active

    def validate_outcome(self, field) -> None:
        if field.data == "approve" and not self.rule_active:
            raise ValidationError(
                _(
                    "Choose return for changes or reject: the rule of this "
                    "application is turned off, so it cannot be approved."
                )
            )

    def validate_comment(self, field) -> None:
        if self.outcome.data in ("return", "reject") and not (field.data or "").strip():
            raise ValidationError(
                _("Say what to change, or why the application is rejected.")
            )


class WithdrawForm(PlatformForm):
    confirm = BooleanField(
        _l("I want to withdraw this application"),
        validators=[
            DataRequired(message=_l("Tick the box to confirm the withdrawal."))
        ],
    )


class HrScopeForm(PlatformForm):
    """Limit an HR account to one department, or give it the whole institution."""

    department = SelectField(
        _l("Department HR scope"),
        validators=[
            InputRequired(
                message=_l(
                    "Department HR scope: choose a department or the whole institution."
                )
            )
        ],
    )

    def __init__(self, *args, departments=(), **kw):
        super().__init__(*args, **kw)
        self.department.choices = [SelectChoice("all", _l("Whole institution"))] + [
            SelectChoice(str(department.id), department.name)
            for department in departments
        ]


def code_taken_message(code: str) -> str:
    """Return the message for a code that another rule of the institution has."""
    return _("%(code)s is already used by another rule. Choose another code.", code=code)
