"""Moodle GIFT format: :func:`parse_gift` reads it and :func:`dump_gift` writes it.

GIFT keeps one question per block of lines; blank lines separate blocks and lines
starting with ``//`` are comments. A block is ``::title::[format]stem{answers}`` with
an optional text after the answers (the missing-word form). The answer block decides
the kind, as Moodle's importer does:

* ``{}`` essay, no block at all: description
* ``{#...}`` numerical: ``{#1822}``, ``{#3.14:0.01}``, ``{#1..5}`` or ``=``/``~`` answers
* any ``~``: multiple choice; ``=`` marks right answers, ``%50%`` sets a weight
* ``=`` with ``->`` everywhere: matching
* ``T``, ``TRUE``, ``F`` or ``FALSE``: true/false, then ``#wrong feedback#right feedback``
* otherwise short answer: ``=`` answers, or a single bare answer

``#`` starts an answer's feedback and ``####`` the general feedback. A backslash escapes
``~ = # { } :`` and itself, and ``\\n`` is a line break. ``// [id:...]`` and
``// [tag:...]`` comment lines set the ID number and tags of the question after them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from assessments.formats.sanitize import sanitize_question
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
)

CATEGORY_PREFIX = "$CATEGORY:"
_TRUE_WORDS = ("T", "TRUE")
_FALSE_WORDS = ("F", "FALSE")
_ESCAPED = {
    "~": "~",
    "=": "=",
    "#": "#",
    "{": "{",
    "}": "}",
    ":": ":",
    "\\": "\\",
    "n": "\n",
}

_FORMAT_MARKER = re.compile(r"\s*\[(moodle|html|plain|markdown)\]")
_WEIGHT = re.compile(r"\s*%(-?[0-9.]+)%")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_ID_COMMENT = re.compile(r"\[id:([^\]]*)\]")
_TAG_COMMENT = re.compile(r"\[tag:([^\]]*)\]")
# In moodle-format text a line break and the spaces around it become one space, so a
# question wrapped over several lines reads as one paragraph. NOTE: Moodle's own
# importer keeps the break, which its auto-format shows as <br>. This follows the
# GIFT-grammar-PEG.js parser, whose test suite tests/conformance/gift holds.
_WRAPPED_LINE = re.compile(r"\s*\n\s*")


# ---------------------------------------------------------------------------
# Escape-aware scanning. Every search skips a backslash and the character after it.


def _find(raw: str, target: str, start: int = 0, end: int | None = None) -> int:
    """Return the index of the first unescaped ``target`` in ``raw[start:end]``, or -1."""
    stop = len(raw) if end is None else end
    index = start
    while index < stop:
        if raw[index] == "\\":
            index += 2
            continue
        if raw.startswith(target, index) and index + len(target) <= stop:
            return index
        index += 1
    return -1


def _rfind(raw: str, target: str) -> int:
    last = -1
    index = _find(raw, target)
    while index >= 0:
        last = index
        index = _find(raw, target, index + 1)
    return last


def _split_markers(raw: str, markers: str) -> tuple[str, list[tuple[str, int, str]]]:
    """Split answer text at unescaped marker characters.

    Returns the text before the first marker and, for each marker, the marker, its
    index in ``raw`` and the text up to the next marker.
    """
    starts: list[int] = []
    index = 0
    while index < len(raw):
        if raw[index] == "\\":
            index += 2
            continue
        if raw[index] in markers:
            starts.append(index)
        index += 1
    if not starts:
        return raw, []
    segments = []
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(raw)
        segments.append((raw[start], start, raw[start + 1 : end]))
    return raw[: starts[0]], segments


def _unescape(raw: str) -> str:
    out = []
    index = 0
    while index < len(raw):
        char = raw[index]
        if char == "\\" and index + 1 < len(raw) and raw[index + 1] in _ESCAPED:
            out.append(_ESCAPED[raw[index + 1]])
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def _clean(raw: str, text_format: TextFormat) -> str:
    """Turn raw GIFT text into its value: trim, reflow moodle-format text, unescape."""
    raw = raw.strip()
    if text_format is TextFormat.MOODLE:
        raw = _WRAPPED_LINE.sub(" ", raw)
    return _unescape(raw).strip()


def _split_format(raw: str, default: TextFormat) -> tuple[TextFormat, str]:
    match = _FORMAT_MARKER.match(raw)
    if match is None:
        return default, raw
    return TextFormat(match.group(1)), raw[match.end() :]


# ---------------------------------------------------------------------------
# Reading


@dataclass
class _Block:
    """Consecutive non-blank lines with their 1-based line numbers, comments removed."""

    lines: list[tuple[int, str]] = field(default_factory=list)
    idnumber: str | None = None
    tags: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def line_at(self, offset: int) -> int:
        index = self.text.count("\n", 0, offset)
        return self.lines[min(index, len(self.lines) - 1)][0]


def _blocks(text: str) -> Iterator[_Block]:
    current: _Block | None = None
    pending_id: str | None = None
    pending_tags: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if stripped.startswith("//"):
            # Comment metadata belongs to the next question that starts after it.
            for match in _ID_COMMENT.finditer(stripped):
                pending_id = match.group(1).strip()
            pending_tags.extend(
                tag.strip() for tag in _TAG_COMMENT.findall(stripped) if tag.strip()
            )
            continue
        if not stripped:
            if current is not None:
                yield current
                current = None
            continue
        if current is None:
            current = _Block(idnumber=pending_id, tags=pending_tags)
            pending_id, pending_tags = None, []
        current.lines.append((number, line))
    if current is not None:
        yield current


class _BlockParser:
    """Parse one block into a question, recording problems instead of stopping."""

    def __init__(self, block: _Block, problems: list[FormatProblem]):
        self.block = block
        self.raw = block.text
        self.problems = problems
        self.failed = False

    def error(self, offset: int, field_name: str, message) -> None:
        self.failed = True
        self.problems.append(
            FormatProblem(self.block.line_at(offset), field_name, message)
        )

    # -- question ----------------------------------------------------------

    def parse(self, category: str | None) -> ParsedQuestion | None:
        question = ParsedQuestion(
            kind=Kind.DESCRIPTION,
            category=category,
            tags=list(self.block.tags),
            idnumber=self.block.idnumber,
            line=self.block.lines[0][0],
        )
        position = self._parse_title(question)
        if position is None:
            return None
        question.stem_format, rest = _split_format(
            self.raw[position:], TextFormat.MOODLE
        )
        question.general_feedback_format = question.stem_format
        position = len(self.raw) - len(rest)

        braces = self._locate_answer_block(position)
        if self.failed:
            return None
        if braces is None:
            question.stem = _clean(self.raw[position:], question.stem_format)
            self._require_stem(question, position)
            return None if self.failed else question

        opening, closing = braces
        self._build_stem(question, self.raw[position:opening], self.raw[closing + 1 :])
        self._require_stem(question, position)
        self._parse_answers(question, opening + 1, closing)
        return None if self.failed else question

    def _parse_title(self, question: ParsedQuestion) -> int | None:
        """Read an optional ``::title::`` and return where the text after it starts."""
        raw = self.raw
        position = len(raw) - len(raw.lstrip())
        if not raw.startswith("::", position):
            return position
        title_end = _find(raw, "::", position + 2)
        if title_end < 0:
            self.error(
                position,
                "title",
                _l(
                    "The title starts with :: but has no closing ::. Write \\: for a colon."
                ),
            )
            return None
        question.name = _clean(raw[position + 2 : title_end], TextFormat.MOODLE)
        return title_end + 2

    def _locate_answer_block(self, position: int) -> tuple[int, int] | None:
        """Return the indexes of the answer block's braces, or None when there is none.

        Records a problem for a brace without its partner, a brace inside the block
        and a second block, which usually means a missing blank line.
        """
        raw = self.raw
        opening = _find(raw, "{", position)
        stray_closing = _find(raw, "}", position, opening if opening >= 0 else None)
        if stray_closing >= 0:
            self.error(
                stray_closing,
                "stem",
                _l("A } has no { before it. Write \\} for a literal brace."),
            )
        if opening < 0:
            return None

        closing = _find(raw, "}", opening + 1)
        if closing < 0:
            self.error(
                opening,
                "answers",
                _l(
                    "The answer block opened here has no closing }. "
                    "Write \\{ for a literal brace."
                ),
            )
            return None
        nested = _find(raw, "{", opening + 1, closing)
        if nested >= 0:
            self.error(
                nested,
                "answers",
                _l("An answer block cannot contain {. Write \\{ for a literal brace."),
            )
        second = _find(raw, "{", closing + 1)
        if second >= 0:
            self.error(
                second,
                "answers",
                _l(
                    "A question has one answer block, but a second { follows. "
                    "Separate questions with a blank line."
                ),
            )
        late_closing = _find(raw, "}", closing + 1)
        if 0 <= late_closing and (second < 0 or late_closing < second):
            self.error(
                late_closing,
                "stem",
                _l("A } has no { before it. Write \\} for a literal brace."),
            )
        return opening, closing

    def _build_stem(self, question: ParsedQuestion, before: str, after: str) -> None:
        before_text = _clean(before, question.stem_format)
        after_text = _clean(after, question.stem_format)
        if not after_text:
            question.stem = before_text
            return
        # Missing-word form: the answers stand in the middle of the sentence.
        parts = [part for part in (before_text, BLANK, after_text) if part]
        question.stem = " ".join(parts)
        question.blank_offset = len(before_text) + 1 if before_text else 0

    def _require_stem(self, question: ParsedQuestion, offset: int) -> None:
        if not question.stem:
            self.error(offset, "stem", _l("The question has no text."))

    # -- answer block ------------------------------------------------------

    def _parse_answers(self, question: ParsedQuestion, start: int, end: int) -> None:
        body = self.raw[start:end]
        feedback_at = _rfind(body, "####")
        if feedback_at >= 0:
            fmt, text = _split_format(body[feedback_at + 4 :], question.stem_format)
            question.general_feedback_format = fmt
            question.general_feedback = _clean(text, fmt)
            body = body[:feedback_at]

        leading = len(body) - len(body.lstrip())
        answers = body.strip()
        offset = start + leading
        if not answers:
            question.kind = Kind.ESSAY
        elif answers.startswith("#"):
            question.kind = Kind.NUMERICAL
            self._numerical(question, answers[1:], offset + 1)
        elif _find(answers, "~") >= 0:
            question.kind = Kind.MULTICHOICE
            self._multichoice(question, answers, offset)
        elif _find(answers, "=") >= 0 and _find(answers, "->") >= 0:
            question.kind = Kind.MATCHING
            self._matching(question, answers, offset)
        else:
            hash_at = _find(answers, "#")
            head = answers if hash_at < 0 else answers[:hash_at]
            if head.strip() in _TRUE_WORDS + _FALSE_WORDS:
                question.kind = Kind.TRUEFALSE
                self._truefalse(question, answers, offset)
            else:
                question.kind = Kind.SHORTANSWER
                self._shortanswer(question, answers, offset)

    def _reject_leading_text(self, leading: str, offset: int) -> None:
        if leading.strip():
            self.error(
                offset,
                "answers",
                _l(
                    "Text before the first = or ~ belongs to no answer: %(text)s",
                    text=leading.strip(),
                ),
            )

    def _weight(self, segment: str, offset: int) -> tuple[Decimal | None, str]:
        match = _WEIGHT.match(segment)
        if match is None:
            return None, segment
        try:
            weight = Decimal(match.group(1))
        except InvalidOperation:
            weight = None
        if weight is None or not weight.is_finite() or not -100 <= weight <= 100:
            self.error(
                offset,
                "weight",
                _l(
                    "Weight %%%(weight)s%% is invalid: write a percentage from -100 to 100.",
                    weight=match.group(1),
                ),
            )
            return None, segment[match.end() :]
        return weight, segment[match.end() :]

    def _answer(
        self, question: ParsedQuestion, marker: str, segment: str, offset: int
    ) -> ParsedAnswer:
        """Parse ``[%weight%][format]text[#[format]feedback]`` after an = or ~ marker."""
        weight, rest = self._weight(segment, offset)
        hash_at = _find(rest, "#")
        text_raw = rest if hash_at < 0 else rest[:hash_at]
        feedback_raw = "" if hash_at < 0 else rest[hash_at + 1 :]
        text_format, text_raw = _split_format(text_raw, question.stem_format)
        feedback_format, feedback_raw = _split_format(
            feedback_raw, question.stem_format
        )
        return ParsedAnswer(
            text=_clean(text_raw, text_format),
            text_format=text_format,
            correct=marker == "=",
            weight=weight,
            feedback=_clean(feedback_raw, feedback_format),
            feedback_format=feedback_format,
            line=self.block.line_at(offset),
        )

    def _multichoice(self, question: ParsedQuestion, answers: str, offset: int) -> None:
        leading, segments = _split_markers(answers, "=~")
        self._reject_leading_text(leading, offset)
        for marker, at, segment in segments:
            answer = self._answer(question, marker, segment, offset + at + 1)
            if not answer.text:
                self.error(offset + at, "answers", _l("An answer has no text."))
            question.answers.append(answer)
        # As in Moodle, a question with no "=" answer lets learners pick several options.
        question.single = any(marker == "=" for marker, _, _ in segments)
        if len(question.answers) < 2:
            self.error(
                offset,
                "answers",
                _l("A multiple-choice question needs at least two answers."),
            )
        self._require_credit(question, offset)

    def _shortanswer(self, question: ParsedQuestion, answers: str, offset: int) -> None:
        leading, segments = _split_markers(answers, "=")
        if not segments:
            # A lone answer needs no "=": {One}.
            segments = [("=", -1, leading)]
        else:
            self._reject_leading_text(leading, offset)
        for marker, at, segment in segments:
            answer = self._answer(question, marker, segment, offset + at + 1)
            if not answer.text:
                self.error(offset + max(at, 0), "answers", _l("An answer has no text."))
            question.answers.append(answer)
        self._require_credit(question, offset)

    def _truefalse(self, question: ParsedQuestion, answers: str, offset: int) -> None:
        # Moodle reads {TRUE#a#b}: "a" is shown for a wrong response, "b" for a right one.
        first_hash = _find(answers, "#")
        head = answers if first_hash < 0 else answers[:first_hash]
        wrong_raw, right_raw = "", ""
        if first_hash >= 0:
            second_hash = _find(answers, "#", first_hash + 1)
            if second_hash < 0:
                wrong_raw = answers[first_hash + 1 :]
            else:
                wrong_raw = answers[first_hash + 1 : second_hash]
                right_raw = answers[second_hash + 1 :]
        wrong_format, wrong_raw = _split_format(wrong_raw, question.stem_format)
        right_format, right_raw = _split_format(right_raw, question.stem_format)
        wrong = (_clean(wrong_raw, wrong_format), wrong_format)
        right = (_clean(right_raw, right_format), right_format)

        is_true = head.strip() in _TRUE_WORDS
        true_feedback, true_format = right if is_true else wrong
        false_feedback, false_format = wrong if is_true else right
        line = self.block.line_at(offset)
        question.answers = [
            ParsedAnswer(
                "true",
                TextFormat.MOODLE,
                is_true,
                None,
                true_feedback,
                true_format,
                line=line,
            ),
            ParsedAnswer(
                "false",
                TextFormat.MOODLE,
                not is_true,
                None,
                false_feedback,
                false_format,
                line=line,
            ),
        ]

    def _matching(self, question: ParsedQuestion, answers: str, offset: int) -> None:
        leading, segments = _split_markers(answers, "=")
        self._reject_leading_text(leading, offset)
        for _, at, segment in segments:
            arrow = _find(segment, "->")
            if arrow < 0:
                self.error(
                    offset + at,
                    "answers",
                    _l(
                        "A matching pair needs -> between the item and its match: %(text)s",
                        text=segment.strip(),
                    ),
                )
                continue
            text_format, item = _split_format(segment[:arrow], question.stem_format)
            match_to = _clean(segment[arrow + 2 :], TextFormat.MOODLE)
            if not match_to:
                self.error(
                    offset + at, "answers", _l("A matching pair has nothing after ->.")
                )
            question.answers.append(
                ParsedAnswer(
                    text=_clean(item, text_format),
                    text_format=text_format,
                    correct=True,
                    feedback_format=question.stem_format,
                    match_to=match_to,
                    line=self.block.line_at(offset + at),
                )
            )
        # An empty item before -> is allowed: its match is an extra wrong choice.
        if sum(1 for answer in question.answers if answer.text) < 2:
            self.error(
                offset,
                "answers",
                _l("A matching question needs at least two pairs with items."),
            )

    def _numerical(self, question: ParsedQuestion, answers: str, offset: int) -> None:
        leading, segments = _split_markers(answers, "=~")
        if not segments:
            # Short form: {#value}, {#value:tolerance} or {#min..max}, with optional #feedback.
            segments = [("=", -1, leading)]
        else:
            self._reject_leading_text(leading, offset)
        for marker, at, segment in segments:
            answer_offset = offset + max(at, 0)
            answer = self._answer(question, marker, segment, answer_offset + 1)
            spec = answer.text
            if spec in ("", "*"):
                if marker == "=" and not spec:
                    self.error(
                        answer_offset, "numerical", _l("An answer has no number.")
                    )
                # "~#feedback" and "*" match every response that no other answer matches.
                answer.text = "*"
            else:
                answer.numerical = self._numerical_value(spec, answer_offset)
                if answer.numerical is not None:
                    answer.text = format_decimal(answer.numerical.value)
            question.answers.append(answer)
        has_number = any(answer.numerical is not None for answer in question.answers)
        if not has_number and not self.failed:
            self.error(
                offset,
                "numerical",
                _l("A numerical question needs at least one number."),
            )
        self._require_credit(question, offset)

    def _numerical_value(self, spec: str, offset: int) -> NumericalValue | None:
        def number(text: str) -> Decimal | None:
            text = text.strip()
            if not _NUMBER.fullmatch(text):
                return None
            return Decimal(text)

        dots = spec.find("..", 1)
        colon = spec.find(":", 1)
        if dots > 0:
            minimum, maximum = number(spec[:dots]), number(spec[dots + 2 :])
            if minimum is not None and maximum is not None and minimum <= maximum:
                return NumericalValue.from_interval(minimum, maximum)
            expected = _l("a range written as minimum..maximum")
        elif colon > 0:
            value, tolerance = number(spec[:colon]), number(spec[colon + 1 :])
            if value is not None and tolerance is not None and tolerance >= 0:
                return NumericalValue(value, tolerance)
            expected = _l(
                "a number and a tolerance of 0 or more, written as value:tolerance"
            )
        else:
            value = number(spec)
            if value is not None:
                return NumericalValue(value)
            expected = _l("a number")
        self.error(
            offset,
            "numerical",
            _l("%(text)s is not %(expected)s.", text=spec, expected=expected),
        )
        return None

    def _require_credit(self, question: ParsedQuestion, offset: int) -> None:
        if question.answers and not any(
            answer.score > 0 for answer in question.answers
        ):
            self.error(
                offset,
                "answers",
                _l(
                    "No answer earns any marks: mark one with = or give it a positive percentage weight."
                ),
            )


def _parse_category(
    block: _Block, problems: list[FormatProblem]
) -> tuple[ParsedQuestion | None, _Block]:
    """Read the ``$CATEGORY:`` line that opens ``block``, and return it and the lines after it."""
    number, first = block.lines[0]
    path = _clean(first.strip()[len(CATEGORY_PREFIX) :], TextFormat.PLAIN)
    rest = _Block(lines=block.lines[1:], idnumber=block.idnumber, tags=block.tags)
    if not path:
        problems.append(
            FormatProblem(number, "category", _l("$CATEGORY: names no category."))
        )
        return None, rest
    return ParsedQuestion(kind=Kind.CATEGORY, category=path, line=number), rest


def parse_gift(text: str, *, sanitize: bool = True) -> list[ParsedQuestion]:
    """Parse GIFT text into questions, with a CATEGORY record for each ``$CATEGORY:``.

    HTML in rendered texts is cleaned by :func:`sanitize_question` unless ``sanitize``
    is False, which keeps every text exactly as written (for conversion between
    formats, never for display). Raises :class:`FormatError` listing every problem in
    the file with its line number.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    problems: list[FormatProblem] = []
    questions: list[ParsedQuestion] = []
    category: str | None = None
    for block in _blocks(text):
        if block.text.lstrip().startswith(CATEGORY_PREFIX):
            # Lines after the category line, if any, are the first question in it.
            switch, block = _parse_category(block, problems)
            if switch is not None:
                category = switch.category
                questions.append(switch)
            if not block.lines:
                continue
        question = _BlockParser(block, problems).parse(category)
        if question is not None:
            questions.append(sanitize_question(question) if sanitize else question)
    if problems:
        raise FormatError(problems)
    return questions


# ---------------------------------------------------------------------------
# Writing


def _escape(text: str) -> str:
    out = []
    for char in text:
        if char in "\\~=#{}:":
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char != "\r":
            out.append(char)
    return "".join(out)


def _text(text: str, text_format: TextFormat, default: TextFormat) -> str:
    """Write a text, with a ``[format]`` marker when it differs from ``default``.

    The marker is also written when the text itself starts like a marker or a comment,
    so that reading the file back cannot mistake the text for either.
    """
    escaped = _escape(text)
    ambiguous = _FORMAT_MARKER.match(
        escaped
    ) is not None or escaped.lstrip().startswith(("//", CATEGORY_PREFIX))
    if text_format is not default or ambiguous:
        return f"[{text_format.value}]{escaped}"
    return escaped


def _weight_text(answer: ParsedAnswer) -> str:
    return "" if answer.weight is None else f"%{format_decimal(answer.weight)}%"


def _feedback_text(answer: ParsedAnswer, default: TextFormat) -> str:
    if not answer.feedback:
        return ""
    return "#" + _text(answer.feedback, answer.feedback_format, default)


def _general_feedback(question: ParsedQuestion) -> str:
    if not question.general_feedback:
        return ""
    return "####" + _text(
        question.general_feedback,
        question.general_feedback_format,
        question.stem_format,
    )


def _numerical_spec(value: NumericalValue) -> str:
    if value.interval is not None:
        minimum, maximum = value.interval
        return f"{format_decimal(minimum)}..{format_decimal(maximum)}"
    if value.tolerance is None:
        return format_decimal(value.value)
    return f"{format_decimal(value.value)}:{format_decimal(value.tolerance)}"


def _answer_block(
    question: ParsedQuestion, problems: list[FormatProblem], label
) -> str:
    default = question.stem_format
    general = _general_feedback(question)
    kind = question.kind
    lines: list[str] = []

    if kind is Kind.ESSAY:
        return "{" + general + "}"

    if kind is Kind.TRUEFALSE:
        by_text = {answer.text.lower(): answer for answer in question.answers}
        if set(by_text) != {"true", "false"}:
            problems.append(
                FormatProblem(
                    None,
                    "answers",
                    _l("%(question)s needs a true and a false answer.", question=label),
                )
            )
            return "{}"
        is_true = by_text["true"].correct
        right, wrong = (
            (by_text["true"], by_text["false"])
            if is_true
            else (by_text["false"], by_text["true"])
        )
        text = "TRUE" if is_true else "FALSE"
        wrong_text = _feedback_text(wrong, default)
        right_text = _feedback_text(right, default)
        if right_text and not wrong_text:
            wrong_text = "#"
        return "{" + text + wrong_text + right_text + general + "}"

    if kind is Kind.NUMERICAL:
        if (
            len(question.answers) == 1
            and question.answers[0].numerical is not None
            and question.answers[0].correct
            and question.answers[0].weight is None
        ):
            answer = question.answers[0]
            return (
                "{#"
                + _numerical_spec(answer.numerical)
                + _feedback_text(answer, default)
                + general
                + "}"
            )
        for answer in question.answers:
            marker = "=" if answer.correct else "~"
            if answer.numerical is not None:
                spec = _numerical_spec(answer.numerical)
            else:
                spec = "" if marker == "~" else "*"
            lines.append(
                f"\t{marker}{_weight_text(answer)}{spec}{_feedback_text(answer, default)}"
            )
        return "{#\n" + "\n".join(lines) + ("\n\t" + general if general else "") + "\n}"

    for answer in question.answers:
        if kind is Kind.MATCHING:
            item = (
                _text(answer.text, answer.text_format, default) if answer.text else ""
            )
            lines.append(f"\t={item} -> {_escape(answer.match_to or '')}")
            continue
        if kind is Kind.SHORTANSWER:
            marker = "="
            weight = (
                _weight_text(answer)
                if answer.correct
                else f"%{format_decimal(answer.score)}%"
            )
        else:
            marker = "=" if answer.correct else "~"
            weight = _weight_text(answer)
        text = _text(answer.text, answer.text_format, default)
        lines.append(f"\t{marker}{weight}{text}{_feedback_text(answer, default)}")
    return "{\n" + "\n".join(lines) + ("\n\t" + general if general else "") + "\n}"


def _question_lines(
    question: ParsedQuestion, problems: list[FormatProblem], label
) -> list[str]:
    lines = []
    if question.idnumber:
        lines.append(f"// [id:{question.idnumber}]")
    if question.tags:
        lines.append("// " + " ".join(f"[tag:{tag}]" for tag in question.tags))

    head = f"::{_escape(question.name)}::" if question.name else ""
    stem = question.stem
    if question.kind is Kind.DESCRIPTION:
        lines.append(head + _text(stem, question.stem_format, TextFormat.MOODLE))
        return lines

    block = _answer_block(question, problems, label)
    offset = question.blank_offset
    if offset is not None and stem[offset : offset + len(BLANK)] == BLANK:
        # Missing-word form: the answer block goes where the blank is.
        before, after = stem[:offset], stem[offset + len(BLANK) :]
        if before:
            before = _text(before, question.stem_format, TextFormat.MOODLE)
        elif question.stem_format is not TextFormat.MOODLE:
            before = f"[{question.stem_format.value}]"
        lines.append(head + before + block + _escape(after))
    else:
        lines.append(
            head + _text(stem, question.stem_format, TextFormat.MOODLE) + block
        )
    return lines


def dump_gift(questions: Iterable[ParsedQuestion]) -> str:
    """Write questions as GIFT text that :func:`parse_gift` and Moodle read back.

    CATEGORY records, and questions whose category differs from the one in force,
    produce ``$CATEGORY:`` lines. A description's general feedback is not written
    because GIFT has no place for it. Raises :class:`FormatError` for questions that
    GIFT cannot express.
    """
    problems: list[FormatProblem] = []
    chunks: list[str] = []
    current_category: str | None = None
    for number, question in enumerate(questions, start=1):
        label = _l("Question %(number)s", number=number)
        if question.kind is Kind.CATEGORY:
            current_category = question.category
            chunks.append(f"{CATEGORY_PREFIX} {question.category or ''}")
            continue
        if question.category is not None and question.category != current_category:
            current_category = question.category
            chunks.append(f"{CATEGORY_PREFIX} {question.category}")
        chunks.append("\n".join(_question_lines(question, problems, label)))
    if problems:
        raise FormatError(problems)
    return "\n\n".join(chunks) + "\n" if chunks else ""
