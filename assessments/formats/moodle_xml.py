"""Moodle XML format: :func:`parse_moodle_xml` reads it and :func:`dump_moodle_xml` writes it.

Covers the question types that Moodle's core exports: multichoice, truefalse,
shortanswer, numerical, matching, essay and description, plus category records.
:func:`read_moodle_xml` leaves a question of any other type out with its reason,
and :func:`parse_moodle_xml` rejects it.
Parsing goes through defusedxml, which rejects any DTD (and so the entity expansion
of a "billion laughs" bomb) and external references. Every text shown as HTML is
cleaned with nh3.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

import defusedxml
import defusedxml.ElementTree as DefusedET
from flask_babel import lazy_gettext as _l

from assessments.formats.encoding import decode_upload
from assessments.formats.sanitize import sanitize_question
from assessments.formats.types import (
    FormatError,
    FormatProblem,
    Kind,
    NumericalValue,
    ParsedAnswer,
    ParsedQuestion,
    TextFormat,
    format_decimal,
)
from lms.parser_messages import xml_error, xml_error_position

_FORMAT_NAMES = {
    "html": TextFormat.HTML,
    "moodle_auto_format": TextFormat.MOODLE,
    "plain_text": TextFormat.PLAIN,
    "markdown": TextFormat.MARKDOWN,
}
_FORMAT_ATTRIBUTES = {value: key for key, value in _FORMAT_NAMES.items()}
_SUPPORTED_TYPES = {kind.value: kind for kind in Kind}
# Encodings that expat decodes itself. Documents declaring any other encoding, such as
# GBK, are decoded by Python and handed to expat as UTF-8.
_EXPAT_ENCODINGS = (
    "utf-8",
    "utf8",
    "utf-16",
    "iso-8859-1",
    "latin-1",
    "us-ascii",
    "ascii",
)
_DECLARED_ENCODING = re.compile(
    rb"\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']"
)
_DECLARATION_TEXT = re.compile(
    r"(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])([A-Za-z0-9._-]+)"
)


# ---------------------------------------------------------------------------
# Reading


class _LineTrackingBuilder(ET.TreeBuilder):
    """Tree builder that records the source line of every element it starts."""

    def __init__(self) -> None:
        super().__init__()
        self.parser: DefusedET.DefusedXMLParser | None = None
        self.lines: dict[int, int] = {}

    def start(self, tag, attrs):
        element = super().start(tag, attrs)
        if self.parser is not None:
            # Pure-Python XMLParser (which defusedxml uses) exposes expat as .parser.
            self.lines[id(element)] = self.parser.parser.CurrentLineNumber
        return element


def _as_expat_input(data: bytes) -> bytes:
    match = _DECLARED_ENCODING.match(data)
    declared = match.group(1).decode("ascii").lower() if match else None
    if declared in _EXPAT_ENCODINGS:
        return data
    if declared is None:
        # No declaration (or a UTF-16 one, which this byte pattern cannot see): decode
        # by byte-order mark, UTF-8 or GB18030.
        text = str(decode_upload(data))
    else:
        try:
            text = data.decode(declared)
        except (LookupError, UnicodeDecodeError) as error:
            raise FormatError.single(
                1,
                "file",
                _l(
                    "The XML declaration names encoding %(encoding)s, but the file "
                    "cannot be decoded with it.",
                    encoding=declared,
                ),
            ) from error
    return _DECLARATION_TEXT.sub(r"\1UTF-8", text, count=1).encode("utf-8")


def _forbidden_xml_message(error: defusedxml.DefusedXmlException):
    """Describe the construct defusedxml rejected, without its exception class name."""
    if isinstance(error, defusedxml.DTDForbidden):
        return _l(
            "The XML contains a document type declaration (DTD). Moodle never writes "
            "one, so the file is rejected."
        )
    if isinstance(error, defusedxml.EntitiesForbidden):
        return _l(
            "The XML declares an entity. Moodle never writes entity declarations, "
            "so the file is rejected."
        )
    return _l(
        "The XML refers to an external file or address. Moodle never writes such "
        "references, so the file is rejected."
    )


def _parse_tree(data: bytes) -> tuple[ET.Element, dict[int, int]]:
    builder = _LineTrackingBuilder()
    parser = DefusedET.DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.parser = parser
    try:
        parser.feed(_as_expat_input(data))
        root = parser.close()
    except defusedxml.DefusedXmlException as error:
        raise FormatError.single(None, "file", _forbidden_xml_message(error)) from error
    except ET.ParseError as error:
        line, column = xml_error_position(error)
        raise FormatError.single(
            line,
            "file",
            _l(
                "The file is not well-formed XML: %(error)s at line %(line)d, "
                "column %(column)d.",
                error=xml_error(error),
                line=line,
                column=column,
            ),
        ) from error
    return root, builder.lines


class _XmlReader:
    """Convert ``<question>`` elements, recording problems instead of stopping."""

    def __init__(
        self,
        lines: dict[int, int],
        problems: list[FormatProblem],
        left_out: list[FormatProblem],
    ):
        self.lines = lines
        self.problems = problems
        self.left_out = left_out
        self.failed = False

    def line(self, element: ET.Element) -> int | None:
        return self.lines.get(id(element))

    def error(self, element: ET.Element, field_name: str, message) -> None:
        self.failed = True
        self.problems.append(FormatProblem(self.line(element), field_name, message))

    def text_format(self, element: ET.Element, default: TextFormat) -> TextFormat:
        name = element.get("format")
        if name is None:
            return default
        if name not in _FORMAT_NAMES:
            self.error(
                element,
                "format",
                _l(
                    "Text format %(name)s is unknown; use html, moodle_auto_format, "
                    "plain_text or markdown.",
                    name=name,
                ),
            )
            return default
        return _FORMAT_NAMES[name]

    def rich_text(
        self, parent: ET.Element, tag: str, default: TextFormat
    ) -> tuple[str, TextFormat]:
        element = parent.find(tag)
        if element is None:
            return "", default
        text = (element.findtext("text") or "").strip()
        # An empty text keeps the default format, as an empty GIFT feedback does.
        if not text:
            return "", default
        return text, self.text_format(element, default)

    def decimal(
        self, element: ET.Element, raw: str | None, field_name: str
    ) -> Decimal | None:
        try:
            value = Decimal((raw or "").strip())
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self.error(
                element, field_name, _l("%(value)s is not a number.", value=raw or "")
            )
            return None
        return value

    # -- questions ---------------------------------------------------------

    def question(
        self, element: ET.Element, category: str | None
    ) -> ParsedQuestion | None:
        type_name = element.get("type", "").strip()
        if not type_name:
            self.error(
                element,
                "type",
                _l(
                    "The question has no type attribute. Write the Moodle type, "
                    'such as <question type="multichoice">.'
                ),
            )
            return None
        kind = _SUPPORTED_TYPES.get(type_name)
        if kind is None:
            # The question is valid in Moodle, so it is left out, not reported as a problem.
            self.left_out.append(
                FormatProblem(self.line(element), "type", _left_out_reason(type_name))
            )
            return None
        if kind is Kind.CATEGORY:
            path = (element.findtext("category/text") or "").strip()
            if not path:
                self.error(
                    element, "category", _l("The category record names no category.")
                )
                return None
            return ParsedQuestion(kind=kind, category=path, line=self.line(element))

        stem_element = element.find("questiontext")
        stem_format = TextFormat.MOODLE
        if stem_element is not None:
            stem_format = self.text_format(stem_element, TextFormat.MOODLE)
        general_feedback, general_format = self.rich_text(
            element, "generalfeedback", stem_format
        )
        tags = [
            (tag.findtext("text") or "").strip() for tag in element.iterfind("tags/tag")
        ]
        question = ParsedQuestion(
            kind=kind,
            name=(element.findtext("name/text") or "").strip(),
            stem=(element.findtext("questiontext/text") or "").strip(),
            stem_format=stem_format,
            general_feedback=general_feedback,
            general_feedback_format=general_format,
            category=category,
            tags=[tag for tag in tags if tag],
            idnumber=(element.findtext("idnumber") or "").strip() or None,
            default_grade=_default_grade(element),
            line=self.line(element),
        )
        if not question.stem and kind is not Kind.DESCRIPTION:
            self.error(element, "stem", _l("The question has no text."))

        if kind is Kind.MULTICHOICE:
            single_text = (element.findtext("single") or "true").strip().lower()
            question.single = single_text in ("true", "1")
            self.answers(element, question)
            if len(question.answers) < 2:
                self.error(
                    element,
                    "answers",
                    _l("A multiple-choice question needs at least two answers."),
                )
        elif kind is Kind.TRUEFALSE:
            self.answers(element, question)
            if sorted(answer.text for answer in question.answers) != ["false", "true"]:
                self.error(
                    element,
                    "answers",
                    _l(
                        "A true/false question needs one answer 'true' and one answer 'false'."
                    ),
                )
        elif kind in (Kind.SHORTANSWER, Kind.NUMERICAL):
            self.answers(element, question)
            if not question.answers and not self.failed:
                self.error(element, "answers", _l("The question has no answers."))
        elif kind is Kind.MATCHING:
            self.subquestions(element, question)
        graded = kind in (
            Kind.MULTICHOICE,
            Kind.SHORTANSWER,
            Kind.NUMERICAL,
            Kind.TRUEFALSE,
        )
        if (
            graded
            and question.answers
            and not any(a.score > 0 for a in question.answers)
        ):
            self.error(element, "answers", _l("No answer earns any marks."))
        return question

    def answers(self, element: ET.Element, question: ParsedQuestion) -> None:
        for answer_element in element.iterfind("answer"):
            fraction = self.decimal(
                answer_element, answer_element.get("fraction", "0"), "fraction"
            )
            if fraction is None:
                continue
            if not -100 <= fraction <= 100:
                self.error(
                    answer_element,
                    "fraction",
                    _l(
                        "Fraction %(value)s is outside -100 to 100.",
                        value=format_decimal(fraction),
                    ),
                )
                continue
            text = (answer_element.findtext("text") or "").strip()
            feedback, feedback_format = self.rich_text(
                answer_element, "feedback", question.stem_format
            )
            answer = ParsedAnswer(
                text=text,
                text_format=self.text_format(answer_element, TextFormat.MOODLE),
                feedback=feedback,
                feedback_format=feedback_format,
                line=self.line(answer_element),
            )
            self.set_marks(question, answer, fraction)
            if question.kind is Kind.NUMERICAL and text != "*":
                value = self.decimal(answer_element, text, "numerical")
                tolerance_text = answer_element.findtext("tolerance")
                tolerance = None
                if tolerance_text is not None and tolerance_text.strip():
                    tolerance = self.decimal(
                        answer_element, tolerance_text, "tolerance"
                    )
                    if tolerance is not None and tolerance < 0:
                        self.error(
                            answer_element,
                            "tolerance",
                            _l("The tolerance is negative."),
                        )
                if value is not None:
                    answer.numerical = NumericalValue(value, tolerance)
                    answer.text = format_decimal(value)
            elif question.kind is Kind.TRUEFALSE:
                answer.text = text.lower()
            elif not text:
                self.error(answer_element, "answers", _l("An answer has no text."))
            question.answers.append(answer)

    @staticmethod
    def set_marks(
        question: ParsedQuestion, answer: ParsedAnswer, fraction: Decimal
    ) -> None:
        """Record a fraction the way a GIFT file would write the same answer.

        Full marks on a single-answer choice, true/false, short or numerical answer
        become ``=``. No marks on a choice, or on a numerical catch-all, become ``~``.
        Any other fraction becomes an explicit weight.
        """
        kind = question.kind
        if fraction == 100 and (kind is not Kind.MULTICHOICE or question.single):
            answer.correct = True
        elif fraction == 0 and (
            kind in (Kind.MULTICHOICE, Kind.TRUEFALSE)
            or (kind is Kind.NUMERICAL and answer.text == "*")
        ):
            answer.correct = False
        else:
            answer.correct = kind in (Kind.SHORTANSWER, Kind.NUMERICAL)
            answer.weight = fraction

    def subquestions(self, element: ET.Element, question: ParsedQuestion) -> None:
        for sub in element.iterfind("subquestion"):
            text = (sub.findtext("text") or "").strip()
            match_to = (sub.findtext("answer/text") or "").strip()
            if not match_to:
                self.error(sub, "answers", _l("A matching pair has no answer."))
            question.answers.append(
                ParsedAnswer(
                    text=text,
                    text_format=self.text_format(sub, question.stem_format)
                    if text
                    else question.stem_format,
                    correct=True,
                    feedback_format=question.stem_format,
                    match_to=match_to,
                    line=self.line(sub),
                )
            )
        if sum(1 for answer in question.answers if answer.text) < 2:
            self.error(
                element,
                "answers",
                _l("A matching question needs at least two pairs with items."),
            )


def _left_out_reason(type_name: str):
    """Say why a question of an unsupported type is left out, and what to do instead."""
    if type_name in ("calculated", "calculatedsimple", "calculatedmulti"):
        return _l(
            "Question type %(type)s computes its answer from a formula with random "
            "values, and questions here have fixed answers. Recreate it as a "
            "numerical or short-answer question with fixed values.",
            type=type_name,
        )
    if type_name in ("ddwtos", "gapselect"):
        return _l(
            "Question type %(type)s lets learners drag or pick words into gaps, "
            "which questions here cannot do. Recreate it as a fill-in-the-blank "
            "question, where learners type each answer.",
            type=type_name,
        )
    if type_name == "multianswer":
        return _l(
            "Question type %(type)s (Cloze) embeds several sub-questions in one "
            "text, which questions here cannot do. Recreate it as a "
            "fill-in-the-blank question, or as one question per sub-question.",
            type=type_name,
        )
    if type_name in ("ddimageortext", "ddmarker"):
        return _l(
            "Question type %(type)s places items on a background image, and the "
            "import reads no images. Recreate it as a matching question.",
            type=type_name,
        )
    if type_name == "random":
        return _l(
            "Question type %(type)s is a placeholder that Moodle replaces with a "
            "question drawn from its category when a quiz starts. Import the "
            "questions of that category instead.",
            type=type_name,
        )
    if type_name == "randomsamatch":
        return _l(
            "Question type %(type)s builds a matching question from short-answer "
            "questions drawn at random when a quiz starts. Create a matching "
            "question here instead.",
            type=type_name,
        )
    return _l(
        "Question type %(type)s is not supported. The import reads the types "
        "multichoice, truefalse, shortanswer, numerical, matching, essay and "
        "description.",
        type=type_name,
    )


def _default_grade(element: ET.Element) -> Decimal | None:
    """Return a positive ``defaultgrade``, or None when it is missing or not a number."""
    try:
        grade = Decimal((element.findtext("defaultgrade") or "").strip())
    except InvalidOperation:
        return None
    return grade if grade.is_finite() and grade > 0 else None


def parse_moodle_xml(data: bytes) -> list[ParsedQuestion]:
    """Parse a Moodle XML export into questions, with CATEGORY records in place.

    Like :func:`read_moodle_xml`, but a question of a type it cannot read is a
    problem too, so a successful parse returns every question of the file.
    """
    questions, problems, left_out = _read_questions(data)
    if problems or left_out:
        raise FormatError([*problems, *left_out])
    return questions


def read_moodle_xml(
    data: bytes,
) -> tuple[list[ParsedQuestion], list[FormatProblem]]:
    """Parse a Moodle XML export; return its questions and the ones left out.

    The questions come with CATEGORY records in place. A question of a type other
    than the supported ones is left out, and the second list names its line and
    the reason. HTML in question, answer and feedback texts is always cleaned with nh3.
    Embedded files (``<file>`` elements) are not read, so ``@@PLUGINFILE@@`` links
    in the texts point nowhere. Raises :class:`FormatError` listing every problem
    of the supported questions with its line number, or the single reason the file
    is not acceptable XML.
    """
    questions, problems, left_out = _read_questions(data)
    if problems:
        raise FormatError(problems)
    return questions, left_out


def _read_questions(
    data: bytes,
) -> tuple[list[ParsedQuestion], list[FormatProblem], list[FormatProblem]]:
    """Return the questions, the problems and the left-out questions of a file.

    Raises :class:`FormatError` only when the file is not acceptable XML.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    root, lines = _parse_tree(data)
    if root.tag != "quiz":
        raise FormatError.single(
            lines.get(id(root)),
            "file",
            _l(
                "The root element is <%(tag)s>; a Moodle XML file has <quiz>.",
                tag=root.tag,
            ),
        )
    problems: list[FormatProblem] = []
    left_out: list[FormatProblem] = []
    questions: list[ParsedQuestion] = []
    category: str | None = None
    for element in root.iterfind("question"):
        reader = _XmlReader(lines, problems, left_out)
        question = reader.question(element, category)
        if question is None or reader.failed:
            continue
        if question.kind is Kind.CATEGORY:
            category = question.category
            questions.append(question)
        else:
            questions.append(sanitize_question(question))
    return questions, problems, left_out


# ---------------------------------------------------------------------------
# Writing


def _add_text(
    parent: ET.Element, tag: str, text: str, text_format: TextFormat | None = None
) -> ET.Element:
    element = ET.SubElement(parent, tag)
    if text_format is not None:
        element.set("format", _FORMAT_ATTRIBUTES[text_format])
    ET.SubElement(element, "text").text = text
    return element


def _add_value(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, tag).text = value


def _write_answers(element: ET.Element, question: ParsedQuestion) -> None:
    for answer in question.answers:
        answer_element = ET.SubElement(
            element,
            "answer",
            fraction=format_decimal(answer.score),
            format=_FORMAT_ATTRIBUTES[answer.text_format],
        )
        value = answer.numerical
        _add_value(
            answer_element,
            "text",
            answer.text if value is None else format_decimal(value.value),
        )
        if question.kind is Kind.NUMERICAL:
            tolerance = (
                Decimal(0)
                if value is None or value.tolerance is None
                else value.tolerance
            )
            _add_value(answer_element, "tolerance", format_decimal(tolerance))
        _add_text(answer_element, "feedback", answer.feedback, answer.feedback_format)


def _write_question(root: ET.Element, question: ParsedQuestion) -> None:
    element = ET.SubElement(root, "question", type=question.kind.value)
    _add_text(element, "name", question.name)
    _add_text(element, "questiontext", question.stem, question.stem_format)
    _add_text(
        element,
        "generalfeedback",
        question.general_feedback,
        question.general_feedback_format,
    )
    if question.kind is Kind.DESCRIPTION:
        grade = "0"
    elif question.default_grade is not None:
        grade = format_decimal(question.default_grade)
    else:
        grade = "1"
    _add_value(element, "defaultgrade", grade)
    _add_value(
        element, "penalty", "1" if question.kind is Kind.TRUEFALSE else "0.3333333"
    )
    _add_value(element, "hidden", "0")
    _add_value(element, "idnumber", question.idnumber or "")

    kind = question.kind
    if kind is Kind.MULTICHOICE:
        _add_value(element, "single", "true" if question.single else "false")
        _add_value(element, "shuffleanswers", "true")
        _add_value(element, "answernumbering", "abc")
        _write_answers(element, question)
    elif kind in (Kind.TRUEFALSE, Kind.NUMERICAL):
        _write_answers(element, question)
    elif kind is Kind.SHORTANSWER:
        _add_value(element, "usecase", "0")
        _write_answers(element, question)
    elif kind is Kind.MATCHING:
        _add_value(element, "shuffleanswers", "true")
        for answer in question.answers:
            sub = _add_text(element, "subquestion", answer.text, answer.text_format)
            _add_text(sub, "answer", answer.match_to or "")
    elif kind is Kind.ESSAY:
        for tag, value in (
            ("responseformat", "editor"),
            ("responserequired", "1"),
            ("responsefieldlines", "15"),
            ("attachments", "0"),
            ("attachmentsrequired", "0"),
        ):
            _add_value(element, tag, value)
        _add_text(element, "graderinfo", "", TextFormat.HTML)
        _add_text(element, "responsetemplate", "", TextFormat.HTML)

    if question.tags:
        tags = ET.SubElement(element, "tags")
        for tag in question.tags:
            _add_text(tags, "tag", tag)


def _write_category(root: ET.Element, path: str) -> None:
    element = ET.SubElement(root, "question", type=Kind.CATEGORY.value)
    _add_text(element, "category", path)


def dump_moodle_xml(questions: Iterable[ParsedQuestion]) -> bytes:
    """Write questions as a UTF-8 Moodle XML document that Moodle imports.

    CATEGORY records, and questions whose category differs from the one in force,
    produce category records. Numerical ranges are written as value and tolerance
    and missing-word blanks as ``_____``, the only forms Moodle XML has.
    """
    root = ET.Element("quiz")
    current_category: str | None = None
    for question in questions:
        if question.kind is Kind.CATEGORY:
            current_category = question.category
            _write_category(root, question.category or "")
            continue
        if question.category is not None and question.category != current_category:
            current_category = question.category
            _write_category(root, question.category)
        _write_question(root, question)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")
