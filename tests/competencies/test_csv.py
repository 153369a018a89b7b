"""CSV export and import: round trip, encodings and every kind of bad row."""

import csv
import io

import pytest
import sqlalchemy as sa

from lms.competencies import csvio, transfer
from lms.competencies.models import CompetencyItem, Framework
from lms.extensions import db
from tests.competencies.helpers import framework, make_draft, snapshot, user
from tests.upload_cleanup import age_file, run_cleanup, use_empty_upload_dir

# These tests compare message text, which is written in English.
pytestmark = pytest.mark.usefixtures("english")

HEADER = "等级代码,等级,职业功能代码,职业功能,条目代码,概述,工作内容,能力要求,理论知识要求\n"
GOOD_ROW = "junior,初级,mental,心理健康,1.1,识别心理危机,工作一,能力一,知识一\n"
DETAILS = {"code": "imported", "title": "导入的框架", "version": "1"}


def _problems(content: bytes) -> list[transfer.Problem]:
    with pytest.raises(transfer.ImportRejected) as caught:
        csvio.parse_csv(content, dict(DETAILS))
    return caught.value.problems


def _count_frameworks() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Framework))


def test_export_has_bom_and_one_row_per_item(app, seeded, login):
    with app.app_context():
        fw_id = framework("counselor-2014").id

    response = login("counselor1").get(f"/frameworks/{fw_id}/export.csv")

    body = response.get_data()
    assert response.status_code == 200
    assert body.startswith(b"\xef\xbb\xbf")
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["等级代码", "等级", "职业功能代码"]
    assert len(rows) == 1 + 27
    assert rows[5][5].endswith("。")


def test_csv_round_trip_seeded(app_ctx, seeded):
    original = framework("counselor-2014")

    data = csvio.parse_csv(csvio.export_csv(original), dict(DETAILS))
    copy = transfer.write(data, user("trainer"))

    assert snapshot(copy) == snapshot(original)


def test_csv_round_trip_keeps_years_of_service(app_ctx, seeded):
    original = framework("counselor-2014")
    years = [(lv.code, lv.min_years, lv.max_years) for lv in original.levels]

    data = csvio.parse_csv(csvio.export_csv(original), dict(DETAILS))
    copy = transfer.write(data, user("trainer"))

    assert [(lv.code, lv.min_years, lv.max_years) for lv in copy.levels] == years
    assert years[0][1:] == (1, 3)
    assert years[2][1:] == (9, None)


def test_csv_years_columns_are_optional(app_ctx):
    data = csvio.parse_csv((HEADER + GOOD_ROW).encode(), dict(DETAILS))

    assert (data.levels[0].min_years, data.levels[0].max_years) == (None, None)


def test_csv_bad_years_named(app_ctx):
    header = HEADER.rstrip("\n") + ",最短工作年限,最长工作年限\n"
    rows = GOOD_ROW.rstrip("\n") + ",8,3\n"
    rows += "junior,初级,online,网络思政,1.2,概述,工作,能力,知识,x,\n"

    problems = _problems((header + rows).encode())

    assert [(p.location, p.field) for p in problems] == [
        ("Row 2", "最长工作年限"),
        ("Row 3", "最短工作年限"),
    ]


def test_csv_superscript_years_named(app_ctx):
    """A digit that int() cannot read, such as "²", is a bad cell, not a crash."""
    header = HEADER.rstrip("\n") + ",最短工作年限,最长工作年限\n"
    rows = "junior,初级,online,网络思政,1.2,概述,工作,能力,知识,²,\n"

    problems = _problems((header + rows).encode())

    assert [(p.location, p.field) for p in problems] == [("Row 2", "最短工作年限")]


def test_csv_round_trip_keeps_formula_like_text(app_ctx, seeded):
    draft = make_draft(user("trainer"))
    exported = csvio.export_csv(draft)

    copy = transfer.write(csvio.parse_csv(exported, dict(DETAILS)), user("trainer"))

    assert b"'=SUM(A1)" in exported
    assert snapshot(copy) == snapshot(draft)
    assert copy.items[0].ability_requirements.startswith("=SUM(A1)")


def test_csv_import_gbk(app_ctx, seeded):
    content = (HEADER + GOOD_ROW).encode("gbk")

    copy = transfer.write(csvio.parse_csv(content, dict(DETAILS)), user("trainer"))

    assert copy.levels[0].name == "初级"
    assert copy.items[0].summary == "识别心理危机"


def test_csv_import_utf8_bom(app_ctx, seeded):
    content = b"\xef\xbb\xbf" + (HEADER + GOOD_ROW).encode("utf-8")

    copy = transfer.write(csvio.parse_csv(content, dict(DETAILS)), user("trainer"))

    assert copy.areas[0].name == "心理健康"


def test_csv_import_english_headers_and_tabs(app_ctx, seeded):
    content = (
        "level_code\tlevel_name\tarea_code\tarea_name\titem_code\tsummary\n"
        "junior\t初级\tmental\t心理健康\t1.1\t识别心理危机\n"
    ).encode("utf-8")

    data = csvio.parse_csv(content, dict(DETAILS))

    assert data.items[0].code == "1.1"


def test_missing_column_named(app_ctx):
    header = HEADER.replace("概述,", "")
    problems = _problems((header + GOOD_ROW).encode("utf-8"))

    assert [(p.location, p.field) for p in problems] == [("Row 1", "概述")]


def test_blank_required_cell_named(app_ctx):
    bad = "junior,初级,mental,心理健康,1.2,,工作,能力,知识\n"
    problems = _problems((HEADER + GOOD_ROW + bad).encode("utf-8"))

    assert [(p.location, p.field) for p in problems] == [("Row 3", "概述")]


def test_duplicate_item_code_named(app_ctx):
    bad = "senior,高级,mental,心理健康,1.1,另一个条目,,,\n"
    problems = _problems((HEADER + GOOD_ROW + bad).encode("utf-8"))

    assert [(p.location, p.field) for p in problems] == [("Row 3", "条目代码")]
    assert "1.1" in problems[0].message


def test_duplicate_cell_named(app_ctx):
    bad = "junior,初级,mental,心理健康,1.9,同一格子,,,\n"
    problems = _problems((HEADER + GOOD_ROW + bad).encode("utf-8"))

    assert [(p.location, p.field) for p in problems] == [("Row 3", "职业功能代码")]


def test_duplicate_cell_states_rule_and_fix(app_ctx):
    second = "junior,初级,mental,心理健康,1.9,同一格子,工作二,,\n"
    [problem] = _problems((HEADER + GOOD_ROW + second).encode("utf-8"))

    assert "already have item 1.1" in problem.message
    assert "one item per level and functional area" in problem.message
    assert "Merge this item into item 1.1" in problem.message


def test_conflicting_level_name_named(app_ctx):
    bad = "junior,初级辅导员,online,网络,1.2,另一个,,,\n"
    problems = _problems((HEADER + GOOD_ROW + bad).encode("utf-8"))

    assert [(p.location, p.field) for p in problems] == [("Row 3", "等级")]


def test_overlong_code_named(app_ctx, seeded):
    bad = "junior,初级,online,网络," + "x" * 40 + ",太长的编码,,,\n"
    data = csvio.parse_csv((HEADER + GOOD_ROW + bad).encode("utf-8"), dict(DETAILS))

    problems = transfer.validate(data)

    assert [(p.location, p.field) for p in problems] == [("Row 3", "code")]


def test_existing_code_rejected(app_ctx, seeded):
    data = csvio.parse_csv((HEADER + GOOD_ROW).encode("utf-8"), dict(DETAILS, code="counselor-2014"))

    with pytest.raises(transfer.ImportRejected) as caught:
        transfer.write(data, user("trainer"))

    assert caught.value.problems[0].field == "code"
    assert _count_frameworks() == 2


def test_empty_file_rejected(app_ctx):
    assert _problems(b"   \n\n")[0].field == "content"


def test_header_only_rejected(app_ctx, seeded):
    data = csvio.parse_csv(HEADER.encode("utf-8"), dict(DETAILS))

    problems = transfer.validate(data)

    assert {p.field for p in problems} == {"levels", "areas"}


def test_every_bad_row_listed(app_ctx):
    rows = "".join(f"junior,初级,a{n},功能{n},1.{n},,,,\n" for n in range(5))
    problems = _problems((HEADER + rows).encode("utf-8"))

    assert [p.location for p in problems] == [f"Row {n}" for n in range(2, 7)]


# Upload form ------------------------------------------------------------------


def _upload(trainer, content: bytes, filename: str = "框架.csv", **fields):
    data = {"file_format": "csv", "code": "imported", "title": "导入的框架", **fields}
    data["upload"] = (io.BytesIO(content), filename)
    return trainer.post("/frameworks/import", data=data, content_type="multipart/form-data")


def test_upload_preview_then_confirm(app, seeded, login):
    trainer = login("trainer")

    preview = _upload(trainer, (HEADER + GOOD_ROW).encode("gbk"))
    with app.app_context():
        before = _count_frameworks()
    confirm = trainer.post("/frameworks/import/confirm")

    assert preview.status_code == 200
    assert "识别心理危机" in preview.get_data(as_text=True)
    assert before == 2
    assert confirm.status_code == 302
    with app.app_context():
        imported = framework("imported")
        assert imported.status.value == "draft"
        assert [item.code for item in imported.items] == ["1.1"]


@pytest.mark.parametrize(
    "content",
    [
        (HEADER + GOOD_ROW).encode("gbk"),
        b"\xef\xbb\xbf" + (HEADER + GOOD_ROW).encode("utf-8"),
        (HEADER + GOOD_ROW).encode("utf-8"),
    ],
    ids=["gbk", "utf-8-bom", "utf-8"],
)
def test_upload_accepts_encoding(app, seeded, login, content):
    trainer = login("trainer")

    preview = _upload(trainer, content)
    confirm = trainer.post("/frameworks/import/confirm")

    assert preview.status_code == 200
    assert confirm.status_code == 302
    with app.app_context():
        imported = framework("imported")
        assert imported.levels[0].name == "初级"
        assert imported.areas[0].name == "心理健康"
        assert imported.items[0].summary == "识别心理危机"


def test_upload_bad_rows_listed_and_nothing_saved(app, seeded, login):
    bad = "junior,初级,mental,心理健康,1.2,,,,\n"

    response = _upload(login("trainer"), (HEADER + GOOD_ROW + bad).encode("utf-8"))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Row 3" in page or "第 3 行" in page
    assert "概述" in page
    with app.app_context():
        assert _count_frameworks() == 2
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CompetencyItem)) == 36


def test_upload_duplicate_cell_in_chinese(app, seeded, login, monkeypatch):
    from flask_babel import refresh

    # Undo the module's English marker: this test reads the default Chinese page.
    monkeypatch.setattr(app.extensions["babel"], "locale_selector", lambda: "zh_CN")
    with app.app_context():
        refresh()
    second = "junior,初级,mental,心理健康,1.2,同一格子,工作二,,\n"
    trainer = login("trainer")

    form = trainer.get("/frameworks/import").get_data(as_text=True)
    response = _upload(trainer, (HEADER + GOOD_ROW + second).encode("utf-8"))

    page = response.get_data(as_text=True)
    assert "每个等级与职业功能只能有一个条目" in form
    assert response.status_code == 400
    assert "第 3 行" in page
    assert "每个等级与职业功能只能有一个条目" in page
    assert "请将此条目并入条目 1.1" in page
    with app.app_context():
        assert _count_frameworks() == 2


@pytest.mark.parametrize(
    "content, filename",
    [
        (b"\x00\x01\x02garbage\xff\xfe", "x.csv"),
        (b"%PDF-1.4 not a csv", "x.pdf"),
        (b"", "empty.csv"),
        (bytes(range(256)) * 4, "noise.txt"),
        ('"unterminated,quote\n'.encode(), "q.csv"),
    ],
)
def test_upload_garbage_gives_clean_error(app, seeded, login, content, filename):
    response = _upload(login("trainer"), content, filename)

    assert response.status_code == 400
    with app.app_context():
        assert _count_frameworks() == 2


def test_csv_upload_requires_code_and_title(app, seeded, login):
    response = _upload(login("trainer"), (HEADER + GOOD_ROW).encode("utf-8"), code="", title="")

    assert response.status_code == 400
    assert response.get_data(as_text=True).count("CSV") >= 2


def test_confirm_rejects_when_code_taken_meanwhile(app, seeded, login):
    trainer = login("trainer")
    _upload(trainer, (HEADER + GOOD_ROW).encode("utf-8"))
    with app.app_context():
        make_draft(user("trainer"), code="imported")
        db.session.commit()
        items_before = db.session.scalar(sa.select(sa.func.count()).select_from(CompetencyItem))

    response = trainer.post("/frameworks/import/confirm")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/frameworks/import")
    with app.app_context():
        assert _count_frameworks() == 3
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CompetencyItem)) == items_before


def test_unclosed_quote_names_its_line(app_ctx):
    bad = 'junior,初级,mental,心理健康,1.2,"未闭合,工作,能力,知识\n'
    problems = _problems((HEADER + GOOD_ROW + bad + GOOD_ROW).encode("utf-8"))

    assert len(problems) == 1
    assert problems[0].message.startswith('Line 3: a quote (") opens a cell but is not closed')


def test_abandoned_preview_purged_by_cleanup(app, seeded, login, monkeypatch, tmp_path):
    area = use_empty_upload_dir(app, monkeypatch, tmp_path) / "framework_imports"
    abandoning, confirming = login("trainer"), login("trainer")
    assert _upload(abandoning, (HEADER + GOOD_ROW).encode("utf-8")).status_code == 200
    abandoned_file, = area.iterdir()
    assert _upload(confirming, (HEADER + GOOD_ROW).encode("utf-8")).status_code == 200
    young_file, = set(area.iterdir()) - {abandoned_file}
    age_file(abandoned_file)

    with app.app_context():
        result = run_cleanup()

    assert result["framework_import_previews_deleted"] == 1
    assert result["files_deleted"] == 1
    assert not abandoned_file.exists()
    assert young_file.exists()
    purged = abandoning.post("/frameworks/import/confirm", follow_redirects=True)
    assert purged.status_code == 200
    assert (
        "No import is waiting for confirmation. Upload the file again."
        in purged.get_data(as_text=True)
    )
    with app.app_context():
        assert framework("imported") is None
    assert confirming.post("/frameworks/import/confirm").status_code == 302
    with app.app_context():
        assert framework("imported").status.value == "draft"
