"""WTForms choice fields whose invalid-choice message is translated and names the fix.

WTForms' own messages ("Not a valid choice.") do not name the value, and
"'x' is not a valid choice for this field." uses Python quoting. A value
outside the choices only arrives from a tampered or stale form, so the
message names the value and the fix: choose a listed option. Templates put the
field's label in front.
"""

import wtforms
from flask_babel import gettext as _
from wtforms.validators import ValidationError

MAX_SHOWN = 40


def _shown(values) -> str:
    return "、".join(str(value) for value in values)[:MAX_SHOWN]


def _not_listed(value) -> str:
    return _(
        "“%(value)s” is not one of the listed options; choose one from the list.",
        value=_shown([value]),
    )


class _ChoiceMessage:
    """Replace WTForms' invalid-choice messages of a single-value field."""

    def process_formdata(self, valuelist) -> None:
        # Optional() treats a value of only spaces as empty and clears the
        # invalid-choice error, so such a value is read as empty here too.
        if valuelist and isinstance(valuelist[0], str) and not valuelist[0].strip():
            valuelist = ["", *valuelist[1:]]
        # A value the field's coerce function rejects, such as text where an
        # id belongs, is reported like any other value outside the choices.
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_not_listed(valuelist[0])) from None

    def pre_validate(self, form) -> None:
        if self.process_errors:
            return
        try:
            super().pre_validate(form)
        except ValidationError:
            if self.data is None or str(self.data) == "":
                raise ValidationError(_("Choose one of the listed options.")) from None
            raise ValidationError(_not_listed(self.data)) from None


class SelectField(_ChoiceMessage, wtforms.SelectField):
    pass


class RadioField(_ChoiceMessage, wtforms.RadioField):
    pass


class SelectMultipleField(wtforms.SelectMultipleField):
    def pre_validate(self, form) -> None:
        try:
            super().pre_validate(form)
        except ValidationError:
            acceptable = {
                self.coerce(choice.value) for choice in self._iter_choices_normalized()
            }
            unknown = [value for value in self.data if value not in acceptable]
            raise ValidationError(
                _(
                    "“%(values)s” is not among the listed options; choose from the list.",
                    values=_shown(unknown),
                )
            ) from None
