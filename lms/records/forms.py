"""Forms for HR-recorded events, the person profile and external trainings."""

from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
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

from lms.accounts.forms import MobilePhoneField
from lms.accounts.models import Gender, Post
from lms.choice_fields import RadioField, SelectField
from lms.compliance.explain import CADRE_RANK, PARTY_STATUS
from lms.compliance.models import CadreRank, PartyStatus
from lms.form_messages import PlatformForm
from lms.i18n import format_date
from lms.input_ranges import (
    EARLIEST_POST_START,
    EARLIEST_TRAINING,
    DateInRange,
    IsoDateField,
    finite_decimal,
    post_start_problem,
    training_date_problem,
)
from lms.labels import (
    GENDER,
    POST,
    PROGRESSION_KIND,
    TARGET_LEVEL,
    TRAINING_KIND,
    TRAINING_TIER,
)
from lms.records.day_cap import cap_hours_text, max_hours_per_day
from lms.records.events import (
    ADMINISTRATIVE_RANKS,
    ASSESSMENT_GRADE_LABELS,
    COMPETENCY_LEVELS,
    HR_KINDS,
    PROFESSIONAL_TITLE_LABELS,
    full_member_date_problem,
    probation_over,
)
from lms.records.models import ProgressionKind, TrainingKind, TrainingTier

_BLANK = SelectChoice("", _l("Choose…"))

#: Fields each kind of event needs besides the date and note.
REQUIRED_BY_KIND = {
    "assessment_grade": ("grade", "year"),
    "honour": ("honour_name", "honour_level", "year"),
    "title_change": ("professional_title",),
    "rank_change": ("rank",),
    "appointment": ("post",),
    "competency_level": ("competency_level",),
}


def _choices(labels: dict, values) -> list:
    return [_BLANK] + [SelectChoice(value, labels[value]) for value in values]


#: Earliest date an HR-recorded event may carry.
EARLIEST_EVENT = date(1950, 1, 1)


class ProgressionEventForm(PlatformForm):
    """One form for every HR-recorded kind; ``validate`` checks the kind's fields."""

    kind = SelectField(
        _l("Kind of event"),
        choices=[
            SelectChoice(kind.value, PROGRESSION_KIND[kind.value]) for kind in HR_KINDS
        ],
        validators=[InputRequired()],
    )
    occurred_on = IsoDateField(_l("Date"), validators=[InputRequired()])
    grade = SelectField(
        _l("Assessment grade"),
        choices=_choices(ASSESSMENT_GRADE_LABELS, ASSESSMENT_GRADE_LABELS),
        validators=[Optional()],
    )
    year = IntegerField(
        _l("Year"), validators=[Optional(), NumberRange(min=1950, max=2100)]
    )
    honour_name = StringField(_l("Honour"), validators=[Optional(), Length(max=200)])
    honour_level = SelectField(
        _l("Honour level"),
        choices=_choices(TRAINING_TIER, [tier.value for tier in TrainingTier]),
        validators=[Optional()],
    )
    professional_title = SelectField(
        _l("Professional title"),
        choices=_choices(PROFESSIONAL_TITLE_LABELS, PROFESSIONAL_TITLE_LABELS),
        validators=[Optional()],
    )
    rank = SelectField(
        _l("Administrative rank"),
        choices=_choices(CADRE_RANK, ADMINISTRATIVE_RANKS),
        validators=[Optional()],
    )
    post = SelectField(
        _l("Post"),
        choices=_choices(POST, [post.value for post in Post]),
        validators=[Optional()],
    )
    competency_level = SelectField(
        _l("Competency level"),
        choices=_choices(TARGET_LEVEL, COMPETENCY_LEVELS),
        validators=[Optional()],
    )
    ended_on = IsoDateField(_l("Last day in the post"), validators=[Optional()])
    unit = StringField(
        _l("Institution or unit"), validators=[Optional(), Length(max=200)]
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])
    #: Id of the entry this one corrects; empty for a new event.
    corrects = HiddenField()

    #: The person's local date, which the view sets so that an appointment
    #: cannot end in the future. Without it the server's date is used.
    today: date | None = None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for name in REQUIRED_BY_KIND.get(self.kind.data, ()):
            field = self[name]
            if field.data in (None, "") and not field.errors:
                field.errors = list(field.errors) + [
                    _("Required for this kind of event.")
                ]
                valid = False
        corrects = self.corrects.data
        # str.isdigit() accepts characters such as "²" that int() rejects.
        if corrects and not (corrects.isascii() and corrects.isdigit()):
            self.corrects.errors = [_("Not a valid entry number.")]
            valid = False
        on = self.occurred_on.data
        # One day of slack: the institution's day may be ahead of the server's.
        latest = date.today() + timedelta(days=1)
        if on is not None and not (EARLIEST_EVENT <= on <= latest):
            self.occurred_on.errors = list(self.occurred_on.errors) + [
                _(
                    "Enter a date between %(min)s and today.",
                    min=format_date(EARLIEST_EVENT),
                )
            ]
            valid = False
        if (
            self.kind.data == ProgressionKind.ASSESSMENT_GRADE.value
            and on is not None
            and self.year.data
            and self.year.data > on.year
        ):
            self.year.errors = list(self.year.errors) + [
                _("The assessment year cannot be later than the date it was recorded.")
            ]
            valid = False
        if self.kind.data == ProgressionKind.APPOINTMENT.value:
            valid = self._validate_appointment_end() and valid
        return valid

    def _validate_appointment_end(self) -> bool:
        """Check that an appointment's last day is neither before its start nor in the future."""
        ended_on = self.ended_on.data
        if ended_on is None:
            return True
        started_on = self.occurred_on.data
        today = self.today or date.today()
        problem = None
        if ended_on < EARLIEST_EVENT:
            problem = _(
                "Enter a date between %(min)s and today.",
                min=format_date(EARLIEST_EVENT),
            )
        elif started_on is not None and ended_on < started_on:
            problem = _(
                "The last day in the post is before its start date %(start)s. "
                "Enter a date on or after the start date.",
                start=format_date(started_on),
            )
        elif ended_on > today:
            problem = _(
                "The last day in the post is after today (%(today)s). Leave it "
                "empty while the person holds the post.",
                today=format_date(today),
            )
        if problem is None:
            return True
        self.ended_on.errors = list(self.ended_on.errors) + [problem]
        return False

    def values(self) -> dict:
        """Return the kind's fields under the keys ``events.record_event`` expects."""
        return {
            "grade": self.grade.data,
            "year": self.year.data,
            "name": (self.honour_name.data or "").strip(),
            # The detail key "level" stores an honour's level or a competency level.
            "level": (
                self.competency_level.data
                if self.kind.data == ProgressionKind.COMPETENCY_LEVEL.value
                else self.honour_level.data
            ),
            "title": self.professional_title.data,
            "rank": self.rank.data,
            "post": self.post.data,
            "ended_on": self.ended_on.data,
            "unit": (self.unit.data or "").strip(),
        }


#: Posts a learner of each role may hold, as the roster import assigns them.
POSTS_BY_ROLE = {
    "counselor": (Post.FULL_TIME_COUNSELOR, Post.PART_TIME_COUNSELOR),
    "party_worker": (
        Post.PARTY_ORGANISER,
        Post.TEACHER_BRANCH_SECRETARY,
        Post.DEPARTMENT_PARTY_SECRETARY,
    ),
}


def post_choices(role_value: str, current: Post | None) -> list:
    """Return the post choices for a person of this role, keeping ``current``."""
    posts = list(POSTS_BY_ROLE.get(role_value, ()))
    if current is not None and current not in posts:
        posts.append(current)
    return [SelectChoice(post.value, POST[post.value]) for post in posts]


_FULL_TIME_CHOICES = [
    SelectChoice("", _l("As the post implies")),
    SelectChoice("yes", _l("Full-time")),
    SelectChoice("no", _l("Not full-time")),
]


class PersonProfileForm(PlatformForm):
    party_status = SelectField(
        _l("Party status"),
        choices=[
            SelectChoice(status.value, PARTY_STATUS[status.value])
            for status in PartyStatus
        ],
        validators=[InputRequired()],
    )
    party_committee_member = BooleanField(
        _l("Secretary or committee member of a grassroots Party organisation")
    )
    cadre_rank = SelectField(
        _l("Cadre rank"),
        choices=[SelectChoice("", _l("None"))]
        + [SelectChoice(rank.value, CADRE_RANK[rank.value]) for rank in CadreRank],
        validators=[Optional()],
    )
    full_time = SelectField(
        _l("Full-time"), choices=_FULL_TIME_CHOICES, validators=[Optional()]
    )
    #: Removed by the view for people who are not learners. Its choices are
    #: the posts of the person's role (see ``post_choices``). Left out of a
    #: submission, it keeps the current post.
    post = SelectField(_l("Post"), validators=[Optional()])
    post_started_on = IsoDateField(
        _l("Post start date"), validators=[Optional(), DateInRange()]
    )
    probation_started_on = IsoDateField(
        _l("Became a probationary Party member on"),
        validators=[Optional(), DateInRange()],
        description=_l("The day the probation began (入党日期)."),
    )
    full_member_on = IsoDateField(
        _l("Became a full Party member on"),
        validators=[Optional(), DateInRange()],
        description=_l("The day of admission to full membership (转正日期)."),
    )
    rank_since = IsoDateField(
        _l("Cadre rank held since"),
        validators=[Optional(), DateInRange()],
        description=_l(
            "The day the current rank took effect. Recording a rank change on"
            " the record sets it too."
        ),
    )
    keep_left_post = BooleanField(
        _l(
            "When the post or its start date changes, add the post being left "
            "to the record as an earlier post, so that its years of service "
            "still count. Untick to correct a mistyped post or date."
        ),
        default=True,
    )
    gender = SelectField(
        _l("Gender"),
        choices=[SelectChoice("", _l("Not recorded"))]
        + [SelectChoice(gender.value, GENDER[gender.value]) for gender in Gender],
        validators=[Optional()],
    )
    phone = MobilePhoneField(_l("Mobile phone"))

    #: The person's local date, which the view sets so that an implausible
    #: post start date is rejected.
    today: date | None = None
    #: The stored cadre rank value ("" for none) and rank date, which the
    #: view sets so that a new rank cannot keep the old rank's date.
    stored_rank: str = ""
    stored_rank_since: date | None = None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.today is None:
            return valid
        started = self.post_started_on.data
        problem = post_start_problem(started, self.today) if started else None
        if problem:
            # The plausible window is narrower than DateInRange's, so its
            # message replaces that one.
            self.post_started_on.errors = [problem]
            valid = False
        for field, message in [*self._party_date_problems(), *self._rank_date_problems()]:
            # Each message replaces DateInRange's, which is the wider window.
            field.errors = [message]
            valid = False
        return valid

    def _past_date_problem(self, value: date) -> str | None:
        """Return the message for a date before EARLIEST_POST_START or after today."""
        if EARLIEST_POST_START <= value <= self.today:
            return None
        return _(
            "%(value)s is not a plausible date. Enter a date from %(min)s to"
            " today (%(max)s).",
            value=format_date(value),
            min=format_date(EARLIEST_POST_START),
            max=format_date(self.today),
        )

    def _party_date_problems(self):
        """Yield (field, message) for each Party date that is implausible or contradicts another value."""
        probation, full = self.probation_started_on.data, self.full_member_on.data
        implausible = [
            (field, self._past_date_problem(field.data))
            for field in (self.probation_started_on, self.full_member_on)
            if field.data is not None and self._past_date_problem(field.data)
        ]
        if implausible:
            yield from implausible
            return
        status = self.party_status.data
        if status == PartyStatus.NONE.value:
            for field in (self.probation_started_on, self.full_member_on):
                if field.data is not None:
                    yield field, _(
                        "A person who is not a Party member has no Party dates."
                        " Clear this date, or choose the Party status."
                    )
            return
        if status == PartyStatus.PROBATIONARY.value and full is not None:
            yield self.full_member_on, _(
                "A probationary Party member has no full-member date yet. Clear"
                " this date, or choose Party member as the Party status."
            )
            return
        if (
            status == PartyStatus.PROBATIONARY.value
            and probation is not None
            and probation_over(probation, self.today)
        ):
            yield self.probation_started_on, _(
                "A probation lasts one year, or two when extended, so a"
                " probation that began on %(date)s has ended. Check the date,"
                " or choose Party member as the Party status and enter the"
                " full-member date.",
                date=format_date(probation),
            )
            return
        if probation is None or full is None:
            return
        problem = full_member_date_problem(probation, full)
        if problem:
            yield self.full_member_on, problem

    def _rank_date_problems(self):
        """Yield (field, message) for a rank date that is implausible or contradicts the rank."""
        since = self.rank_since.data
        if since is None:
            return
        problem = self._past_date_problem(since)
        if problem:
            yield self.rank_since, problem
            return
        rank = self.cadre_rank.data or ""
        if not rank:
            yield self.rank_since, _(
                "A person without a cadre rank has no rank date. Clear this"
                " date, or choose the cadre rank."
            )
        elif rank != self.stored_rank and since == self.stored_rank_since:
            yield self.rank_since, _(
                "The cadre rank changed, but this is the date of the previous"
                " rank. Enter the day the new rank took effect, or clear the"
                " date if it is not known."
            )


class HoursField(DecimalField):
    """Decimal field for hours that rejects text, NaN and infinity with one message.

    WTForms' ``DecimalField`` accepts "NaN" and "Infinity". A NaN makes every
    comparison raise ``decimal.InvalidOperation``, and infinity makes
    ``quantize`` raise it.
    """

    def process_formdata(self, valuelist) -> None:
        self.data = None
        self.data = finite_decimal(valuelist, _("Enter a number of hours, e.g. 8 or 3.5."))

    def pre_validate(self, form) -> None:
        # Skip the range check, whose message would repeat the parse error.
        if self.process_errors:
            raise StopValidation()


class ExternalTrainingForm(PlatformForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    organiser = StringField(
        _l("Organiser"), validators=[DataRequired(), Length(max=200)]
    )
    tier = SelectField(
        _l("Tier"),
        choices=[
            SelectChoice(tier.value, TRAINING_TIER[tier.value]) for tier in TrainingTier
        ],
        validators=[InputRequired()],
    )
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice(kind.value, TRAINING_KIND[kind.value]) for kind in TrainingKind
        ],
        validators=[InputRequired()],
    )
    start_date = IsoDateField(_l("Start date"), validators=[InputRequired()])
    end_date = IsoDateField(_l("End date"), validators=[InputRequired()])
    hours = HoursField(
        _l("Hours"),
        places=1,
        validators=[
            InputRequired(),
            NumberRange(min=Decimal("0.5"), max=Decimal(9999)),
        ],
    )
    exam = SelectField(
        _l("Exam result"),
        choices=[
            SelectChoice("", _l("No exam, or no result stated")),
            SelectChoice("passed", _l("Passed")),
            SelectChoice("failed", _l("Failed")),
        ],
        validators=[Optional()],
    )
    evidence = FileField(
        _l("Evidence (PDF, JPEG or PNG, at most 10 MB)"),
        validators=[FileRequired()],
    )

    #: The submitter's local date; set by the view, so an end date after it
    #: is rejected.
    today: date | None = None

    def exam_passed(self) -> bool | None:
        """Return the exam result as stored: True passed, False failed, None none."""
        return {"passed": True, "failed": False}.get(self.exam.data or "")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        today = self.today
        start, end = self.start_date.data, self.end_date.data
        if start and end and end < start:
            self.end_date.errors = list(self.end_date.errors) + [
                _("The end date is before the start date.")
            ]
            valid = False
        for field in (self.start_date, self.end_date):
            if field.data and field.data < EARLIEST_TRAINING:
                field.errors = list(field.errors) + [
                    training_date_problem(field.data, today or date.today())
                ]
                valid = False
        if end and today and end > today:
            self.end_date.errors = list(self.end_date.errors) + [
                _("Submit a training once it has ended.")
            ]
            valid = False
        # A value the field already rejected may be too large to quantize.
        hours = None if self.hours.errors else self.hours.data
        if start and end and hours is not None and end >= start:
            days = (end - start).days + 1
            per_day = max_hours_per_day()
            if hours > per_day * days:
                self.hours.errors = list(self.hours.errors) + [
                    ngettext(
                        "A training of %(num)d day earns at most %(max)s, "
                        "%(per_day)s per day as a full day counts. Lower the "
                        "hours or correct the dates.",
                        "A training of %(num)d days earns at most %(max)s, "
                        "%(per_day)s per day as a full day counts. Lower the "
                        "hours or correct the dates.",
                        days,
                        max=cap_hours_text(per_day * days),
                        per_day=format(per_day, "f"),
                    )
                ]
                valid = False
        if hours is not None and hours != hours.quantize(Decimal("0.1")):
            self.hours.errors = list(self.hours.errors) + [
                _("Use at most one decimal place.")
            ]
            valid = False
        return valid


class EnteredTrainingForm(ExternalTrainingForm):
    """HR's entry of a training a person took elsewhere; approved on entry."""

    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=1000)])


class ReviewForm(PlatformForm):
    decision = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("approve", _l("Approve")),
            SelectChoice("reject", _l("Reject")),
        ],
        validators=[InputRequired()],
    )
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=1000)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.decision.data == "reject" and not (self.reason.data or "").strip():
            self.reason.errors = list(self.reason.errors) + [
                _("Give a reason when rejecting a submission.")
            ]
            valid = False
        return valid


class WithdrawApprovalForm(PlatformForm):
    """Take back the hours of an approved external training, with a reason."""

    reason = TextAreaField(
        _l("Reason for the withdrawal"),
        validators=[
            DataRequired(message=_l("Give a reason for the withdrawal.")),
            Length(max=1000),
        ],
        description=_l(
            "The hours are taken back from every year they counted toward, and the "
            "person sees the reason. They may then submit the training again."
        ),
    )
