"""Text stored as a message id and its parameters, rendered in the reader's language.

A notification or a record entry that the platform writes outlives the
language it was written in, so the row keeps the facts as JSON and each page
renders them with the catalogue of the reader's current language. The JSON
forms:

- ``{"msgid": ..., "params": {...}}``: ``gettext(msgid) % params``;
- ``{"msgid": ..., "plural": ..., "num": n, "params": {...}}``: ``ngettext``;
- ``{"date": "2026-01-05", "format": "long"}``: a date in the reader's format;
- ``{"datetime": "...+00:00", "format": "medium", "zone": "Asia/Shanghai"}``;
- ``{"join": [...], "separator": "\\n"}``: parts rendered and joined;
- ``{"languages": {"zh_CN": ..., "en": ...}}``: text rendered by code in
  every configured language when the row was written, for sentences that
  are built from several messages and locale rules (lists, separators).

A parameter is a plain JSON value, shown as written (names, titles, notes
people typed), or one of the forms above. Rows written before a column held
this JSON, and callers that pass plain text, keep the text they stored:
``render_stored`` falls back to it. A JSON list whose items are stored text
or, in rows written before, plain strings is shown item by item with
``render_item``.
"""

import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Callable, Iterable, Optional, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import flask_babel
from babel.dates import format_datetime as babel_format_datetime
from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel.speaklater import LazyString

from lms.i18n import (
    current_language,
    datetime_pattern,
    format_date,
    format_datetime,
    plural_count,
)

logger = logging.getLogger("lms.i18n")


class StoredText:
    """A message and its parameters that render in the current locale when shown."""

    __slots__ = ("data",)

    def __init__(self, data: dict):
        self.data = data

    def render(self, locale: Optional[str] = None) -> str:
        """Render in ``locale``, or in the current locale when it is None.

        Raises ValueError on JSON that is not one of the forms in the module
        docstring, and KeyError or TypeError when the parameters do not fit
        the message.
        """
        if locale is None:
            return _render(self.data)
        with force_locale(locale):
            return _render(self.data)

    def to_json(self) -> dict:
        return self.data

    def __str__(self) -> str:
        return self.render()

    def __eq__(self, other) -> bool:
        return isinstance(other, StoredText) and other.data == self.data

    def __hash__(self) -> int:
        return hash(repr(self.data))

    def __repr__(self) -> str:
        return f"<StoredText {self.data!r}>"


Text = Union[str, StoredText]


def stored_gettext(msgid: str, **params) -> StoredText:
    """Store ``gettext(msgid, **params)`` to be rendered when read."""
    return StoredText({"msgid": msgid, "params": _encode_params(params)})


def stored_ngettext(singular: str, plural: str, num: int, **params) -> StoredText:
    """Store ``ngettext(singular, plural, num, **params)`` to be rendered when read."""
    return StoredText(
        {
            "msgid": singular,
            "plural": plural,
            "num": int(num),
            "params": _encode_params(params),
        }
    )


def stored_date(value: date, format: str = "long") -> StoredText:
    """Store a date that renders in the reader's date format (see lms.i18n.date_pattern)."""
    return StoredText({"date": value.isoformat(), "format": format})


def stored_datetime(
    value: datetime, format: str = "medium", zone: Optional[str] = None
) -> StoredText:
    """Store an aware datetime shown in ``zone``, or the reader's zone when None."""
    data = {"datetime": value.isoformat(), "format": format}
    if zone:
        data["zone"] = zone
    return StoredText(data)


def stored_join(parts: Iterable, separator: str = "") -> StoredText:
    """Store parts, each plain text or stored text, rendered and joined by ``separator``."""
    return StoredText(
        {"join": [_encode_value(part) for part in parts], "separator": separator}
    )


def in_each_language(render: Callable[[], object]) -> StoredText:
    """Run ``render`` once per configured language and store every result.

    For sentences that code builds from several messages with locale rules
    (Babel's lists, full-width punctuation), where one message id and its
    parameters cannot describe the text.
    """
    texts = {}
    for code in current_app.config["LANGUAGES"]:
        with force_locale(code):
            texts[code] = str(render())
    return StoredText({"languages": texts})


def render_stored(data: Optional[dict], fallback: str, locale: Optional[str] = None) -> str:
    """Render stored JSON in ``locale`` (default: current), else return ``fallback``.

    ``fallback`` is the text stored beside the JSON, and the only text of
    rows written before the JSON column or by callers that passed plain
    text. JSON that fails to render is logged and also gives the fallback,
    so a bad row does not break a page.
    """
    if not data:
        return fallback
    try:
        return StoredText(data).render(locale)
    except (KeyError, TypeError, ValueError) as exc:
        logger.warning("stored text %r failed to render: %s", data, exc)
        return fallback


def render_item(item, locale: Optional[str] = None) -> str:
    """Render one stored item, stored-text JSON or plain text, in ``locale``.

    Plain text, the form of rows written before the item held JSON, is
    returned as it is. JSON that fails to render gives its message id, the
    English text, or an empty string for the forms without one.
    """
    if isinstance(item, dict):
        return render_stored(item, str(item.get("msgid") or ""), locale)
    if item is None:
        return ""
    return str(item)


def split_text(text: Text, locale: Optional[str]) -> tuple[str, Optional[dict]]:
    """Return ``text`` rendered in ``locale`` and its JSON, or plain text and None.

    A ``locale`` of None renders in the current locale.
    """
    if isinstance(text, StoredText):
        return text.render(locale), text.to_json()
    return str(text), None


def _encode_params(params: dict) -> dict:
    return {name: _encode_value(value) for name, value in params.items()}


def _encode_value(value):
    if isinstance(value, StoredText):
        return value.to_json()
    if isinstance(value, LazyString):
        # A label such as lazy_gettext("Lecturer"): kept in every language.
        return in_each_language(lambda: value).to_json()
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot store a parameter of type {type(value).__name__}: {value!r}")


def _render(data) -> str:
    if isinstance(data, (str, int, float)):
        return str(data)
    if not isinstance(data, dict):
        raise ValueError(f"not stored text: {data!r}")
    if "msgid" in data:
        return _render_message(data)
    if "date" in data:
        return format_date(date.fromisoformat(data["date"]), data.get("format", "long"))
    if "datetime" in data:
        return _render_datetime(data)
    if "join" in data:
        return str(data.get("separator", "")).join(_render(part) for part in data["join"])
    if "languages" in data:
        return _render_language(data["languages"])
    raise ValueError(f"not stored text: {data!r}")


#: Old msgid of a message stored with gettext before it took a plural form,
#: mapped to (singular, plural, name of the parameter that contains the count).
_PLURAL_REWORDINGS: dict[str, tuple[str, str, str]] = {}


def reword_as_plural(msgid: str, singular: str, plural: str, count: str) -> None:
    """Render text stored as ``msgid`` with ``ngettext`` of ``params[count]``.

    Rows that stored ``msgid`` before the message took a plural form keep
    their parameters, so they render in the new wording ("1 year" where
    the old one read "1 years"). The module that writes the message calls
    this once when it is imported.
    """
    _PLURAL_REWORDINGS[msgid] = (singular, plural, count)


def _render_message(data: dict) -> str:
    params = data.get("params") or {}
    if not isinstance(params, dict):
        raise ValueError(f"parameters are not an object: {params!r}")
    values = {name: _render_param(value) for name, value in params.items()}
    if "plural" in data:
        return flask_babel.ngettext(data["msgid"], data["plural"], int(data["num"]), **values)
    rewording = _PLURAL_REWORDINGS.get(data["msgid"])
    if rewording is not None:
        singular, plural, count = rewording
        num = plural_count(params[count])
        return flask_babel.ngettext(singular, plural, num, **values)
    return flask_babel.gettext(data["msgid"], **values)


def _render_param(value):
    if isinstance(value, dict):
        return _render(value)
    if value is None:
        return ""
    return value


def _render_datetime(data: dict) -> str:
    value = datetime.fromisoformat(data["datetime"])
    format = data.get("format", "medium")
    zone_name = data.get("zone")
    if not zone_name:
        return format_datetime(value, format)
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        return format_datetime(value, format)
    locale = get_locale()
    return babel_format_datetime(
        value, datetime_pattern(format, locale), tzinfo=zone, locale=locale
    )


def _render_language(texts: dict) -> str:
    if not isinstance(texts, dict) or not texts:
        raise ValueError(f"no text per language: {texts!r}")
    for code in (current_language(), current_app.config["BABEL_DEFAULT_LOCALE"]):
        if code in texts:
            return str(texts[code])
    return str(next(iter(texts.values())))
