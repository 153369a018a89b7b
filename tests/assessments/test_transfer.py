"""Importing into a bank and exporting from it: mapping, round trips and bad files."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from assessments import banks, transfer
from assessments.formats import FormatError
from assessments.models import ChoiceScoring, Question, QuestionKind, TagKind
from lms.accounts.models import User
from lms.extensions import db

# These tests compare message text, which is written in English.
pytestmark = pytest.mark.usefixtures("english")

GIFT = """\
$CATEGORY: $course$/top/心理危机

// [tag:危机干预]
::单选::辅导员发现学生有自伤倾向时，首先应当{=立即报告并陪伴 ~单独批评 ~等待观察}

::多选::谈心谈话的基本要求包括{~%50%倾听 ~%50%共情 ~%-100%训斥}

::判断::辅导员应当定期走访学生宿舍。{T}

::简答::“三全育人”中的“全”共有几个？{=三 =3}

::填空::辅导员工作要坚持 {=立德树人} 根本任务。

::匹配::将级别与工作年限对应。{=初级 -> 1-3年 =中级 -> 4-8年 =高级 -> 8年以上}

::论述::谈谈你对辅导员职业化的理解。{}
"""

AIKEN = """\
辅导员队伍建设规定由哪个部门发布？
A. 教育部
B. 财政部
C. 民政部
ANSWER: A
"""

MOODLE_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category"><category><text>$course$/top/资助政策</text></category></question>
  <question type="multichoice">
    <name><text>资助</text></name>
    <questiontext format="html"><text><![CDATA[<p>国家助学金的资助对象是</p>]]></text></questiontext>
    <single>true</single>
    <answer fraction="100"><text>家庭经济困难学生</text></answer>
    <answer fraction="0"><text>全体学生</text></answer>
  </question>
  <question type="essay">
    <name><text>论述</text></name>
    <questiontext format="html"><text>论述资助育人的意义。</text></questiontext>
  </question>
</quiz>
"""


@pytest.fixture
def trainer(world):
    return db.session.get(User, world.trainer)


@pytest.fixture
def bank(world, trainer):
    return banks.create_bank(world.uni_a, {"name": "导入题库"}, trainer)


def _import(bank, trainer, fmt, text):
    raw = text.encode("utf-8") if isinstance(text, str) else text
    preview = transfer.read_file(fmt, raw)
    return transfer.store(bank.categories[0], preview, trainer)


def _by_kind(questions):
    return {question.kind: question for question in questions}


def test_gift_maps_every_kind(bank, trainer):
    questions = _by_kind(_import(bank, trainer, "gift", GIFT))

    assert set(questions) == set(QuestionKind) - {QuestionKind.ORDERING}
    single = questions[QuestionKind.SINGLE]
    assert single.text == "辅导员发现学生有自伤倾向时，首先应当"
    assert [c.is_correct for c in single.choices] == [True, False, False]
    assert single.category.path == "导入题库 / 心理危机"
    assert single.tags_of(TagKind.TOPIC) == ["危机干预"]
    assert questions[QuestionKind.MULTIPLE].scoring is ChoiceScoring.PARTIAL_PENALTY
    assert questions[QuestionKind.TRUE_FALSE].choices[0].is_correct is True
    assert questions[QuestionKind.SHORT_ANSWER].answer_key["answers"] == [
        {"text": "三", "score": "100"},
        {"text": "3", "score": "100"},
    ]
    blank = questions[QuestionKind.FILL_BLANK]
    assert blank.answer_key == {"blanks": [["立德树人"]]}
    assert blank.text.count("_____") == 1
    matching = questions[QuestionKind.MATCHING]
    assert [(c.text, c.match_text) for c in matching.choices][0] == ("初级", "1-3年")


def test_aiken_maps_single_choice(bank, trainer):
    [question] = _import(bank, trainer, "aiken", AIKEN)

    assert question.kind is QuestionKind.SINGLE
    assert [c.text for c in question.choices] == ["教育部", "财政部", "民政部"]
    assert question.choices[0].is_correct


def test_moodle_xml_strips_html_and_keeps_categories(bank, trainer):
    questions = _by_kind(_import(bank, trainer, "moodle_xml", MOODLE_XML))

    assert questions[QuestionKind.SINGLE].text == "国家助学金的资助对象是"
    assert questions[QuestionKind.SINGLE].category.name == "资助政策"
    assert questions[QuestionKind.ESSAY].text == "论述资助育人的意义。"


def _shape(question: Question, fmt: str):
    return (
        question.kind,
        # Only Moodle XML carries points.
        question.points if fmt == "moodle_xml" else None,
        question.text,
        question.scoring,
        question.answer_key,
        [(c.text, c.is_correct, c.match_text) for c in question.choices],
    )


@pytest.mark.parametrize("fmt, source", [("gift", GIFT), ("moodle_xml", GIFT), ("aiken", AIKEN)])
def test_round_trip(world, bank, trainer, fmt, source):
    originals = _import(bank, trainer, "gift" if source is GIFT else "aiken", source)
    originals[0].points = Decimal("2.5")
    exported, left_out = transfer.export(fmt, originals)
    other = banks.create_bank(world.uni_a, {"name": "回读题库"}, trainer)

    again = _import(other, trainer, fmt, exported)

    assert left_out == []
    assert [_shape(q, fmt) for q in again] == [_shape(q, fmt) for q in originals]


def test_aiken_export_leaves_out_other_kinds(bank, trainer):
    questions = _import(bank, trainer, "gift", GIFT)

    exported, left_out = transfer.export("aiken", questions)

    assert {q.kind for q in left_out} == set(QuestionKind) - {
        QuestionKind.SINGLE,
        QuestionKind.ORDERING,
    }
    assert exported.decode().count("ANSWER:") == 1


def test_all_or_nothing_multiple_survives_round_trip(world, bank, trainer):
    top = bank.categories[0]
    question = banks.save_bank_question(
        top,
        {
            "kind": "multiple",
            "scoring": "all_or_nothing",
            "text": "多选",
            "choice_1": "甲",
            "correct_1": "1",
            "choice_2": "乙",
            "correct_2": "1",
            "choice_3": "丙",
        },
        trainer,
    )
    for fmt in ("gift", "moodle_xml"):
        exported, _left = transfer.export(fmt, [question])
        [parsed] = transfer.read_file(fmt, exported).items
        assert parsed.fields["scoring"] is ChoiceScoring.ALL_OR_NOTHING


def test_partial_weights_round_trip_with_thirds(bank, trainer):
    top = bank.categories[0]
    question = banks.save_bank_question(
        top,
        {
            "kind": "multiple",
            "scoring": "partial",
            "text": "三个正确项",
            "choice_1": "甲",
            "correct_1": "1",
            "choice_2": "乙",
            "correct_2": "1",
            "choice_3": "丙",
            "correct_3": "1",
            "choice_4": "丁",
        },
        trainer,
    )
    exported, _left = transfer.export("gift", [question])

    assert "%33.33333%" in exported.decode()
    [parsed] = transfer.read_file("gift", exported).items
    assert parsed.fields["scoring"] is ChoiceScoring.PARTIAL


# Bad input: nothing is stored and every problem names its line ---------------------


def _count_questions():
    return db.session.scalar(sa.select(sa.func.count()).select_from(Question))


@pytest.mark.parametrize(
    "fmt, text, line",
    [
        ("gift", "::好题::正确的是{=甲 ~乙}\n\n::坏题::没有结束的答案{=甲 ~乙\n", 3),
        ("aiken", "第一题\nA. 甲\nB. 乙\nANSWER: A\n\n第二题\nA. 甲\nB. 乙\nANSWER: C\n", 9),
        ("moodle_xml", '<?xml version="1.0"?>\n<quiz>\n<question type="multichoice">\n<questiontext><text>题</text></questiontext>\n<answer fraction="abc"><text>甲</text></answer>\n</question>\n</quiz>\n', 5),
    ],
)
def test_bad_line_is_reported_and_nothing_imported(bank, fmt, text, line):
    before = _count_questions()

    with pytest.raises(FormatError) as caught:
        transfer.read_file(fmt, text.encode("utf-8"))

    assert line in [problem.line for problem in caught.value.problems]
    assert _count_questions() == before


@pytest.mark.parametrize(
    "fmt, raw, line",
    [
        ("gift", "第一行{=甲}\n".encode() + b"second \x81\x20 line\n", 2),
        ("aiken", b"PK\x03\x04word/document.xml", 1),
        ("moodle_xml", b'<?xml version="1.0"?>\n<quiz>\n<question type="multichoice">\n', 4),
        ("moodle_xml", b'<quiz>\n<question type="cloze"><questiontext><text>x</text></questiontext></question>\n</quiz>', 2),
    ],
)
def test_unreadable_file_is_rejected(bank, fmt, raw, line):
    with pytest.raises(FormatError) as caught:
        transfer.read_file(fmt, raw)

    assert caught.value.problems[0].line == line


def test_unmappable_question_is_left_out_with_its_reason(bank, trainer):
    options = " ".join(f"~选项{n}" for n in range(1, 10))
    text = f"::九项::太多选项{{={options[1:]}}}\n\n::单选::正确的是{{=甲 ~乙}}\n"

    preview = transfer.read_file("gift", text.encode("utf-8"))

    assert [item.line for item in preview.items] == [3]
    [left_out] = preview.left_out
    assert left_out.line == 1
    assert "at most 8 choices" in str(left_out)


MOODLE_WITH_CALCULATED = """\
<?xml version="1.0" encoding="UTF-8"?>
<quiz>
<question type="multichoice"><questiontext><text>国家助学金的资助对象是</text></questiontext>
<answer fraction="100"><text>家庭经济困难学生</text></answer><answer fraction="0"><text>全体学生</text></answer></question>
<question type="calculated"><name><text>计算</text></name><questiontext><text>{a} + {b} = ?</text></questiontext>
<answer fraction="100"><text>{a} + {b}</text></answer></question>
</quiz>
"""


def test_unsupported_moodle_type_left_out(bank):
    preview = transfer.read_file("moodle_xml", MOODLE_WITH_CALCULATED.encode())

    assert [item.fields["text"] for item in preview.items] == ["国家助学金的资助对象是"]
    [left_out] = preview.left_out
    assert (left_out.line, left_out.field) == (5, "type")
    assert "calculated" in str(left_out)


def test_aiken_too_many_options_left_out(bank):
    options = "".join(f"{letter}. 选项{letter}\n" for letter in "ABCDEFGHI")
    text = f"九个选项的题\n{options}ANSWER: A\n\n两个选项的题\nA. 甲\nB. 乙\nANSWER: B\n"

    preview = transfer.read_file("aiken", text.encode())

    assert [item.fields["text"] for item in preview.items] == ["两个选项的题"]
    [left_out] = preview.left_out
    assert left_out.line == 1
    assert "at most 8 choices" in str(left_out)


def test_true_false_stored_as_data(bank, trainer):
    [question] = _import(bank, trainer, "gift", "辅导员应当定期走访学生宿舍。{T}\n")

    assert [c.text for c in question.choices] == ["true", "false"]
    assert [c.label for c in question.choices] == ["True", "False"]


def test_true_false_mapping_keeps_false(bank, trainer):
    [question] = _import(bank, trainer, "gift", "辅导员不需要谈心谈话。{F}\n")
    assert [c.is_correct for c in question.choices] == [False, True]


def test_invalid_matching_is_reported(bank):
    text = "::配对::配对{=甲 -> 一}\n"
    with pytest.raises(FormatError) as caught:
        transfer.read_file("gift", text.encode("utf-8"))
    assert caught.value.problems[0].line == 1


def test_empty_file_is_rejected(bank):
    with pytest.raises(FormatError) as caught:
        transfer.read_file("gift", b"// only a comment\n")
    assert "no questions" in str(caught.value)
