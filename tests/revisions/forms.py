"""Read the edit form of a page as a browser would post it."""

import re
from html import unescape
from html.parser import HTMLParser


class _FormReader(HTMLParser):
    """Collect the fields of every form on a page, in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[list[tuple[str, str]]] = []
        self.actions: list[str] = []
        self._fields = None
        self._select = None
        self._select_multiple = False
        self._option = None
        self._option_text = ""
        self._textarea = None
        self._text = ""
        self._first_option = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._fields = []
            self.forms.append(self._fields)
            self.actions.append(a.get("action") or "")
        if self._fields is None:
            return
        if tag == "input" and a.get("name") and "disabled" not in a:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._fields.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button", "file", "reset", "image"):
                self._fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name") and "disabled" not in a:
            self._select = a["name"]
            self._select_multiple = "multiple" in a
            self._first_option = None
            self._chosen = False
        elif tag == "option" and self._select:
            self._option = a
            self._option_text = ""
        elif tag == "textarea" and a.get("name") and "disabled" not in a:
            self._textarea = a["name"]
            self._text = ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data
        if self._option is not None:
            self._option_text += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            value = self._option.get("value", self._option_text.strip())
            if self._first_option is None:
                self._first_option = value
            if "selected" in self._option:
                self._fields.append((self._select, value))
                self._chosen = True
            self._option = None
        elif tag == "select" and self._select:
            if not self._chosen and not self._select_multiple and self._first_option is not None:
                self._fields.append((self._select, self._first_option))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # Browsers drop the line break that opens a textarea's content.
            text = self._text
            text = text[2:] if text.startswith("\r\n") else text.removeprefix("\n")
            self._fields.append((self._textarea, text))
            self._textarea = None
        elif tag == "form":
            self._fields = None


def edit_form(html: str, action: str | None = None) -> dict:
    """Return the fields of the form that carries ``lock_version``, as post data.

    With ``action``, the form is the one that posts to that address. A name
    that occurs more than once (checkbox groups, multiple selects) maps to
    the list of its values.
    """
    reader = _FormReader()
    reader.feed(html)
    for fields, form_action in zip(reader.forms, reader.actions):
        if action is not None and form_action != action:
            continue
        if any(name == "lock_version" for name, _ in fields):
            data: dict = {}
            for name, value in fields:
                if name in data:
                    if not isinstance(data[name], list):
                        data[name] = [data[name]]
                    data[name].append(value)
                else:
                    data[name] = value
            return data
    raise AssertionError("page has no form with a lock_version field")


def text_of(html: str) -> str:
    """Return the page text with tags removed, for message checks."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))
