"""Importing component scores from CSV (UTF-8 with BOM, GBK) and XLSX."""

import io
import re
import zipfile

import pytest

import sqlalchemy as sa
from openpyxl import Workbook

from lms.annual_assessment.models import ComponentScore
from lms.extensions import db
from tests.upload_cleanup import age_file, run_cleanup, use_empty_upload_dir

HEADER = "工号,姓名,院系考核,学工部考核,学生评议,抽样人数,学生人数,加分\n"


def import_url(world, department=None):
    url = f"/annual-assessment/schemes/{world.scheme}/sheet/import"
    return f"{url}?department={department}" if department else url


def preview(client, url, content: bytes, name="scores.csv"):
    return client.post(
        url, {"file": (io.BytesIO(content), name)}, content_type="multipart/form-data"
    )


def confirm_fields(page: str) -> dict:
    return {
        key: re.search(rf'name="{key}"[^>]*value="([^"]*)"', page).group(1)
        for key in ("token", "digest")
    }


def confirm_url(url: str) -> str:
    return url.replace("/sheet/import", "/sheet/import/confirm")


def upload(client, url, content: bytes, name="scores.csv"):
    """Upload a sheet and confirm its preview; return the preview when it has problems."""
    checked = preview(client, url, content, name)
    if checked.status_code != 200:
        return checked
    return client.post(confirm_url(url), confirm_fields(checked.get_data(as_text=True)))


def stored_scores(app):
    with app.app_context():
        return {
            (row.assessment.user.username, row.component.name): str(row.score)
            for row in db.session.scalars(sa.select(ComponentScore))
        }


def test_import_gbk_csv(app, world, login):
    text = HEADER + "E001,王老师,80,90,84,12,40,3\nC001,李老师,70,,,,,\n"
    response = upload(login("hr"), import_url(world), text.encode("gbk"))
    assert response.status_code == 302
    scores = stored_scores(app)
    assert scores[("alice", "学生评议")] == "84.0"
    assert scores[("alice", "加分")] == "3.0"
    assert scores[("bob", "院系考核")] == "70.0"
    assert ("bob", "学工部考核") not in scores


def test_import_utf8_bom_csv(app, world, login):
    text = HEADER + "alice,王老师,85.55,,,,,\n"
    response = upload(login("hr"), import_url(world), b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert response.status_code == 302
    assert stored_scores(app) == {("alice", "院系考核"): "85.6"}


def test_import_xlsx(app, world, login):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["工号", "学工部考核"])
    sheet.append(["E001", 91])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(login("hr"), import_url(world), buffer.getvalue(), "scores.xlsx")
    assert response.status_code == 302
    assert stored_scores(app) == {("alice", "学工部考核"): "91.0"}


def test_import_bad_rows_save_nothing(app, world, login, english):
    text = (
        HEADER
        + "E001,王老师,80,90,84,11,40,3\n"  # sample below 30 % of 40
        + "X999,无名,70,,,,,\n"  # nobody
        + "C001,李老师,abc,,,,,\n"  # not a number
        + "C001,李老师,60,,,,,\n"  # second row of one counselor
    )
    response = upload(login("hr"), import_url(world), text.encode("utf-8"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "nothing was saved" in page
    assert "<td>2</td><td>抽样人数</td>" in page
    assert "At least 12 students must take part" in page
    assert "<td>3</td><td>工号</td>" in page
    assert "<td>4</td><td>院系考核</td>" in page
    assert "“abc” is not a number" in page
    assert "<td>5</td><td>工号</td>" in page
    assert stored_scores(app) == {}


def test_department_hr_import_scope(app, world, login, english):
    hr_cs = login("hr_cs")
    other_department = upload(
        hr_cs, import_url(world), ("工号,院系考核\nE001,80\n").encode("gbk")
    )
    assert other_department.status_code == 400
    assert "not the employee number or username of a counselor" in other_department.get_data(as_text=True)
    institution_column = upload(
        hr_cs, import_url(world), ("工号,学工部考核\nC001,80\n").encode("gbk")
    )
    assert institution_column.status_code == 400
    assert "You do not enter “学工部考核”" in institution_column.get_data(as_text=True)
    own = upload(hr_cs, import_url(world), ("工号,院系考核\nC001,77\n").encode("gbk"))
    assert own.status_code == 302
    assert stored_scores(app) == {("bob", "院系考核"): "77.0"}


def test_import_huge_score_rejected(app, world, login, english):
    content = (HEADER + "E001,王老师,80,9e30,,,,\n").encode("utf-8")
    response = upload(login("hr"), import_url(world), content)
    assert response.status_code == 400
    assert "enter a score from 0 to 100" in response.get_data(as_text=True)
    assert stored_scores(app) == {}


def test_import_oversized_workbook_rejected(world, login, english):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("xl/workbook.xml", b"<workbook/>")
        archive.writestr("xl/sharedStrings.xml", b"0" * (101 * 1024 * 1024))
    response = upload(login("hr"), import_url(world), buffer.getvalue(), "scores.xlsx")
    assert response.status_code == 400
    assert "The workbook unpacks to more than 100 MB" in response.get_data(as_text=True)


def test_import_without_component_column(world, login, english):
    response = upload(login("hr"), import_url(world), "工号,备注\nE001,x\n".encode("utf-8"))
    assert response.status_code == 400
    assert "No column is headed with a component name" in response.get_data(as_text=True)


def test_import_rejects_other_file_type(world, login, english):
    response = upload(login("hr"), import_url(world), b"%PDF-1.7", "scores.pdf")
    assert response.status_code == 400
    assert "Upload a .csv or .xlsx file." in response.get_data(as_text=True)
    response = upload(login("hr"), import_url(world), b"\xd0\xcf\x11\xe0" + b"\0" * 64, "scores.xls")
    assert response.status_code == 400
    assert "Excel 97-2003 workbook (.xls)" in response.get_data(as_text=True)


def test_export_round_trips(app, world, login, english):
    hr = login("hr")
    upload(hr, import_url(world), (HEADER + "E001,王老师,80,90,84,12,40,3\n").encode("gbk"))
    exported = hr.get(f"/annual-assessment/schemes/{world.scheme}/sheet.csv?department={world.edu}")
    assert exported.status_code == 200
    assert exported.data.startswith(b"\xef\xbb\xbf")
    text = exported.data.decode("utf-8-sig")
    assert text.splitlines()[0] == HEADER.strip()
    assert "E001,王老师,80.0,90.0,84.0,12,40,3.0" in text
    again = upload(hr, import_url(world), exported.data)
    assert again.status_code == 400
    assert "Every score in the file is the one already stored" in again.get_data(as_text=True)


def test_department_hr_reimports_download(app, world, login):
    hr = login("hr")
    filled = upload(hr, import_url(world), (HEADER + "C001,李老师,70,90,84,12,40,3\n").encode("gbk"))
    assert filled.status_code == 302
    hr_cs = login("hr_cs")
    exported = hr_cs.get(f"/annual-assessment/schemes/{world.scheme}/sheet.csv")
    assert exported.status_code == 200
    text = exported.data.decode("utf-8-sig").replace("C001,李老师,70.0,", "C001,李老师,88,")
    response = upload(hr_cs, import_url(world), text.encode("utf-8"))
    assert response.status_code == 302, response.get_data(as_text=True)
    scores = stored_scores(app)
    assert scores[("bob", "院系考核")] == "88.0"
    assert scores[("bob", "学工部考核")] == "90.0"


def test_department_hr_cannot_change_other_columns(app, world, login, english):
    hr = login("hr")
    upload(hr, import_url(world), (HEADER + "C001,李老师,70,90,84,12,40,3\n").encode("gbk"))
    response = upload(
        login("hr_cs"), import_url(world), (HEADER + "C001,李老师,70,95,84,12,40,3\n").encode("gbk")
    )
    assert response.status_code == 400
    assert "You do not enter “学工部考核”" in response.get_data(as_text=True)
    assert stored_scores(app)[("bob", "学工部考核")] == "90.0"


def test_import_exponent_beyond_precision_rejected(app, world, login, english):
    response = upload(login("hr"), import_url(world), "工号,学工部考核\nE001,1e400\n".encode("utf-8"))
    assert response.status_code == 400
    assert "enter a score from 0 to 100" in response.get_data(as_text=True)
    assert stored_scores(app) == {}


def test_import_after_parallel_finalise(app, world, login, english, monkeypatch):
    """An assessment finalised between the check of a file and its saving."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            # SQLite makes the finalising request wait for the import's write lock.
            pytest.skip("needs PostgreSQL: set LMS_TEST_DATABASE_URL")
    from datetime import date

    from lms.accounts.models import User
    from lms.annual_assessment import importing, services
    from lms.annual_assessment.models import AssessmentScheme

    hr = login("hr")
    text = HEADER + "E001,王老师,80,90,84,12,40,3\n"
    assert upload(hr, import_url(world), text.encode("gbk")).status_code == 302
    save_all = importing.save_all

    def finalise_then_save(parsed, scheme, actor):
        with app.app_context():
            person = db.session.get(User, world.alice)
            assessment = services.assessment_for(
                db.session.get(AssessmentScheme, world.scheme), person
            )
            services.finalise(
                assessment,
                db.session.get(User, world.hr),
                date(world.year, 12, 20),
                unsubmitted_reason="材料已线下提交",
            )
            db.session.commit()
        return save_all(parsed, scheme, actor)

    monkeypatch.setattr(importing, "save_all", finalise_then_save)
    text = HEADER + "E001,王老师,70,,,,,\n"
    response = upload(hr, import_url(world), text.encode("gbk"))
    assert response.status_code == 400
    assert "reopen it before" in response.get_data(as_text=True)
    assert stored_scores(app)[("alice", "院系考核")] == "80.0"


def test_import_too_many_columns_rejected(world, login, english):
    extra = ",".join(f"备注{i}" for i in range(200))
    content = f"工号,院系考核,{extra}\nE001,80\n".encode()
    response = upload(login("hr"), import_url(world), content)
    assert response.status_code == 400
    assert "The header row has more than 200 columns." in response.get_data(as_text=True)


def test_preview_saves_nothing(app, world, login, english):
    response = preview(login("hr"), import_url(world), (HEADER + "E001,王老师,80,,,,,\n").encode())
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1 score to change" in page
    assert "Save these scores" in page
    assert stored_scores(app) == {}


def test_name_not_matching_number_rejected(app, world, login, english):
    text = HEADER + "E001,张三,88,,,,,\n"
    response = preview(login("hr"), import_url(world), text.encode())
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "<td>2</td><td>姓名</td>" in page
    assert "“张三” is not the name of E001, who is 王老师" in page
    assert stored_scores(app) == {}


def test_name_mismatch_row_still_lists_bad_scores(app, world, login, english):
    text = HEADER + "E001,张三,101,,,,,\n"
    response = preview(login("hr"), import_url(world), text.encode())

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "“张三” is not the name of E001, who is 王老师" in page
    assert page.count("<td>2</td>") == 2
    assert stored_scores(app) == {}


def test_name_with_spaces_matches(app, world, login):
    response = upload(login("hr"), import_url(world), (HEADER + "E001,王 老师,88,,,,,\n").encode())
    assert response.status_code == 302
    assert stored_scores(app) == {("alice", "院系考核"): "88.0"}


def test_preview_shows_old_and_new(app, world, login, english):
    hr = login("hr")
    upload(hr, import_url(world), (HEADER + "E001,王老师,80,90,84,12,40,3\n").encode())
    response = preview(hr, import_url(world), (HEADER + "E001,王老师,80,91,84,13,40,3\n").encode())
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "2 scores to change" in page
    assert "2 filled cells repeat the stored score" in page
    assert "<td>学工部考核</td>\n      <td>90.0</td>\n      <td>91.0</td>" in page
    assert "84.0 (12 of 40 students)" in page
    assert "84.0 (13 of 40 students)" in page


def test_unchanged_cells_not_saved_or_audited(app, world, login):
    from lms.audit import AuditEntry

    hr = login("hr")
    upload(hr, import_url(world), (HEADER + "E001,王老师,80,90,84,12,40,3\n").encode())
    upload(hr, import_url(world), (HEADER + "E001,王老师,85,90,84,12,40,3\n").encode())
    with app.app_context():
        entries = list(
            db.session.scalars(
                sa.select(AuditEntry)
                .where(AuditEntry.action == "annual_assessment.scored")
                .order_by(AuditEntry.id)
            )
        )
    assert len(entries) == 5
    assert entries[-1].data["component"] == "院系考核"
    assert entries[-1].data["score"] == ["80.0", "85.0"]


def test_audit_keeps_old_and_new_counts(app, world, login):
    from lms.audit import AuditEntry

    hr = login("hr")
    upload(hr, import_url(world), (HEADER + "E001,王老师,,,84,12,40,\n").encode())
    upload(hr, import_url(world), (HEADER + "E001,王老师,,,84,15,50,\n").encode())
    with app.app_context():
        entry = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "annual_assessment.scored")
            .order_by(AuditEntry.id.desc())
        ).first()
    assert entry.data["score"] == ["84.0", "84.0"]
    assert entry.data["sample_size_before"] == 12
    assert entry.data["sample_size"] == 15
    assert entry.data["student_count_before"] == 40
    assert entry.data["student_count"] == 50


def test_confirm_after_scores_changed_shows_preview_again(app, world, login, english):
    hr = login("hr")
    checked = preview(hr, import_url(world), (HEADER + "E001,王老师,80,,,,,\n").encode())
    fields = confirm_fields(checked.get_data(as_text=True))
    hr.post(
        f"/annual-assessment/schemes/{world.scheme}/people/{world.alice}"
        f"/components/{world.components['院系考核']}",
        {"score": "70"},
    )
    response = hr.post(confirm_url(import_url(world)), fields)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Scores changed since the preview was shown" in page
    assert "<td>70.0</td>" in page
    assert stored_scores(app) == {("alice", "院系考核"): "70.0"}
    again = hr.post(confirm_url(import_url(world)), confirm_fields(page))
    assert again.status_code == 302
    assert stored_scores(app) == {("alice", "院系考核"): "80.0"}


def test_confirm_twice_saves_once(app, world, login, english):
    hr = login("hr")
    checked = preview(hr, import_url(world), (HEADER + "E001,王老师,80,,,,,\n").encode())
    fields = confirm_fields(checked.get_data(as_text=True))
    assert hr.post(confirm_url(import_url(world)), fields).status_code == 302
    second = hr.post(confirm_url(import_url(world)), fields, follow_redirects=True)
    assert "This upload has expired or was already saved" in second.get_data(as_text=True)


def test_other_officer_cannot_confirm_upload(app, world, login, english):
    checked = preview(login("hr"), import_url(world), (HEADER + "E001,王老师,80,,,,,\n").encode())
    fields = confirm_fields(checked.get_data(as_text=True))
    response = login("admin").post(confirm_url(import_url(world)), fields, follow_redirects=True)
    assert "This upload has expired or was already saved" in response.get_data(as_text=True)
    assert stored_scores(app) == {}


def test_abandoned_preview_purged_by_cleanup(app, world, login, english, monkeypatch, tmp_path):
    upload_dir = use_empty_upload_dir(app, monkeypatch, tmp_path)
    hr = login("hr")
    department_hr = login("hr_cs")
    old_page = preview(hr, import_url(world), (HEADER + "E001,王老师,80,,,,,\n").encode())
    young_page = preview(department_hr, import_url(world), "工号,院系考核\nC001,77\n".encode())
    old_fields = confirm_fields(old_page.get_data(as_text=True))
    young_fields = confirm_fields(young_page.get_data(as_text=True))
    imports = upload_dir / "imports"
    old_file, = imports.glob(f"assessment-scores-*-{old_fields['token']}.csv")
    young_file, = imports.glob(f"assessment-scores-*-{young_fields['token']}.csv")
    age_file(old_file)

    with app.app_context():
        result = run_cleanup()

    assert result["score_sheet_previews_deleted"] == 1
    assert result["files_deleted"] == 1
    assert not old_file.exists()
    assert young_file.exists()
    purged = hr.post(confirm_url(import_url(world)), old_fields, follow_redirects=True)
    assert purged.status_code == 200
    assert (
        "This upload has expired or was already saved; upload the file again."
        in purged.get_data(as_text=True)
    )
    assert stored_scores(app) == {}
    kept = department_hr.post(confirm_url(import_url(world)), young_fields)
    assert kept.status_code == 302
    assert stored_scores(app) == {("bob", "院系考核"): "77.0"}


def test_preview_brackets_in_chinese(app, world, login):
    hr = login("hr")
    upload(hr, import_url(world), (HEADER + "E001,王老师,80,90,84,12,40,3\n").encode())
    text = HEADER + "E001,王老师,80,90,85,13,40,3\n"

    page = preview(hr, import_url(world), text.encode()).get_data(as_text=True)

    assert "<td>王老师（E001）</td>" in page
    assert "84.0（抽样 12 人，共 40 名学生）" in page
    assert "85.0（抽样 13 人，共 40 名学生）" in page
    assert "王老师 (E001)" not in page
