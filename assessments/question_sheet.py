"""Question banks as spreadsheets in the layout of a 题库导入模板, read from CSV or XLSX.

One row is one question, under a header row with these columns (English
aliases are accepted, see ``COLUMNS``): 题型, 题干, 选项A to 选项H, 答案,
分值, 解析, 分类, 标签 and 计分方式. :func:`read_sheet` maps every row onto
the product's question fields and collects every problem with its row and
column, so that nothing is stored while any row is wrong.
:mod:`assessments.question_sheet_answers` reads the 答案 column of each kind,
and :mod:`assessments.question_sheet_export` writes banks in the same layout.
"""

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from assessments import question_forms
from assessments.formats import FormatError, FormatProblem, mark_blanks
from assessments.models import ChoiceScoring, QuestionCategory, QuestionKind
from assessments.question_sheet_answers import ANSWER_READERS, LETTERS
from assessments.transfer import ImportItem, ImportPreview
from lms import tabular
from lms.column_lengths import max_length
from lms.i18n import join_names

#: Rows of questions read from one file, as for the other table imports.
MAX_ROWS = 5000
MAX_CATEGORY_NAME = max_length(QuestionCategory.name)

#: Field -> header names people use for the column, the template's first.
COLUMNS: dict[str, tuple[str, ...]] = {
    "kind": ("题型", "题目类型", "试题类型", "type", "question type", "kind"),
    "stem": ("题干", "题目", "试题内容", "stem", "question", "question text"),
    **{
        f"option_{letter}": (
            f"选项{letter}", letter, f"option {letter}", f"choice {letter}"
        )
        for letter in LETTERS
    },
    "answer": ("答案", "正确答案", "参考答案", "answer", "correct answer", "key"),
    "points": ("分值", "分数", "points", "score", "mark"),
    "explanation": ("解析", "答案解析", "试题解析", "explanation", "feedback", "analysis"),
    "category": ("分类", "题目分类", "category"),
    "tags": ("标签", "知识点", "tags", "tag"),
    "scoring": ("计分方式", "scoring"),
}
REQUIRED = ("kind", "stem", "answer")
#: Header row of the template and of exports.
HEADERS = [names[0] for names in COLUMNS.values()]

#: 题型 names per kind; exports write the first.
KIND_NAMES: dict[QuestionKind, tuple[str, ...]] = {
    QuestionKind.SINGLE: ("单选题", "单选", "单项选择题", "single", "single choice"),
    QuestionKind.MULTIPLE: ("多选题", "多选", "多项选择题", "multiple", "multiple choice"),
    QuestionKind.TRUE_FALSE: ("判断题", "判断", "true_false", "true or false", "true/false"),
    QuestionKind.FILL_BLANK: (
        "填空题", "填空", "fill_blank", "fill in the blanks", "fill in the blank"
    ),
    QuestionKind.SHORT_ANSWER: ("简答题", "short_answer", "short answer"),
    QuestionKind.ESSAY: ("论述题", "问答题", "问答", "论述", "essay"),
    QuestionKind.ORDERING: ("排序题", "ordering"),
}
MATCHING_NAMES = ("配对题", "匹配题", "连线题", "matching")
#: 计分方式 names per scoring of multiple-choice and ordering questions, with the
#: labels the question form shows; exports write the first.
SCORING_NAMES: dict[ChoiceScoring, tuple[str, ...]] = {
    ChoiceScoring.ALL_OR_NOTHING: ("全对得分", "all_or_nothing", "all or nothing"),
    ChoiceScoring.PARTIAL: ("按比例得分", "按比例给分", "partial", "partial credit"),
    ChoiceScoring.PARTIAL_PENALTY: (
        "错选扣分",
        "选错倒扣",
        "按比例给分，选错倒扣（不低于 0 分）",
        "partial_penalty",
        "partial credit with penalties",
    ),
}
#: Separators between tags.
_TAG_SEPARATORS = re.compile(r"[,，;；、]")
#: Apostrophe that ``lms.exports`` puts before a cell a spreadsheet would run as a formula.
_NEUTRALISED = re.compile(r"'(?=[=+\-@\t\r])")
#: Headers of option columns past the last letter, which the sheet does not read.
_EXTRA_OPTION = re.compile(r"选项[I-Zi-z]|option ?[I-Zi-z]")


def _key(text: str) -> str:
    return tabular.normalise(text).replace(" ", "").lower()


_KINDS_BY_NAME = {
    _key(name): kind for kind, names in KIND_NAMES.items() for name in names
}
_SCORINGS_BY_NAME = {
    _key(name): scoring for scoring, names in SCORING_NAMES.items() for name in names
}


@dataclass(frozen=True)
class RowProblem(FormatProblem):
    """A problem in one row of a sheet. ``field`` is the column header."""

    @property
    def field_label(self) -> str:
        return self.field

    def __str__(self) -> str:
        if self.line is None:
            return str(
                _l("%(field)s: %(message)s", field=self.field, message=self.message)
            )
        return str(
            _l(
                "Row %(row)s, %(column)s: %(message)s",
                row=self.line,
                column=self.field,
                message=self.message,
            )
        )


class SheetRow:
    """One question row: its cells by field, and the problems found in it."""

    def __init__(self, number: int, cells: dict[str, str], headers: dict[str, str]):
        self.number = number
        self.cells = cells
        self.headers = headers
        self.problems: list[RowProblem] = []

    def cell(self, field: str) -> str:
        return self.cells.get(field, "")

    def column(self, field: str) -> str:
        """Return the column's header as the file writes it, or the template's."""
        return self.headers.get(field) or COLUMNS[field][0]

    def reject(self, field: str, message) -> None:
        self.problems.append(RowProblem(self.number, self.column(field), message))

    def has_problem(self, field: str) -> bool:
        column = self.column(field)
        return any(problem.field == column for problem in self.problems)

    def sort_problems(self) -> None:
        """Order the row's problems by column, as the template lays the columns out."""
        order = {self.column(field): index for index, field in enumerate(COLUMNS)}
        self.problems.sort(key=lambda problem: order.get(problem.field, len(order)))


def read_sheet(raw: bytes) -> ImportPreview:
    """Read an XLSX or CSV question sheet; raise FormatError listing every problem."""
    table = _read_table(raw)
    headers = tabular.map_headers(table, COLUMNS)
    _check_headers(table, headers)
    preview = ImportPreview(encoding=table.encoding or "xlsx")
    problems: list[FormatProblem] = []
    stems: dict[tuple[str, str], int] = {}
    for number, cells in table.rows:
        row = SheetRow(number, _cells_by_field(cells, headers), headers)
        item = _read_row(row)
        _check_repeated_stem(row, stems)
        row.sort_problems()
        problems.extend(row.problems)
        if item is not None and not row.problems:
            preview.items.append(item)
    if problems:
        raise FormatError(problems)
    if not preview.items:
        raise FormatError.single(
            None,
            "file",
            _l(
                "The file contains no questions. Fill in one row per question below "
                "the header row."
            ),
        )
    return preview


def _read_table(raw: bytes) -> tabular.Table:
    try:
        if raw.startswith(b"PK\x03\x04"):
            return tabular.read_xlsx(raw, max_rows=MAX_ROWS, clean=tabular.keep_text)
        return tabular.read_csv(raw, max_rows=MAX_ROWS, clean=tabular.keep_text)
    except tabular.TableError as error:
        raise FormatError.single(None, "file", _table_error_message(error)) from None


def _table_error_message(error: tabular.TableError):
    if error.code == "encoding":
        return tabular.encoding_error_message(error)
    if error.code == "quote":
        return tabular.quote_error_message(error)
    if error.code == "too_many_columns":
        return tabular.columns_error_message()
    if error.code == "too_many_rows":
        return _l(
            "The file has more than %(max)d question rows. Split it into smaller "
            "files.",
            max=MAX_ROWS,
        )
    if error.code == "too_large":
        return _l(
            "The workbook unpacks to more than %(max)d MB. Copy the question sheet "
            "into a new XLSX file, or save it as CSV, and upload that.",
            max=tabular.MAX_XLSX_UNPACKED // (1024 * 1024),
        )
    if error.code == "empty":
        return _l(
            "The file is empty. Start from the template: a header row with 题型, 题干 "
            "and 答案, then one row per question."
        )
    return _l(
        "The file is not a spreadsheet. Save the questions as XLSX, or as CSV in "
        "UTF-8 or GBK, and upload that file."
    )


def _check_headers(table: tabular.Table, headers: dict[str, str]) -> None:
    missing = [COLUMNS[field][0] for field in REQUIRED if field not in headers]
    if missing:
        raise FormatError.single(
            1,
            "file",
            _l(
                "The header row has no column %(columns)s. The first row must name the "
                "columns as the template does: 题型, 题干, 选项A to 选项H, 答案.",
                columns=join_names(missing),
            ),
        )
    extra = [h for h in table.headers if _EXTRA_OPTION.fullmatch(h)]
    if extra:
        raise FormatError.single(
            1,
            "file",
            _l(
                "A question can have at most %(max)d options, 选项A to 选项%(last)s. "
                "Remove the column %(column)s.",
                max=len(LETTERS),
                last=LETTERS[-1],
                column=extra[0],
            ),
        )


def _cells_by_field(cells: dict[str, str], headers: dict[str, str]) -> dict[str, str]:
    """Return the row's cells by field, without the apostrophe that exports add."""
    return {
        field: _NEUTRALISED.sub("", cells[header], count=1)
        for field, header in headers.items()
    }


def _check_repeated_stem(row: SheetRow, stems: dict[tuple[str, str], int]) -> None:
    """Reject a stem that an earlier row has in the same category.

    The same stem in two categories is allowed, as in a bank that keeps one
    question at two levels, so a bank's own export reads back.
    """
    stem = " ".join(row.cell("stem").split()).casefold()
    if not stem:
        return
    names = re.split(r"[/／]", row.cell("category"))
    key = ("/".join(name.strip() for name in names if name.strip()), stem)
    if key in stems:
        row.reject(
            "stem",
            _l(
                "The same stem as row %(row)d in the same category. Delete one of "
                "the two rows, or make the stems different.",
                row=stems[key],
            ),
        )
    else:
        stems[key] = row.number


def _read_row(row: SheetRow) -> ImportItem | None:
    """Map one row onto question form values, or report its problems and return None.

    Every cell is checked, so one upload lists all the problems of the row.
    The 答案 and 选项 cells are read only when the 题型 is known, because
    their meaning depends on it.
    """
    kind = _kind(row)
    stem = row.cell("stem")
    if kind is QuestionKind.FILL_BLANK:
        stem = mark_blanks(stem)
    if not stem:
        row.reject("stem", _l("The stem is empty. Write the question in this column."))
    category = _category(row)
    data = {
        "kind": kind.value if kind is not None else "",
        "text": stem,
        "points": row.cell("points"),
        "explanation": row.cell("explanation"),
        "tags_topic": ",".join(_TAG_SEPARATORS.split(row.cell("tags"))),
        "scoring": _scoring(row, kind),
    }
    if kind is not None:
        ANSWER_READERS[kind](row, data)
    fields, errors = question_forms.validate(data)
    _report_form_errors(row, errors)
    if kind is None or row.problems:
        return None
    return ImportItem(row.number, category, fields, KIND_NAMES[kind][0])


def _report_form_errors(row: SheetRow, errors: dict) -> None:
    """Report the question form's errors that the sheet's own checks did not.

    A column that already has a problem gets no second message for the same
    cell. The form's ``choices`` message covers all options, so it is left
    out when an option column already names the exact option.
    """
    option_columns = [f"option_{letter}" for letter in LETTERS]
    for name, message in errors.items():
        field = _FORM_FIELDS.get(name, _choice_field(name))
        if row.has_problem(field):
            continue
        if name == "choices" and any(row.has_problem(f) for f in option_columns):
            continue
        row.reject(field, message)


def _kind(row: SheetRow) -> QuestionKind | None:
    raw = row.cell("kind")
    kind = _KINDS_BY_NAME.get(_key(raw))
    if kind is not None:
        return kind
    if _key(raw) in {_key(name) for name in MATCHING_NAMES}:
        row.reject(
            "kind",
            _l(
                "Matching questions have no spreadsheet form. Import them as GIFT or "
                "Moodle XML, or add them in the question form."
            ),
        )
    elif not raw:
        row.reject(
            "kind",
            _l(
                "The question type is empty. Write one of %(kinds)s.",
                kinds=_kind_list(),
            ),
        )
    else:
        row.reject(
            "kind",
            _l(
                "'%(value)s' is not a question type. Write one of %(kinds)s.",
                value=raw,
                kinds=_kind_list(),
            ),
        )
    return None


def _kind_list() -> str:
    return "、".join(names[0] for names in KIND_NAMES.values())


def _scoring(row: SheetRow, kind: QuestionKind | None) -> str:
    raw = row.cell("scoring")
    if not raw:
        return ChoiceScoring.ALL_OR_NOTHING.value
    scoring = _SCORINGS_BY_NAME.get(_key(raw))
    if scoring is None:
        row.reject(
            "scoring",
            _l(
                "'%(value)s' is not a scoring method. Write one of %(names)s, or leave "
                "the cell empty for 全对得分.",
                value=raw,
                names="、".join(names[0] for names in SCORING_NAMES.values()),
            ),
        )
    elif (
        kind is not None
        and kind not in question_forms.SCORED_KINDS
        and scoring is not ChoiceScoring.ALL_OR_NOTHING
    ):
        row.reject(
            "scoring",
            _l("Only 多选题 and 排序题 take a scoring method. Leave the cell empty."),
        )
    return scoring.value if scoring is not None else ChoiceScoring.ALL_OR_NOTHING.value


def _category(row: SheetRow) -> list[str]:
    names = re.split(r"[/／]", row.cell("category"))
    parts = [name.strip() for name in names if name.strip()]
    for part in parts:
        if len(part) > MAX_CATEGORY_NAME:
            row.reject(
                "category",
                _l(
                    "A category name can have at most %(max)d characters.",
                    max=MAX_CATEGORY_NAME,
                ),
            )
            break
    return parts


#: Question form fields -> the column whose cell they came from.
_FORM_FIELDS = {
    "kind": "kind",
    "text": "stem",
    "points": "points",
    "explanation": "explanation",
    "scoring": "scoring",
    "choices": "option_A",
    "blanks": "answer",
    "accepted": "answer",
    "scoring_points": "answer",
    "tags_topic": "tags",
}


def _choice_field(name: str) -> str:
    """Return the option column of a form field ``choice_N``."""
    slot = name.removeprefix("choice_")
    if slot.isdigit() and 1 <= int(slot) <= len(LETTERS):
        return f"option_{LETTERS[int(slot) - 1]}"
    return "answer"
