"""Forms of the certificate template designer and the certificate settings."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from certificates.sandbox import MAX_BODY_LENGTH, MAX_CSS_LENGTH
from certificates.serials import MAX_PATTERN_LENGTH
from lms import labels
from lms.choice_fields import SelectField
from lms.form_messages import PlatformForm

IMAGE_LABELS = {
    "background": _l("Background image"),
    "logo": _l("Logo"),
    "signature": _l("Signature image"),
    "seal": _l("Seal image"),
}

#: Labels of the ``Orientation`` and ``TemplateLanguage`` values, for the form
#: and for the ``label`` filter in template lists.
ORIENTATION_LABELS = {"landscape": _l("Landscape"), "portrait": _l("Portrait")}
LANGUAGE_LABELS = {"zh": _l("Chinese"), "en": _l("English")}

labels.register("Orientation", ORIENTATION_LABELS)
labels.register("TemplateLanguage", LANGUAGE_LABELS)


class TemplateForm(PlatformForm):
    """Name, page, language, validity, body, CSS and images of a template."""

    name = StringField(_l("Template name"), validators=[DataRequired(), Length(max=100)])
    page_size = SelectField(
        _l("Page size"),
        choices=[SelectChoice(size, size) for size in ("A4", "A5", "Letter")],
    )
    orientation = SelectField(
        _l("Orientation"),
        choices=[SelectChoice(value, text) for value, text in ORIENTATION_LABELS.items()],
    )
    language = SelectField(
        _l("Language"),
        choices=[SelectChoice(value, text) for value, text in LANGUAGE_LABELS.items()],
    )
    validity_months = IntegerField(
        _l("Validity (months)"),
        validators=[Optional(), NumberRange(min=1, max=600)],
        description=_l(
            "Used when the programme sets no validity. Leave empty for "
            "certificates that never expire."
        ),
    )
    body_html = TextAreaField(
        _l("Body (HTML with placeholders)"),
        validators=[DataRequired(), Length(max=MAX_BODY_LENGTH)],
    )
    css = TextAreaField(_l("CSS"), validators=[Length(max=MAX_CSS_LENGTH)])
    background = FileField(IMAGE_LABELS["background"])
    logo = FileField(IMAGE_LABELS["logo"])
    signature = FileField(IMAGE_LABELS["signature"])
    seal = FileField(IMAGE_LABELS["seal"])
    remove_background = BooleanField(_l("Remove the background image"))
    remove_logo = BooleanField(_l("Remove the logo"))
    remove_signature = BooleanField(_l("Remove the signature image"))
    remove_seal = BooleanField(_l("Remove the seal image"))


class InstitutionSettingsForm(PlatformForm):
    serial_prefix = StringField(
        _l("Serial prefix"),
        validators=[DataRequired(), Length(max=16)],
        description=_l("1 to 16 letters or digits, e.g. SR."),
    )
    serial_pattern = StringField(
        _l("Serial pattern"),
        validators=[DataRequired(), Length(max=MAX_PATTERN_LENGTH)],
        description=_l(
            "Fields: {prefix}, {code} (institution code), {year}, {yy} and {seq} "
            "(running number, restarts every year). Example: {prefix}-{year}-{seq:06d} "
            "gives SR-2026-000123."
        ),
    )
    renewal_window_days = IntegerField(
        _l("Renewal window (days before expiry)"),
        validators=[InputRequired(), NumberRange(min=0, max=3650)],
    )


class ProgrammeSettingsForm(PlatformForm):
    template_id = SelectField(_l("Certificate template"), coerce=int)
    renews_programme_id = SelectField(
        _l("Renews the certificates of"),
        coerce=int,
        description=_l(
            "Completing this programme in the renewal window of a valid "
            "certificate of the chosen programme replaces that certificate."
        ),
    )
