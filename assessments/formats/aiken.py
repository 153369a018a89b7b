"""Aiken format: single-answer multiple choice as plain text lines.

A question is its stem lines, then options ``A. text`` or ``A) text``, then
``ANSWER: B``::

    What is the capital of France?
    A. Berlin
    B. Paris
    ANSWER: B

Besides the ASCII form, the parser accepts what Chinese Word and WPS users type:
full-width letters and punctuation (``Ａ．`` ``Ｂ）`` ``：``), the enumeration comma
``A、``, ``答案：A`` (also ``正确答案`` and ``参考答案``) for the answer line, blank lines
anywhere and a leading byte-order mark. Option and stem text is kept as written,
full-width punctuation included; only the letters and markers are normalised.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from assessments.formats.types import (
    FormatError,
    FormatProblem,
    Kind,
    ParsedAnswer,
    ParsedQuestion,
    TextFormat,
)
from lms.i18n import join_names

_SPACE = r"[ \t\u3000]"
# An ASCII "." or ")" must not be followed by a Latin letter or another dot, so that
# stems such as "A.I. is..." or "U.S. law..." are not taken for options. Full-width
# markers and the enumeration comma are unambiguous and may touch the text.
_OPTION = re.compile(
    rf"{_SPACE}*(?P<letter>[A-ZＡ-Ｚ])"
    rf"(?:{_SPACE}*[.)](?![A-Za-z.])|{_SPACE}*[．）、])"
    rf"{_SPACE}*(?P<text>.*?){_SPACE}*"
)
_ANSWER = re.compile(
    rf"{_SPACE}*(?:ANSWER|答案|正确答案|参考答案){_SPACE}*[:：]{_SPACE}*"
    rf"(?P<letters>.*?){_SPACE}*[.。]?{_SPACE}*",
    re.IGNORECASE,
)
_LETTER = re.compile(r"[A-Za-zＡ-Ｚａ-ｚ]")


def _ascii_letter(letter: str) -> str:
    return unicodedata.normalize("NFKC", letter).upper()


@dataclass
class _Draft:
    line: int
    stem_lines: list[str] = field(default_factory=list)
    options: dict[str, ParsedAnswer] = field(default_factory=dict)


def parse_aiken(text: str) -> list[ParsedQuestion]:
    """Parse Aiken text into single-answer multichoice questions.

    Raises :class:`FormatError` listing every problem with its line number: an option
    before any question, a repeated option letter, an ANSWER naming no option or a
    missing one, a question with fewer than two options or no ANSWER line.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    problems: list[FormatProblem] = []
    questions: list[ParsedQuestion] = []
    draft: _Draft | None = None

    def report(line: int, field_name: str, message) -> None:
        problems.append(FormatProblem(line, field_name, message))

    def close_without_answer(current: _Draft) -> None:
        report(
            current.line,
            "answer",
            _l(
                "The question has no ANSWER line. End each question with a line such as "
                "ANSWER: A or 答案：A."
            ),
        )

    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue

        answer_match = _ANSWER.fullmatch(line)
        if answer_match is not None and (draft is None or not draft.options):
            if _LETTER.fullmatch(answer_match.group("letters")):
                report(
                    number,
                    "answer",
                    _l("The ANSWER line follows no question with options."),
                )
                draft = None
                continue
            # "Answer: ..." with no options before it is ordinary stem text.
            answer_match = None
        if answer_match is not None:
            question = _finish(draft, answer_match.group("letters"), number, report)
            if question is not None:
                questions.append(question)
            draft = None
            continue

        option_match = _OPTION.fullmatch(line)
        if option_match is not None:
            letter = _ascii_letter(option_match.group("letter"))
            if draft is None:
                report(
                    number,
                    "option",
                    _l("Option %(letter)s has no question before it.", letter=letter),
                )
                continue
            if letter in draft.options:
                report(
                    number,
                    "option",
                    _l("Option %(letter)s appears twice.", letter=letter),
                )
            elif not option_match.group("text"):
                report(
                    number,
                    "option",
                    _l("Option %(letter)s has no text.", letter=letter),
                )
            draft.options[letter] = ParsedAnswer(
                text=option_match.group("text"),
                text_format=TextFormat.PLAIN,
                feedback_format=TextFormat.PLAIN,
                line=number,
            )
            continue

        if draft is not None and draft.options:
            # A stem line after options: the previous question never got its ANSWER.
            close_without_answer(draft)
            draft = None
        if draft is None:
            draft = _Draft(line=number)
        draft.stem_lines.append(line.strip())

    if draft is not None:
        close_without_answer(draft)
    if problems:
        raise FormatError(problems)
    return questions


def _finish(draft: _Draft, letters: str, line: int, report) -> ParsedQuestion | None:
    found = [_ascii_letter(letter) for letter in _LETTER.findall(letters)]
    if not letters:
        report(line, "answer", _l("The ANSWER line names no option letter."))
        return None
    if len(found) != 1 or _LETTER.sub("", letters).strip(" ,，、"):
        report(
            line,
            "answer",
            _l(
                "ANSWER must name exactly one option letter, such as ANSWER: B, "
                "but it says %(text)s.",
                text=letters,
            ),
        )
        return None
    letter = found[0]
    if letter not in draft.options:
        report(
            line,
            "answer",
            _l(
                "ANSWER names option %(letter)s, but the question has only %(letters)s.",
                letter=letter,
                letters=join_names(draft.options),
            ),
        )
        return None
    if len(draft.options) < 2:
        report(draft.line, "option", _l("A question needs at least two options."))
        return None
    answers = list(draft.options.values())
    draft.options[letter].correct = True
    return ParsedQuestion(
        kind=Kind.MULTICHOICE,
        stem="\n".join(draft.stem_lines),
        stem_format=TextFormat.PLAIN,
        answers=answers,
        general_feedback_format=TextFormat.PLAIN,
        single=True,
        line=draft.line,
    )


def dump_aiken(questions: Iterable[ParsedQuestion]) -> str:
    """Write single-answer multichoice questions as Aiken text.

    Aiken has no titles, feedback, weights or categories, so those are not written and
    CATEGORY records are skipped. Raises :class:`FormatError` listing each question
    that Aiken cannot hold: another kind, not exactly one correct option, more than 26
    options, or text that would read back differently.
    """
    problems: list[FormatProblem] = []
    chunks: list[str] = []
    for number, question in enumerate(questions, start=1):
        if question.kind is Kind.CATEGORY:
            continue
        label = _l("Question %(number)s", number=number)

        def reject(field_name: str, message) -> None:
            problems.append(FormatProblem(None, field_name, message))

        if question.kind is not Kind.MULTICHOICE:
            reject(
                "kind",
                _l(
                    "%(question)s is %(kind)s; Aiken holds only single-answer multiple choice.",
                    question=label,
                    kind=question.kind.value,
                ),
            )
            continue
        full_marks = [answer for answer in question.answers if answer.score >= 100]
        if len(full_marks) != 1 or any(
            0 < answer.score < 100 for answer in question.answers
        ):
            reject(
                "answers",
                _l(
                    "%(question)s must have exactly one correct option and no partial "
                    "credit to be written as Aiken.",
                    question=label,
                ),
            )
            continue
        if len(question.answers) > 26:
            reject(
                "answers", _l("%(question)s has more than 26 options.", question=label)
            )
            continue

        lines = [line.strip() for line in question.stem.split("\n") if line.strip()]
        if not lines or any(
            _OPTION.fullmatch(line) or _ANSWER.fullmatch(line) for line in lines
        ):
            reject(
                "stem",
                _l(
                    "%(question)s has an empty stem or a stem line that reads as an option "
                    "or ANSWER line.",
                    question=label,
                ),
            )
            continue
        correct_letter = ""
        for index, answer in enumerate(question.answers):
            letter = chr(ord("A") + index)
            if answer is full_marks[0]:
                correct_letter = letter
            option_text = answer.text.strip()
            if not option_text or "\n" in option_text:
                reject(
                    "answers",
                    _l(
                        "%(question)s, option %(letter)s: Aiken options are one non-empty line.",
                        question=label,
                        letter=letter,
                    ),
                )
            lines.append(f"{letter}. {option_text}")
        lines.append(f"ANSWER: {correct_letter}")
        chunks.append("\n".join(lines))
    if problems:
        raise FormatError(problems)
    return "\n\n".join(chunks) + "\n" if chunks else ""
