"""HR uploads annual grades, titles, ranks and honours from a spreadsheet."""

import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from lms.accounts.models import Role, User
from lms.records.events import profile_of as person_profile
from lms.extensions import db
from lms.records import events
from lms.records.models import ProgressionEntry, ProgressionKind
from tests.upload_cleanup import age_file, run_cleanup, use_empty_upload_dir

pytestmark = pytest.mark.usefixtures("english")

GOOD = (
    "工号,类型,日期,结果,年度,级别,备注\n"
    "E001,年度考核,2026-01-10,优秀,2025,,\n"
    "E001,职称,2025/9/1,讲师,,,评审通过\n"
    "counselor2,职级,2024年7月1日,正科级,,,\n"
    "E001,荣誉,2025-12-01,最美高校辅导员,,省级,\n"
)


@pytest.fixture
def world(app_ctx, seeded):
    counselor = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    counselor.employee_no = "E001"
    # The rows grade 2025, so the counselor held a post then.
    events.profile_of(counselor).post_started_on = date(2024, 9, 1)
    db.session.commit()
    return counselor.id


def _entries(kind=None):
    query = sa.select(ProgressionEntry).where(ProgressionEntry.created_by_id.is_not(None))
    if kind:
        query = query.where(ProgressionEntry.kind == kind)
    return db.session.scalars(query).all()


def _upload(client, content: bytes, name="records.csv"):
    return client.client.post(
        "/people/records/upload",
        data={"csrf_token": client.csrf, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def _confirm(client, page: str):
    token = re.search(r'name="token" type="hidden" value="([0-9a-f]+)"', page)
    token = token or re.search(r'id="token" name="token" type="hidden" value="([0-9a-f]+)"', page)
    assert token, "the preview offers no confirmation"
    return client.client.post(
        "/people/records/upload/confirm",
        data={"csrf_token": client.csrf, "token": token.group(1)},
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_preview_then_confirm_records_every_row(world, login, encoding):
    hr = login("hr")
    response = _upload(hr, GOOD.encode(encoding))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "4 events to record" in page
    assert _entries() == []

    assert _confirm(hr, page).status_code == 302
    db.session.expire_all()
    grade = _entries(ProgressionKind.ASSESSMENT_GRADE)[0]
    assert grade.title == "2025年度考核：优秀"
    assert grade.user_id == world
    assert _entries(ProgressionKind.TITLE_CHANGE)[0].detail["note"] == "评审通过"
    assert _entries(ProgressionKind.RANK_CHANGE)[0].title == "职级：正科级"
    assert _entries(ProgressionKind.HONOUR)[0].title == "2025年省级荣誉：最美高校辅导员"


def test_xlsx_upload(world, login):
    workbook = Workbook()
    for line in GOOD.strip().split("\n"):
        workbook.active.append(line.split(","))
    buffer = io.BytesIO()
    workbook.save(buffer)
    hr = login("hr")
    response = _upload(hr, buffer.getvalue(), "records.xlsx")
    assert response.status_code == 200
    assert _confirm(hr, response.get_data(as_text=True)).status_code == 302
    db.session.expire_all()
    assert len(_entries()) == 4


@pytest.mark.parametrize(
    "line, column, words",
    [
        ("E999,年度考核,2026-01-10,优秀,2025,,", "工号", "No person"),
        (",年度考核,2026-01-10,优秀,2025,,", "工号", "The employee number is missing"),
        ("E001,荣誉,2026-01-10,优秀辅导员,,省级," + "备" * 1001, "备注", "has 1001 characters"),
        ("E001,请假,2026-01-10,优秀,2025,,", "类型", "年度考核"),
        ("E001,年度考核,明天,优秀,2025,,", "日期", "“明天” is not a valid date"),
        ("E001,年度考核,2026-13-45,优秀,2025,,", "日期", "write it as YYYY-MM-DD"),
        ("E001,年度考核,2099-01-10,优秀,2025,,", "日期", "not in the future"),
        ("E001,年度考核,1949-10-01,优秀,1949,,", "日期", "1950 or later"),
        ("E001,年度考核,2026-01-10,很好,2025,,", "结果", "优秀"),
        ("E001,年度考核,2026-01-10,优秀,2030,,", "年度", "year"),
        ("E001,年度考核,2025-12-20,优秀,1999,,", "年度", "earliest recorded post began (2024-09-01)"),
        ("E001,年度考核,2025-12-20,优秀,2023,,", "年度", "(2024-09-01)"),
        ("E001,职称,2026-01-10,研究员,,,", "结果", "讲师"),
        ("E001,荣誉,2026-01-10,优秀辅导员,,市级,", "级别", "省级"),
    ],
)
def test_bad_row_names_row_and_column_and_writes_nothing(world, login, line, column, words):
    hr = login("hr")
    content = (GOOD + line + "\n").encode("utf-8")
    response = _upload(hr, content)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"<td>6</td><td>{column}</td>" in page
    assert words in page
    assert 'name="token"' not in page
    assert _entries() == []


def test_missing_column_and_wrong_file(world, login):
    hr = login("hr")
    response = _upload(hr, "工号,日期\nE001,2026-01-01\n".encode())
    assert response.status_code == 400
    assert "类型" in response.get_data(as_text=True)
    response = _upload(hr, b"%PDF-1.7", "records.pdf")
    assert response.status_code == 400
    assert "Upload a .csv or .xlsx file." in response.get_data(as_text=True)
    response = _upload(hr, b"\xd0\xcf\x11\xe0" + b"\0" * 64, "records.xls")
    assert response.status_code == 400
    assert "WPS" in response.get_data(as_text=True)


def test_people_of_another_department_or_institution_are_not_found(world, login):
    from tests.factories import make_institution, make_user

    other = make_institution("uni-b", "乙大学")
    stranger = make_user(other, "stranger")
    stranger.employee_no = "B001"
    counselor2 = db.session.scalar(sa.select(User).filter_by(username="counselor2"))
    dept_hr = make_user(counselor2.institution, "hr-dept", Role.HR)
    dept_hr.hr_department_id = counselor2.department_id
    db.session.commit()

    hr = login("hr")
    response = _upload(hr, "工号,类型,日期,结果\nB001,职称,2025-09-01,讲师\n".encode())
    assert response.status_code == 400
    limited = login("hr-dept")
    response = _upload(limited, "工号,类型,日期,结果\nE001,职称,2025-09-01,讲师\n".encode())
    assert response.status_code == 400
    assert "No person of your department" in response.get_data(as_text=True)


def test_confirmation_is_used_once(world, login):
    hr = login("hr")
    page = _upload(hr, GOOD.encode()).get_data(as_text=True)
    assert _confirm(hr, page).status_code == 302
    second = _confirm(hr, page)
    assert second.status_code == 302
    db.session.expire_all()
    assert len(_entries()) == 4


def test_counselor_cannot_upload(world, login):
    counselor = login("counselor1")
    assert _upload(counselor, GOOD.encode()).status_code == 403


def test_second_grade_for_a_year_is_refused(world, login):
    hr = login("hr")
    page = _upload(hr, GOOD.encode()).get_data(as_text=True)
    _confirm(hr, page)
    response = _upload(hr, "工号,类型,日期,结果,年度\nE001,年度考核,2026-02-01,合格,2025\n".encode())
    assert response.status_code == 400
    assert "already has an annual grade" in response.get_data(as_text=True)

    form = {
        "csrf_token": hr.csrf, "kind": "assessment_grade", "occurred_on": "2026-02-01",
        "grade": "competent", "year": "2025",
    }
    response = hr.client.post(f"/people/{world}/record/entries", data=form)
    assert response.status_code == 400
    assert "already on the record" in response.get_data(as_text=True)


def test_record_form_refuses_absurd_dates(world, login):
    hr = login("hr")
    for day, year in (("0001-01-01", "2025"), ("2099-01-01", "2025"), ("2026-01-01", "2027")):
        form = {
            "csrf_token": hr.csrf, "kind": "assessment_grade", "occurred_on": day,
            "grade": "competent", "year": year,
        }
        response = hr.client.post(f"/people/{world}/record/entries", data=form)
        assert response.status_code == 400, day
    db.session.expire_all()
    assert _entries() == []


def test_empty_records_file_is_named_empty(world, login, english):
    hr = login("hr")

    response = _upload(hr, b"", "records.csv")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The file records.csv is empty." in page
    assert "Choose a CSV or XLSX file to upload." not in page


# Control bytes without a NUL pass the upload's content check and decode as
# text, so only the CSV reader can tell that the file is not text.
BINARY_WITHOUT_NUL = bytes(range(1, 32)) * 20 + b"\x7fELF\x02\x01\x01" * 50


def test_binary_csv_named_not_text(world, login):
    hr = login("hr")

    response = _upload(hr, BINARY_WITHOUT_NUL, "records.csv")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The file records.csv is not text: it contains binary data." in page
    assert "This column is missing from the header row." not in page
    assert _entries() == []


def test_binary_with_nul_named_mismatch(world, login):
    hr = login("hr")

    response = _upload(hr, b"\x00\x01\x02binary" * 10, "records.csv")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The content of records.csv does not match its extension" in page
    assert "This column is missing from the header row." not in page


def test_unclosed_quote_names_its_line(world, login):
    content = GOOD.replace("E001,职称,2025/9/1,讲师", 'E001,职称,2025/9/1,"讲师').encode()

    page = _upload(login("hr"), content).get_data(as_text=True)

    assert "Line 3: a quote (&#34;) opens a cell but is not closed" in page
    assert "This field is required" not in page
    assert _entries() == []


def test_single_event_uses_singular(world, login):
    hr = login("hr")
    content = "工号,类型,日期,结果,年度,级别,备注\nE001,年度考核,2026-01-10,优秀,2025,,\n"
    page = _upload(hr, content.encode()).get_data(as_text=True)
    assert "1 event to record" in page

    response = _confirm(hr, page)

    assert response.status_code == 302
    flashed = hr.client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 event was added to the records." in flashed


POSTS = (
    "工号,类型,日期,结果,结束日期,单位,备注\n"
    "E001,任职,2018-09-01,兼职辅导员,2021-08-31,物理学院,\n"
    "counselor2,岗位,2019/9/1,专职辅导员,,,外校调入\n"
)


def test_posts_held_are_recorded(world, login):
    hr = login("hr")

    page = _upload(hr, POSTS.encode()).get_data(as_text=True)
    assert "2 events to record" in page
    assert _confirm(hr, page).status_code == 302

    db.session.expire_all()
    first, second = sorted(_entries(ProgressionKind.APPOINTMENT), key=lambda e: e.id)
    assert first.user_id == world
    assert first.title == "任职：兼职辅导员"
    assert first.detail == {
        "post": "part_time_counselor",
        "ended_on": "2021-08-31",
        "unit": "物理学院",
        "note": "",
    }
    assert second.detail["post"] == "full_time_counselor"
    assert second.detail["ended_on"] is None
    assert second.detail["note"] == "外校调入"


@pytest.mark.parametrize(
    "line, column, words",
    [
        ("E001,任职,2018-09-01,辅导员,,,", "结果", "兼职辅导员"),
        ("E001,任职,2018-09-01,兼职辅导员,明年,,", "结束日期", "“明年” is not a valid date"),
        ("E001,任职,2018-09-01,兼职辅导员,2018-08-31,,", "结束日期", "before its start date 2018-09-01"),
        ("E001,任职,2018-09-01,兼职辅导员,2099-08-31,,", "结束日期", "in the future"),
        ("E001,任职,2018-09-01,兼职辅导员,,"  + "院" * 201 + ",", "单位", "at most 200"),
    ],
)
def test_bad_post_row_names_column(world, login, line, column, words):
    hr = login("hr")

    response = _upload(hr, (POSTS + line + "\n").encode("utf-8"))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"<td>4</td><td>{column}</td>" in page
    assert words in page
    assert _entries() == []


def test_overlapping_confirms_record_once(world, login, monkeypatch):
    """Two confirmations of one preview, the second sent while the first is recording."""
    if db.engine.dialect.name != "postgresql":
        # SQLite makes the second request wait for the first one's write lock.
        pytest.skip("needs PostgreSQL: set LMS_TEST_DATABASE_URL")
    from lms.records import bulk

    hr = login("hr")
    page = _upload(hr, GOOD.encode()).get_data(as_text=True)
    record_all = bulk.record_all
    second = []

    def record_and_confirm_again(parsed, actor):
        if not second:
            second.append(None)
            second[0] = _confirm(hr, page)
        return record_all(parsed, actor)

    monkeypatch.setattr(bulk, "record_all", record_and_confirm_again)
    assert _confirm(hr, page).status_code == 302
    assert second[0].headers["Location"].endswith("/people/records/upload")
    db.session.expire_all()
    assert len(_entries()) == 4


def test_too_many_columns_rejected(world, login):
    extra = ",".join(f"备注{i}" for i in range(200))
    content = f"工号,类型,日期,结果,{extra}\nE001,荣誉,2025-12-01,优秀辅导员\n".encode()
    response = _upload(login("hr"), content)
    assert response.status_code == 400
    assert "The header row has more than 200 columns." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "content",
    [
        "工号,类型,日期,结果,年度,级别,结束日期,单位,备注\n",
        "工号,类型,日期,结果,年度,级别,结束日期,单位,备注\n\n\n",
    ],
)
def test_header_only_file_explained(world, login, english, content):
    response = _upload(login("hr"), content.encode("utf-8"))

    assert response.status_code == 400
    assert "records.csv has no records below its header row" in response.get_data(as_text=True)
    assert _entries() == []



def test_overlapping_post_rows_are_rejected(world, login):
    """Each row is checked against the record, the current post and earlier rows."""
    content = (
        "工号,类型,日期,结果,结束日期,单位,备注\n"
        "E001,任职,2010-09-01,兼职辅导员,2012-08-31,物理学院,\n"
        "E001,任职,2012-03-01,组织员,2013-08-31,,\n"
        "E001,任职,2015-09-01,兼职辅导员,,,\n"
    )
    person = db.session.get(User, world)
    current = person_profile(person).post_started_on
    content += f"E001,任职,2016-09-01,组织员,{current.isoformat()},,\n"
    hr = login("hr")

    response = _upload(hr, content.encode())

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert (
        "<td>3</td><td>日期</td><td>First day in the post: 2012-03-01 falls within "
        "another post: Part-time counselor in row 2, from 2010-09-01 to 2012-08-31."
    ) in page
    assert "<td>5</td><td>结束日期</td><td>Last day in the post: " in page
    assert f"is on or after {current.isoformat()}, when the current post" in page
    assert "<td>2</td>" not in page
    assert "<td>4</td>" not in page
    assert _entries() == []


def test_grade_before_first_post_refused_on_the_form(world, login):
    hr = login("hr")
    form = {
        "csrf_token": hr.csrf, "kind": "assessment_grade", "occurred_on": "2025-12-20",
        "grade": "competent", "year": "2023",
    }

    response = hr.client.post(f"/people/{world}/record/entries", data=form)

    assert response.status_code == 400
    assert "before the person&#39;s earliest recorded post" in response.get_data(as_text=True)
    form["year"] = "2024"
    assert hr.client.post(f"/people/{world}/record/entries", data=form).status_code == 302
    db.session.expire_all()
    assert len(_entries(ProgressionKind.ASSESSMENT_GRADE)) == 1


def test_earlier_post_on_record_allows_its_years(world, login):
    hr = login("hr")
    counselor = db.session.get(User, world)
    appointment = (
        "工号,类型,日期,结果,结束日期,单位,备注\n"
        "E001,任职,2019-09-01,兼职辅导员,2024-08-31,物理学院,\n"
    )
    page = _upload(hr, appointment.encode()).get_data(as_text=True)
    assert _confirm(hr, page).status_code == 302

    assert events.earliest_post_on(counselor) == date(2019, 9, 1)
    response = _upload(hr, "工号,类型,日期,结果,年度\nE001,年度考核,2021-01-10,合格,2020\n".encode())
    assert response.status_code == 200


def _token(page: str) -> str:
    return re.search(r'name="token" type="hidden" value="([0-9a-f]+)"', page).group(1)


def test_abandoned_preview_purged_by_cleanup(world, login, app, monkeypatch, tmp_path):
    upload_dir = use_empty_upload_dir(app, monkeypatch, tmp_path)
    hr = login("hr")
    old_page = _upload(hr, GOOD.encode()).get_data(as_text=True)
    young_page = _upload(hr, GOOD.encode()).get_data(as_text=True)
    old_file, = (upload_dir / "imports").glob(f"hr-records-*-{_token(old_page)}.csv")
    young_file, = (upload_dir / "imports").glob(f"hr-records-*-{_token(young_page)}.csv")
    age_file(old_file)

    result = run_cleanup()

    assert result["hr_record_previews_deleted"] == 1
    assert result["files_deleted"] == 1
    assert not old_file.exists()
    assert young_file.exists()
    purged = _confirm(hr, old_page)
    assert purged.status_code == 302
    page = hr.get(purged.headers["Location"]).get_data(as_text=True)
    assert "This upload has expired or was already recorded; upload the file again." in page
    assert _entries() == []
    assert _confirm(hr, young_page).status_code == 302
    db.session.expire_all()
    assert len(_entries()) == 4


def test_superscript_year_is_a_bad_cell(world, login):
    hr = login("hr")
    content = (GOOD + "E001,年度考核,2026-02-03,优秀,²,,\n").encode("utf-8")

    response = _upload(hr, content)

    assert response.status_code == 400
    assert "Write the assessment year as four digits" in response.get_data(as_text=True)
    assert _entries() == []


def test_bad_row_lists_every_problem(world, login):
    hr = login("hr")
    content = (GOOD + "E001,年度考核,2026-02-30,良好,abc,,\n").encode("utf-8")

    response = _upload(hr, content)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "“2026-02-30” is not a valid date" in page
    assert "Write one of 优秀, 合格, 基本合格 or 不合格." in page
    assert "Write the assessment year as four digits" in page
    assert _entries() == []
