"""Format-neutral question records shared by the GIFT, Aiken and Moodle XML codecs.

Kind names are Moodle XML's question types and text-format names are GIFT's format
markers. Mapping these records onto the product's own question kinds is the caller's
job.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString


class Kind(enum.StrEnum):
    """Question type, named as Moodle's XML format names it."""

    MULTICHOICE = "multichoice"
    TRUEFALSE = "truefalse"
    SHORTANSWER = "shortanswer"
    NUMERICAL = "numerical"
    MATCHING = "matching"
    ESSAY = "essay"
    DESCRIPTION = "description"
    #: Not a question: switches the category for the questions that follow it.
    CATEGORY = "category"


class TextFormat(enum.StrEnum):
    """Rendering format of a text, named as GIFT's ``[format]`` markers name it."""

    #: Moodle's auto-format: HTML allowed, line breaks become ``<br>``.
    MOODLE = "moodle"
    HTML = "html"
    PLAIN = "plain"
    MARKDOWN = "markdown"


@dataclass(frozen=True)
class NumericalValue:
    """Accepted range of a numerical answer: ``value`` plus or minus ``tolerance``.

    ``tolerance`` is None when the source wrote no tolerance, which means an exact match.
    ``interval`` keeps the ``minimum..maximum`` form when the source used it, and then
    ``value`` and ``tolerance`` contain its midpoint and half-width.
    """

    value: Decimal
    tolerance: Decimal | None = None
    interval: tuple[Decimal, Decimal] | None = None

    @classmethod
    def from_interval(cls, minimum: Decimal, maximum: Decimal) -> NumericalValue:
        half_width = (maximum - minimum) / 2
        return cls(minimum + half_width, half_width, (minimum, maximum))

    @property
    def minimum(self) -> Decimal:
        return self.value - (self.tolerance or 0)

    @property
    def maximum(self) -> Decimal:
        return self.value + (self.tolerance or 0)


@dataclass
class ParsedAnswer:
    """One answer option, short-answer text, numerical value or matching pair.

    ``correct`` records how the source marked the answer: ``=`` in GIFT, the ANSWER
    letter in Aiken, fraction 100 in Moodle XML. ``weight`` is the percentage of the
    question's mark written in the source (-100 to 100); when it is None the mark
    follows ``correct``, as :attr:`score` computes.
    """

    text: str
    text_format: TextFormat = TextFormat.MOODLE
    correct: bool = False
    weight: Decimal | None = None
    feedback: str = ""
    feedback_format: TextFormat = TextFormat.MOODLE
    #: Matching questions: the answer this subquestion pairs with (plain text).
    match_to: str | None = None
    #: Numerical questions: the accepted number. None for the ``*`` catch-all answer.
    numerical: NumericalValue | None = None
    #: 1-based line in the source file, for messages. Ignored by ``==``.
    line: int | None = field(default=None, compare=False)

    @property
    def score(self) -> Decimal:
        """Percentage of the question's mark that this answer earns."""
        if self.weight is not None:
            return self.weight
        return Decimal(100) if self.correct else Decimal(0)


@dataclass
class ParsedQuestion:
    """One question (or category switch) read from, or to be written to, a file.

    True/false questions carry two answers, ``"true"`` and ``"false"``, each with the
    feedback shown to a learner who picks it. The right one has ``correct`` set.
    """

    kind: Kind
    #: Question title, empty when the source gave none.
    name: str = ""
    stem: str = ""
    stem_format: TextFormat = TextFormat.MOODLE
    answers: list[ParsedAnswer] = field(default_factory=list)
    general_feedback: str = ""
    general_feedback_format: TextFormat = TextFormat.MOODLE
    #: Category path, such as ``$course$/top/Unit 1``: for a CATEGORY record the
    #: category it switches to, for a question the category in force where it appears.
    category: str | None = None
    tags: list[str] = field(default_factory=list)
    #: Moodle's ID number, an identifier the question bank keeps unique per category.
    idnumber: str | None = None
    #: Multichoice only: True when a learner picks one option, False for several.
    single: bool = True
    #: Index in ``stem`` of the ``_____`` blank that stands for embedded answers (GIFT's
    #: missing-word form), or None when the answers follow the stem.
    blank_offset: int | None = None
    #: Moodle XML's ``defaultgrade``, the question's points; None when the source has
    #: none (GIFT and Aiken). Ignored by ``==``.
    default_grade: Decimal | None = field(default=None, compare=False)
    #: 1-based line where the question starts in the source file. Ignored by ``==``.
    line: int | None = field(default=None, compare=False)

    @property
    def has_embedded_answers(self) -> bool:
        return self.blank_offset is not None


#: Placeholder written in a stem where embedded answers stood.
BLANK = "_____"
#: Three or more underscores, the way authors mark a blank by hand.
_BLANK_RUN = re.compile(r"_{3,}")


def mark_blanks(text: str) -> str:
    """Write each run of three or more underscores in ``text`` as one ``BLANK``."""
    return _BLANK_RUN.sub(BLANK, text)


def format_decimal(value: Decimal) -> str:
    """Write a number without exponent or trailing zeros: 1E+1 as 10, 2.50 as 2.5."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


#: Display names of the question parts that ``FormatProblem.field`` names. The
#: parsers use the file formats' own terms, and the mapping onto product
#: questions uses the question form's field names.
FIELD_LABELS = {
    "file": _l("File"),
    "category": _l("Category"),
    "title": _l("Question title"),
    "stem": _l("Question text"),
    "text": _l("Question text"),
    "type": _l("Question type"),
    "kind": _l("Question type"),
    "format": _l("Text format"),
    "answers": _l("Answers"),
    "answer": _l("Correct answer"),
    "option": _l("Options"),
    "weight": _l("Answer weight"),
    "fraction": _l("Answer weight"),
    "numerical": _l("Numeric answer"),
    "tolerance": _l("Tolerance"),
    "points": _l("Points"),
    "explanation": _l("Explanation"),
    "choices": _l("Choices"),
    "accepted": _l("Accepted answers"),
    "blanks": _l("Blanks"),
    "scoring": _l("Scoring"),
    "scoring_points": _l("Scoring points"),
    "tags_topic": _l("Topic tags"),
    "tags_level": _l("Level tags"),
    "tags_functional_area": _l("Functional area tags"),
}


@dataclass(frozen=True)
class FormatProblem:
    """One problem found in a file: where it is, which part of a question, what is wrong.

    ``line`` is 1-based, or None when the problem has no place in a file (for example
    a question that cannot be written in the requested format). ``message`` is a lazy
    translation string, so it renders in the locale of the request that shows it.
    """

    line: int | None
    field: str
    message: str | LazyString

    @property
    def field_label(self) -> str:
        """Translated name of the question part, or the bare name when it has no label."""
        if self.field.startswith("choice_") and self.field[len("choice_"):].isdigit():
            return str(_l("Choice %(number)s", number=self.field[len("choice_"):]))
        found = FIELD_LABELS.get(self.field)
        return str(found) if found is not None else self.field

    def __str__(self) -> str:
        if self.line is None:
            return str(
                _l("%(field)s: %(message)s", field=self.field_label, message=self.message)
            )
        return str(
            _l(
                "Line %(line)s, %(field)s: %(message)s",
                line=self.line,
                field=self.field_label,
                message=self.message,
            )
        )


class FormatError(ValueError):
    """Raised when a file cannot be read or written. ``problems`` lists every problem.

    Parsers check the whole file before raising, so a user can fix all problems in
    one pass.
    """

    def __init__(self, problems: Iterable[FormatProblem]):
        self.problems: list[FormatProblem] = sorted(
            problems, key=lambda problem: (problem.line is None, problem.line or 0)
        )
        super().__init__(self.problems)

    def __str__(self) -> str:
        # Rendered on demand so the messages take the locale of the request showing them.
        return "\n".join(str(problem) for problem in self.problems)

    @classmethod
    def single(cls, line: int | None, field_name: str, message: str) -> FormatError:
        return cls([FormatProblem(line, field_name, message)])
