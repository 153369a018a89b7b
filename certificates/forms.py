from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from certificates.services import MAX_REASON_LENGTH


class VerifyForm(FlaskForm):
    """Code lookup on the public verification page, sent with GET."""

    class Meta:
        # A read-only GET lookup that guests use; there is no session to protect.
        csrf = False

    code = StringField(
        _l("Verification code"), validators=[DataRequired(), Length(max=64)]
    )


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for revocation"),
        validators=[DataRequired(), Length(max=MAX_REASON_LENGTH)],
    )
