"""Grading of every question kind, with exact Decimal results."""

from decimal import Decimal

import pytest

from assessments import grading
from assessments.models import Choice, ChoiceScoring, Question, QuestionKind


def _question(kind, points="1", scoring=ChoiceScoring.ALL_OR_NOTHING, choices=(), key=None):
    question = Question(
        kind=kind, points=Decimal(points), scoring=scoring, answer_key=key or {}, text="题"
    )
    for position, (text, correct, match) in enumerate(choices, start=1):
        question.choices.append(
            Choice(id=position, position=position, text=text, is_correct=correct, match_text=match)
        )
    return question


def _multiple(scoring, points="3"):
    # Choices 1, 2 and 3 are right; 4 and 5 are wrong.
    rows = [("甲", True, None), ("乙", True, None), ("丙", True, None), ("丁", False, None), ("戊", False, None)]
    return _question(QuestionKind.MULTIPLE, points, scoring, rows)


def test_single_choice():
    question = _question(
        QuestionKind.SINGLE, "2", choices=[("对", True, None), ("错", False, None)]
    )
    assert grading.grade(question, [1]) == Decimal("2")
    assert grading.grade(question, [2]) == Decimal("0")
    assert grading.grade(question, [1, 2]) == Decimal("0")
    assert grading.grade(question, None) == Decimal("0")


def test_true_false():
    question = _question(
        QuestionKind.TRUE_FALSE, choices=[("正确", False, None), ("错误", True, None)]
    )
    assert grading.grade(question, [2]) == Decimal("1")
    assert grading.grade(question, [1]) == Decimal("0")


def test_multiple_all_or_nothing():
    question = _multiple(ChoiceScoring.ALL_OR_NOTHING)
    assert grading.grade(question, [1, 2, 3]) == Decimal("3")
    assert grading.grade(question, [1, 2]) == Decimal("0")
    assert grading.grade(question, [1, 2, 3, 4]) == Decimal("0")


def test_multiple_partial_without_penalty():
    question = _multiple(ChoiceScoring.PARTIAL, points="1")
    assert grading.grade(question, [1]) == Decimal("0.3333")
    assert grading.grade(question, [1, 2]) == Decimal("0.6667")
    assert grading.grade(question, [1, 2, 3]) == Decimal("1.0000")
    # Wrong picks cost nothing without penalties.
    assert grading.grade(question, [1, 2, 4, 5]) == Decimal("0.6667")


def test_multiple_partial_with_penalty():
    question = _multiple(ChoiceScoring.PARTIAL_PENALTY, points="3")
    assert grading.grade(question, [1, 2, 3]) == Decimal("3.0000")
    # 2/3 right minus 1/2 wrong of 3 points.
    assert grading.grade(question, [1, 2, 4]) == Decimal("0.5000")
    assert grading.grade(question, [1, 4]) == Decimal("0.0000")
    # Every choice picked: full credit minus full penalty.
    assert grading.grade(question, [1, 2, 3, 4, 5]) == Decimal("0.0000")


def test_penalty_never_below_zero():
    question = _multiple(ChoiceScoring.PARTIAL_PENALTY)
    assert grading.grade(question, [4, 5]) == Decimal("0")


def test_unknown_choice_ids_are_ignored():
    question = _multiple(ChoiceScoring.ALL_OR_NOTHING)
    assert grading.grade(question, [1, 2, 3, 99]) == Decimal("3")
    assert grading.grade(question, ["1", True, None]) == Decimal("0")


def test_fill_blank_per_blank_share():
    question = _question(
        QuestionKind.FILL_BLANK,
        "2",
        key={"blanks": [["立德树人", "立德 树人"], ["ABC"]]},
    )
    assert grading.grade(question, ["立德树人", "abc"]) == Decimal("2")
    assert grading.grade(question, ["立德树人", "x"]) == Decimal("1.0000")
    assert grading.grade(question, ["", ""]) == Decimal("0")


def test_fill_blank_is_width_and_case_insensitive():
    question = _question(QuestionKind.FILL_BLANK, key={"blanks": [["ABC 12"]]})
    # Full-width letters, digits and space fold to ASCII under NFKC.
    assert grading.grade(question, ["ａｂｃ\u3000１２"]) == Decimal("1")
    assert grading.grade(question, ["  Abc   12 "]) == Decimal("1")


def test_short_answer_with_partial_answer():
    question = _question(
        QuestionKind.SHORT_ANSWER,
        "4",
        key={"answers": [{"text": "思想政治教育", "score": "100"}, {"text": "思政", "score": "50"}]},
    )
    assert grading.grade(question, "思想政治教育") == Decimal("4")
    assert grading.grade(question, "思政") == Decimal("2.0000")
    assert grading.grade(question, "宿舍管理") == Decimal("0")
    assert grading.grade(question, "") == Decimal("0")


def test_matching_per_pair():
    question = _question(
        QuestionKind.MATCHING,
        "3",
        choices=[("初级", False, "1-3年"), ("中级", False, "4-8年"), ("高级", False, "8年以上"), ("", False, "干扰项")],
    )
    right = {"1": "1-3年", "2": "4-8年", "3": "8年以上"}
    assert grading.grade(question, right) == Decimal("3")
    assert grading.grade(question, {"1": "1-3年", "2": "8年以上", "3": "4-8年"}) == Decimal("1.0000")
    assert grading.grade(question, {"1": "干扰项"}) == Decimal("0")


@pytest.mark.parametrize(
    "scoring, response, expected",
    [
        (ChoiceScoring.ALL_OR_NOTHING, [1, 2, 3, 4], "2"),
        (ChoiceScoring.ALL_OR_NOTHING, [1, 2, 4, 3], "0"),
        (ChoiceScoring.PARTIAL, [1, 2, 4, 3], "1.0000"),
        (ChoiceScoring.PARTIAL, [4, 3, 2, 1], "0.0000"),
        (ChoiceScoring.PARTIAL, [1, 2, 3], "0"),
    ],
)
def test_ordering(scoring, response, expected):
    rows = [(text, False, None) for text in ("倾听", "共情", "引导", "跟进")]
    question = _question(QuestionKind.ORDERING, "2", scoring, rows)
    assert grading.grade(question, response) == Decimal(expected)


def test_essay_needs_a_trainer():
    question = _question(QuestionKind.ESSAY, "5")
    assert grading.grade(question, "我的回答") is None
    assert grading.grade(question, "   ") == Decimal("0")


def test_essay_total_checks_each_point():
    question = _question(
        QuestionKind.ESSAY,
        "5",
        key={"points": [{"text": "倾听", "max": "2"}, {"text": "引导", "max": "3"}]},
    )
    assert grading.essay_total(question, [Decimal("1.5"), Decimal("3")]) == Decimal("4.5000")
    with pytest.raises(ValueError):
        grading.essay_total(question, [Decimal("2.5"), Decimal("0")])
    with pytest.raises(ValueError):
        grading.essay_total(question, [Decimal("1")])


# --- number ranges in short answers ----------------------------------------


def _numerical(accepted: str, points="2"):
    from assessments import question_forms

    fields, errors = question_forms.validate(
        {"kind": "short_answer", "text": "数值", "points": points, "accepted": accepted}
    )
    assert errors == {}
    return _question(QuestionKind.SHORT_ANSWER, points, key=fields["answer_key"])


@pytest.mark.parametrize(
    ("response", "awarded"),
    [("3.13", "2"), ("3.15", "2"), ("3.14", "2"), ("3.16", "1"), ("3.2", "1"),
     ("3.21", "0"), ("abc", "0"), ("", "0"), ("３.１４", "2")],
)
def test_number_range_bounds_are_included(response, awarded):
    question = _numerical("3.14 ± 0.01\n3 .. 3.2 | 50")

    assert grading.grade(question, response) == Decimal(awarded)


def test_text_answer_stays_exact():
    question = _numerical("1822")

    assert grading.grade(question, "1822") == Decimal("2")
    assert grading.grade(question, "1822.0") == Decimal("0")


@pytest.mark.parametrize(
    "accepted", ["3 ± -1", "5 .. 1", "3.14 +- 0.01 | 0", "3.14 | 101"]
)
def test_bad_number_range_names_the_field(accepted):
    from assessments import question_forms

    _fields, errors = question_forms.validate(
        {"kind": "short_answer", "text": "数值", "accepted": accepted + "\n7"}
    )

    assert "accepted" in errors
    assert "Line 1" in errors["accepted"]


def test_zero_percent_answer_needs_feedback():
    from assessments import question_forms

    fields, errors = question_forms.validate(
        {"kind": "short_answer", "text": "数值", "accepted": "9\n5 ± 0 | 0 | 只是开头的五条。"}
    )

    assert errors == {}
    question = _question(QuestionKind.SHORT_ANSWER, key=fields["answer_key"])
    assert grading.grade(question, "5") == Decimal("0")
    assert grading.matched_answer(question, "5")["feedback"] == "只是开头的五条。"


@pytest.mark.parametrize(
    ("first", "second"), [("正确", "错误"), ("对", "错"), ("True", "False"), ("T", "F")]
)
def test_true_false_words_are_stored_as_data(first, second):
    from assessments import question_forms

    fields, errors = question_forms.validate(
        {"kind": "true_false", "text": "判断", "choice_1": first, "correct_1": "1",
         "choice_2": second, "feedback_2": "错在哪里"}
    )

    assert errors == {}
    assert fields["rows"] == [("true", True, ""), ("false", False, "")]
    assert fields["feedback"] == ["", "错在哪里"]
