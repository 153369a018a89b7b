from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    Optional,
    ValidationError,
)

from lms.accounts import contact, two_factor
from lms.accounts.passwords import describe, password_problem
from lms.choice_fields import SelectField
from lms.form_messages import PlatformForm
from lms.input_ranges import DateInRange, IdInRange, IsoDateField


class LoginForm(PlatformForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    remember = BooleanField(_l("Remember me"))
    next = HiddenField()


class EmptyForm(PlatformForm):
    """Carries only the CSRF token, for POST-only buttons."""


class ChangePasswordForm(PlatformForm):
    """Current password, then the new one twice; ``user`` supplies the identifiers to avoid."""

    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=256)]
    )
    new_password = PasswordField(_l("New password"), validators=[DataRequired()])
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(),
            EqualTo("new_password", message=_l("It does not match the new password.")),
        ],
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_current_password(self, field) -> None:
        if not self.user.check_password(field.data):
            raise ValidationError(_l("It is not your current password."))

    def validate_new_password(self, field) -> None:
        problem = password_problem(
            field.data, username=self.user.username, employee_no=self.user.employee_no
        )
        if problem is not None:
            raise ValidationError(describe(problem, field.data))
        if self.user.check_password(field.data):
            raise ValidationError(_l("It is the same as your current password."))


def _check_app_code(digits: str) -> None:
    """Raise ValidationError unless ``digits`` has as many digits as an app code."""
    if len(digits) != two_factor.TOTP_DIGITS:
        raise ValidationError(
            _(
                "An authenticator app code has 6 digits, but %(count)d were entered. "
                "Enter the 6-digit code that the app shows now.",
                count=len(digits),
            )
        )


def validate_app_code(form, field) -> None:
    """Accept only the 6-digit code of an authenticator app, spaces ignored."""
    compact = two_factor.compact_code(field.data)
    if not compact.isdigit():
        raise ValidationError(
            _("Enter the 6-digit code that the authenticator app shows, digits only.")
        )
    _check_app_code(compact)


def validate_login_code(form, field) -> None:
    """Accept an app code or a recovery code, and name the format that was expected.

    Digits only are read as an app code and anything else as a recovery code,
    as ``two_factor.verify_login`` reads them.
    """
    compact = two_factor.compact_code(field.data)
    if compact.isdigit():
        _check_app_code(compact)
    elif not two_factor.is_recovery_code_format(compact):
        raise ValidationError(
            _(
                "A recovery code has 10 letters and digits, written as two groups "
                "of 5 such as abcde-23456. Enter one of your recovery codes, or the "
                "6-digit code from your authenticator app."
            )
        )


class TwoFactorCodeForm(PlatformForm):
    """The second login step: a code from the app, or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=32), validate_login_code],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True},
    )


class ConfirmTwoFactorForm(PlatformForm):
    """The first code from the app, which proves the secret was scanned."""

    code = StringField(
        _l("Six-digit code from the app"),
        validators=[DataRequired(), Length(max=32), validate_app_code],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class PasswordConfirmForm(PlatformForm):
    """Asks for the current password before a sensitive change."""

    password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=256)])

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_password(self, field) -> None:
        if not self.user.check_password(field.data):
            raise ValidationError(_l("It is not your current password."))


class RoleForm(PlatformForm):
    """The role an admin gives to an account."""

    role = SelectField(
        _l("Role"),
        validate_choice=False,
        validators=[DataRequired(_l("Role: choose one of the listed roles."))],
    )

    def validate_role(self, field):
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(
                _(
                    "Role: %(value)s is not a role. Choose one of the listed roles.",
                    value=field.data[:40],
                )
            )


class SecuritySettingsForm(PlatformForm):
    require_two_factor = BooleanField(
        _l("Require two-factor login for HR and admin accounts")
    )


class AuditFilterForm(PlatformForm):
    """Filters of the audit log; a GET form, so without CSRF."""

    class Meta:
        csrf = False

    actor = StringField(
        _l("Actor (username or full name)"), validators=[Optional(), Length(max=64)]
    )
    action = StringField(_l("Action"), validators=[Optional(), Length(max=64)])
    subject_type = StringField(_l("Object type"), validators=[Optional(), Length(max=32)])
    subject_id = IntegerField(_l("Object id"), validators=[Optional(), IdInRange()])
    date_from = IsoDateField(_l("From date"), validators=[Optional(), DateInRange()])
    date_to = IsoDateField(_l("To date"), validators=[Optional(), DateInRange()])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date; swap them."))


class MobilePhoneField(StringField):
    """Optional mainland mobile number, stored as 11 digits; empty gives None.

    Spaces, hyphens and a +86 or 0086 prefix are removed before the check.
    """

    def process_formdata(self, valuelist) -> None:
        raw = valuelist[0].strip() if valuelist else ""
        self.raw_text = raw
        self.data = contact.normalise_mobile(raw) or None

    def _value(self) -> str:
        # After a rejected value, show what was typed, not its normalised
        # form, so "010-12345678" does not come back as "01012345678".
        if self.errors and hasattr(self, "raw_text"):
            return self.raw_text
        return super()._value()

    def pre_validate(self, form) -> None:
        if self.data is not None and not contact.is_mobile(self.data):
            raise ValidationError(
                _(
                    "%(value)s is not a mobile number. Enter 11 digits starting "
                    "with 1, e.g. 13800138000, or leave the field empty.",
                    value=getattr(self, "raw_text", self.data)[:32],
                )
            )


class OwnPhoneForm(PlatformForm):
    """The mobile phone number a person keeps on their own account."""

    phone = MobilePhoneField(_l("Mobile phone"), render_kw={"autocomplete": "tel", "inputmode": "tel"})
