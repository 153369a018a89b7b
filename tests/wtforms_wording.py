"""Texts of WTForms' own catalogue, to check that pages show none of them."""

import re
from pathlib import Path

from babel.messages.pofile import read_po
from wtforms.i18n import messages_path

from lms.form_messages import WTFORMS_MESSAGES

PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%s|\{[a-z_]+\}")


def _fragment(text: str) -> str:
    """Return the longest literal part of ``text`` between placeholders."""
    return max(PLACEHOLDER.split(text), key=len).strip()


def _catalogue(name: str):
    with (Path(messages_path()) / name).open("rb") as handle:
        return read_po(handle)


def builtin_msgids() -> set[str]:
    """Return every msgid of WTForms' message template, both forms of a plural."""
    found = set()
    for message in _catalogue("wtforms.pot"):
        if message.id:
            found.update(message.id if isinstance(message.id, tuple) else [message.id])
    return found


def wtforms_texts() -> set[str]:
    """Return fragments of WTForms' English msgids and Chinese translations.

    An English msgid that the platform also uses as its own wording
    ("This field is required.") is left out.
    """
    platform = {str(message._args[0]) for message in WTFORMS_MESSAGES.values()}
    texts = {_fragment(msgid) for msgid in builtin_msgids() - platform}
    for message in _catalogue("zh/LC_MESSAGES/wtforms.po"):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else [message.string]
        texts.update(_fragment(text) for text in strings if text)
    return {text for text in texts if len(text) >= 4}


def wtforms_texts_in(page: str) -> list[str]:
    """Return the WTForms catalogue texts that ``page`` contains."""
    return sorted(text for text in wtforms_texts() if text in page)
