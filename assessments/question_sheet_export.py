"""Write questions as a 题库导入模板 sheet (XLSX or CSV) that ``read_sheet`` reads back.

Matching questions and short answers with partial credit have no form in the
sheet, so they are left out and counted. Level and functional-area tags are
not written, because the sheet has one 标签 column for topic tags.
"""

from decimal import Decimal

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from assessments.formats.types import format_decimal
from assessments.models import (
    FALSE_VALUE,
    TRUE_VALUE,
    ChoiceScoring,
    Question,
    QuestionKind,
    TagKind,
)
from assessments.question_sheet import HEADERS, KIND_NAMES, SCORING_NAMES
from assessments.question_sheet_answers import LETTERS, TRUE_FALSE_CHOICES
from lms import exports

EXTENSIONS = ("xlsx", "csv")
#: One example row per kind, in the order of ``HEADERS``, for the template.
TEMPLATE_ROWS = [
    {
        "题型": "单选题",
        "题干": "高校辅导员工作的首要职责是什么？",
        "选项A": "思想政治教育",
        "选项B": "宿舍维修",
        "选项C": "财务报销",
        "选项D": "后勤采购",
        "答案": "A",
        "分值": "2",
        "解析": "《普通高等学校辅导员队伍建设规定》第三条。",
        "分类": "思政/理论",
        "标签": "职责，基础",
    },
    {
        "题型": "多选题",
        "题干": "谈心谈话应当遵循哪些原则？",
        "选项A": "尊重学生",
        "选项B": "公开批评",
        "选项C": "保护隐私",
        "选项D": "平等交流",
        "答案": "ACD",
        "分值": "3",
        "分类": "思政/谈心谈话",
        "计分方式": "按比例得分",
    },
    {
        "题型": "判断题",
        "题干": "辅导员可以向其他学生公开某位学生的心理咨询记录。",
        "答案": "错",
        "解析": "心理咨询记录属于个人隐私。",
        "分类": "心理健康",
    },
    {
        "题型": "填空题",
        "题干": "辅导员是开展大学生思想政治教育的_____力量。",
        "答案": "骨干|中坚",
        "分类": "思政/理论",
    },
    {
        "题型": "简答题",
        "题干": "现行《中华人民共和国宪法》于哪一年通过？",
        "答案": "1982|1982年",
        "分类": "法治",
    },
    {
        "题型": "论述题",
        "题干": "请结合实际，谈谈如何开展学生心理危机干预。",
        "答案": "4 | 说明确保学生安全是首要步骤\n6 | 说明转介专业机构与家校协同",
        "分值": "10",
        "分类": "心理健康",
    },
    {
        "题型": "排序题",
        "题干": "请将心理危机干预的步骤按正确顺序排列。",
        "选项A": "评估风险",
        "选项B": "确保安全",
        "选项C": "转介专业机构",
        "选项D": "跟踪回访",
        "答案": "BACD",
        "分值": "2",
        "分类": "心理健康",
        "计分方式": "全对得分",
    },
]


def template_bytes(extension: str) -> bytes:
    """Return the import template: the header row and one example row per kind."""
    rows = [[row.get(header, "") for header in HEADERS] for row in TEMPLATE_ROWS]
    return _sheet_bytes(extension, rows)


def export_bytes(
    extension: str, questions: list[Question]
) -> tuple[bytes, list[Question]]:
    """Write the questions the sheet can hold; return the file and the left-out ones."""
    rows, left_out = [], []
    for question in questions:
        row = question_row(question)
        if row is None:
            left_out.append(question)
        else:
            rows.append([_cell(row.get(header, "")) for header in HEADERS])
    return _sheet_bytes(extension, rows), left_out


def unexportable_count(questions: list[Question]) -> int:
    """Return how many of ``questions`` the sheet cannot hold."""
    return sum(1 for question in questions if question_row(question) is None)


def _sheet_bytes(extension: str, rows: list[list[str]]) -> bytes:
    if extension == "xlsx":
        return exports.xlsx_bytes(HEADERS, rows, sheet_title="题库")
    return exports.csv_bytes(HEADERS, rows)


def _cell(value: str) -> str:
    # XML 1.0, and so XLSX, cannot hold most control characters.
    return ILLEGAL_CHARACTERS_RE.sub("", value)


def question_row(question: Question) -> dict[str, str] | None:
    """Return the cells of ``question`` by header, or None if the sheet cannot hold it."""
    answer = _ANSWER_WRITERS.get(question.kind, _no_answer)(question)
    if answer is None:
        return None
    row = {
        "题型": KIND_NAMES[question.kind][0],
        "题干": question.text,
        "答案": answer,
        "分值": format_decimal(question.points),
        "解析": question.explanation or "",
        "分类": _category_path(question),
        "标签": ", ".join(question.tags_of(TagKind.TOPIC)),
    }
    if question.kind in (QuestionKind.MULTIPLE, QuestionKind.ORDERING):
        if question.scoring is not ChoiceScoring.ALL_OR_NOTHING:
            row["计分方式"] = SCORING_NAMES[question.scoring][0]
    if _writes_options(question):
        for letter, choice in zip(LETTERS, question.choices):
            row[f"选项{letter}"] = choice.text
    return row


def _writes_options(question: Question) -> bool:
    if question.kind is QuestionKind.TRUE_FALSE:
        texts = tuple(choice.text for choice in question.choices)
        return texts not in (TRUE_FALSE_CHOICES, (TRUE_VALUE, FALSE_VALUE))
    return question.kind in (
        QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.ORDERING
    )


def _category_path(question: Question) -> str:
    """Return the category path below the bank's top category, such as 思政/理论."""
    names = []
    node = question.category
    while node is not None and node.parent is not None:
        names.append(node.name.replace("/", "-"))
        node = node.parent
    return "/".join(reversed(names))


def _choice_letters(question: Question) -> str | None:
    if len(question.choices) > len(LETTERS):
        return None
    return "".join(
        letter for letter, choice in zip(LETTERS, question.choices) if choice.is_correct
    )


def _true_false_answer(question: Question) -> str:
    first_correct = bool(question.choices) and question.choices[0].is_correct
    return "对" if first_correct else "错"


def _blanks_answer(question: Question) -> str:
    blanks = question.answer_key.get("blanks") or []
    return "\n".join("|".join(accepted) for accepted in blanks)


def _short_answer(question: Question) -> str | None:
    answers = question.answer_key.get("answers") or []
    # The sheet has no column for partial credit or per-answer feedback.
    if any(Decimal(answer["score"]) != 100 or answer.get("feedback") for answer in answers):
        return None
    return "|".join(answer["text"] for answer in answers)


def _scoring_points(question: Question) -> str:
    points = question.answer_key.get("points") or []
    return "\n".join(f"{point['max']} | {point['text']}" for point in points)


def _ordering_answer(question: Question) -> str | None:
    if len(question.choices) > len(LETTERS):
        return None
    return LETTERS[: len(question.choices)]


def _no_answer(question: Question) -> None:
    return None


_ANSWER_WRITERS = {
    QuestionKind.SINGLE: _choice_letters,
    QuestionKind.MULTIPLE: _choice_letters,
    QuestionKind.TRUE_FALSE: _true_false_answer,
    QuestionKind.FILL_BLANK: _blanks_answer,
    QuestionKind.SHORT_ANSWER: _short_answer,
    QuestionKind.ESSAY: _scoring_points,
    QuestionKind.ORDERING: _ordering_answer,
}
