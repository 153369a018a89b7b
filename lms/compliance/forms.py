"""Forms that create, edit, adapt and retire compliance rules."""

from decimal import Decimal, InvalidOperation
from typing import Optional as OptionalType

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import (
    BooleanField,
    DateField,
    Field,
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
    StopValidation,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from lms import labels
from lms.accounts.models import Post, Role
from lms.choice_fields import SelectField, SelectMultipleField
from lms.compliance.models import (
    MONTHS_WINDOWS,
    POST_START_WINDOWS,
    ROLLING_WINDOWS,
    CadreRank,
    WindowKind,
)
from lms.compliance.windows import local_today
from lms.compliance import rule_admin
from lms.compliance.rule_admin import EDITABLE_FIELDS
from lms.form_messages import PlatformForm
from lms.i18n import format_date
from lms.input_ranges import DateInRange, finite_decimal
from lms.records.models import TrainingKind, TrainingTier

WINDOW_KIND_LABELS = {
    WindowKind.CALENDAR_YEAR.value: _l("Calendar year, due on 31 December"),
    WindowKind.ROLLING_YEARS.value: _l("Rolling years ending today"),
    WindowKind.BEFORE_POST.value: _l("Months before taking up the post"),
    WindowKind.AROUND_POST_START.value: _l(
        "Months before taking up the post and the first months in it"
    ),
    WindowKind.PROBATION.value: _l("Probation of a probationary Party member"),
    WindowKind.FIRST_MEMBER_YEAR.value: _l("First year as a full Party member"),
    WindowKind.ROLLING_YEARS_AFTER_RANK.value: _l(
        "Rolling years ending today, with months after reaching the rank to"
        " make up a shortfall"
    ),
}
labels.register("window_kind", WINDOW_KIND_LABELS)
labels.register("WindowKind", WINDOW_KIND_LABELS)

#: Upper bounds that keep values inside their columns and catch typing errors.
MAX_MIN_HOURS = Decimal("99999.9")
MAX_MIN_DAYS = Decimal("999.9")
#: A training day longer than a whole day is a typing error.
MAX_HOURS_PER_DAY = Decimal(24)
MAX_WINDOW_YEARS = 20
MAX_WINDOW_MONTHS = 120
MAX_AT_RISK_DAYS = 3650
MAX_MIN_COUNT = 1000

CODE_PATTERN = Regexp(
    r"^[a-z0-9][a-z0-9-]*$",
    message=_l("Use lower-case letters, digits and hyphens, e.g. school-yearly-20."),
)


class DecimalInputField(Field):
    """Decimal with at most one decimal place, as the rule columns store.

    Text, NaN, infinity and a second decimal place are rejected with one
    message, because WTForms' ``DecimalField`` accepts NaN and infinity.
    """

    widget = TextInput()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return format(self.data.normalize(), "f") if self.data else "0"

    def process_formdata(self, valuelist) -> None:
        self.data = None
        value = finite_decimal(valuelist, _("Enter a number, e.g. 16 or 7.5."))
        if value is None:
            return
        try:
            rounded = value.quantize(Decimal("0.1"))
        except InvalidOperation:
            # Too many digits to round, so far beyond the range check's maximum.
            rounded = value
        if value != rounded:
            raise ValueError(_("Use at most one decimal place, e.g. 7.5."))
        self.data = value

    def pre_validate(self, form) -> None:
        # Skip the range check, whose message would repeat the parse error.
        if self.process_errors:
            raise StopValidation()


class CheckboxListField(SelectMultipleField):
    """Several values picked from a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _choices(enum_cls, table: dict) -> list[SelectChoice]:
    return [SelectChoice(member.value, table[member.value]) for member in enum_cls]


def _cadre_rank_choices() -> list[SelectChoice]:
    from lms.records.events import CADRE_RANK

    return _choices(CadreRank, CADRE_RANK)


def _positive_decimal(maximum: Decimal) -> NumberRange:
    return NumberRange(
        min=Decimal("0.1"),
        max=maximum,
        message=_l(
            "Enter a number from 0.1 to %(max)s.", max=format(maximum.normalize(), "f")
        ),
    )


class RuleForm(PlatformForm):
    """The values of an institution's rule. ``code`` is asked only for a new rule."""

    code = StringField(
        _l("Code"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[Optional(), Length(max=64), CODE_PATTERN],
        description=_l("A short name that stays the same when the rule changes."),
    )
    name = StringField(
        _l("Rule name"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[DataRequired(), Length(max=200)],
    )
    source = TextAreaField(
        _l("Source"),
        validators=[Length(max=2000)],
        description=_l("The document the rule comes from, with the article if known."),
    )
    verified = BooleanField(_l("The values were checked against the official text"))

    roles = CheckboxListField(_l("Roles"), validators=[Optional()])
    posts = CheckboxListField(
        _l("Posts"),
        validators=[Optional()],
        description=_l("Leave every post unticked to cover people of any post."),
    )
    full_time_only = BooleanField(_l("Only full-time staff"))
    party_member_only = BooleanField(_l("Only Party members (probationary included)"))
    party_committee_only = BooleanField(
        _l("Only secretaries and committee members of grassroots Party organisations")
    )
    cadre_ranks = CheckboxListField(
        _l("Cadre ranks"),
        validators=[Optional()],
        description=_l("Leave every rank unticked to cover people with or without a rank."),
    )
    new_to_post = BooleanField(_l("Only people new to their post"))
    new_to_post_months = IntegerField(
        _l("Months a person counts as new to the post"),
        default=12,
        validators=[
            InputRequired(),
            NumberRange(min=1, max=MAX_WINDOW_MONTHS),
        ],
        description=_l(
            "Also the number of first months in the post that the window"
            " “before taking up the post and the first months in it” counts."
        ),
    )

    window_kind = SelectField(_l("Window"), validators=[InputRequired()])
    skip_post_start_year = BooleanField(
        _l("Do not judge the calendar year in which the person took up the post"),
        description=_l(
            "Only for a calendar-year window. Ticked, the rule is judged from the"
            " first full calendar year in the post, so a counselor who starts in"
            " September owes no minimum for that year. A post that started on"
            " 1 January is judged in that year."
        ),
    )
    window_years = IntegerField(
        _l("Window length in years"),
        validators=[Optional(), NumberRange(min=1, max=MAX_WINDOW_YEARS)],
        description=_l("Only for a rolling window."),
    )
    window_months = IntegerField(
        _l("Months before taking up the post, or after reaching the rank"),
        validators=[Optional(), NumberRange(min=1, max=MAX_WINDOW_MONTHS)],
        description=_l(
            "Only for a window counted from the post start date (months before"
            " taking up the post that count), or for rolling years with months"
            " after reaching the rank (months a cadre promoted short of the"
            " minimum has to make it up)."
        ),
    )

    min_hours = DecimalInputField(
        _l("Minimum hours"),
        validators=[Optional(), _positive_decimal(MAX_MIN_HOURS)],
        description=_l("Fill in this or the minimum number of trainings, not both."),
    )
    min_count = IntegerField(
        _l("Minimum number of trainings"),
        validators=[Optional(), NumberRange(min=1, max=MAX_MIN_COUNT)],
        description=_l("Each programme or external training counts once."),
    )
    min_days = DecimalInputField(
        _l("Or minimum training days"),
        validators=[Optional(), _positive_decimal(MAX_MIN_DAYS)],
        description=_l("Optional, for a minimum of hours: days that meet the rule as well."),
    )
    hours_per_day = DecimalInputField(
        _l("Hours per training day"),
        validators=[Optional(), _positive_decimal(MAX_HOURS_PER_DAY)],
        description=_l(
            "Trainings recorded in hours only, such as courses, count one day for"
            " this many hours. External trainings and classes count their own days."
        ),
    )
    tiers = CheckboxListField(
        _l("Tiers that count"),
        validators=[Optional()],
        description=_l("Leave every tier unticked to count every tier."),
    )
    kinds = CheckboxListField(
        _l("Kinds that count"),
        validators=[Optional()],
        description=_l(
            "Leave every kind unticked to count every kind and hours recorded without one."
        ),
    )
    excluded_kinds = CheckboxListField(
        _l("Kinds that never count"),
        validators=[Optional()],
        description=_l("Hours recorded without a kind still count."),
    )
    at_risk_days = IntegerField(
        _l("Days before the deadline from which a shortfall is at risk"),
        default=60,
        validators=[InputRequired(), NumberRange(min=0, max=MAX_AT_RISK_DAYS)],
    )
    in_force_from = DateField(
        _l("In force from"),
        validators=[Optional(), DateInRange()],
        description=_l(
            "Calendar years that ended before this day are judged by the national"
            " rule of the same code, or by no rule when there is none. Leave it"
            " empty to judge every year by this rule."
        ),
    )

    def __init__(self, *args, institution_id: OptionalType[int] = None, **kwargs):
        """With ``institution_id``, the form requests the code of a new rule of that institution."""
        super().__init__(*args, **kwargs)
        self.institution_id = institution_id
        self.roles.choices = _choices(Role, labels.ROLE)
        self.posts.choices = _choices(Post, labels.POST)
        self.cadre_ranks.choices = _cadre_rank_choices()
        self.window_kind.choices = _choices(WindowKind, WINDOW_KIND_LABELS)
        self.tiers.choices = _choices(TrainingTier, labels.TRAINING_TIER)
        self.kinds.choices = _choices(TrainingKind, labels.TRAINING_KIND)
        self.excluded_kinds.choices = _choices(TrainingKind, labels.TRAINING_KIND)

    def fill(self, rule) -> None:
        """Show the values of ``rule``, for an edit or an adaptation."""
        for name in EDITABLE_FIELDS:
            value = getattr(rule, name)
            getattr(self, name).data = value.value if name == "window_kind" else value

    def values(self) -> dict:
        """Return the checked values by column name."""
        values = {name: getattr(self, name).data for name in EDITABLE_FIELDS}
        values["window_kind"] = WindowKind(self.window_kind.data)
        values["source"] = (values["source"] or "").strip()
        return values

    def validate(self, extra_validators=None) -> bool:
        """Run the field validators, then the checks that compare fields.

        The cross-field checks run here rather than as ``validate_<field>``
        methods because ``Optional`` stops those on an empty field, and an
        empty field is what most of them look for.
        """
        valid = super().validate(extra_validators)
        for field, message in self._cross_field_problems():
            if not field.errors:
                field.errors = [*field.errors, message]
                valid = False
        return valid

    def validate_in_force_from(self, field) -> None:
        today = local_today(current_user.institution)
        if field.data is not None and field.data > today:
            raise ValidationError(
                _(
                    "%(date)s is after today (%(today)s). Enter today or an earlier day.",
                    date=format_date(field.data),
                    today=format_date(today),
                )
            )

    def _cross_field_problems(self):
        """Yield (field, message) for each value that contradicts another one."""
        yield from self._code_problems()
        if not self.roles.errors and not self.roles.data:
            yield self.roles, _("Tick at least one role that the rule covers.")
        yield from self._window_problems()
        yield from self._minimum_problems()
        both = [kind for kind in self.excluded_kinds.data or [] if kind in (self.kinds.data or [])]
        if both:
            yield self.excluded_kinds, _(
                "%(kinds)s cannot both count and never count. Untick it here"
                " or under the kinds that count.",
                kinds=_(", ").join(str(labels.label(kind, "kind")) for kind in both),
            )

    def _code_problems(self):
        code = self.code.data
        if self.institution_id is None or self.code.errors:
            return
        if not code:
            yield self.code, _("Enter a code, e.g. school-yearly-20.")
        elif code in rule_admin.national_codes():
            yield self.code, _(
                "%(code)s is the code of a national rule. Choose another code,"
                " or adapt the national rule from the rules page.",
                code=code,
            )
        elif rule_admin.own_rule_with_code(self.institution_id, code) is not None:
            yield self.code, code_taken_message(code)

    def _window_problems(self):
        kind = self.window_kind.data
        if self.skip_post_start_year.data and kind != WindowKind.CALENDAR_YEAR.value:
            yield self.skip_post_start_year, _(
                "Only a calendar-year window judges whole years. Untick this box,"
                " or choose the calendar-year window."
            )
        rolling = kind in {window.value for window in ROLLING_WINDOWS}
        from_post = kind in {window.value for window in POST_START_WINDOWS}
        with_months = kind in {window.value for window in MONTHS_WINDOWS}
        if not self.window_years.errors:
            if rolling and self.window_years.data is None:
                yield self.window_years, _(
                    "Enter the number of years of the rolling window."
                )
            if not rolling and self.window_years.data is not None:
                yield self.window_years, _(
                    "Only a rolling window has a length in years. Clear this field."
                )
        if not self.window_months.errors:
            if from_post and self.window_months.data is None:
                yield self.window_months, _(
                    "Enter how many months before taking up the post count."
                )
            if (
                kind == WindowKind.ROLLING_YEARS_AFTER_RANK.value
                and self.window_months.data is None
            ):
                yield self.window_months, _(
                    "Enter how many months after reaching the rank a cadre has"
                    " to make up a shortfall, e.g. 12."
                )
            if not with_months and self.window_months.data is not None:
                yield self.window_months, _(
                    "Only a window counted from the post start date, or rolling"
                    " years with months after reaching the rank, uses these"
                    " months. Clear this field."
                )

    def _minimum_problems(self):
        hours, count = self.min_hours.data, self.min_count.data
        days, per_day = self.min_days.data, self.hours_per_day.data
        if self.min_hours.errors or self.min_count.errors:
            return
        if hours is None and count is None:
            yield self.min_count, _(
                "Enter a minimum number of trainings, or a minimum of hours."
            )
        if hours is not None and count is not None:
            yield self.min_count, _(
                "A rule has one minimum: clear either this field or the minimum of hours."
            )
        if self.min_days.errors or self.hours_per_day.errors:
            return
        if days is not None and count is not None:
            yield self.min_days, _(
                "Training days only count towards a minimum of hours. Clear this field."
            )
        if days is not None and per_day is None:
            yield self.hours_per_day, _(
                "Enter how many hours a training day is worth, e.g. 8."
            )
        if days is None and per_day is not None:
            yield self.hours_per_day, _(
                "Only a minimum of training days uses this value. Clear it, or"
                " enter the minimum training days."
            )


class RetireForm(PlatformForm):
    reason = TextAreaField(
        _l("Reason for retiring"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("Recorded in the audit log."),
    )


def code_taken_message(code: str) -> str:
    """Return the message for a code that another rule of the institution has."""
    return _(
        "%(code)s is already used by another rule of the institution,"
        " retired rules included. Choose another code.",
        code=code,
    )
