"""Question sheets through the bank pages: upload, preview, confirm, template and export."""

import csv
import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from assessments.models import Question, QuestionBank, QuestionCategory, QuestionKind
from lms.extensions import db

HEADER = ["题型", "题干", "选项A", "选项B", "选项C", "答案", "分值", "分类"]
ROWS = [
    ["单选题", "辅导员的首要职责是？", "思想政治教育", "宿舍维修", "", "A", "2", "思政/理论"],
    ["多选题", "谈心谈话的原则有哪些，为什么？", "尊重", "批评", "保密", "A,C", "", "思政"],
    ["判断题", "辅导员应当走访宿舍。", "", "", "", "对", "", ""],
]


def _csv(rows, encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([HEADER, *rows])
    return buffer.getvalue().encode(encoding)


def _xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in [HEADER, *rows]:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _bank(trainer) -> QuestionBank:
    trainer.post("/manage/banks", data={"name": "表格题库"})
    return db.session.scalar(sa.select(QuestionBank).filter_by(name="表格题库"))


def _upload(trainer, bank: QuestionBank, content: bytes, name: str):
    return trainer.post(
        f"/manage/banks/{bank.id}/import",
        data={
            "format": "spreadsheet",
            "category_id": str(bank.categories[0].id),
            "file": (io.BytesIO(content), name),
        },
        content_type="multipart/form-data",
    )


def _confirm_url(page) -> str:
    return re.search(r'action="([^"]*/confirm)"', page.get_data(as_text=True)).group(1)


def _bank_questions(bank: QuestionBank) -> list[Question]:
    db.session.expire_all()
    ids = [category.id for category in db.session.scalars(
        sa.select(QuestionCategory).filter_by(bank_id=bank.id)
    )]
    return list(
        db.session.scalars(
            sa.select(Question).where(Question.category_id.in_(ids)).order_by(Question.id)
        )
    )


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (_csv(ROWS, "gbk"), "题库.csv"),
        (_csv(ROWS, "utf-8-sig"), "题库.csv"),
        (_xlsx(ROWS), "题库.xlsx"),
    ],
    ids=["csv-gbk", "csv-utf8-bom", "xlsx"],
)
def test_upload_preview_confirm(world, login, english, content, name):
    trainer = login("trainer")
    bank = _bank(trainer)

    preview = _upload(trainer, bank, content, name)
    page = preview.get_data(as_text=True)
    before_confirm = _bank_questions(bank)
    confirmed = trainer.post(_confirm_url(preview), follow_redirects=True)

    assert preview.status_code == 200
    assert "Preview: 3 questions" in page
    assert "谈心谈话的原则有哪些，为什么？" in page
    assert before_confirm == []
    assert "3 questions imported." in confirmed.get_data(as_text=True)
    questions = _bank_questions(bank)
    assert [q.kind for q in questions] == [
        QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.TRUE_FALSE
    ]
    assert questions[0].category.path == "表格题库 / 思政 / 理论"
    assert [c.is_correct for c in questions[1].choices] == [True, False, True]


def test_bad_rows_import_nothing(world, login, english):
    trainer = login("trainer")
    bank = _bank(trainer)
    rows = ROWS + [
        ["单选题", "坏题？", "甲", "乙", "", "E", "", ""],
        ["单选题", "辅导员的首要职责是？", "甲", "乙", "", "A", "", "思政/理论"],
    ]

    response = _upload(trainer, bank, _csv(rows, "utf-8-sig"), "题库.csv")
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "Row 5, 答案: &#39;E&#39; is not one of the options A–B." in page
    assert "Row 6, 题干: The same stem as row 2 in the same category." in page
    assert "/confirm" not in page
    assert _bank_questions(bank) == []


def test_bad_row_lists_every_problem(world, login, english):
    trainer = login("trainer")
    bank = _bank(trainer)
    rows = [["单选题", "", "甲", "乙", "", "Z", "abc", ""]]

    response = _upload(trainer, bank, _csv(rows, "utf-8-sig"), "题库.csv")
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "Row 2, 题干: The stem is empty." in page
    assert "Row 2, 答案: &#39;Z&#39; is not one of the options A–B." in page
    assert "Row 2, 分值: Points must be a number" in page
    assert _bank_questions(bank) == []


def test_bad_row_message_in_chinese(world, login):
    trainer = login("trainer")
    bank = _bank(trainer)
    rows = [["单选题", "坏题？", "甲", "乙", "丙", "E", "", ""]]

    response = _upload(trainer, bank, _csv(rows, "utf-8-sig"), "题库.csv")

    assert "第 2 行，答案列：" in response.get_data(as_text=True)


def test_wrong_extension_message_in_chinese(world, login):
    trainer = login("trainer")
    bank = _bank(trainer)

    response = _upload(trainer, bank, _csv(ROWS, "utf-8-sig"), "题库.txt")
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "请上传电子表格（XLSX 或 CSV）格式的文件（扩展名为 .xlsx、.csv），" in page
    assert " 电子表格（XLSX 或 CSV） " not in page


def test_old_excel_file_rejected(world, login, english):
    trainer = login("trainer")
    bank = _bank(trainer)

    response = _upload(trainer, bank, b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "题库.xls")

    assert response.status_code == 400
    assert "is an old Excel 97-2003 workbook (.xls)" in response.get_data(as_text=True)


def test_renamed_file_is_not_a_spreadsheet(world, login, english):
    trainer = login("trainer")
    bank = _bank(trainer)

    response = _upload(trainer, bank, b"not a zip archive", "题库.xlsx")

    assert response.status_code == 400
    assert "is not a spreadsheet." in response.get_data(as_text=True)


@pytest.mark.parametrize("extension", ["xlsx", "csv"])
def test_template_download(world, login, extension):
    trainer = login("trainer")

    response = trainer.get(f"/manage/banks/import-template.{extension}")

    assert response.status_code == 200
    assert f'filename="question-template.{extension}"' in response.headers["Content-Disposition"]
    if extension == "xlsx":
        sheet = load_workbook(io.BytesIO(response.data)).active
        header = [cell.value for cell in next(sheet.iter_rows(max_row=1))]
        kinds = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    else:
        lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
        header, kinds = lines[0], [line[0] for line in lines[1:]]
    assert header[:3] == ["题型", "题干", "选项A"]
    assert kinds == ["单选题", "多选题", "判断题", "填空题", "简答题", "论述题", "排序题"]


def test_template_unknown_extension(world, login):
    trainer = login("trainer")

    response = trainer.get("/manage/banks/import-template.docx")

    assert response.status_code == 404


def test_import_page_links_template(world, login, english):
    trainer = login("trainer")
    bank = _bank(trainer)

    page = trainer.get(f"/manage/banks/{bank.id}/import").get_data(as_text=True)

    assert '<option value="spreadsheet" >Spreadsheet (XLSX or CSV)</option>' in page
    assert "/manage/banks/import-template.xlsx" in page
    assert "/manage/banks/import-template.csv" in page


def test_formats_listed_in_chinese(world, login):
    trainer = login("trainer")
    bank = _bank(trainer)

    import_page = trainer.get(f"/manage/banks/{bank.id}/import").get_data(as_text=True)
    bank_page = trainer.get(f"/manage/banks/{bank.id}").get_data(as_text=True)

    assert "电子表格（XLSX 或 CSV）" in import_page
    assert "电子表格（XLSX）" in bank_page
    assert "电子表格（CSV）" in bank_page


@pytest.mark.parametrize("extension", ["xlsx", "csv"])
def test_export_then_import_into_empty_bank(world, login, english, extension):
    trainer = login("trainer")
    bank = _bank(trainer)
    trainer.post(_confirm_url(_upload(trainer, bank, _xlsx(ROWS), "题库.xlsx")))

    exported = trainer.get(f"/manage/banks/{bank.id}/export?format={extension}")
    trainer.post("/manage/banks", data={"name": "空题库"})
    empty = db.session.scalar(sa.select(QuestionBank).filter_by(name="空题库"))
    preview = _upload(trainer, empty, exported.data, f"questions.{extension}")
    trainer.post(_confirm_url(preview))

    assert exported.status_code == 200
    assert exported.headers["X-Questions-Left-Out"] == "0"
    copies = _bank_questions(empty)
    originals = _bank_questions(bank)
    assert sorted((q.text, q.kind.value, q.points, q.category.path) for q in copies) == sorted(
        (q.text, q.kind.value, q.points, q.category.path.replace("表格题库", "空题库"))
        for q in originals
    )
