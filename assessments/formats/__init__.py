"""Question import and export formats: Moodle GIFT, Aiken and Moodle XML.

Each codec reads a file into :class:`ParsedQuestion` records and writes them back,
with no database access, so views and services decide what to store.
"""

from assessments.formats.aiken import dump_aiken, parse_aiken
from assessments.formats.encoding import DecodedText, decode_upload
from assessments.formats.gift import dump_gift, parse_gift
from assessments.formats.moodle_xml import (
    dump_moodle_xml,
    parse_moodle_xml,
    read_moodle_xml,
)
from assessments.formats.sanitize import sanitize_question, sanitize_text
from assessments.formats.types import (
    BLANK,
    FormatError,
    FormatProblem,
    Kind,
    NumericalValue,
    ParsedAnswer,
    ParsedQuestion,
    TextFormat,
    format_decimal,
    mark_blanks,
)

__all__ = [
    "BLANK",
    "DecodedText",
    "FormatError",
    "FormatProblem",
    "Kind",
    "NumericalValue",
    "ParsedAnswer",
    "ParsedQuestion",
    "TextFormat",
    "decode_upload",
    "dump_aiken",
    "dump_gift",
    "dump_moodle_xml",
    "format_decimal",
    "mark_blanks",
    "parse_aiken",
    "parse_gift",
    "parse_moodle_xml",
    "read_moodle_xml",
    "sanitize_question",
    "sanitize_text",
]
