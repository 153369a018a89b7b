"""Roster upload: encodings, normalisation, every kind of bad row, no duplicates."""

import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from courses import class_import
from courses.class_models import ClassMember, MemberStatus, PendingImport
from lms.accounts.models import Role, User
from lms.extensions import db
from tests.classes.helpers import make_class
from tests.conftest import count
from tests.factories import build_learning_world, make_user
from tests.upload_cleanup import age_row, run_cleanup, use_empty_upload_dir

HEADER = ["工号", "姓名", "院系", "性别", "手机", "邮箱"]
GOOD_ROWS = [
    ["T2026001", "王 小明", "教育", "男", "13800138000", ""],
    ["Ｔ２０２６００２", "刘　芳", "物理学院", "女性", "138 0013 8001", "LiuFang@Example.edu.cn"],
    ["E1001", "张老师", "教育学院", "", "", ""],
]


@pytest.fixture
def world(app_ctx):
    world = build_learning_world()
    db.session.get(User, world.counselor).employee_no = "E1001"
    world.klass = make_class(world).id
    db.session.commit()
    return world


def _csv(rows, encoding: str, header=HEADER) -> bytes:
    text = "\r\n".join(",".join(cells) for cells in [header, *rows]) + "\r\n"
    if encoding == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode(encoding)


def _xlsx(rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for cells in rows:
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _upload(client, world, content: bytes, filename: str):
    return client.post(
        f"/classes/{world.klass}/import",
        data={"file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def _pending_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(re.search(r"/import/(\d+)$", response.headers["Location"]).group(1))


def _problems(pending_id: int) -> list[dict]:
    db.session.expire_all()
    return db.session.get(PendingImport, pending_id).problems


def _member_ids(world) -> set[int]:
    return set(db.session.scalars(
        sa.select(ClassMember.user_id).where(
            ClassMember.class_id == world.klass, ClassMember.status == MemberStatus.ENROLLED
        )
    ))


ENCODED = {
    "gbk": lambda rows: (_csv(rows, "gbk"), "roster.csv"),
    "utf-8": lambda rows: (_csv(rows, "utf-8"), "roster.csv"),
    "utf-8-bom": lambda rows: (_csv(rows, "utf-8-sig"), "roster.csv"),
    "utf-16": lambda rows: (_csv(rows, "utf-16"), "roster.txt"),
    "utf-16 tab-separated": lambda rows: (
        "\r\n".join("\t".join(cells) for cells in [HEADER, *rows]).encode("utf-16"),
        "roster.txt",
    ),
    "xlsx": lambda rows: (_xlsx(rows), "roster.xlsx"),
}


@pytest.mark.parametrize("encoding", list(ENCODED))
def test_import_each_encoding(world, login, encoding):
    trainer = login("trainer")
    content, filename = ENCODED[encoding](GOOD_ROWS)
    users_before = count(User)

    pending_id = _pending_id(_upload(trainer, world, content, filename))
    preview = trainer.get(f"/classes/{world.klass}/import/{pending_id}")
    page = preview.get_data(as_text=True)

    assert preview.status_code == 200
    assert _problems(pending_id) == []
    assert "王小明" in page
    assert "T2026002" in page
    assert "13800138001" in page
    assert count(User) == users_before

    done = trainer.post(f"/classes/{world.klass}/import/{pending_id}/confirm")
    assert done.status_code == 200
    db.session.expire_all()
    created = db.session.scalars(
        sa.select(User).where(User.employee_no.in_(["T2026001", "T2026002"]))
    ).all()
    assert sorted(u.full_name for u in created) == ["刘芳", "王小明"]
    assert all(u.password_must_change for u in created)
    assert {u.department.name for u in created} == {"教育学院", "物理学院"}
    assert count(User) == users_before + 2
    assert _member_ids(world) == {u.id for u in created} | {world.counselor}
    html = done.get_data(as_text=True)
    for person in created:
        assert person.username in html
    assert done.headers["Cache-Control"] == "no-store"


def test_import_keeps_last_path_component(world, login):
    trainer = login("trainer")
    rows = [["E1001", "张老师", "教育学院", "", "", ""]]

    response = _upload(trainer, world, _csv(rows, "utf-8"), "../../名单<b>.csv")

    pending = db.session.get(PendingImport, _pending_id(response))
    assert pending.filename == "名单<b>.csv"


def test_reimport_creates_nobody_twice(world, login):
    trainer = login("trainer")
    content, filename = ENCODED["utf-8"](GOOD_ROWS)
    first = _pending_id(_upload(trainer, world, content, filename))
    trainer.post(f"/classes/{world.klass}/import/{first}/confirm")
    users_after_first = count(User)

    second = _pending_id(_upload(trainer, world, _xlsx(GOOD_ROWS), "again.xlsx"))
    done = trainer.post(f"/classes/{world.klass}/import/{second}/confirm")

    assert done.status_code == 200
    assert count(User) == users_after_first
    assert count(ClassMember) == 3


def test_confirm_twice_is_rejected(world, login):
    trainer = login("trainer")
    content, filename = ENCODED["utf-8"](GOOD_ROWS)
    pending_id = _pending_id(_upload(trainer, world, content, filename))
    trainer.post(f"/classes/{world.klass}/import/{pending_id}/confirm")
    users = count(User)

    again = trainer.post(f"/classes/{world.klass}/import/{pending_id}/confirm")

    assert again.status_code == 302
    assert count(User) == users


def test_match_by_email_when_number_unknown(world, login):
    counselor2 = db.session.get(User, world.counselor2)
    counselor2.email = "li@example.edu.cn"
    db.session.commit()
    trainer = login("trainer")
    rows = [["P9001", "李老师", "物理", "", "", "LI@example.edu.cn"]]

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8"), "r.csv"))
    trainer.post(f"/classes/{world.klass}/import/{pending_id}/confirm")

    db.session.expire_all()
    assert db.session.get(User, world.counselor2).employee_no == "P9001"
    assert _member_ids(world) == {world.counselor2}


def test_numbers_typed_as_numbers_in_xlsx(world, login):
    trainer = login("trainer")
    rows = [[20230001, "赵 六", "教育学院", "M", 13800138002, ""]]

    pending_id = _pending_id(_upload(trainer, world, _xlsx(rows), "numbers.xlsx"))

    db.session.expire_all()
    [row] = db.session.get(PendingImport, pending_id).rows
    assert row["employee_no"] == "20230001"
    assert row["phone"] == "13800138002"
    assert row["full_name"] == "赵六"
    assert row["gender"] == "男"


BAD_FILES = {
    "missing column": (
        [["T1", "王一"]], ["工号", "姓名"], 1, "院系", "missing_column"),
    "missing required cell": (
        [["T2026010", "", "教育学院"]], HEADER[:3], 2, "姓名", "required"),
    "unknown department": (
        [["T2026011", "王二", "化学学院"]], HEADER[:3], 2, "院系", "department_unknown"),
    "duplicate within file": (
        [["T2026012", "王三", "教育学院"], ["t2026012", "王四", "物理学院"]],
        HEADER[:3], 3, "工号", "duplicate"),
    "malformed employee number": (
        [["12#4", "王五", "教育学院"]], HEADER[:3], 2, "工号", "employee_no_malformed"),
    "bad gender": (
        [["T2026013", "王六", "教育学院", "未知"]], HEADER[:4], 2, "性别", "gender_invalid"),
    "phone in scientific notation": (
        [["T2026015", "王八", "教育学院", "", "1.38001E+10"]], HEADER[:5], 2, "手机", "scientific"),
    "employee number in scientific notation": (
        [["2.0230001E+7", "王九", "教育学院"]], HEADER[:3], 2, "工号", "scientific"),
    "bad phone": (
        [["T2026014", "王七", "教育学院", "", "12345"]], HEADER[:5], 2, "手机", "phone_invalid"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_row_is_reported_and_nothing_written(world, login, case):
    rows, header, row_number, column, code = BAD_FILES[case]
    trainer = login("trainer")
    users_before = count(User)

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "gbk", header), "bad.csv"))
    preview = trainer.get(f"/classes/{world.klass}/import/{pending_id}")
    problems = _problems(pending_id)

    assert any(
        p["row"] == row_number and p["column"] == column and p["code"] == code for p in problems
    ), problems
    page = preview.get_data(as_text=True)
    assert f"/import/{pending_id}/confirm" not in page
    assert 'class="row-error"' in page or row_number == 1

    refused = trainer.post(f"/classes/{world.klass}/import/{pending_id}/confirm")
    assert refused.status_code == 400
    assert count(User) == users_before
    assert _member_ids(world) == set()


def test_unknown_department_lists_choices(world, login):
    trainer = login("trainer")
    rows = [["T2026011", "王二", "化学学院"]]

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8", HEADER[:3]), "x.csv"))
    page = trainer.get(f"/classes/{world.klass}/import/{pending_id}").get_data(as_text=True)

    assert "化学学院" in page
    assert "教育学院、物理学院" in page


def test_problem_uses_chinese_colon(world, login):
    trainer = login("trainer")
    rows = [["T2026011", "王二", "化学学院"]]

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8", HEADER[:3]), "x.csv"))
    page = trainer.get(f"/classes/{world.klass}/import/{pending_id}").get_data(as_text=True)

    assert "院系 列：没有名为“化学学院”的院系" in page
    assert "列: " not in page


@pytest.mark.parametrize(
    "content, filename",
    [
        (b"PK\x03\x04 this is not a workbook", "roster.xlsx"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "roster.png"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n\x00\x00stream", "roster.csv"),
        (b"", "roster.csv"),
    ],
    ids=["broken xlsx", "image", "pdf named csv", "empty"],
)
def test_file_that_is_not_a_table(world, login, content, filename):
    trainer = login("trainer")

    response = _upload(trainer, world, content, filename)

    assert response.status_code in (400,), response.status_code
    assert count(PendingImport) == 0
    assert 'class="flash flash-error"' in response.get_data(as_text=True)


def test_header_only_file_reports_no_rows(world, login):
    trainer = login("trainer")

    pending_id = _pending_id(_upload(trainer, world, _csv([], "utf-8"), "empty.csv"))

    assert [p["code"] for p in _problems(pending_id)] == ["no_rows"]


def test_confirm_is_all_or_nothing(world, login):
    trainer = login("trainer")
    content, filename = ENCODED["utf-8"](GOOD_ROWS)
    pending_id = _pending_id(_upload(trainer, world, content, filename))
    # Between preview and confirm a staff account takes one of the numbers.
    staff = make_user(db.session.get(User, world.hr).institution, "staff2", Role.TRAINER)
    staff.employee_no = "T2026002"
    db.session.commit()
    users_before = count(User)

    refused = trainer.post(f"/classes/{world.klass}/import/{pending_id}/confirm")

    assert refused.status_code == 400
    assert count(User) == users_before
    assert _member_ids(world) == set()
    assert any(p["code"] == "not_learner" for p in _problems(pending_id))


@pytest.mark.parametrize(
    "content, likely",
    [
        ("工號,姓名,院系\r\nT1,陳大文,教育學院\r\n".encode("big5"), "Big5"),
        ("工号,氏名,部署\r\nT1,すずき花子,教育学院\r\n".encode("shift_jis"), "Shift-JIS"),
    ],
    ids=["big5", "shift-jis"],
)
def test_roster_in_foreign_encoding_is_rejected(world, login, english, content, likely):
    trainer = login("trainer")

    response = _upload(trainer, world, content, "roster.csv")
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert count(PendingImport) == 0
    assert f"looks like {likely} text" in page
    assert "UTF-8 or GBK" in page


def test_header_only_file_says_no_data_rows(world, login, english):
    trainer = login("trainer")
    pending_id = _pending_id(_upload(trainer, world, _csv([], "utf-8"), "empty.csv"))

    page = trainer.get(f"/classes/{world.klass}/import/{pending_id}").get_data(as_text=True)

    assert "The file has no data rows, only a header row." in page
    assert "1 problems" not in page


def test_empty_file_is_named_empty(world, login, english):
    trainer = login("trainer")

    response = _upload(trainer, world, b"", "roster.csv")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The file roster.csv is empty." in page
    assert "Choose a CSV or XLSX file to upload." not in page
    assert count(PendingImport) == 0


def test_no_file_asks_for_one(world, login, english):
    trainer = login("trainer")

    response = trainer.post(
        f"/classes/{world.klass}/import", content_type="multipart/form-data"
    )

    assert response.status_code == 400
    assert "Choose a CSV or XLSX file to upload." in response.get_data(as_text=True)


# Post start date (上岗日期) ---------------------------------------------------------

START_HEADER = [*HEADER[:3], "上岗日期"]


def test_post_start_fills_empty_profiles_only(world, login):
    from datetime import date, datetime

    from lms.compliance.models import PersonProfile

    db.session.add(PersonProfile(user_id=world.counselor2, post_started_on=date(2019, 9, 1)))
    db.session.get(User, world.counselor2).employee_no = "E1002"
    db.session.commit()
    trainer = login("trainer")
    rows = [
        ["T2026001", "王小明", "教育学院", datetime(2026, 9, 1)],  # new account
        ["E1001", "张老师", "教育学院", "2024/3/5"],  # existing, no profile
        ["E1002", "李老师", "物理学院", "2024年3月5日"],  # existing, date recorded
    ]

    pending_id = _pending_id(_upload(trainer, world, _xlsx(rows, START_HEADER), "r.xlsx"))
    preview = trainer.get(f"/classes/{world.klass}/import/{pending_id}")
    page = preview.get_data(as_text=True)
    done = trainer.post(f"/classes/{world.klass}/import/{pending_id}/confirm")

    assert _problems(pending_id) == []
    assert "2024-03-05" in page
    assert done.status_code == 200
    db.session.expire_all()
    created = db.session.scalar(sa.select(User).filter_by(employee_no="T2026001"))
    assert db.session.get(PersonProfile, created.id).post_started_on == date(2026, 9, 1)
    filled = db.session.get(PersonProfile, world.counselor)
    assert filled.post_started_on == date(2024, 3, 5)
    kept = db.session.get(PersonProfile, world.counselor2)
    assert kept.post_started_on == date(2019, 9, 1)


def test_post_start_kept_note(world, login, english):
    from datetime import date

    from lms.compliance.models import PersonProfile

    db.session.add(PersonProfile(user_id=world.counselor, post_started_on=date(2019, 9, 1)))
    db.session.commit()
    trainer = login("trainer")
    rows = [["E1001", "张老师", "教育学院", "2024-03-05"]]

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8", START_HEADER), "r.csv"))
    page = trainer.get(f"/classes/{world.klass}/import/{pending_id}").get_data(as_text=True)

    assert "The post start date differs from the one on the person&#39;s profile" in page


def test_roster_name_mismatch_stops_row(world, login, english):
    trainer = login("trainer")
    rows = [["E1001", "张三", "教育学院", "", "", ""]]

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8"), "r.csv"))
    page = trainer.get(f"/classes/{world.klass}/import/{pending_id}").get_data(as_text=True)
    refused = trainer.post(f"/classes/{world.klass}/import/{pending_id}/confirm")

    assert [(p["row"], p["column"], p["code"]) for p in _problems(pending_id)] == [
        (2, "姓名", "name_mismatch")
    ]
    assert "This row matches the account of 张老师 (E1001), not 张三." in page
    assert refused.status_code == 400
    assert world.counselor not in _member_ids(world)


def test_roster_name_spaces_ignored(world, login):
    trainer = login("trainer")
    rows = [["E1001", "张 老师", "教育学院", "", "", ""]]

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8"), "r.csv"))

    assert _problems(pending_id) == []


def test_department_kept_note(world, login, english):
    trainer = login("trainer")
    rows = [["E1001", "张老师", "物理学院", "", "", ""]]

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8"), "r.csv"))
    page = trainer.get(f"/classes/{world.klass}/import/{pending_id}").get_data(as_text=True)

    assert _problems(pending_id) == []
    assert "The department differs from the one on the account, which is kept." in page
    assert "The 院系 differs" not in page


INVALID_START = "{} is not a valid post start date. Write it as YYYY-MM-DD, for example 2025-09-01, or leave the cell empty."
IMPLAUSIBLE_START = "{} is not a plausible post start date. Write a date from 1950-01-01 to "


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        *[
            (value, "post_start_invalid", INVALID_START)
            for value in ["2025-13-01", "2025-02-30", "下周一", "1899-01-01", "9/1/2025"]
        ],
        ("2099-01-01", "post_start_implausible", IMPLAUSIBLE_START),
        ("2098/9/1", "post_start_implausible", IMPLAUSIBLE_START),
    ],
)
def test_bad_post_start_is_reported(world, login, english, value, code, message):
    trainer = login("trainer")
    users_before = count(User)
    rows = [["T2026020", "王十", "教育学院", value]]

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8", START_HEADER), "r.csv"))
    page = trainer.get(f"/classes/{world.klass}/import/{pending_id}").get_data(as_text=True)
    refused = trainer.post(f"/classes/{world.klass}/import/{pending_id}/confirm")

    problems = _problems(pending_id)
    assert [(p["row"], p["column"], p["code"]) for p in problems] == [(2, "上岗日期", code)]
    assert message.format(value) in page
    assert refused.status_code == 400
    assert count(User) == users_before


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-09-01", "2025-09-01"),
        ("2025/9/1", "2025-09-01"),
        ("2025.9.1", "2025-09-01"),
        ("2025年9月1日", "2025-09-01"),
        ("20250901", "2025-09-01"),
        ("2025-09-01T00:00:00", "2025-09-01"),
        ("2025-9-31", None),
        ("2025", None),
        ("", None),
    ],
)
def test_post_start_date_formats(value, expected):
    from courses.class_import import post_start_date

    parsed = post_start_date(value)

    assert (parsed.isoformat() if parsed else None) == expected


def test_broken_xlsx_names_content(world, login, english):
    trainer = login("trainer")

    response = _upload(trainer, world, b"PK\x03\x04 this is not a workbook", "roster.xlsx")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The content of roster.xlsx does not match its extension" in page
    assert "this file is of another type" not in page
    assert count(PendingImport) == 0


def test_unclosed_quote_names_line_not_cell(world, login, english):
    rows = [*GOOD_ROWS[:1], ["T3006", '"未闭合', "马克思主义学院", "", "", ""], *GOOD_ROWS[1:]]

    response = _upload(login("trainer"), world, _csv(rows, "utf-8"), "roster.csv")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Line 3: a quote (&#34;) opens a cell but is not closed" in page
    assert "The cell is empty" not in page
    assert count(PendingImport) == 0


@pytest.mark.parametrize(
    "encoding, name",
    [("gbk", "GBK (GB 18030)"), ("utf-8-sig", "UTF-8 with a byte order mark"), ("utf-8", "UTF-8")],
)
def test_preview_names_encoding(world, login, english, encoding, name):
    trainer = login("trainer")
    pending_id = _pending_id(_upload(trainer, world, _csv(GOOD_ROWS, encoding), "roster.csv"))

    page = trainer.get(f"/classes/{world.klass}/import/{pending_id}").get_data(as_text=True)

    assert f"3 rows, read as {name}." in page


def test_single_problem_uses_singular(world, login, english):
    trainer = login("trainer")
    rows = [*GOOD_ROWS, ["T2026009", "", "教育学院", "", "", ""]]
    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8"), "roster.csv"))

    page = trainer.get(f"/classes/{world.klass}/import/{pending_id}").get_data(as_text=True)

    assert "1 problem. Fix it in the file and upload it again; nothing was saved." in page


def test_preview_lists_profile_fields_to_fill(world, login, english):
    trainer = login("trainer")
    rows = [["E1001", "张老师", "教育学院", "女", "13900000000", ""]]

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8"), "r.csv"))
    page = trainer.get(f"/classes/{world.klass}/import/{pending_id}").get_data(as_text=True)
    fills = db.session.get(PendingImport, pending_id).rows[0]["fills"]

    assert fills == [
        {"column": "性别", "value": "女"},
        {"column": "手机", "value": "13900000000"},
    ]
    assert "Importing also fills empty fields of 1 existing account from the roster" in page
    assert "Column 性别: empty on the account, so importing fills it with 女." in page
    assert "Column 手机: empty on the account, so importing fills it with 13900000000." in page


def test_preview_lists_no_fill_for_stored_fields(world, login, english):
    from lms.accounts.models import Gender

    counselor = db.session.get(User, world.counselor)
    counselor.gender = Gender.MALE
    counselor.phone = "13800000000"
    db.session.commit()
    trainer = login("trainer")
    rows = [["E1001", "张老师", "教育学院", "女", "13900000000", ""]]

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8"), "r.csv"))
    page = trainer.get(f"/classes/{world.klass}/import/{pending_id}").get_data(as_text=True)

    assert db.session.get(PendingImport, pending_id).rows[0]["fills"] == []
    assert "Importing also fills empty fields" not in page
    assert "The gender differs from the one on the account, which is kept." in page


def test_abandoned_preview_purged_by_cleanup(world, login, english, app, monkeypatch, tmp_path):
    use_empty_upload_dir(app, monkeypatch, tmp_path)
    trainer = login("trainer")
    content, filename = ENCODED["utf-8"](GOOD_ROWS)
    confirmed = _pending_id(_upload(trainer, world, content, filename))
    assert trainer.post(f"/classes/{world.klass}/import/{confirmed}/confirm").status_code == 200
    abandoned = _pending_id(_upload(trainer, world, content, filename))
    young = _pending_id(_upload(trainer, world, content, filename))
    age_row(PendingImport, confirmed)
    age_row(PendingImport, abandoned)

    result = run_cleanup()

    assert result["roster_previews_deleted"] == 1
    db.session.expire_all()
    assert db.session.get(PendingImport, abandoned) is None
    assert db.session.get(PendingImport, young) is not None
    assert db.session.get(PendingImport, confirmed).confirmed_at is not None
    upload_url = f"/classes/{world.klass}/import"
    for send, url in (
        (trainer.post, f"{upload_url}/{abandoned}/confirm"),
        (trainer.get, f"{upload_url}/{abandoned}"),
    ):
        purged = send(url)
        assert purged.status_code == 302
        assert purged.headers["Location"].endswith(upload_url)
        page = trainer.get(purged.headers["Location"]).get_data(as_text=True)
        assert "This preview no longer exists" in page
        assert "Upload the file again." in page
    assert trainer.get(f"/classes/{world.klass}/import/{young}").status_code == 200


def test_confirm_of_preview_deleted_meanwhile(world, login):
    trainer = login("trainer")
    content, filename = ENCODED["utf-8"](GOOD_ROWS)
    pending_id = _pending_id(_upload(trainer, world, content, filename))
    pending = db.session.get(PendingImport, pending_id)
    by = db.session.scalar(sa.select(User).filter_by(username="trainer"))
    db.session.execute(
        sa.delete(PendingImport)
        .where(PendingImport.id == pending_id)
        .execution_options(synchronize_session=False)
    )

    with pytest.raises(class_import.ImportRejected) as rejected:
        class_import.confirm(pending, by)

    assert rejected.value.code == "deleted"
    db.session.rollback()


LONG_NAME = "王" * 300
#: 265 characters, so a valid-looking address longer than the 254 of ``User.email``.
LONG_EMAIL = "a" * 250 + "@example.edu.cn"


def test_too_long_name_and_email_reported(world, login, english):
    trainer = login("trainer")
    header = ["工号", "姓名", "院系", "邮箱"]
    rows = [
        ["T2026001", "王小明", "教育学院", ""],
        ["T2026002", LONG_NAME, "教育学院", ""],
        ["T2026003", "刘芳", "物理学院", LONG_EMAIL],
    ]
    users_before = count(User)

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8", header), "r.csv"))
    page = trainer.get(f"/classes/{world.klass}/import/{pending_id}").get_data(as_text=True)
    refused = trainer.post(f"/classes/{world.klass}/import/{pending_id}/confirm")

    problems = [(p["row"], p["column"], p["code"]) for p in _problems(pending_id)]
    assert problems == [(3, "姓名", "too_long"), (4, "邮箱", "too_long")]
    assert f"/import/{pending_id}/confirm" not in page
    assert "Column 姓名: at most 100 characters (300 given). Shorten the cell." in page
    assert "Column 邮箱: at most 254 characters (265 given). Shorten the cell." in page
    assert "<td>3</td>" in page
    assert "<td>4</td>" in page
    assert refused.status_code == 400
    assert count(User) == users_before
    assert _member_ids(world) == set()


def test_too_long_name_message_in_chinese(world, login):
    trainer = login("trainer")
    rows = [["T2026002", LONG_NAME, "教育学院"]]

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8", HEADER[:3]), "r.csv"))
    page = trainer.get(f"/classes/{world.klass}/import/{pending_id}").get_data(as_text=True)

    assert "姓名 列：最多 100 个字符（此处为 300 个）。请缩短该单元格内容。" in page


def test_too_long_number_and_department_reported_once(world, login):
    trainer = login("trainer")
    rows = [["T" + "1" * 40, "王小明", "教" * 201 + "学院"]]

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8", HEADER[:3]), "r.csv"))

    problems = [(p["row"], p["column"], p["code"], p["max"]) for p in _problems(pending_id)]
    assert problems == [(2, "工号", "too_long", 32), (2, "院系", "too_long", 200)]


def test_username_fits_column_for_long_codes(world):
    from lms.organisations.models import Institution

    training_class = db.session.get(class_import.TrainingClass, world.klass)
    institution = db.session.get(Institution, training_class.institution_id)
    institution.code = "i" * 32
    db.session.flush()
    row = {"employee_no": "E" * 32}
    # The bare employee number and the code-prefixed one, cut to 64, are both taken.
    taken = {"e" * 32, ("i" * 32 + "-" + "e" * 32)[:64]}

    username = class_import._username_for(row, class_import._institution_code(training_class), taken)

    assert len(username) <= User.username.type.length
    assert username not in taken
    assert username.endswith("-2")
    db.session.rollback()


POST_HEADER = ["工号", "姓名", "院系", "岗位"]


def test_preview_shows_post_of_new_accounts(world, login, english):
    """A new account gets the file's post, or 专职辅导员 when the cell is empty."""
    trainer = login("trainer")
    rows = [["T3001", "李组织", "教育学院", "组织员"], ["T3002", "陈辅导", "教育学院", ""]]

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8", POST_HEADER), "r.csv"))
    page = trainer.get(f"/classes/{world.klass}/import/{pending_id}").get_data(as_text=True)

    assert '<th scope="col">岗位</th>' in page
    assert "<td>Party organiser</td>" in page
    assert "<td>Full-time counselor</td>" in page


def test_post_kept_note(world, login, english):
    trainer = login("trainer")
    rows = [["E1001", "张老师", "教育学院", "组织员"]]

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8", POST_HEADER), "r.csv"))
    page = trainer.get(f"/classes/{world.klass}/import/{pending_id}").get_data(as_text=True)

    assert _problems(pending_id) == []
    assert "The post differs from the one on the account, which is kept." in page


def test_same_post_gets_no_note(world, login, english):
    trainer = login("trainer")
    rows = [["E1001", "张老师", "教育学院", "专职辅导员"]]

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8", POST_HEADER), "r.csv"))
    page = trainer.get(f"/classes/{world.klass}/import/{pending_id}").get_data(as_text=True)

    assert "The post differs" not in page


def test_title_row_above_header_named(world, login, english):
    """An export with a title row above the header gets one problem that says so."""
    content = _xlsx(
        [["工号", "姓名", "院系"], ["T2026009", "冯老师", "教育学院"]],
        header=["2026年辅导员培训名单"],
    )

    response = _upload(login("trainer"), world, content, "r.xlsx")

    page = login("trainer").get(response.headers["Location"]).get_data(as_text=True)
    assert [(p["row"], p["code"]) for p in _problems(_pending_id(response))] == [
        (1, "title_row")
    ]
    assert "The first row contains only 2026年辅导员培训名单, which looks like a title." in page


def test_missing_column_lists_other_headers(world, login, english):
    content = _csv([["T1", "王一"]], "utf-8", header=["工号", "姓名"])

    response = _upload(login("trainer"), world, content, "r.csv")

    page = login("trainer").get(response.headers["Location"]).get_data(as_text=True)
    assert "Add a column headed 院系 (also accepted: 部门、所在院系、所在单位)." in page


def test_old_excel_file_says_save_as_xlsx(world, login):
    trainer = login("trainer")

    response = _upload(trainer, world, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "名单.xls")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "名单.xls" in page
    assert ".xlsx" in page
    assert "WPS" in page
    assert count(PendingImport) == 0


def test_row_lists_wrong_person_with_bad_date(world, login, english):
    """A row with a bad date is still matched, so a wrong person shows at once."""
    trainer = login("trainer")
    rows = [["E1001", "张三", "教育学院", "2024-13-45"]]

    pending_id = _pending_id(_upload(trainer, world, _csv(rows, "utf-8", START_HEADER), "r.csv"))

    assert sorted((p["column"], p["code"]) for p in _problems(pending_id)) == sorted(
        [("上岗日期", "post_start_invalid"), ("姓名", "name_mismatch")]
    )
