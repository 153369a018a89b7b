"""Translated reasons for JSON and XML parse errors.

Python's JSON decoder and Expat report errors as English phrases. Upload
forms and importers put the translated reason from here into their own
message, together with the line and column that the exception carries.
"""

import json
import xml.etree.ElementTree as ET
from xml.parsers.expat import errors as expat_errors

from flask_babel import lazy_gettext as _l

#: Messages of Python's JSON decoder (``json.JSONDecodeError.msg``), which are
#: English. Any other message is shown as it is.
JSON_DECODER_MESSAGES = {
    "Expecting value": _l("a value is expected"),
    "Expecting property name enclosed in double quotes": _l(
        "a property name in double quotes is expected"
    ),
    "Expecting ':' delimiter": _l("a colon is expected"),
    "Expecting ',' delimiter": _l("a comma is expected"),
    "Unterminated string starting at": _l("a string has no closing quote"),
    "Invalid control character at": _l("a string contains a control character"),
    "Invalid \\escape": _l("a string contains an invalid backslash escape"),
    "Invalid \\uXXXX escape": _l("a string contains an invalid \\u escape"),
    "Extra data": _l("text follows the end of the JSON value"),
    "Illegal trailing comma before end of object": _l("a comma precedes the closing }"),
    "Illegal trailing comma before end of array": _l("a comma precedes the closing ]"),
}

#: Expat messages that a damaged or hand-edited file can produce, keyed by
#: Expat's English message. Any other message is shown as it is.
XML_PARSER_MESSAGES = {
    expat_errors.XML_ERROR_NO_ELEMENTS: _l("the file ends before the root element is closed"),
    expat_errors.XML_ERROR_SYNTAX: _l("the markup has a syntax error"),
    expat_errors.XML_ERROR_INVALID_TOKEN: _l("a character is not allowed here"),
    expat_errors.XML_ERROR_UNCLOSED_TOKEN: _l("a tag is not closed"),
    expat_errors.XML_ERROR_PARTIAL_CHAR: _l("a multi-byte character is cut off"),
    expat_errors.XML_ERROR_TAG_MISMATCH: _l("a closing tag does not match its opening tag"),
    expat_errors.XML_ERROR_DUPLICATE_ATTRIBUTE: _l("an attribute appears twice in one tag"),
    expat_errors.XML_ERROR_JUNK_AFTER_DOC_ELEMENT: _l("text follows the end of the root element"),
    expat_errors.XML_ERROR_UNDEFINED_ENTITY: _l("an entity such as &name; is not defined"),
    expat_errors.XML_ERROR_BAD_CHAR_REF: _l("a character reference names an invalid character"),
    expat_errors.XML_ERROR_UNCLOSED_CDATA_SECTION: _l("a CDATA section is not closed"),
    expat_errors.XML_ERROR_MISPLACED_XML_PI: _l(
        "the XML declaration is not at the start of the file"
    ),
    expat_errors.XML_ERROR_XML_DECL: _l("the XML declaration is malformed"),
    expat_errors.XML_ERROR_UNKNOWN_ENCODING: _l("the declared encoding is unknown"),
    expat_errors.XML_ERROR_INCORRECT_ENCODING: _l("the declared encoding is wrong"),
    expat_errors.XML_ERROR_UNBOUND_PREFIX: _l("a namespace prefix is not declared"),
}


def json_error(error: json.JSONDecodeError) -> str:
    """Return the decoder's message for ``error`` in the reader's language."""
    found = JSON_DECODER_MESSAGES.get(error.msg)
    return str(found) if found is not None else error.msg


def xml_error(error: ET.ParseError) -> str:
    """Return Expat's reason for ``error`` in the reader's language."""
    english = expat_errors.messages.get(getattr(error, "code", None), "")
    found = XML_PARSER_MESSAGES.get(english)
    if found is not None:
        return str(found)
    return english or str(error)


def xml_error_position(error: ET.ParseError) -> tuple[int, int]:
    """Return the 1-based line and column of ``error``.

    Expat counts lines from 1 and columns from 0, and the English message of
    ElementTree prints the 0-based column.
    """
    line, offset = getattr(error, "position", (0, 0))
    return line, offset + 1
