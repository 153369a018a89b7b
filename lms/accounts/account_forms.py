"""Forms with which an administrator creates an account and edits its details.

They apply the rules of ``flask lms create-account`` (``lms.onboarding``)
and report every invalid field at once. The view passes in the institution,
whose departments are the only ones offered and accepted.
"""

from datetime import date
from typing import Optional as OptionalType

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Optional, ValidationError

from lms import labels, onboarding, tabular
from lms.accounts.models import Post, Role, User, username_taken
from lms.choice_fields import SelectField
from lms.column_lengths import max_length
from lms.extensions import db
from lms.form_messages import PlatformForm
from lms.input_ranges import DateInRange, IsoDateField, post_start_problem
from lms.organisations.models import Institution
from lms.records.forms import POSTS_BY_ROLE

class MaxLength:
    """Reject text longer than ``limit`` characters, naming the length entered."""

    def __init__(self, limit: int):
        self.limit = limit

    def __call__(self, form, field) -> None:
        length = len(field.data or "")
        if length > self.limit:
            raise ValidationError(
                _(
                    "Enter at most %(max)d characters; %(length)d were entered.",
                    max=self.limit,
                    length=length,
                )
            )


class NormalisedField(StringField):
    """A text field whose value is normalised when the form is read."""

    def __init__(self, *args, normalise=tabular.normalise, **kwargs):
        super().__init__(*args, **kwargs)
        self.normalise = normalise

    def process_formdata(self, valuelist) -> None:
        self.data = self.normalise(valuelist[0]) if valuelist else ""


def _lower_email(value) -> str:
    return tabular.normalise(value).replace(" ", "").lower()


def _full_name_field() -> NormalisedField:
    return NormalisedField(
        _l("Full name"),
        normalise=onboarding.normalise_full_name,
        validators=[
            DataRequired(_l("Enter the name, such as 王敏.")),
            MaxLength(max_length(User.full_name)),
        ],
    )


def _email_field() -> NormalisedField:
    return NormalisedField(
        _l("E-mail"),
        normalise=_lower_email,
        validators=[Optional(), MaxLength(onboarding.EMAIL_MAX)],
        render_kw={"autocomplete": "off", "inputmode": "email"},
    )


def _department_field() -> SelectField:
    return SelectField(_l("Department"), validators=[Optional()])


class _AccountFields(PlatformForm):
    """The fields an administrator may set on a new and on an existing account.

    ``person`` is the account being edited, or None while one is created.
    """

    def __init__(self, institution: Institution, person: OptionalType[User] = None, **kwargs):
        super().__init__(**kwargs)
        self.institution = institution
        self.person = person
        self.department.choices = [SelectChoice("", _("No department"))] + [
            SelectChoice(str(department.id), department.name)
            for department in institution.departments
        ]

    def validate_email(self, field) -> None:
        if not field.data:
            return
        if not onboarding.EMAIL_RE.match(field.data):
            raise ValidationError(
                _(
                    "%(value)s is not an e-mail address. Write it as "
                    "name@example.edu.cn, or leave the field empty.",
                    value=field.data[:60],
                )
            )
        # Roster imports find a person by e-mail when the employee number
        # does not match, so an address must lead to one account only.
        same_email = sa.select(User.id).where(sa.func.lower(User.email) == field.data)
        if self.person is not None:
            same_email = same_email.where(User.id != self.person.id)
        if db.session.scalar(same_email.limit(1)) is not None:
            raise ValidationError(
                _(
                    "%(value)s is the address of another account. Enter the "
                    "person's own address, or leave the field empty.",
                    value=field.data,
                )
            )

    def department_id(self) -> OptionalType[int]:
        """Return the id of the chosen department, or None for no department."""
        return int(self.department.data) if self.department.data else None


class NewAccountForm(_AccountFields):
    """A new account of the administrator's institution."""

    username = NormalisedField(
        _l("Username"),
        validators=[
            DataRequired(_l("Enter a username.")),
            MaxLength(max_length(User.username)),
        ],
        render_kw={"autocomplete": "off"},
    )
    employee_no = NormalisedField(
        _l("Employee number"),
        normalise=onboarding.normalise_employee_no,
        validators=[Optional()],
        description=_l(
            "Class roster imports find the person by this number (工号), so "
            "enter it for counselors and party workers."
        ),
    )
    full_name = _full_name_field()
    role = SelectField(_l("Role"), validators=[DataRequired()])
    # Without Optional(), so that validate_post also checks an empty post.
    # A request without the field reads as the empty choice.
    post = SelectField(
        _l("Post"),
        default="",
        description=_l(
            "For counselors and party workers only. A counselor without a post "
            "is a full-time counselor (专职辅导员)."
        ),
    )
    post_started_on = IsoDateField(
        _l("Post start date"),
        validators=[Optional(), DateInRange()],
        description=_l(
            "For counselors and party workers: the day they took up the post. "
            "It decides a counselor's level."
        ),
    )
    department = _department_field()
    email = _email_field()

    def __init__(self, institution: Institution, today: date, **kwargs):
        super().__init__(institution, **kwargs)
        self.today = today
        self.role.choices = [SelectChoice(role.value, labels.label(role)) for role in Role]
        self.post.choices = [SelectChoice("", _("None"))] + [
            SelectChoice(post.value, labels.label(post)) for post in Post
        ]

    def validate_username(self, field) -> None:
        if not onboarding.USERNAME_RE.match(field.data):
            raise ValidationError(
                _(
                    "%(value)s is not a valid username. Use 2 to 64 letters, digits, "
                    "dots, hyphens or underscores, starting with a letter or digit.",
                    value=field.data[:64],
                )
            )
        if username_taken(field.data):
            raise ValidationError(
                _("%(value)s is taken. Choose another username.", value=field.data)
            )

    def validate_employee_no(self, field) -> None:
        limit = onboarding.EMPLOYEE_NO_MAX
        MaxLength(limit)(self, field)
        if not onboarding.EMPLOYEE_NO_RE.match(field.data):
            raise ValidationError(
                _(
                    "%(value)s is not an employee number. Use 3 to 32 letters, "
                    "digits or hyphens.",
                    value=field.data,
                )
            )
        # Roster imports match upper-case numbers; older accounts created
        # from the command line may hold lower-case ones.
        same_number = sa.select(User.id).where(
            User.institution_id == self.institution.id,
            sa.func.upper(User.employee_no) == field.data,
        )
        if db.session.scalar(same_number.limit(1)) is not None:
            raise ValidationError(
                _(
                    "%(value)s belongs to another account of your institution. "
                    "Check the number; a person has one account.",
                    value=field.data,
                )
            )

    def validate_post(self, field) -> None:
        role = self._chosen_role()
        if role is None:
            return
        if not role.is_learner:
            if field.data:
                raise ValidationError(_("This role has no post; leave it empty."))
            return
        if not field.data:
            if role is Role.PARTY_WORKER:
                raise ValidationError(_("Choose the post of this party worker."))
            return
        if Post(field.data) not in POSTS_BY_ROLE[role.value]:
            raise ValidationError(
                _(
                    "%(post)s is not a post of the role %(role)s. Choose one of: %(posts)s.",
                    post=labels.label(Post(field.data)),
                    role=labels.label(role),
                    posts="、".join(str(labels.label(post)) for post in POSTS_BY_ROLE[role.value]),
                )
            )

    def validate_post_started_on(self, field) -> None:
        role = self._chosen_role()
        if field.data is None or role is None:
            return
        if not role.is_learner:
            raise ValidationError(
                _(
                    "Only counselors and party workers have a post start date; "
                    "leave it empty."
                )
            )
        problem = post_start_problem(field.data, self.today)
        if problem:
            # The plausible window is narrower than DateInRange's, so its
            # message replaces that one.
            field.errors[:] = []
            raise ValidationError(problem)

    def _chosen_role(self) -> OptionalType[Role]:
        """Return the role the form names, or None while that field is invalid."""
        valid = {role.value for role in Role}
        return Role(self.role.data) if self.role.data in valid else None

    def chosen_post(self) -> OptionalType[Post]:
        """Return the chosen post, or None for a role without one or a counselor's default."""
        return Post(self.post.data) if self.post.data else None


class AccountDetailsForm(_AccountFields):
    """The name, department and e-mail of an existing account."""

    full_name = _full_name_field()
    department = _department_field()
    email = _email_field()
