"""Aiken reading and writing, including the forms Chinese trainers type."""

import pytest

from assessments.formats import (
    FormatError,
    Kind,
    ParsedAnswer,
    ParsedQuestion,
    TextFormat,
    decode_upload,
)
from assessments.formats.aiken import dump_aiken, parse_aiken

ASCII_FILE = """\
What is the capital of France?
A. Berlin
B. Paris
C) Madrid
ANSWER: B

Which planet is largest?
A) Jupiter
B) Mars
ANSWER: A
"""

# Full-width letters and punctuation, the enumeration comma, 答案：, blank lines
# inside and between questions, and a byte-order mark, as exported from WPS or Word.
CHINESE_FILE = (
    "\ufeff1．辅导员开展谈心谈话，首要遵循的原则是（　）。\n"
    "\n"
    "Ａ．尊重学生，保护隐私\n"
    "Ｂ）以批评教育为主\n"
    "C、只在出现问题时谈话\n"
    "D. 由家长代为沟通\n"
    "答案：Ａ\n"
    "\n"
    "\n"
    "2．心理危机干预的“黄金时间”一般是危机发生后的多长时间内？\n"
    "A．24小时\n"
    "B．72小时\n"
    "正确答案:b\n"
)


def test_parse_ascii_options_and_answer():
    first, second = parse_aiken(ASCII_FILE)
    assert first.kind is Kind.MULTICHOICE
    assert first.single is True
    assert first.stem == "What is the capital of France?"
    assert first.stem_format is TextFormat.PLAIN
    assert [answer.text for answer in first.answers] == ["Berlin", "Paris", "Madrid"]
    assert [answer.correct for answer in first.answers] == [False, True, False]
    assert [answer.line for answer in first.answers] == [2, 3, 4]
    assert second.answers[0].correct is True
    assert second.line == 7


def test_parse_full_width_markers_and_chinese_answer_line():
    first, second = parse_aiken(CHINESE_FILE)
    assert first.stem == "1．辅导员开展谈心谈话，首要遵循的原则是（　）。"
    assert [answer.text for answer in first.answers] == [
        "尊重学生，保护隐私",
        "以批评教育为主",
        "只在出现问题时谈话",
        "由家长代为沟通",
    ]
    assert [answer.correct for answer in first.answers] == [True, False, False, False]
    assert second.stem == "2．心理危机干预的“黄金时间”一般是危机发生后的多长时间内？"
    assert [answer.correct for answer in second.answers] == [False, True]


def test_parse_gbk_upload():
    decoded = decode_upload(CHINESE_FILE.lstrip("\ufeff").encode("gbk"))
    assert decoded.encoding == "gb18030"
    assert parse_aiken(decoded) == parse_aiken(CHINESE_FILE)


def test_multi_line_stem():
    [question] = parse_aiken("Read the case.\nThen choose:\nA. yes\nB. no\nANSWER: A\n")
    assert question.stem == "Read the case.\nThen choose:"


def test_latin_abbreviation_is_not_an_option():
    [question] = parse_aiken("A.I. tools are useful.\nA. True\nB. False\nANSWER: A\n")
    assert question.stem == "A.I. tools are useful."
    assert len(question.answers) == 2


def test_answer_word_in_stem_before_options():
    [question] = parse_aiken("Answer: which word fits?\nA. one\nB. two\nANSWER: B\n")
    assert question.stem == "Answer: which word fits?"


@pytest.mark.parametrize("text", [ASCII_FILE, CHINESE_FILE])
def test_round_trip(text):
    parsed = parse_aiken(text)
    assert parse_aiken(dump_aiken(parsed)) == parsed


def _problems(text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(FormatError) as caught:
        parse_aiken(text)
    return [(problem.line, problem.field) for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A. orphan option\n", [(1, "option")]),
        ("Q?\nA. x\nB. y\nANSWER: C\n", [(4, "answer")]),
        ("Q?\nA. x\nB. y\n", [(1, "answer")]),
        ("Q?\nA. x\nB. y\nQ2?\nA. a\nB. b\nANSWER: A\n", [(1, "answer")]),
        ("Q?\nA. x\nB. y\n答案：AB\n", [(4, "answer")]),
        ("Q?\nA. x\nB. y\nANSWER:\n", [(4, "answer")]),
        ("Q?\nA. x\nANSWER: A\n", [(1, "option")]),
        ("Q?\nA. x\nA. y\nB. z\nANSWER: A\n", [(3, "option")]),
        ("Q?\nA.\nB. y\nANSWER: B\n", [(2, "option")]),
        ("ANSWER: A\n", [(1, "answer")]),
    ],
    ids=[
        "option-without-question",
        "answer-names-missing-option",
        "missing-answer-at-end",
        "missing-answer-before-next-question",
        "two-letters",
        "empty-answer",
        "one-option",
        "duplicate-letter",
        "empty-option",
        "answer-without-question",
    ],
)
def test_bad_line_reports_line_number(text, expected):
    assert _problems(text) == expected


def test_every_problem_is_listed():
    text = "A. stray\n\nGood?\nA. a\nB. b\nANSWER: A\n\nBad?\nA. a\nB. b\nANSWER: Z\n\nOpen?\nA. a\nB. b\n"
    with pytest.raises(FormatError) as caught:
        parse_aiken(text)
    assert [(problem.line, problem.field) for problem in caught.value.problems] == [
        (1, "option"),
        (11, "answer"),
        (13, "answer"),
    ]
    assert "ANSWER names option Z, but the question has only A, B." in str(caught.value)


def test_dump_writes_letters_and_answer():
    question = ParsedQuestion(
        kind=Kind.MULTICHOICE,
        stem="哪一项正确？",
        answers=[ParsedAnswer("甲"), ParsedAnswer("乙", correct=True)],
    )
    assert dump_aiken([question]) == "哪一项正确？\nA. 甲\nB. 乙\nANSWER: B\n"


def test_dump_skips_categories():
    questions = [
        ParsedQuestion(kind=Kind.CATEGORY, category="$course$/top"),
        ParsedQuestion(
            kind=Kind.MULTICHOICE,
            stem="Q",
            answers=[ParsedAnswer("a", correct=True), ParsedAnswer("b")],
        ),
    ]
    assert dump_aiken(questions) == "Q\nA. a\nB. b\nANSWER: A\n"


def test_dump_rejects_what_aiken_cannot_hold():
    questions = [
        ParsedQuestion(kind=Kind.TRUEFALSE, stem="T?"),
        ParsedQuestion(
            kind=Kind.MULTICHOICE,
            stem="Several",
            single=False,
            answers=[ParsedAnswer("a", weight=50), ParsedAnswer("b", weight=50)],
        ),
        ParsedQuestion(
            kind=Kind.MULTICHOICE,
            stem="Two lines",
            answers=[ParsedAnswer("a\nb", correct=True), ParsedAnswer("c")],
        ),
        ParsedQuestion(
            kind=Kind.MULTICHOICE,
            stem="B. looks like an option",
            answers=[ParsedAnswer("a", correct=True), ParsedAnswer("c")],
        ),
    ]
    with pytest.raises(FormatError) as caught:
        dump_aiken(questions)
    assert [problem.field for problem in caught.value.problems] == [
        "kind",
        "answers",
        "answers",
        "stem",
    ]
    assert all(problem.line is None for problem in caught.value.problems)
