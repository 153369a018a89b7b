"""Audit entries for logins and role changes, and the admin's read-only audit viewer."""

from datetime import datetime, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from lms import audit
from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from lms.extensions import db
from tests.conftest import csrf_from
from tests.factories import build_learning_world

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def _entries(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def test_login_and_failed_login_are_audited(world, client):
    csrf = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "counselor1", "password": "wrong", "csrf_token": csrf})
    client.post("/login", data={"username": "nobody", "password": "wrong", "csrf_token": csrf})
    client.post(
        "/login", data={"username": "counselor1", "password": "demo-pass-2026", "csrf_token": csrf}
    )

    failed = _entries("account.login_failed")
    assert [(e.subject_id, e.data["username"]) for e in failed] == [
        (world.counselor, "counselor1"),
        (0, "nobody"),
    ]
    assert failed[0].institution_id == world.uni_a
    assert failed[1].institution_id is None
    (login,) = _entries("account.login")
    assert login.actor_id == world.counselor
    assert login.data["method"] == "password"


def test_role_change_is_audited(world, login):
    admin = login("admin")

    response = admin.post(f"/people/{world.counselor2}/role", data={"role": "trainer"})

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, world.counselor2).role is Role.TRAINER
    (entry,) = _entries("account.role_changed")
    assert entry.actor_id == world.admin
    assert entry.subject_id == world.counselor2
    assert entry.data == {"from": "counselor", "to": "trainer"}


def test_role_change_rejects_own_role_and_bad_value(world, login):
    admin = login("admin")

    assert admin.post(f"/people/{world.admin}/role", data={"role": "hr"}).status_code == 302
    assert admin.post(f"/people/{world.counselor}/role", data={"role": "king"}).status_code == 400
    assert admin.post(f"/people/{world.hr_b}/role", data={"role": "hr"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(User, world.admin).role is Role.ADMIN
    assert _entries("account.role_changed") == []


def _add(action, subject_type, subject_id, when, *, actor, institution):
    entry = audit.record(
        action,
        subject_type,
        subject_id,
        f"{action} {subject_id}",
        actor_id=actor,
        institution_id=institution,
    )
    entry.created_at = when
    return entry


@pytest.fixture
def entries(world):
    at = lambda day, hour=10: datetime(2026, 3, day, hour, tzinfo=SHANGHAI)  # noqa: E731
    _add("certificate.issued", "certificate", 1, at(1), actor=world.hr, institution=world.uni_a)
    _add("certificate.revoked", "certificate", 1, at(2), actor=world.admin, institution=world.uni_a)
    _add("account.login", "user", world.hr, at(3), actor=world.hr, institution=world.uni_a)
    # 00:30 on 4 March in Shanghai is still 3 March in UTC.
    _add("account.login", "user", world.admin, at(4, 0), actor=world.admin, institution=world.uni_a)
    _add("account.login", "user", world.hr_b, at(3), actor=world.hr_b, institution=world.uni_b)
    db.session.commit()
    return world


def _rows(page: str) -> list[str]:
    body = page.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in page else ""
    return [row for row in body.split("<tr>")[1:]]


def test_viewer_lists_own_institution_newest_first(entries, login):
    page = login("admin").get("/admin/audit").get_data(as_text=True)

    rows = _rows(page)
    assert len(rows) == 5  # four entries above and the admin's own login
    assert "account.login" in rows[0]
    assert "certificate.issued" in rows[-1]
    assert f"account.login {entries.hr_b}" not in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor=HR", ["account.login", "certificate.issued"]),
        ("action=certificate.", ["certificate.revoked", "certificate.issued"]),
        ("action=certificate.revoked", ["certificate.revoked"]),
        ("subject_type=certificate&subject_id=1", ["certificate.revoked", "certificate.issued"]),
        ("date_from=2026-03-02&date_to=2026-03-03", ["account.login", "certificate.revoked"]),
        ("date_from=2026-03-04&date_to=2026-03-04", ["account.login"]),
    ],
)
def test_viewer_filters(entries, login, query, expected):
    session = login("admin")
    page = session.get(f"/admin/audit?{query}").get_data(as_text=True)

    actions = [row.split('data-action="')[1].split('"')[0] for row in _rows(page)]
    assert actions == expected


def test_viewer_rejects_bad_filters(entries, login):
    session = login("admin")

    response = session.get("/admin/audit?date_from=2026-03-05&date_to=2026-03-01")
    assert response.status_code == 400
    assert 'class="field-error"' in response.get_data(as_text=True)
    assert session.get("/admin/audit?subject_id=abc").status_code == 400
    assert session.get("/admin/audit?page=-3").status_code == 200


def test_viewer_pages(entries, login, monkeypatch):
    """Three logins of institution A (two seeded, one real) over pages of two."""
    monkeypatch.setattr("lms.accounts.admin_views.PAGE_SIZE", 2)
    session = login("admin")

    first = session.get("/admin/audit?action=account.login").get_data(as_text=True)
    second = session.get("/admin/audit?action=account.login&page=2").get_data(as_text=True)

    assert len(_rows(first)) == 2
    assert "action=account.login&amp;page=2" in first or "page=2&amp;action=account.login" in first
    assert len(_rows(second)) == 1
    assert "page=3" not in second
    assert "page=1" in second


def test_viewer_is_admin_only_and_read_only(entries, login, app):
    assert login("hr").get("/admin/audit").status_code == 403
    assert login("counselor1").get("/admin/audit").status_code == 403
    methods = {
        method
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin/audit")
        for method in rule.methods
    }
    assert methods == {"GET", "HEAD", "OPTIONS"}
    assert login("admin").post("/admin/audit").status_code == 405


def test_viewer_labels_action_and_object(entries, login, english):
    _add("job.pause", "job", 0, datetime(2026, 3, 5, tzinfo=SHANGHAI),
         actor=entries.admin, institution=entries.uni_a)
    db.session.commit()

    page = login("admin").get("/admin/audit?date_to=2026-03-05").get_data(as_text=True)
    cells = [row.split("<td")[3:5] for row in _rows(page)]

    assert ">Job paused</td>" in cells[0][0]
    assert ">Scheduled job</td>" in cells[0][1]
    assert ">Login</td>" in cells[1][0]
    assert f' title="User {entries.admin}">User 孙管理员 (admin)</td>' in cells[1][1]
    assert ">Certificate issued</td>" in cells[-1][0]
    # No certificate 1 exists, so the cell keeps the id and has no title.
    assert cells[-1][1].startswith(">Certificate 1</td>")


def test_viewer_hides_raw_action_codes(entries, login):
    page = login("admin").get("/admin/audit").get_data(as_text=True)

    assert ">account.login<" not in page
    assert "<code>account.login</code>" not in page
    assert ">user " not in page


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("date_from=0001-01-01", "From date", "0001-01-01 is out of range"),
        ("date_to=9999-12-31", "To date", "9999-12-31 is out of range"),
        (f"subject_id={'9' * 23}", "Object id", "Enter a whole number from 0 to 2147483647."),
    ],
)
def test_viewer_names_out_of_range_filter(entries, login, english, query, field, message):
    session = login("admin")

    response = session.get(f"/admin/audit?actor=hr&{query}")
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    errors = page.split('class="field-error">')[1:]
    assert len(errors) == 1
    assert errors[0].startswith(f"{field}: ")
    assert message in errors[0]
    assert 'name="actor" type="text" value="hr"' in page


def test_viewer_accepts_window_edges(entries, login):
    session = login("admin")

    response = session.get("/admin/audit?date_from=1900-01-01&date_to=9999-12-30")

    assert response.status_code == 200
    assert len(_rows(response.get_data(as_text=True))) == 5


def test_role_change_flash_has_no_stray_space(world, login):
    admin = login("admin")

    page = admin.post(
        f"/people/{world.counselor2}/role",
        data={"role": "trainer"},
        follow_redirects=True,
    ).get_data(as_text=True)

    assert "李老师的角色已改为" in page
    assert "李老师 的" not in page


# Names of subjects, and filters by label and by full name ---------------------


def person_forms(full_name: str, username: str) -> list[str]:
    """Return a person's name with half-width and with full-width brackets.

    The Chinese form uses full-width brackets once its catalogue entry is
    compiled; until then the English pattern with half-width ones is shown.
    """
    return [f"{full_name} ({username})", f"{full_name}（{username}）"]


def _cells(page: str) -> dict[str, list[str]]:
    """Return the object and summary cells (with their attributes) by action code."""
    cells = {}
    for row in _rows(page):
        action = row.split('data-action="')[1].split('"')[0]
        columns = [cell.split("</td>")[0] for cell in row.split("<td")[1:]]
        cells[action] = columns[3:5]
    return cells


def _certificate(world, serial: str):
    from decimal import Decimal

    from certificates.models import Certificate, CertificateStatus

    certificate = Certificate(
        serial=serial, verification_code=f"V{serial}", achievement_key=f"test:{serial}",
        holder_id=world.counselor, institution_id=world.uni_a,
        programme_id=world.programme,
        holder_name="张老师", title="初级辅导员岗前培训", hours=Decimal("8"),
        issued_on=datetime(2026, 3, 1).date(), status=CertificateStatus.VALID,
    )
    db.session.add(certificate)
    db.session.flush()
    return certificate.id


@pytest.fixture
def named(world):
    """Entries whose subjects exist, are deleted, or belong to institution B."""
    at = lambda day: datetime(2026, 3, day, 10, tzinfo=SHANGHAI)  # noqa: E731
    certificate = _certificate(world, "JA-2026-000042")
    for day, (action, subject_type, subject_id) in enumerate(
        [
            ("certificate.issued", "certificate", certificate),
            ("account.disabled", "user", world.counselor2),
            ("profile.updated", "person_profile", world.counselor),
            ("course.published", "course", world.course1),
            ("programme.published", "programme", world.programme),
            ("quiz.deleted", "quiz", world.quiz),
            ("account.enabled", "user", 987654),
            ("course.archived", "course", world.course_b),
        ],
        start=1,
    ):
        _add(action, subject_type, subject_id, at(day),
             actor=world.admin, institution=world.uni_a)
    db.session.commit()
    return SimpleNamespace(world=world, certificate=certificate)


def test_viewer_names_subjects(named, login):
    world = named.world
    page = login("admin").get("/admin/audit?date_to=2026-03-31").get_data(as_text=True)
    cells = _cells(page)

    assert cells["certificate.issued"][0] == (
        f' title="证书 {named.certificate}">证书 JA-2026-000042'
    )
    assert cells["account.disabled"][0] in [
        f' title="用户 {world.counselor2}">用户 {person}'
        for person in person_forms("李老师", "counselor2")
    ]
    assert cells["profile.updated"][0] in [
        f' title="个人信息 {world.counselor}">个人信息 {person}'
        for person in person_forms("张老师", "counselor1")
    ]
    assert cells["course.published"][0] == f' title="课程 {world.course1}">课程 心理危机识别'
    assert cells["programme.published"][0].endswith(">培训项目 初级辅导员岗前培训")
    assert f' title="测验 {world.quiz}">测验 ' in cells["quiz.deleted"][0]


def test_viewer_keeps_ids_of_missing_subjects(named, login):
    world = named.world
    page = login("admin").get("/admin/audit?date_to=2026-03-31").get_data(as_text=True)
    cells = _cells(page)

    assert cells["account.enabled"][0] == ">用户 987654"
    # Institution B's course is not looked up for institution A's log.
    assert cells["course.archived"][0] == f">课程 {world.course_b}"
    assert "乙校课程" not in page


def test_viewer_names_users_in_summaries(named, login, english):
    page = login("admin").get("/admin/audit?date_to=2026-03-31").get_data(as_text=True)
    summary = _cells(page)["account.disabled"][1]

    assert summary == (
        f' title="admin disabled the account of user {named.world.counselor2}">'
        "admin disabled the account of user 李老师 (counselor2)"
    )


def test_viewer_names_departments_in_hr_scope(world, login):
    at = datetime(2026, 3, 5, 10, tzinfo=SHANGHAI)
    scope_change = _add("account.hr_scope_changed", "user", world.hr, at,
                        actor=world.admin, institution=world.uni_a)
    scope_change.data = {"before": world.school, "after": world.physics}
    deleted_department = _add("account.hr_scope_changed", "user", world.hr, at,
                              actor=world.admin, institution=world.uni_a)
    deleted_department.data = {"before": 99999, "after": None}
    db.session.commit()

    page = login("admin").get("/admin/audit?date_to=2026-03-05").get_data(as_text=True)
    summaries = [row.split("<td")[5].split("</td>")[0] for row in _rows(page)]

    assert summaries[0] in [
        f' title="admin 将用户 {world.hr} 的人事管理范围由“院系 99999”改为“全单位”">'
        f"admin 将用户 {person} 的人事管理范围由“院系 99999”改为“全单位”"
        for person in person_forms("钱人事", "hr")
    ]
    assert summaries[1] in [
        f' title="admin 将用户 {world.hr} 的人事管理范围由“院系 {world.school}”'
        f"改为“院系 {world.physics}”\">"
        f"admin 将用户 {person} 的人事管理范围由“教育学院”改为“物理学院”"
        for person in person_forms("钱人事", "hr")
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("action=撤销证书", ["certificate.revoked"]),
        ("action=证书", ["certificate.revoked", "certificate.issued"]),
        ("action=登录", ["account.login", "account.login", "account.login"]),
        # English labels match in the Chinese page too, ignoring case.
        ("action=certificate REVOKED", ["certificate.revoked"]),
        ("action=%25", []),
        ("action=_", []),
    ],
)
def test_action_filter_matches_labels(entries, login, query, expected):
    page = login("admin").get(f"/admin/audit?{query}").get_data(as_text=True)

    actions = [row.split('data-action="')[1].split('"')[0] for row in _rows(page)]
    assert actions == expected


def test_action_filter_matches_english_labels(entries, login, english):
    page = login("admin").get("/admin/audit?action=Revoked").get_data(as_text=True)

    actions = [row.split('data-action="')[1].split('"')[0] for row in _rows(page)]
    assert actions == ["certificate.revoked"]


def test_action_list_offers_labels(entries, login):
    page = login("admin").get("/admin/audit").get_data(as_text=True)

    assert '<option value="certificate.revoked">撤销证书</option>' in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("actor=钱人事", ["account.login", "certificate.issued"]),
        ("actor=人事", ["account.login", "certificate.issued"]),
        ("actor=孙管理员", ["account.login", "account.login", "certificate.revoked"]),
        ("actor=hr", ["account.login", "certificate.issued"]),
        ("actor=%25", []),
        ("actor=_", []),
    ],
)
def test_actor_filter_matches_full_name(entries, login, query, expected):
    page = login("admin").get(f"/admin/audit?{query}").get_data(as_text=True)

    actions = [row.split('data-action="')[1].split('"')[0] for row in _rows(page)]
    assert actions == expected


def test_actor_filter_label_names_full_name(entries, login):
    page = login("admin").get("/admin/audit").get_data(as_text=True)

    assert "Actor (username or full name)" in page or "操作人（用户名或姓名）" in page


@pytest.fixture
def joined(world):
    """Entries of subjects whose names come from other tables, and one of institution B."""
    from datetime import date

    from assessments.models import Attempt, Quiz
    from certificates.batches import BatchStatus, CertificateBatch
    from lms.records.models import ProgressionEntry, ProgressionKind

    started = datetime(2026, 3, 1, 2, tzinfo=timezone.utc)
    attempt = Attempt(quiz_id=world.quiz, user_id=world.counselor, number=2,
                      started_at=started, max_score=2)
    other = Attempt(quiz_id=world.quiz, user_id=world.counselor_b, number=1,
                    started_at=started, max_score=2)
    entry = ProgressionEntry(
        user_id=world.counselor, kind=ProgressionKind.TRAINING,
        occurred_on=date(2026, 3, 1), title="心理危机干预专题培训",
    )
    batch = CertificateBatch(
        institution_id=world.uni_a, programme_id=world.programme,
        status=BatchStatus.DONE,
        created_by_id=world.admin,
    )
    db.session.add_all([attempt, other, entry, batch])
    db.session.flush()
    at = lambda day: datetime(2026, 3, day, 10, tzinfo=SHANGHAI)  # noqa: E731
    for day, (action, subject_type, subject_id) in enumerate(
        [
            ("quiz.graded", "attempt", attempt.id),
            ("quiz.regraded", "attempt", other.id),
            ("progression.added", "progression_entry", entry.id),
            ("certificate_batch.started", "certificate_batch", batch.id),
        ],
        start=1,
    ):
        _add(action, subject_type, subject_id, at(day), actor=world.admin,
             institution=world.uni_a)
    db.session.commit()
    quiz_title = db.session.get(Quiz, world.quiz).title
    return SimpleNamespace(attempt=attempt.id, other=other.id, entry=entry.id,
                           batch=batch.id, quiz_title=quiz_title)


def test_viewer_names_joined_subjects(joined, login, english):
    page = login("admin").get("/admin/audit?date_to=2026-03-31").get_data(as_text=True)
    cells = _cells(page)

    assert cells["quiz.graded"][0] == (
        f' title="Quiz attempt {joined.attempt}">'
        f"Quiz attempt 张老师, {joined.quiz_title}, attempt 2"
    )
    assert cells["progression.added"][0].endswith(">Career record 张老师: 心理危机干预专题培训")
    assert cells["certificate_batch.started"][0].endswith(">Certificate batch 初级辅导员岗前培训")
    # Institution B's learner is not looked up for institution A's log.
    assert cells["quiz.regraded"][0] == f">Quiz attempt {joined.other}"


def test_viewer_names_attempts_in_chinese(joined, login):
    page = login("admin").get("/admin/audit?date_to=2026-03-31").get_data(as_text=True)

    assert f"张老师《{joined.quiz_title}》第2次作答" in _cells(page)["quiz.graded"][0]
    assert "张老师：心理危机干预专题培训" in _cells(page)["progression.added"][0]


def test_every_joined_subject_type_loads(world):
    from lms.audit_subjects import JOINED_SOURCES, load_names

    keys = [(subject_type, 424242) for subject_type in JOINED_SOURCES]

    assert load_names(keys, world.uni_a) == {}


def test_viewer_names_jobs_and_attendance(world, login, english):
    from courses import class_attendance
    from courses.class_models import AttendanceStatus
    from lms.notifications.models import JobRun
    from tests.classes.helpers import make_class, make_session, user

    session = make_session(make_class(world))
    class_attendance.mark(session, user(world.counselor), AttendanceStatus.LATE, user(world.trainer))
    run = JobRun(job_id="cleanup_expired", host="app-1", pid=1, ok=True)
    db.session.add(run)
    db.session.flush()
    ran = _add("job.run_now", "job_run", run.id, datetime(2026, 3, 1, tzinfo=SHANGHAI),
               actor=world.admin, institution=world.uni_a)
    ran.data = {"job_id": "cleanup_expired", "ok": True}
    paused = _add("job.pause", "job", 0, datetime(2026, 3, 2, tzinfo=SHANGHAI),
                  actor=world.admin, institution=world.uni_a)
    paused.data = {"job_id": "cleanup_expired", "next_run": None}
    retired = _add("job.resume", "job", 0, datetime(2026, 3, 3, tzinfo=SHANGHAI),
                actor=world.admin, institution=world.uni_a)
    retired.data = {"job_id": "retired_job", "next_run": None}
    db.session.commit()

    cells = _cells(login("admin").get("/admin/audit").get_data(as_text=True))

    job = "cleanup_expired (Delete old job history and old read notifications)"
    assert cells["job.run_now"][0].endswith(f">Job run {job}")
    assert cells["job.run_now"][1].endswith(f">admin ran job {job} by hand: succeeded")
    assert cells["job.pause"][0].endswith(f">Scheduled job {job}")
    assert cells["job.pause"][1].endswith(f">admin paused job {job}")
    # A job removed from the code keeps its id.
    assert cells["job.resume"][1].endswith(">admin resumed job retired_job")
    assert cells["class.attendance_marked"][0].endswith(
        ">Attendance record 张老师: 2026-09-02 开班式与专题讲座"
    )
    assert cells["class.attendance_marked"][1].endswith(
        ">Attendance at session 2026-09-02 开班式与专题讲座 marked Late (before: —)"
    )


def test_viewer_names_attendance_chinese(world, login):
    from courses import class_attendance
    from courses.class_models import AttendanceStatus
    from tests.classes.helpers import make_class, make_session, user

    session = make_session(make_class(world))
    class_attendance.mark(session, user(world.counselor), AttendanceStatus.LATE, user(world.trainer))
    db.session.commit()

    cells = _cells(login("admin").get("/admin/audit").get_data(as_text=True))

    assert cells["class.attendance_marked"][1].endswith(
        ">场次 2026年9月2日 开班式与专题讲座 的考勤登记为“迟到”（原为：—）"
    )


def test_export_follows_filters_and_institution(entries, login):
    """The CSV holds what the filtered page lists, with the entry's data, and
    nothing of another institution."""
    import csv
    import io
    import json

    session = login("admin")
    page = session.get("/admin/audit?action=certificate.").get_data(as_text=True)
    assert "/admin/audit.csv?action=certificate." in page

    response = session.get("/admin/audit.csv?action=certificate.")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert [row[header.index("action")] for row in body] == [
        "certificate.revoked", "certificate.issued"
    ]
    assert body[0][header.index("created_at_utc")] == "2026-03-02T02:00:00+00:00"
    assert json.loads(body[0][header.index("data")]) == {}

    everything = session.get("/admin/audit.csv").get_data(as_text=True)
    assert f"account.login {entries.hr_b}" not in everything
    assert session.get("/admin/audit.csv?date_from=2026-03-05&date_to=2026-03-01").status_code == 400
    assert login("hr").get("/admin/audit.csv").status_code == 403


def test_scope_removed_flash_has_no_stray_space(seeded, app_ctx, login):
    officer_id = db.session.scalar(sa.select(User.id).filter_by(username="hr_cs"))

    page = login("admin").post(
        f"/people/{officer_id}/role", data={"role": "counselor"}, follow_redirects=True
    ).get_data(as_text=True)

    assert "吴敏已不再是人事干部" in page
    assert "吴敏 已" not in page
