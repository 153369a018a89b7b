"""Question sheets (题库导入模板): every kind, every bad row and the export round trip."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from assessments import (
    banks,
    question_forms,
    question_sheet,
    question_sheet_export,
    transfer,
)
from assessments.formats import FormatError
from assessments.models import ChoiceScoring, Question, QuestionKind, TagKind
from lms.accounts.models import User
from lms.extensions import db

# These tests compare message text, which is written in English.
pytestmark = pytest.mark.usefixtures("english", "app_ctx")

HEADER = ["题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "分值", "解析", "分类", "标签"]


def _csv(*rows, header=HEADER, encoding="utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue().encode(encoding)


def _xlsx(*rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _row(kind, stem, options=(), answer="", points="", explanation="", category="", tags=""):
    cells = list(options) + [""] * (4 - len(options))
    return [kind, stem, *cells, answer, points, explanation, category, tags]


def _problems(raw: bytes) -> list[str]:
    with pytest.raises(FormatError) as error:
        question_sheet.read_sheet(raw)
    return [str(problem) for problem in error.value.problems]


def _only(raw: bytes):
    preview = question_sheet.read_sheet(raw)
    assert len(preview.items) == 1
    return preview.items[0]


def test_single_choice():
    item = _only(
        _csv(_row("单选题", "首要职责是？", ["思想政治教育", "宿舍维修", "财务报销"], "a", "2", "见规定", "思政/理论", "职责，基础；入门"))
    )

    assert item.fields["kind"] is QuestionKind.SINGLE
    assert item.fields["rows"] == [("思想政治教育", True, ""), ("宿舍维修", False, ""), ("财务报销", False, "")]
    assert item.fields["points"] == Decimal(2)
    assert item.fields["explanation"] == "见规定"
    assert item.category == ["思政", "理论"]
    assert item.fields["tags"] == [(TagKind.TOPIC, "职责"), (TagKind.TOPIC, "基础"), (TagKind.TOPIC, "入门")]
    assert item.line == 2


@pytest.mark.parametrize("answer", ["ACD", "A,C,D", "A、C、D", "a c d", "ＡＣＤ", "A；C；D"])
def test_multiple_choice_answers(answer):
    item = _only(_csv(_row("多选题", "原则有哪些？", ["尊重", "批评", "保密", "平等"], answer)))

    assert item.fields["kind"] is QuestionKind.MULTIPLE
    assert [correct for _text, correct, _match in item.fields["rows"]] == [True, False, True, True]
    assert item.fields["scoring"] is ChoiceScoring.ALL_OR_NOTHING


def test_multiple_choice_scoring_column():
    header = HEADER + ["计分方式"]
    item = _only(_csv(_row("多选题", "原则？", ["甲", "乙"], "AB") + ["错选扣分"], header=header))

    assert item.fields["scoring"] is ChoiceScoring.PARTIAL_PENALTY


@pytest.mark.parametrize(
    ("name", "scoring"),
    [
        ("按比例给分", ChoiceScoring.PARTIAL),
        ("按比例给分，选错倒扣（不低于 0 分）", ChoiceScoring.PARTIAL_PENALTY),
        ("选错倒扣", ChoiceScoring.PARTIAL_PENALTY),
    ],
)
def test_scoring_names_of_question_form(name, scoring):
    header = HEADER + ["计分方式"]
    item = _only(_csv(_row("多选题", "原则？", ["甲", "乙"], "AB") + [name], header=header))

    assert item.fields["scoring"] is scoring


@pytest.mark.parametrize(
    ("answer", "first_correct"),
    [("对", True), ("正确", True), ("√", True), ("T", True), ("true", True),
     ("错", False), ("错误", False), ("×", False), ("F", False), ("FALSE", False)],
)
def test_true_false_answers(answer, first_correct):
    item = _only(_csv(_row("判断题", "辅导员应当走访宿舍。", [], answer)))

    assert item.fields["kind"] is QuestionKind.TRUE_FALSE
    assert item.fields["rows"] == [("true", first_correct, ""), ("false", not first_correct, "")]


def test_true_false_own_options():
    item = _only(_csv(_row("判断题", "是否需要报告？", ["需要", "不需要"], "错")))

    assert item.fields["rows"] == [("需要", False, ""), ("不需要", True, "")]


def test_fill_blank_several_blanks():
    item = _only(_csv(_row("填空题", "坚持___根本任务和________原则。", [], "立德树人｜立德\n以生为本")))

    assert item.fields["kind"] is QuestionKind.FILL_BLANK
    assert item.fields["text"] == "坚持_____根本任务和_____原则。"
    assert item.fields["answer_key"] == {"blanks": [["立德树人", "立德"], ["以生为本"]]}


def test_short_answer():
    item = _only(_csv(_row("简答题", "宪法哪一年通过？", [], "1982|1982年")))

    assert item.fields["kind"] is QuestionKind.SHORT_ANSWER
    assert item.fields["answer_key"] == {
        "answers": [{"text": "1982", "score": "100"}, {"text": "1982年", "score": "100"}]
    }


def test_essay_reference_answer():
    item = _only(_csv(_row("问答题", "谈谈危机干预。", [], "先确保安全，\n再转介。", "10")))

    assert item.fields["kind"] is QuestionKind.ESSAY
    assert item.fields["answer_key"] == {"points": [{"text": "先确保安全， 再转介。", "max": "10"}]}


def test_essay_scoring_points_and_empty_answer():
    preview = question_sheet.read_sheet(
        _csv(
            _row("问答题", "谈谈危机干预。", [], "4 | 确保安全\n6 | 转介", "10"),
            _row("论述题", "谈谈职业化。", [], "", "5"),
        )
    )

    assert preview.items[0].fields["answer_key"] == {
        "points": [{"text": "确保安全", "max": "4"}, {"text": "转介", "max": "6"}]
    }
    assert preview.items[1].fields["answer_key"] == {"points": []}


def test_ordering():
    item = _only(_csv(_row("排序题", "排列步骤。", ["评估", "确保安全", "转介"], "BAC")))

    assert item.fields["kind"] is QuestionKind.ORDERING
    assert [text for text, _correct, _match in item.fields["rows"]] == ["确保安全", "评估", "转介"]


def test_english_headers_and_xlsx():
    header = ["Type", "Question", "Option A", "Option B", "Answer", "Points", "Category"]
    item = _only(_xlsx(["single", "Pick one", "Yes", "No", "B", 2.5, "Unit 1"], header=header))

    assert item.fields["rows"] == [("Yes", False, ""), ("No", True, "")]
    assert item.fields["points"] == Decimal("2.5")
    assert item.category == ["Unit 1"]


def test_gbk_csv():
    item = _only(_csv(_row("单选题", "辅导员的职责？", ["育人", "维修"], "A"), encoding="gbk"))

    assert item.fields["text"] == "辅导员的职责？"


def test_default_points():
    item = _only(_csv(_row("单选题", "题？", ["甲", "乙"], "A")))

    assert item.fields["points"] == Decimal(1)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (_row("单选题", "题？", ["甲", "乙", "丙", "丁"], "E"), "Row 2, 答案: 'E' is not one of the options A–D."),
        (_row("单选题", "题？", ["甲", "乙"], "AB"), "Row 2, 答案: A 单选题 has one correct option, but the answer names 2."),
        (_row("单选题", "题？", ["甲", "乙"], ""), "Row 2, 答案: The answer is empty."),
        (_row("多选题", "题？", ["甲", "乙"], "A1"), "Row 2, 答案: 'A1' is not a list of option letters."),
        (_row("单选题", "题？", ["甲", "", "丙"], "A"), "Row 2, 选项B: The option is empty but a later option is filled."),
        (_row("单选题", "题？", ["甲", "甲"], "A"), "Row 2, 选项A: The choice 甲 appears more than once."),
        (_row("单选题", "题？", ["甲"], "A"), "Row 2, 选项A: Enter at least two choices."),
        (_row("单选题", "题？", [], "A"), "Row 2, 选项A: The question has no options."),
        (_row("判断题", "题？", [], "也许"), "Row 2, 答案: '也许' is neither true nor false."),
        (_row("判断题", "题？", ["甲", "乙", "丙"], "对"), "Row 2, 选项A: A 判断题 has no options, or exactly two"),
        (_row("填空题", "没有空。", [], "答"), "Row 2, 题干: A 填空题 marks each blank in the stem with _____"),
        (_row("填空题", "两空___和___。", [], "甲"), "Row 2, 答案: The stem has 2 blanks but the answer has 1 lines."),
        (_row("简答题", "题？", [], ""), "Row 2, 答案: A 简答题 is marked against its accepted answers"),
        (_row("问答题", "题？", [], "4 | 甲\n4 | 乙", "10"), "Row 2, 答案: The scoring points add up to 8 but the question is worth 10."),
        (_row("排序题", "题？", ["甲", "乙", "丙"], "AB"), "Row 2, 答案: The answer of a 排序题 names every option once"),
        (_row("配对题", "题？", ["甲", "乙"], "A"), "Row 2, 题型: Matching questions have no spreadsheet form."),
        (_row("选择题", "题？", ["甲", "乙"], "A"), "Row 2, 题型: '选择题' is not a question type. Write one of 单选题、多选题"),
        (_row("", "题？", ["甲", "乙"], "A"), "Row 2, 题型: The question type is empty."),
        (_row("单选题", "", ["甲", "乙"], "A"), "Row 2, 题干: The stem is empty."),
        (_row("单选题", "题？", ["甲", "乙"], "A", "0"), "Row 2, 分值: Points must be greater than 0"),
        (_row("单选题", "题？", ["甲", "乙"], "A", "两分"), "Row 2, 分值: Points must be a number"),
        (_row("单选题", "题？", ["甲", "乙"], "A", "", "", "类" * 201), "Row 2, 分类: A category name can have at most 200 characters."),
        (_row("单选题", "题？", ["甲", "乙"], "A", "", "", "", "签" * 101), "Row 2, 标签: Enter at most 100 characters."),
    ],
)
def test_bad_row(row, message):
    problems = _problems(_csv(row))

    assert len(problems) == 1
    assert problems[0].startswith(message)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            _row("单选题", "", ["甲", "乙"], "Z", "abc"),
            [
                "Row 2, 题干: The stem is empty.",
                "Row 2, 答案: 'Z' is not one of the options A–B.",
                "Row 2, 分值: Points must be a number",
            ],
        ),
        (
            _row("单选题", "题？", [], "Z", "abc"),
            ["Row 2, 选项A: The question has no options.", "Row 2, 分值: Points must be a number"],
        ),
        (
            _row("单选题", "题？", [], "", ""),
            ["Row 2, 选项A: The question has no options.", "Row 2, 答案: The answer is empty."],
        ),
        (
            _row("单选题", "题？", ["甲", "甲"], "C", "0"),
            [
                "Row 2, 选项A: The choice 甲 appears more than once.",
                "Row 2, 答案: 'C' is not one of the options A–B.",
                "Row 2, 分值: Points must be greater than 0",
            ],
        ),
        (
            _row("单选题", "题？", ["甲", "乙"], "AB", "两分"),
            [
                "Row 2, 答案: A 单选题 has one correct option, but the answer names 2.",
                "Row 2, 分值: Points must be a number",
            ],
        ),
        (
            _row("选择题", "", ["甲", "乙"], "A", "0", "", "类" * 201),
            [
                "Row 2, 题型: '选择题' is not a question type.",
                "Row 2, 题干: The stem is empty.",
                "Row 2, 分值: Points must be greater than 0",
                "Row 2, 分类: A category name can have at most 200 characters.",
            ],
        ),
        (
            _row("判断题", "题？", ["甲", "乙", "丙"], "也许", "abc"),
            [
                "Row 2, 选项A: A 判断题 has no options, or exactly two",
                "Row 2, 答案: '也许' is neither true nor false.",
                "Row 2, 分值: Points must be a number",
            ],
        ),
        (
            _row("填空题", "", [], "甲", "abc"),
            ["Row 2, 题干: The stem is empty.", "Row 2, 分值: Points must be a number"],
        ),
        (
            _row("排序题", "题？", ["甲", "乙", "丙"], "AB", "", "", "", "签" * 101),
            [
                "Row 2, 答案: The answer of a 排序题 names every option once",
                "Row 2, 标签: Enter at most 100 characters.",
            ],
        ),
    ],
    ids=[
        "stem-answer-points",
        "no-options-not-answer-range",
        "no-options-empty-answer",
        "repeated-options-answer-points",
        "two-letters-points",
        "unknown-kind-stem-points-category",
        "true-false-options-answer-points",
        "fill-blank-empty-stem",
        "ordering-answer-tags",
    ],
)
def test_bad_row_every_problem(row, expected):
    problems = _problems(_csv(row))

    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected):
        assert problem.startswith(start), problems


def test_bad_scoring_values():
    header = HEADER + ["计分方式"]
    problems = _problems(
        _csv(
            _row("多选题", "甲？", ["甲", "乙"], "A") + ["随便"],
            _row("单选题", "乙？", ["甲", "乙"], "A") + ["按比例得分"],
            header=header,
        )
    )

    assert problems[0].startswith("Row 2, 计分方式: '随便' is not a scoring method.")
    assert problems[1].startswith("Row 3, 计分方式: Only 多选题 and 排序题 take a scoring method.")


def test_every_bad_row_reported():
    problems = _problems(
        _csv(
            _row("单选题", "好题？", ["甲", "乙"], "A"),
            _row("单选题", "坏题一？", ["甲", "乙"], "C"),
            _row("单选题", "好题？", ["甲", "乙"], "B"),
            _row("判断题", "坏题二", [], "?"),
        )
    )

    assert problems == [
        "Row 3, 答案: 'C' is not one of the options A–B.",
        "Row 4, 题干: The same stem as row 2 in the same category. Delete one of the "
        "two rows, or make the stems different.",
        "Row 5, 答案: '?' is neither true nor false. Write 对 or 错 (also 正确/错误, √/×, T/F, true/false).",
    ]


def test_same_stem_in_other_category_accepted():
    preview = question_sheet.read_sheet(
        _csv(
            _row("单选题", "好题？", ["甲", "乙"], "A", category="初级"),
            _row("单选题", "好题？", ["甲", "乙"], "A", category="中级"),
        )
    )

    assert len(preview.items) == 2


def test_same_stem_in_same_category_rejected():
    problems = _problems(
        _csv(
            _row("单选题", "好题？", ["甲", "乙"], "A", category="初级 / 心理"),
            _row("单选题", "好题？", ["甲", "乙"], "B", category="初级/心理"),
        )
    )

    assert problems == [
        "Row 3, 题干: The same stem as row 2 in the same category. Delete one of the "
        "two rows, or make the stems different."
    ]


def test_missing_required_column():
    problems = _problems(_csv(["单选题", "题？", "A"], header=["题型", "题干", "选项A"]))

    assert problems == [
        "Line 1, File: The header row has no column 答案. The first row must name the "
        "columns as the template does: 题型, 题干, 选项A to 选项H, 答案."
    ]


def test_option_column_past_h():
    header = ["题型", "题干", "答案", "选项I"]

    problems = _problems(_csv(["单选题", "题？", "A", "多"], header=header))

    assert "Remove the column 选项I." in problems[0]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "The file is empty."),
        (b"   \n", "The file is empty."),
        ("题型,题干,答案\n".encode(), "The file contains no questions."),
        (b"\x00\x01\x02binary", "The file is not a spreadsheet."),
        (b"PK\x03\x04broken zip", "The file is not a spreadsheet."),
        ('题型,题干,答案\n单选题,"题\n'.encode(), 'Line 2: a quote (") opens a cell'),
    ],
)
def test_unreadable_file(raw, message):
    problems = _problems(raw)

    assert len(problems) == 1
    assert message in problems[0]


def test_row_limit(monkeypatch):
    monkeypatch.setattr(question_sheet, "MAX_ROWS", 2)

    problems = _problems(_csv(*[_row("单选题", f"题{n}？", ["甲", "乙"], "A") for n in range(3)]))

    assert problems == ["File: The file has more than 2 question rows. Split it into smaller files."]


def test_template_reads_back():
    for extension in question_sheet_export.EXTENSIONS:
        preview = question_sheet.read_sheet(question_sheet_export.template_bytes(extension))

        kinds = {item.fields["kind"] for item in preview.items}
        assert kinds == set(question_sheet.KIND_NAMES)


# Round trip ------------------------------------------------------------------


def _bank(world, name: str):
    trainer = db.session.get(User, world.trainer)
    return banks.create_bank(trainer.institution_id, {"name": name}, trainer), trainer


def _top(bank):
    return next(category for category in bank.categories if category.parent_id is None)


def _snapshot(bank) -> list[tuple]:
    db.session.expire_all()
    questions = transfer.questions_under(_top(bank))
    return sorted(
        (
            question_sheet_export.question_row(question)["分类"],
            question.kind.value,
            question.text,
            question.points,
            question.explanation,
            question.scoring.value,
            repr(question.answer_key),
            tuple((c.text, c.is_correct, c.match_text) for c in question.choices),
            tuple(question.tags_of(TagKind.TOPIC)),
        )
        for question in questions
    )


TRICKY_ROWS = [
    _row("单选题", "含逗号, 引号\"和\n换行的题干", ["选项, 一", "选项\"二\"", "=SUM(A1)"], "C", "2.5", "解析\n第二行", "思政/理论", "标签一, 标签二"),
    _row("多选题", "-1 是负数吗？@提问", ["是", "+不是"], "AB", "3"),
    _row("判断题", "全角标点：（括号）、“引号”。", [], "对", "1", "", "思政"),
    _row("填空题", "坚持_____根本任务，_____。", [], "立德树人|立德\n以生为本"),
    _row("简答题", "宪法哪一年通过？", [], "1982|1982年", "", "", "法治/宪法"),
    _row("问答题", "谈谈危机干预，\n举例说明。", [], "4 | 确保安全, 陪伴\n6 | 转介", "10"),
    _row("排序题", "排列步骤。", ["评估", "确保安全", "转介"], "BAC"),
]


@pytest.mark.parametrize("extension", ["xlsx", "csv"])
def test_round_trip(world, extension):
    source, trainer = _bank(world, "原题库")
    stored = transfer.store(_top(source), question_sheet.read_sheet(_csv(*TRICKY_ROWS)), trainer)
    stored[-1].scoring = ChoiceScoring.PARTIAL
    db.session.flush()

    body, left_out = question_sheet_export.export_bytes(
        extension, transfer.questions_under(_top(source))
    )
    copy, _trainer = _bank(world, "新题库")
    transfer.store(_top(copy), question_sheet.read_sheet(body), trainer)

    assert left_out == []
    assert len(_snapshot(source)) == len(TRICKY_ROWS)
    assert _snapshot(copy) == _snapshot(source)


def test_export_leaves_out_matching(world):
    bank, _trainer = _bank(world, "配对题库")
    question = Question(position=1)
    _top(bank).questions.append(question)
    matching = {
        "kind": "matching", "text": "配对", "points": "1",
        "choice_1": "甲", "match_1": "一", "choice_2": "乙", "match_2": "二",
    }
    fields, errors = question_forms.validate(matching)
    question_forms.apply(question, fields)
    db.session.flush()

    body, left_out = question_sheet_export.export_bytes("csv", [question])

    assert errors == {}
    assert left_out == [question]
    assert body.decode("utf-8-sig").strip() == ",".join(question_sheet.HEADERS)
