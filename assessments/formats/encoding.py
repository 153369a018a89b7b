"""Decoding of uploaded question files: UTF-8 (with or without BOM), UTF-16, GB18030."""

from __future__ import annotations

import codecs
from typing import Self

from flask_babel import lazy_gettext as _l

from assessments.formats.types import FormatError

#: Encoding names reported in :attr:`DecodedText.encoding`.
UTF8 = "utf-8"
UTF8_BOM = "utf-8-sig"
UTF16 = "utf-16"
GB18030 = "gb18030"

_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF8, "utf-8", UTF8_BOM),
    (codecs.BOM_UTF16_LE, "utf-16-le", UTF16),
    (codecs.BOM_UTF16_BE, "utf-16-be", UTF16),
)

# Control characters that text files do not contain, so their presence means binary data.
_BINARY_CONTROLS = frozenset(chr(code) for code in range(32)) - {"\t", "\n", "\r", "\f"}


class DecodedText(str):
    """Text decoded from an upload, with the encoding that decoded it in ``encoding``."""

    encoding: str

    def __new__(cls, text: str, encoding: str) -> Self:
        instance = super().__new__(cls, text)
        instance.encoding = encoding
        return instance


def _reject_binary(raw: bytes) -> None:
    if raw.startswith(b"PK\x03\x04"):
        raise FormatError.single(
            1,
            "file",
            _l(
                "The file is a ZIP archive, such as a .docx or .xlsx document. "
                "Save the questions as a plain text file and upload that."
            ),
        )


def _check_text(text: str, encoding: str) -> DecodedText:
    for index, char in enumerate(text):
        if char in _BINARY_CONTROLS:
            line = text.count("\n", 0, index) + 1
            raise FormatError.single(
                line,
                "file",
                _l(
                    "The file contains the control character U+%(code)04X, so it is "
                    "not a text file. Save the questions as plain text and upload again.",
                    code=ord(char),
                ),
            )
    return DecodedText(text, encoding)


def decode_upload(raw: bytes) -> DecodedText:
    """Decode an uploaded question file and record which encoding decoded it.

    A byte-order mark decides first (UTF-8 or UTF-16, as Windows Notepad writes them).
    Without one the bytes must be valid UTF-8, or else valid GB18030, the superset of
    GBK and GB2312 that Chinese editions of Windows and Office use for "ANSI" text.
    Raises :class:`FormatError` naming the line of the first invalid byte when
    neither decodes, and for binary files such as Word documents.

    NOTE: the UTF-8 bytes of Chinese text are mostly valid GB18030 as well, so a UTF-8
    file with one corrupt byte can decode as GB18030 without error. Check the reported
    encoding when the text looks wrong.
    """
    _reject_binary(raw)
    for bom, codec, name in _BYTE_ORDER_MARKS:
        if not raw.startswith(bom):
            continue
        body = raw[len(bom) :]
        try:
            return _check_text(body.decode(codec), name)
        except UnicodeDecodeError as error:
            line = body[: error.start].decode(codec, errors="replace").count("\n") + 1
            raise FormatError.single(
                line,
                "file",
                _l(
                    "The file starts with a %(encoding)s byte-order mark but byte "
                    "%(offset)s is not valid %(encoding)s.",
                    encoding="UTF-8" if name == UTF8_BOM else "UTF-16",
                    offset=len(bom) + error.start,
                ),
            ) from error

    try:
        return _check_text(raw.decode(UTF8), UTF8)
    except UnicodeDecodeError as utf8_error:
        try:
            return _check_text(raw.decode(GB18030), GB18030)
        except UnicodeDecodeError:
            raise FormatError.single(
                raw.count(b"\n", 0, utf8_error.start) + 1,
                "file",
                _l(
                    "The file is neither UTF-8 nor GBK/GB18030 text: byte %(offset)s "
                    "cannot be decoded. Save it as UTF-8 and upload again.",
                    offset=utf8_error.start,
                ),
            ) from utf8_error
