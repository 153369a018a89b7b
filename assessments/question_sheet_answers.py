"""Cells of the 答案 column and the options of a question sheet, read per question kind.

Each reader fills the question form values of one kind from a row's options and
answer, and reports what it cannot read on the row with its column.
"""

import re
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from assessments import question_forms
from assessments.formats import BLANK
from assessments.models import QuestionKind
from lms import tabular

if TYPE_CHECKING:
    from assessments.question_sheet import SheetRow

#: Option letters, one per choice slot of the question form.
LETTERS = "ABCDEFGH"[: question_forms.CHOICE_SLOTS]
TRUE_WORDS = {"对", "正确", "是", "√", "✓", "✔", "t", "true", "yes", "y"}
FALSE_WORDS = {"错", "错误", "否", "×", "✗", "✘", "f", "false", "no", "n"}
#: The texts that 判断题 choices get when the row gives no options.
TRUE_FALSE_CHOICES = ("正确", "错误")

#: Separators between option letters, as in A,C,D or A、C、D.
_LETTER_SEPARATORS = re.compile(r"[\s,，、;；/]+")
_ALTERNATIVE_SEPARATORS = re.compile(r"[|｜]")
#: Correct option set when the answer cell is rejected. The row is not
#: imported then, but the question form still checks the options themselves
#: (repeated texts, too few options) without a second message on the answer.
_STAND_IN_ANSWER = frozenset({0})
#: Scoring points of a 论述题 answer: ``points | what earns them`` on each line.
_SCORING_POINT = re.compile(r"\s*\d+(?:\.\d+)?\s*[|｜].*\S.*")


def _options(row: "SheetRow") -> list[str]:
    """Return the option texts from A on, reporting an empty one before a filled one."""
    texts = [row.cell(f"option_{letter}") for letter in LETTERS]
    while texts and not texts[-1]:
        texts.pop()
    for letter, text in zip(LETTERS, texts):
        if not text:
            row.reject(
                f"option_{letter}",
                _l(
                    "The option is empty but a later option is filled. Fill the "
                    "options from A on without gaps."
                ),
            )
    return texts


def _letters(row: "SheetRow", count: int) -> list[int]:
    """Return the option indexes that the answer names, in the order written.

    Returns an empty list, with the problem reported, when the answer cannot
    be read. Missing options are reported on 选项A, and then the letters are
    not checked against the options.
    """
    if not count:
        row.reject(
            "option_A",
            _l("The question has no options. Fill in 选项A, 选项B and so on, from A on."),
        )
    raw = row.cell("answer")
    letters = tabular.normalise(_LETTER_SEPARATORS.sub("", raw)).upper()
    if not letters:
        row.reject(
            "answer",
            _l(
                "The answer is empty. Write the letters of the correct options, "
                "such as B or ACD."
            ),
        )
        return []
    if not re.fullmatch(r"[A-Z]+", letters):
        row.reject(
            "answer",
            _l(
                "'%(value)s' is not a list of option letters. Write letters such as "
                "B, ACD or A,C,D.",
                value=raw,
            ),
        )
        return []
    if not count:
        return []
    last = LETTERS[count - 1]
    for letter in letters:
        if ord(letter) - ord("A") >= count:
            row.reject(
                "answer",
                _l(
                    "'%(letter)s' is not one of the options A–%(last)s.",
                    letter=letter,
                    last=last,
                ),
            )
            return []
    return [ord(letter) - ord("A") for letter in letters]


def _choice_rows(data: dict, texts: list[str], correct: set[int] | frozenset[int]) -> None:
    for index, text in enumerate(texts):
        data[f"choice_{index + 1}"] = text
        if index in correct:
            data[f"correct_{index + 1}"] = "1"


def _read_single(row: "SheetRow", data: dict) -> None:
    texts = _options(row)
    picked = set(_letters(row, len(texts)))
    if len(picked) > 1:
        row.reject(
            "answer",
            _l(
                "A 单选题 has one correct option, but the answer names %(count)d. "
                "Write one letter, or make the row a 多选题.",
                count=len(picked),
            ),
        )
    if len(picked) != 1:
        picked = _STAND_IN_ANSWER
    _choice_rows(data, texts, picked)


def _read_multiple(row: "SheetRow", data: dict) -> None:
    texts = _options(row)
    _choice_rows(data, texts, set(_letters(row, len(texts))) or _STAND_IN_ANSWER)


def _read_true_false(row: "SheetRow", data: dict) -> None:
    texts = _options(row) or list(TRUE_FALSE_CHOICES)
    if len(texts) != 2:
        row.reject(
            "option_A", _l("A 判断题 has no options, or exactly two in 选项A and 选项B.")
        )
    raw = row.cell("answer")
    word = tabular.normalise(raw).lower()
    if word in TRUE_WORDS or word == "a":
        correct = {0}
    elif word in FALSE_WORDS or word == "b":
        correct = {1}
    else:
        row.reject(
            "answer",
            _l(
                "'%(value)s' is neither true nor false. Write 对 or 错 (also "
                "正确/错误, √/×, T/F, true/false).",
                value=raw,
            ),
        )
        correct = _STAND_IN_ANSWER
    _choice_rows(data, texts, correct)


def _alternatives(line: str) -> list[str]:
    parts = _ALTERNATIVE_SEPARATORS.split(line)
    return [part.strip() for part in parts if part.strip()]


def _read_fill_blank(row: "SheetRow", data: dict) -> None:
    lines = [line for line in row.cell("answer").split("\n") if line.strip()]
    blanks = data["text"].count(BLANK)
    # An empty stem is reported already, so only a written stem is checked for blanks.
    if not blanks and data["text"]:
        row.reject(
            "stem",
            _l(
                "A 填空题 marks each blank in the stem with _____ (three or more "
                "underscores)."
            ),
        )
    elif blanks and len(lines) != blanks:
        row.reject(
            "answer",
            _l(
                "The stem has %(blanks)d blanks but the answer has %(lines)d lines. "
                "Write the answers of each blank on a line of their own (Alt+Enter in "
                "Excel), alternatives separated by |.",
                blanks=blanks,
                lines=len(lines),
            ),
        )
    data["blanks"] = "\n".join(" | ".join(_alternatives(line)) for line in lines)


def _read_short_answer(row: "SheetRow", data: dict) -> None:
    accepted = _alternatives(row.cell("answer").replace("\n", "|"))
    if not accepted:
        row.reject(
            "answer",
            _l(
                "A 简答题 is marked against its accepted answers: write them separated "
                "by |. Use 论述题 for a question that is graded by hand."
            ),
        )
    data["accepted"] = "\n".join(accepted)


def _read_essay(row: "SheetRow", data: dict) -> None:
    """Read scoring points (``2 | names the policy`` per line) or a reference answer.

    A reference answer becomes one scoring point worth the question's points, on
    one line because the question form keeps one scoring point per line.
    """
    answer = row.cell("answer")
    lines = [line for line in answer.split("\n") if line.strip()]
    if lines and all(_SCORING_POINT.fullmatch(line) for line in lines):
        data["scoring_points"] = "\n".join(lines)
    elif answer:
        points = question_forms.parse_points(data["points"], {})
        data["scoring_points"] = f"{points or 1} | {' '.join(answer.split())}"


def _read_ordering(row: "SheetRow", data: dict) -> None:
    texts = _options(row)
    order = _letters(row, len(texts))
    if order and sorted(order) != list(range(len(texts))):
        row.reject(
            "answer",
            _l(
                "The answer of a 排序题 names every option once, in the correct order, "
                "such as %(example)s.",
                example=LETTERS[: max(len(texts), 2)][::-1],
            ),
        )
    if sorted(order) != list(range(len(texts))):
        # The options are still checked, in the order the row writes them.
        order = list(range(len(texts)))
    _choice_rows(data, [texts[index] for index in order], set())


ANSWER_READERS = {
    QuestionKind.SINGLE: _read_single,
    QuestionKind.MULTIPLE: _read_multiple,
    QuestionKind.TRUE_FALSE: _read_true_false,
    QuestionKind.FILL_BLANK: _read_fill_blank,
    QuestionKind.SHORT_ANSWER: _read_short_answer,
    QuestionKind.ESSAY: _read_essay,
    QuestionKind.ORDERING: _read_ordering,
}
