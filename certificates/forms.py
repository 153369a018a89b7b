import json

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import FileStorage
from wtforms import RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from certificates.credential_messages import credential_json_error
from certificates.credentials import loads_credential
from certificates.services import MAX_REASON_LENGTH
from lms.form_messages import PlatformForm
from lms.parser_messages import json_error


class VerifyForm(PlatformForm):
    """Code lookup on the public verification page, sent with GET."""

    class Meta:
        # A read-only GET lookup that guests use; there is no session to protect.
        csrf = False

    #: Long enough for the verification address that a visitor may paste.
    code = StringField(
        _l("Verification code"), validators=[DataRequired(), Length(max=300)]
    )


#: Values of the revoke form's choice about the hours of the certificate's training.
KEEP_HOURS = "keep"
WITHDRAW_HOURS = "withdraw"


class RevokeForm(PlatformForm):
    reason = TextAreaField(
        _l("Reason for revocation"),
        validators=[DataRequired(), Length(max=MAX_REASON_LENGTH)],
    )
    # A request without the field keeps the hours, as revoking did before the choice.
    hours = RadioField(
        _l("Training hours"),
        choices=[
            SelectChoice(KEEP_HOURS, _l("Keep the hours in the ledger")),
            SelectChoice(
                WITHDRAW_HOURS, _l("Withdraw the hours this training credited")
            ),
        ],
        default=KEEP_HOURS,
    )


#: Largest credential file the verification page reads. A signed credential
#: of this platform is about 2 KB, so this leaves room for long texts and
#: other issuers' extra fields.
MAX_CREDENTIAL_BYTES = 256 * 1024


class TextField(StringField):
    """Text input that rejects a value sent as a file part of a multipart body.

    Flask-WTF merges uploaded files into the form data, so a client can send
    any field as a file, and StringField would hand validators a FileStorage.
    """

    def process_formdata(self, valuelist):
        if valuelist and isinstance(valuelist[0], FileStorage):
            self.data = ""
            raise ValueError(_l("This field takes text, but a file was sent. Type the value."))
        super().process_formdata(valuelist)


class CredentialUploadForm(PlatformForm):
    """Upload of a credential JSON file on the public verification page.

    ``validate`` parses the file: afterwards ``credential`` contains the
    parsed JSON object, or None when the file was rejected.
    """

    credential_file = FileField(
        _l("Credential file (JSON)"),
        validators=[FileRequired(_l("Choose the credential's JSON file."))],
    )
    employee_no = TextField(
        _l("Employee number (optional)"), validators=[Length(max=64)]
    )

    credential: dict | None = None

    def validate_credential_file(self, field) -> None:
        raw = field.data.stream.read(MAX_CREDENTIAL_BYTES + 1)
        if len(raw) > MAX_CREDENTIAL_BYTES:
            raise ValidationError(
                _l(
                    "The file is larger than %(size)d KB. "
                    "A credential file is a few KB of JSON.",
                    size=MAX_CREDENTIAL_BYTES // 1024,
                )
            )
        if not raw.strip():
            raise ValidationError(_l("The file is empty."))
        if raw.startswith(b"%PDF"):
            raise ValidationError(
                _l(
                    "This is a PDF, such as the certificate itself. The credential is a "
                    "file attached inside the certificate PDF: open the PDF's attachments "
                    "(the paper clip panel of Adobe Acrobat Reader or Foxit), save "
                    "credential.json and upload that file. To check the certificate "
                    "without it, enter its verification code on the verification page."
                )
            )
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(
                _l("The file is not UTF-8 text. Upload the JSON file as downloaded.")
            ) from None
        try:
            credential = loads_credential(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                _l(
                    "The file is not valid JSON: %(error)s at line %(line)d, "
                    "column %(column)d.",
                    error=json_error(exc),
                    line=exc.lineno,
                    column=exc.colno,
                )
            ) from None
        except ValueError as exc:
            raise ValidationError(
                _l("The file is not a credential: %(error)s.", error=credential_json_error(exc))
            ) from None
        except RecursionError:
            raise ValidationError(
                _l("The file nests JSON too deeply to be a credential.")
            ) from None
        types = credential.get("type")
        if not isinstance(types, list) or "OpenBadgeCredential" not in types:
            raise ValidationError(
                _l(
                    "The file is not an Open Badges credential: its type is "
                    "%(type)s, expected a list containing OpenBadgeCredential.",
                    type=json.dumps(types, ensure_ascii=False)[:100],
                )
            )
        self.credential = credential


class IssueExternalForm(PlatformForm):
    """Issue the certificate of an approved training taken elsewhere (CSRF only)."""


class ReissueForm(PlatformForm):
    """Reissue a revoked certificate with a new serial (CSRF only)."""
