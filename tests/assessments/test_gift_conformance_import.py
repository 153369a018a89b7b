"""The conformance files with numbers, ranges and feedback import and grade as parsed.

The expected parses in tests/conformance/gift/*.json give each numerical
answer as an exact number, a number with a tolerance, or a low-high range,
and a weight (null for full credit). Each is imported into a bank and graded
at and just outside its bounds.
"""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from assessments import banks, grading, transfer
from assessments.models import Question, QuestionKind
from lms.accounts.models import User
from lms.extensions import db

pytestmark = pytest.mark.usefixtures("english")

CONFORMANCE = Path(__file__).resolve().parent.parent / "conformance" / "gift"
NUMERICAL_FILES = [
    "numerical1.gift",
    "giftFormatPhpExamples.gift",
    "totara_moodle_numerical.gift",
]
#: Just outside a bound: finer than every bound in the files.
NUDGE = Decimal("0.00001")


@pytest.fixture
def bank(world):
    trainer = db.session.get(User, world.trainer)
    return banks.create_bank(world.uni_a, {"name": "一致性题库"}, trainer), trainer


def _import(bank, name: str) -> tuple[transfer.ImportPreview, list[Question]]:
    target, trainer = bank
    preview = transfer.read_file("gift", (CONFORMANCE / name).read_bytes())
    return preview, transfer.store(target.categories[0], preview, trainer)


def _expected_ranges(choices) -> list[tuple[Decimal, Decimal, Decimal]]:
    """Return (low, high, percent) for each numerical answer of an expected parse."""
    if isinstance(choices, dict):
        choices = [{"isCorrect": True, "weight": None, "text": choices}]
    ranges = []
    for choice in choices:
        spec = choice["text"]
        if spec.get("type") == "simple":
            low = high = Decimal(str(spec["number"]))
        elif spec.get("type") == "range":
            number, spread = Decimal(str(spec["number"])), Decimal(str(spec["range"]))
            low, high = number - spread, number + spread
        elif spec.get("type") == "high-low":
            low, high = Decimal(str(spec["numberLow"])), Decimal(str(spec["numberHigh"]))
        else:
            continue  # the catch-all "*" answer
        weight = choice["weight"]
        percent = Decimal(100) if weight is None else Decimal(str(weight))
        if choice["isCorrect"] or weight is not None:
            ranges.append((low, high, percent))
    return ranges


def _best(ranges, number: Decimal) -> Decimal:
    return max((p for low, high, p in ranges if low <= number <= high), default=Decimal(0))


@pytest.mark.parametrize("name", NUMERICAL_FILES)
def test_numerical_file_imports_and_grades_as_parsed(bank, name):
    expected = [
        q for q in json.loads((CONFORMANCE / name).with_suffix(".json").read_text())
        if q["type"] != "Description"
    ]

    preview, questions = _import(bank, name)

    assert preview.left_out == []
    assert len(questions) == len(expected)
    numerical = [
        (question, q) for question, q in zip(questions, expected) if q["type"] == "Numerical"
    ]
    assert numerical
    for question, parse in numerical:
        assert question.kind is QuestionKind.SHORT_ANSWER
        ranges = _expected_ranges(parse["choices"])
        for low, high, _percent in ranges:
            for number in (low, high, (low + high) / 2, low - NUDGE, high + NUDGE):
                awarded = grading.grade(question, format(number, "f"))
                assert awarded == question.points * _best(ranges, number) / 100, (
                    question.text, number
                )


def test_numerical_answer_accepts_full_width_and_thousands(bank):
    _preview, questions = _import(bank, "numerical1.gift")
    born = questions[0]

    assert grading.grade(born, "１８２２") == born.points
    assert grading.grade(born, "1,822") == born.points
    assert grading.grade(born, "1822.0") == born.points
    assert grading.grade(born, "一八二二") == 0


def test_per_answer_feedback_is_kept(bank):
    _preview, questions = _import(bank, "giftFormatPhpExamples.gift")
    by_text = {question.text: question for question in questions}

    tomb = next(q for text, q in by_text.items() if text.startswith("Grant is _____"))
    assert [c.feedback for c in tomb.choices] == [
        "No one is buried there.",
        "Right answer!",
        "We hope not!",
    ]
    hometown = next(q for text, q in by_text.items() if "Jesus Christ" in text)
    assert hometown.kind is QuestionKind.SHORT_ANSWER
    assert grading.matched_answer(hometown, "nazereth")["feedback"] == (
        "Right, but misspelled."
    )
    assert grading.grade(hometown, "Nazereth") == Decimal("0.75")


def test_true_false_feedback_goes_to_each_side(bank):
    _preview, questions = _import(bank, "TFTwoFeedback.gift")

    first = questions[0]
    assert [(c.text, c.is_correct, c.feedback) for c in first.choices] == [
        ("true", False, "feedback for true"),
        ("false", True, "feedback for false"),
    ]


def test_preview_names_what_is_not_kept(bank):
    preview, _questions = _import(bank, "totara_moodle_numerical.gift")

    [item] = preview.items
    assert item.dropped == ["feedback for any other answer"]


def test_escaped_feedback_is_kept(bank):
    _preview, [question] = _import(bank, "escapeAll.gift")

    assert any(c.feedback for c in question.choices)


def _ranges(answer_key: dict) -> list[tuple]:
    return [
        (
            Decimal(a["score"]),
            Decimal(a["min"]),
            Decimal(a["max"]),
            a.get("feedback", ""),
        )
        for a in answer_key.get("answers", [])
    ]


@pytest.mark.parametrize("fmt", ["gift", "moodle_xml"])
def test_ranges_and_feedback_survive_export(bank, fmt):
    target, trainer = bank
    _preview, originals = _import(bank, "numerical1.gift")
    _preview, originals2 = _import(bank, "TFTwoFeedback.gift")
    questions = originals + originals2

    exported, left_out = transfer.export(fmt, questions)
    again = transfer.read_file(fmt, exported)

    assert left_out == []
    # Moodle XML has no min..max form: a range comes back as value ± tolerance.
    assert [_ranges(item.fields["answer_key"]) for item in again.items] == [
        _ranges(question.answer_key) for question in questions
    ]
    assert [item.fields["feedback"] for item in again.items] == [
        [choice.feedback for choice in question.choices] for question in questions
    ]
