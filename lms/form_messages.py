"""Platform wording for the validation messages that WTForms and Flask-WTF write.

WTForms translates each of its default messages ("This field is required.",
"Not a valid integer value.") through the object that a form's
``Meta.get_translations`` returns. Flask-WTF returns WTForms' own catalogue,
whose texts do not say what to type and differ from the platform's.
``PlatformForm`` returns ``PlatformTranslations`` instead, which maps each of
those English msgids to a platform msgid and translates that with
Flask-Babel, so one wording is used in every locale.

Messages that a form passes to a validator or field (``message=...``,
``invalid_value_message=...``) never reach ``gettext``, so they are kept.

A number field whose text does not parse would also get the message of
each validator that then receives no value, such as "Enter a whole number."
followed by "Enter a number from 1 to 600.". ``PlatformForm`` keeps one
message instead, which states the range when the field has one.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import NumberRange, ValidationError

_CHOOSE_LISTED = _l("Choose one of the listed options.")
_ENTER_NUMBER = _l("Enter a number such as 25 or 33.3.")
_CSRF_EXPIRED = _l(
    "The form expired or was sent from another site. Reload the page and try again."
)

#: WTForms 3.3 and Flask-WTF 1.3 default messages, keyed by their English
#: msgid, with the platform msgid to show instead. Both forms of a plural
#: msgid map to one platform msgid because the platform's English wording
#: uses the plural for every count. The placeholders are the ones that
#: WTForms fills in after translating (``%(min)d``, ``%(other_label)s``,
#: ``{extensions}``).
WTFORMS_MESSAGES = {
    # validators.DataRequired, InputRequired and flask_wtf.file.FileRequired
    "This field is required.": _l("This field is required."),
    # validators.EqualTo
    "Invalid field name '%s'.": _l(
        "The form has no field named %s to compare with; reload the page and try again."
    ),
    "Field must be equal to %(other_name)s.": _l(
        "Enter the same value as in “%(other_label)s”."
    ),
    # validators.Length
    "Field must be at least %(min)d character long.": _l(
        "Enter at least %(min)d characters."
    ),
    "Field must be at least %(min)d characters long.": _l(
        "Enter at least %(min)d characters."
    ),
    "Field cannot be longer than %(max)d character.": _l(
        "Enter at most %(max)d characters."
    ),
    "Field cannot be longer than %(max)d characters.": _l(
        "Enter at most %(max)d characters."
    ),
    "Field must be exactly %(max)d character long.": _l(
        "Enter exactly %(max)d characters."
    ),
    "Field must be exactly %(max)d characters long.": _l(
        "Enter exactly %(max)d characters."
    ),
    "Field must be between %(min)d and %(max)d characters long.": _l(
        "Enter %(min)d to %(max)d characters."
    ),
    # validators.NumberRange
    "Number must be at least %(min)s.": _l("Enter a number of at least %(min)s."),
    "Number must be at most %(max)s.": _l("Enter a number of at most %(max)s."),
    "Number must be between %(min)s and %(max)s.": _l(
        "Enter a number from %(min)s to %(max)s."
    ),
    # validators.DateRange
    "Date must be at least %(min)s.": _l("Enter a date on or after %(min)s."),
    "Date must be at most %(max)s.": _l("Enter a date on or before %(max)s."),
    "Date must be between %(min)s and %(max)s.": _l(
        "Enter a date from %(min)s to %(max)s."
    ),
    # validators.Regexp
    "Invalid input.": _l("Enter the value in the format the field asks for."),
    # validators.Email, IPAddress, MacAddress, URL and UUID
    "Invalid email address.": _l("Enter an email address such as name@example.edu.cn."),
    "Invalid IP address.": _l("Enter an IP address such as 192.168.1.10."),
    "Invalid Mac address.": _l("Enter a MAC address such as 00:1a:2b:3c:4d:5e."),
    "Invalid URL.": _l("Enter a web address such as https://www.example.edu.cn/."),
    "Invalid UUID.": _l("Enter a UUID such as 123e4567-e89b-12d3-a456-426614174000."),
    # validators.AnyOf and NoneOf
    "Invalid value, must be one of: %(values)s.": _l("Enter one of: %(values)s."),
    "Invalid value, can't be any of: %(values)s.": _l(
        "Enter a value other than: %(values)s."
    ),
    # validators.ReadOnly and Disabled
    "This field cannot be edited.": _l(
        "This field cannot be changed; leave the value that is shown."
    ),
    "This field is disabled and cannot have a value.": _l(
        "This field is disabled; leave it empty."
    ),
    # csrf.core and csrf.session (Flask-WTF's CSRFProtect has its own handler)
    "Invalid CSRF Token.": _CSRF_EXPIRED,
    "CSRF token missing.": _CSRF_EXPIRED,
    "CSRF failed.": _CSRF_EXPIRED,
    "CSRF token expired.": _CSRF_EXPIRED,
    # fields.SelectField, RadioField and SelectMultipleField
    "Invalid Choice: could not coerce.": _CHOOSE_LISTED,
    "Choices cannot be None.": _CHOOSE_LISTED,
    "Not a valid choice.": _CHOOSE_LISTED,
    "Invalid choice(s): one or more data inputs could not be coerced.": _l(
        "Choose only the listed options."
    ),
    "'%(value)s' is not a valid choice for this field.": _l(
        "“%(value)s” is not among the listed options; choose from the list."
    ),
    "'%(value)s' are not valid choices for this field.": _l(
        "“%(value)s” is not among the listed options; choose from the list."
    ),
    # fields.DateTimeField, DateField, TimeField and WeekField. The example is
    # the datetime-local format that DateTimeLocalField reads.
    "Not a valid datetime value.": _l("Enter a date and time such as 2026-09-01T14:00."),
    "Not a valid date value.": _l("Enter a date as YYYY-MM-DD, e.g. 2026-09-01."),
    "Not a valid time value.": _l("Enter a time as HH:MM, e.g. 14:30."),
    "Not a valid week value.": _l("Enter a week as YYYY-Www, e.g. 2026-W36."),
    # fields.IntegerField, DecimalField and FloatField
    "Not a valid integer value.": _l("Enter a whole number."),
    "Not a valid decimal value.": _ENTER_NUMBER,
    "Not a valid float value.": _ENTER_NUMBER,
    # flask_wtf.file.FileAllowed
    "File does not have an approved extension.": _l("Choose a file of an allowed type."),
    "File does not have an approved extension: {extensions}": _l(
        "Choose a file of one of these types: {extensions}."
    ),
    # NOTE: flask_wtf.file.FileSize builds its message with an f-string before
    # translating it, so its text cannot be looked up here and stays English.
}


class PlatformTranslations:
    """WTForms translations object that returns the platform wording.

    A msgid outside ``WTFORMS_MESSAGES`` comes back unchanged. The result is
    not %-formatted (Flask-Babel formats only when given variables), because
    WTForms fills in the placeholders itself.
    """

    def gettext(self, string: str) -> str:
        message = WTFORMS_MESSAGES.get(string) if isinstance(string, str) else None
        if message is None:
            return string
        return str(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if singular in WTFORMS_MESSAGES:
            return self.gettext(singular)
        return singular if n == 1 else plural


translations = PlatformTranslations()


def _bound(value):
    return value() if callable(value) else value


def _whole_number_message(number_range: NumberRange) -> str:
    """Return the message that requests a whole number in ``number_range``."""
    low, high = _bound(number_range.min), _bound(number_range.max)
    if high is None:
        return _("Enter a whole number of at least %(min)s.", min=low)
    if low is None:
        return _("Enter a whole number of at most %(max)s.", max=high)
    return _("Enter a whole number from %(min)s to %(max)s.", min=low, max=high)


def parse_error_message(form, field) -> str:
    """Return the one message for a field whose text did not parse as its type.

    That is the range the field accepts when it has a ``NumberRange``, in
    the words of the range's own message when the form gives one, else the
    field's parse message.
    """
    number_range = next(
        (each for each in field.validators if isinstance(each, NumberRange)), None
    )
    if number_range is None:
        return field.process_errors[0]
    if number_range.message is None and isinstance(field, IntegerField):
        return _whole_number_message(number_range)
    try:
        number_range(form, field)
    except ValidationError as error:
        return error.args[0]
    return field.process_errors[0]


class PlatformForm(FlaskForm):
    """FlaskForm whose WTForms default messages use the platform wording."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return translations

    def validate(self, extra_validators=None) -> bool:
        """Validate the form, giving a field whose text did not parse one message."""
        valid = super().validate(extra_validators)
        for field in self:
            # The validators after a parse error saw no value, so their
            # messages only repeat it.
            if field.process_errors and len(field.errors) > len(field.process_errors):
                field.errors = [parse_error_message(self, field)]
        return valid
