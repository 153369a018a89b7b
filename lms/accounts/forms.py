from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from lms.accounts.passwords import describe, password_problem


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    remember = BooleanField(_l("Remember me"))
    next = HiddenField()


class EmptyForm(FlaskForm):
    """Carries only the CSRF token, for POST-only buttons."""


class ChangePasswordForm(FlaskForm):
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
