"""Import questions into a bank from GIFT, Aiken or Moodle XML, and export them back.

Import runs in two steps. :func:`read_file` parses a whole file and maps
every question onto the product's kinds, collecting every problem with its
line; nothing is stored while any problem remains. :func:`store` then writes
the mapped questions, creating categories from the file's category paths
under the chosen category.
"""

import html
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Optional

import nh3
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from assessments import logger, question_forms
from assessments.formats import (
    BLANK,
    NumericalValue,
    format_decimal,
    FormatError,
    FormatProblem,
    Kind,
    ParsedAnswer,
    ParsedQuestion,
    TextFormat,
    decode_upload,
    dump_aiken,
    dump_gift,
    dump_moodle_xml,
    parse_aiken,
    parse_gift,
    read_moodle_xml,
)
from assessments.models import (
    FALSE_VALUE,
    TRUE_VALUE,
    ChoiceScoring,
    Question,
    QuestionCategory,
    QuestionKind,
    TagKind,
)
from lms.accounts.models import User
from lms.extensions import db

FORMATS = ("gift", "aiken", "moodle_xml")
#: Formats a file can be imported from: ``FORMATS`` and the question sheet of
#: ``assessments.question_sheet``, as XLSX or CSV.
IMPORT_FORMATS = (*FORMATS, "spreadsheet")
#: Formats a bank can be exported to; "xlsx" and "csv" write the question sheet.
EXPORT_FORMATS = (*FORMATS, "xlsx", "csv")
FORMAT_LABELS = {
    "gift": "GIFT",
    "aiken": "Aiken",
    "moodle_xml": "Moodle XML",
    "spreadsheet": _l("Spreadsheet (XLSX or CSV)"),
    "xlsx": _l("Spreadsheet (XLSX)"),
    "csv": _l("Spreadsheet (CSV)"),
}
EXTENSIONS = {
    "gift": ("gift", "txt"),
    "aiken": ("txt",),
    "moodle_xml": ("xml",),
    "spreadsheet": ("xlsx", "csv"),
}
#: Category path parts that Moodle adds above the real categories.
_MOODLE_ROOTS = {"$course$", "$system$", "$module$", "$cat1$", "top", "默认", "default"}
HUNDRED = Decimal(100)


@dataclass
class ImportItem:
    """One question ready to store: its category path under the target and its fields."""

    line: Optional[int]
    category: list[str]
    fields: dict
    source_kind: str = ""
    #: What the file gives for this question that is not kept, one phrase each.
    dropped: list[str] = field(default_factory=list)


@dataclass
class ImportPreview:
    items: list[ImportItem] = field(default_factory=list)
    #: Descriptions and other records that are not questions, with their lines.
    skipped: list[tuple[Optional[int], str]] = field(default_factory=list)
    #: Questions left out because nothing here can hold them: line and reason.
    left_out: list[FormatProblem] = field(default_factory=list)
    encoding: str = ""


def _plain(text: str, text_format: TextFormat) -> str:
    """Return a stem or feedback as plain text; questions here show text, not HTML."""
    if text_format in (TextFormat.PLAIN, TextFormat.MARKDOWN):
        return text.strip()
    return html.unescape(nh3.clean(text.replace("<br>", "\n"), tags=set())).strip()


def _category_parts(path: Optional[str]) -> list[str]:
    parts = [part.strip() for part in (path or "").split("/") if part.strip()]
    while parts and parts[0].lower() in _MOODLE_ROOTS:
        parts.pop(0)
    return parts


def parse(fmt: str, raw: bytes) -> tuple[list[ParsedQuestion], list[FormatProblem]]:
    """Decode and parse an uploaded file; raise FormatError with every problem.

    Returns the questions and the questions of types the format's reader cannot
    read, with their reasons. Only Moodle XML has such types, because GIFT and
    Aiken have no question types beyond the ones their readers parse.
    """
    if fmt == "moodle_xml":
        return read_moodle_xml(raw)
    text = decode_upload(raw)
    return (parse_gift(text) if fmt == "gift" else parse_aiken(text)), []


#: A line of an Aiken answer key, "ANSWER: B" or "答案：B".
_AIKEN_KEY = re.compile(r"^\s*(ANSWER|答案)\s*[:：]\s*[A-Za-z]\s*$", re.MULTILINE)
#: A GIFT answer block, such as {=right ~wrong}, {T} or {#3.14:0.01}.
_GIFT_ANSWERS = re.compile(r"\{\s*([=~#]|(T|F|TRUE|FALSE)\s*[}#])")


def _likely_format(raw: bytes) -> Optional[str]:
    """Guess which question format ``raw`` is written in, or None when unsure."""
    try:
        text = str(decode_upload(raw))
    except FormatError:
        return None
    head = text.lstrip("\ufeff \t\r\n")[:500]
    if head.startswith("<?xml") or "<quiz" in head:
        return "moodle_xml"
    if _AIKEN_KEY.search(text) and "{" not in text:
        return "aiken"
    if _GIFT_ANSWERS.search(text):
        return "gift"
    return None


def read_file(fmt: str, raw: bytes) -> ImportPreview:
    """Parse a file and map each question; raise FormatError listing every problem.

    A file that the chosen format cannot read but that looks like another
    format gets one problem naming that format, because the parser's own
    complaints would send the trainer to fix a file that is not broken.
    """
    try:
        return _read_file(fmt, raw)
    except FormatError:
        likely = _likely_format(raw)
        if likely is None or likely == fmt:
            raise
    label = FORMAT_LABELS[likely]
    raise FormatError.single(
        None,
        "file",
        _l(
            "The file looks like %(format)s, not %(chosen)s: choose %(format)s as the"
            " format and check the file again.",
            format=label,
            chosen=FORMAT_LABELS[fmt],
        ),
    )


def _read_file(fmt: str, raw: bytes) -> ImportPreview:
    preview = ImportPreview()
    questions, preview.left_out = parse(fmt, raw)
    for parsed in questions:
        if parsed.kind is Kind.CATEGORY:
            continue
        if parsed.kind is Kind.DESCRIPTION:
            preview.skipped.append((parsed.line, _plain(parsed.stem, parsed.stem_format)))
            continue
        fields, errors = _map(parsed)
        # A question nothing here can hold is left out with its reason; the
        # rest of the file still imports.
        for name, message in errors.items():
            preview.left_out.append(FormatProblem(parsed.line, name, message))
        if not errors:
            preview.items.append(
                ImportItem(
                    parsed.line,
                    _category_parts(parsed.category),
                    fields,
                    parsed.kind.value,
                    dropped_parts(parsed),
                )
            )
    preview.left_out.sort(key=lambda problem: problem.line or 0)
    if not preview.items:
        raise FormatError([*preview.left_out, FormatProblem(None, "file", _no_questions(preview))])
    return preview


def _no_questions(preview: ImportPreview) -> str:
    """Return the message for a file without questions, naming its description lines."""
    if preview.left_out or not preview.skipped:
        return _l("The file contains no questions.")
    lines = _(", ").join(_("line %(line)s", line=line) for line, _text in preview.skipped)
    return _l(
        "The file contains only descriptions (%(lines)s), which are not questions: "
        "add questions to the file.",
        lines=lines,
    )


def _has_markup(text: str, text_format: TextFormat) -> bool:
    if text_format in (TextFormat.PLAIN, TextFormat.MARKDOWN):
        return False
    return _plain(text, text_format) != html.unescape(text.replace("<br>", "\n")).strip()


def _is_catch_all(parsed: ParsedQuestion, answer: ParsedAnswer) -> bool:
    if parsed.kind is Kind.NUMERICAL:
        return answer.numerical is None
    return answer.text.strip() == "*"


def dropped_parts(parsed: ParsedQuestion) -> list[str]:
    """Name what the import does not keep of ``parsed``, one phrase each."""
    dropped = []
    if _has_markup(parsed.stem, parsed.stem_format) or _has_markup(
        parsed.general_feedback, parsed.general_feedback_format
    ):
        dropped.append(str(_l("HTML formatting (the text is kept as plain text)")))
    answers = parsed.answers
    if parsed.kind is Kind.MATCHING and any(a.feedback for a in answers):
        dropped.append(str(_l("feedback on matching pairs")))
    if any(_is_catch_all(parsed, a) and a.feedback for a in answers):
        dropped.append(str(_l("feedback for any other answer")))
    if parsed.kind in (Kind.SHORTANSWER, Kind.NUMERICAL):
        if any(a.score < 0 for a in answers):
            dropped.append(str(_l("answers with a negative weight")))
    if parsed.kind is Kind.MULTICHOICE and _uneven_weights(answers):
        dropped.append(
            str(_l("uneven answer weights (the correct choices share the mark evenly)"))
        )
    return dropped


def _uneven_weights(answers: list[ParsedAnswer]) -> bool:
    positive = {a.score for a in answers if a.score > 0}
    negative = {a.score for a in answers if a.score < 0}
    return len(positive) > 1 or len(negative) > 1


def _map(parsed: ParsedQuestion) -> tuple[dict, dict]:
    """Turn a parsed question into question form values and validate them."""
    data = {
        "text": _plain(parsed.stem, parsed.stem_format),
        # GIFT and Aiken carry no points, so their questions are worth 1.
        "points": format(parsed.default_grade, "f") if parsed.default_grade else "1",
        "explanation": _plain(parsed.general_feedback, parsed.general_feedback_format),
        "tags_topic": ", ".join(parsed.tags),
    }
    mapper = _MAPPERS.get(parsed.kind)
    if mapper is None:
        return {}, {"kind": _l("The question type %(kind)s has no equivalent here.", kind=parsed.kind.value)}
    extra_errors = mapper(parsed, data)
    if extra_errors:
        return {}, extra_errors
    fields, errors = question_forms.validate(data)
    return fields, {name: str(message) for name, message in errors.items()}


def _choice_rows(data: dict, answers: list[ParsedAnswer]) -> Optional[dict]:
    if len(answers) > question_forms.CHOICE_SLOTS:
        return {"answers": _l("A question can have at most %(max)d choices.", max=question_forms.CHOICE_SLOTS)}
    for slot, answer in enumerate(answers, start=1):
        data[f"choice_{slot}"] = _plain(answer.text, answer.text_format)
        data[f"feedback_{slot}"] = _plain(answer.feedback, answer.feedback_format)
        if answer.score > 0:
            data[f"correct_{slot}"] = "1"
    return None


def _map_multichoice(parsed: ParsedQuestion, data: dict) -> Optional[dict]:
    answers = parsed.answers
    full = [a for a in answers if a.score >= HUNDRED]
    if parsed.single and len(full) == 1 and not any(0 < a.score < HUNDRED for a in answers):
        data["kind"] = QuestionKind.SINGLE.value
        return _choice_rows(data, answers)
    data["kind"] = QuestionKind.MULTIPLE.value
    positive = [a for a in answers if a.score > 0]
    if all(a.score >= HUNDRED for a in positive) and not any(a.score < 0 for a in answers):
        data["scoring"] = ChoiceScoring.ALL_OR_NOTHING.value
    elif any(a.score < 0 for a in answers):
        data["scoring"] = ChoiceScoring.PARTIAL_PENALTY.value
    else:
        data["scoring"] = ChoiceScoring.PARTIAL.value
    return _choice_rows(data, answers)


def _map_truefalse(parsed: ParsedQuestion, data: dict) -> Optional[dict]:
    data["kind"] = QuestionKind.TRUE_FALSE.value
    by_value = {answer.text: answer for answer in parsed.answers}
    truth = by_value["true"].correct if "true" in by_value else True
    data["choice_1"], data["choice_2"] = TRUE_VALUE, FALSE_VALUE
    data["correct_1" if truth else "correct_2"] = "1"
    for slot, value in ((1, TRUE_VALUE), (2, FALSE_VALUE)):
        answer = by_value.get(value)
        if answer is not None:
            data[f"feedback_{slot}"] = _plain(answer.feedback, answer.feedback_format)
    return None


def _accepted_line(text: str, answer: ParsedAnswer) -> str:
    """Write an answer as the form's ``answer | percent | feedback`` line."""
    feedback = " ".join(_plain(answer.feedback, answer.feedback_format).split())
    if feedback:
        return f"{text} | {format_decimal(answer.score)} | {feedback}"
    if answer.score >= HUNDRED:
        return text
    return f"{text} | {format_decimal(answer.score)}"


def _kept(parsed: ParsedQuestion, answer: ParsedAnswer) -> bool:
    """Keep answers that earn credit, and answers worth 0 that give feedback."""
    if _is_catch_all(parsed, answer):
        return False
    return answer.score > 0 or (answer.score == 0 and bool(answer.feedback))


def _map_shortanswer(parsed: ParsedQuestion, data: dict) -> Optional[dict]:
    accepted = [a for a in parsed.answers if a.score > 0]
    # A blank whose answers all earn full marks without feedback is a fill in
    # the blank; partial credit or feedback needs a short answer, which keeps
    # both and shows the stem with its blank.
    plain_blank = all(a.score >= HUNDRED for a in accepted) and not any(
        a.feedback for a in parsed.answers
    )
    # Moodle XML writes a missing-word blank as _____ in the stem and keeps no offset.
    if plain_blank and (parsed.has_embedded_answers or data["text"].count(BLANK) == 1):
        data["kind"] = QuestionKind.FILL_BLANK.value
        data["blanks"] = " | ".join(a.text for a in accepted if a.score >= HUNDRED)
        return None
    data["kind"] = QuestionKind.SHORT_ANSWER.value
    data["accepted"] = "\n".join(
        _accepted_line(a.text, a) for a in parsed.answers if _kept(parsed, a)
    )
    return None


def numeric_text(number: NumericalValue) -> str:
    """Write a numerical answer as the form's ``value ± tolerance`` or ``min .. max``."""
    if number.interval is not None:
        low, high = number.interval
        return f"{format_decimal(low)} .. {format_decimal(high)}"
    return f"{format_decimal(number.value)} ± {format_decimal(number.tolerance or Decimal(0))}"


def _map_numerical(parsed: ParsedQuestion, data: dict) -> Optional[dict]:
    data["kind"] = QuestionKind.SHORT_ANSWER.value
    data["accepted"] = "\n".join(
        _accepted_line(numeric_text(a.numerical), a)
        for a in parsed.answers
        if _kept(parsed, a)
    )
    return None


def _map_matching(parsed: ParsedQuestion, data: dict) -> Optional[dict]:
    data["kind"] = QuestionKind.MATCHING.value
    if len(parsed.answers) > question_forms.CHOICE_SLOTS:
        return {"answers": _l("A question can have at most %(max)d choices.", max=question_forms.CHOICE_SLOTS)}
    for slot, answer in enumerate(parsed.answers, start=1):
        data[f"choice_{slot}"] = _plain(answer.text, answer.text_format)
        data[f"match_{slot}"] = answer.match_to or ""
    return None


def _map_essay(parsed: ParsedQuestion, data: dict) -> Optional[dict]:
    data["kind"] = QuestionKind.ESSAY.value
    return None


_MAPPERS = {
    Kind.MULTICHOICE: _map_multichoice,
    Kind.TRUEFALSE: _map_truefalse,
    Kind.SHORTANSWER: _map_shortanswer,
    Kind.NUMERICAL: _map_numerical,
    Kind.MATCHING: _map_matching,
    Kind.ESSAY: _map_essay,
}


def _category(target: QuestionCategory, parts: list[str]) -> QuestionCategory:
    node = target
    for name in parts:
        child = next((c for c in node.children if c.name == name[:200]), None)
        if child is None:
            child = QuestionCategory(bank_id=node.bank_id, parent=node, name=name[:200])
            db.session.add(child)
            db.session.flush()
        node = child
    return node


def store(target: QuestionCategory, preview: ImportPreview, actor: User) -> list[Question]:
    """Create the previewed questions under ``target``; return them."""
    created = []
    for item in preview.items:
        category = _category(target, item.category)
        position = len(category.questions) + 1
        question = Question(position=position)
        category.questions.append(question)
        question_forms.apply(question, item.fields)
        created.append(question)
    db.session.flush()
    logger.info(
        "%d questions imported into category %s by %r", len(created), target.id, actor
    )
    return created


# Export ----------------------------------------------------------------------


def to_parsed(question: Question, category_path: str) -> Optional[ParsedQuestion]:
    """Describe ``question`` in the formats' terms, or None when no format has its kind."""
    base = ParsedQuestion(
        kind=Kind.MULTICHOICE,
        stem=question.text,
        general_feedback=question.explanation,
        category=category_path,
        tags=[tag.value for tag in question.tags if tag.kind is TagKind.TOPIC],
        default_grade=question.points,
    )
    kind = question.kind
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        base.single = kind is QuestionKind.SINGLE
        base.answers = _choice_answers(question)
        return base
    if kind is QuestionKind.TRUE_FALSE:
        base.kind = Kind.TRUEFALSE
        truth = question.choices[0].is_correct if question.choices else True
        feedback = [choice.feedback for choice in question.choices] + ["", ""]
        base.answers = [
            ParsedAnswer(TRUE_VALUE, correct=truth, feedback=feedback[0]),
            ParsedAnswer(FALSE_VALUE, correct=not truth, feedback=feedback[1]),
        ]
        return base
    if kind is QuestionKind.SHORT_ANSWER:
        accepted = question.answer_key.get("answers") or []
        numeric = bool(accepted) and all("min" in a and "max" in a for a in accepted)
        base.kind = Kind.NUMERICAL if numeric else Kind.SHORTANSWER
        base.answers = [_short_answer(a, numeric) for a in accepted]
        return base
    if kind is QuestionKind.FILL_BLANK:
        blanks = question.answer_key.get("blanks") or []
        if len(blanks) != 1:
            return None
        base.kind = Kind.SHORTANSWER
        base.blank_offset = question.text.index(BLANK)
        base.answers = [ParsedAnswer(text, correct=True) for text in blanks[0]]
        return base
    if kind is QuestionKind.MATCHING:
        base.kind = Kind.MATCHING
        base.answers = [
            ParsedAnswer(c.text, correct=True, match_to=c.match_text) for c in question.choices
        ]
        return base
    if kind is QuestionKind.ESSAY:
        base.kind = Kind.ESSAY
        return base
    return None


def _short_answer(accepted: dict, numeric: bool) -> ParsedAnswer:
    score = Decimal(accepted["score"])
    answer = ParsedAnswer(
        accepted["text"],
        correct=score >= HUNDRED,
        weight=score,
        feedback=accepted.get("feedback", ""),
    )
    if numeric:
        low, high = Decimal(accepted["min"]), Decimal(accepted["max"])
        half_width = (high - low) / 2
        answer.numerical = NumericalValue(low + half_width, half_width)
        if "±" not in accepted["text"]:
            answer.numerical = NumericalValue.from_interval(low, high)
        answer.text = format_decimal(answer.numerical.value)
    return answer


def _choice_answers(question: Question) -> list[ParsedAnswer]:
    correct = [c for c in question.choices if c.is_correct]
    wrong = [c for c in question.choices if not c.is_correct]
    answers = []
    for choice in question.choices:
        weight = None
        if question.kind is QuestionKind.MULTIPLE and question.scoring is not ChoiceScoring.ALL_OR_NOTHING:
            if choice.is_correct:
                weight = _share(len(correct))
            elif question.scoring is ChoiceScoring.PARTIAL_PENALTY and wrong:
                weight = -_share(len(wrong))
            else:
                weight = Decimal(0)
        answers.append(
            ParsedAnswer(
                choice.text, correct=choice.is_correct, weight=weight, feedback=choice.feedback
            )
        )
    return answers


def _share(count: int) -> Decimal:
    # Moodle XML and GIFT keep up to five decimals of a percentage weight.
    return (HUNDRED / count).quantize(Decimal("0.00001"))


def questions_under(category: QuestionCategory) -> list[Question]:
    return list(
        db.session.scalars(
            sa.select(Question)
            .where(Question.category_id.in_(category.subtree_ids()))
            .order_by(Question.category_id, Question.position, Question.id)
        )
    )


def _export_path(question: Question) -> str:
    names = []
    node = question.category
    while node is not None:
        names.append(node.name.replace("/", "-"))
        node = node.parent
    return "/".join(reversed(names))


def _exportable(fmt: str, question: Question) -> Optional[ParsedQuestion]:
    parsed = to_parsed(question, _export_path(question))
    if parsed is None:
        return None
    if fmt == "aiken" and (parsed.kind is not Kind.MULTICHOICE or not parsed.single):
        return None
    return parsed


def unexportable_count(fmt: str, questions: list[Question]) -> int:
    """Return how many of ``questions`` the format cannot hold."""
    return sum(1 for question in questions if _exportable(fmt, question) is None)


def export(fmt: str, questions: list[Question]) -> tuple[bytes, list[Question]]:
    """Write the questions the format can hold; return the file and the left-out ones."""
    writable, left_out = [], []
    for question in questions:
        parsed = _exportable(fmt, question)
        if parsed is None:
            left_out.append(question)
        else:
            writable.append(parsed)
    if fmt == "moodle_xml":
        return dump_moodle_xml(writable), left_out
    text = dump_gift(writable) if fmt == "gift" else dump_aiken(writable)
    return text.encode("utf-8"), left_out
