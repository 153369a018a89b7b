"""The admin jobs page, "run now", and daily jobs at a fixed local time."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.audit import AuditEntry
from lms.extensions import db
from lms.notifications.models import JobRun
from lms.scheduler import JobSpec, make_trigger, run_job_once
from tests.factories import build_learning_world

UTC = timezone.utc


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Europe/Berlin", "America/New_York"])
def test_daily_8am_local_all_year(zone):
    """Walk a whole year of fire times, across daylight-saving changes where a zone has them."""
    trigger = make_trigger("deadline_reminders", "0 8 * * *", zone)
    local = ZoneInfo(zone)
    fire = trigger.get_next_fire_time(None, datetime(2026, 1, 1, tzinfo=local))
    days = set()
    for _ in range(365):
        as_local = fire.astimezone(local)
        assert (as_local.hour, as_local.minute) == (8, 0), as_local
        days.add(as_local.date())
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert len(days) == 365


def test_shanghai_8am_is_midnight_utc_on_new_year():
    trigger = make_trigger("deadline_reminders", "0 8 * * *", "Asia/Shanghai")
    fire = trigger.get_next_fire_time(None, datetime(2026, 12, 31, 0, 1, tzinfo=UTC))
    assert fire.astimezone(UTC) == datetime(2027, 1, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def test_jobs_page_lists_runs_and_errors(world, login):
    run_job_once("cleanup_expired", now=datetime(2026, 5, 1, tzinfo=UTC))

    def broken(now):
        raise RuntimeError("disk full")

    spec = JobSpec("cleanup_sessions", broken, "45 3 * * *")
    run_job_once("cleanup_sessions", specs=(spec,))
    session = login("admin")
    session.post("/language/en")

    page = session.get("/admin/jobs").get_data(as_text=True)

    assert 'id="job-cleanup_expired"' in page
    assert 'id="job-compliance_snapshot"' in page
    row = page.split('id="job-cleanup_sessions"')[1].split("</tr>")[0]
    assert "Failed" in row
    assert "RuntimeError: disk full" in row
    cleanup_row = page.split('id="job-cleanup_expired"')[1].split("</tr>")[0]
    assert "OK" in cleanup_row
    assert " ms" in cleanup_row
    assert "Never" in page.split('id="job-compliance_snapshot"')[1].split("</tr>")[0]


def test_jobs_page_shows_disabled_and_config_error(world, login, app, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_JOBS", '{"compliance_snapshot": {"enabled": false}}')
    session = login("admin")
    session.post("/language/en")
    row = session.get("/admin/jobs").get_data(as_text=True).split(
        'id="job-compliance_snapshot"'
    )[1].split("</tr>")[0]
    assert "Disabled" in row

    monkeypatch.setitem(app.config, "LMS_JOBS", "{not json")
    response = session.get("/admin/jobs")
    assert response.status_code == 200
    assert "LMS_JOBS is not valid JSON" in response.get_data(as_text=True)


def test_run_now_runs_and_audits(world, login):
    session = login("admin")

    response = session.post("/admin/jobs/compliance_snapshot/run")

    assert response.status_code == 302
    run = db.session.scalars(sa.select(JobRun).filter_by(job_id="compliance_snapshot")).one()
    assert run.ok is True
    assert run.scheduled_for is None
    entry = db.session.scalars(sa.select(AuditEntry).filter_by(action="job.run_now")).one()
    assert entry.actor_id == world.admin
    assert entry.subject_type == "job_run"
    assert entry.subject_id == run.id
    assert entry.data["job_id"] == "compliance_snapshot"


def test_run_now_needs_csrf_and_known_job(world, login):
    session = login("admin")

    assert session.client.post("/admin/jobs/compliance_snapshot/run").status_code == 400
    assert session.post("/admin/jobs/no_such_job/run").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(JobRun)) == 0


def test_run_now_refused_to_hr(world, login):
    session = login("hr")

    assert session.post("/admin/jobs/compliance_snapshot/run").status_code == 403
    assert session.get("/admin/jobs").status_code == 403


def test_jobs_page_warns_when_scheduler_silent(world, login):
    session = login("admin")
    session.post("/language/en")
    assert "No scheduler has started a job yet" in session.get("/admin/jobs").get_data(as_text=True)

    run_job_once("deliver_notifications", scheduled_for=datetime.now(UTC).replace(second=0))
    page = session.get("/admin/jobs").get_data(as_text=True)
    assert "No scheduler has started" not in page

    old = datetime.now(UTC) - timedelta(hours=1)
    db.session.execute(sa.update(JobRun).values(started_at=old))
    db.session.commit()
    assert "No scheduler has started a job since" in session.get("/admin/jobs").get_data(as_text=True)


def test_jobs_page_is_chinese_by_default(world, login):
    run_job_once("cleanup_expired", now=datetime(2026, 5, 1, tzinfo=UTC))
    admin = login("admin")

    page = admin.get("/admin/jobs").get_data(as_text=True)
    row = page.split('id="job-cleanup_expired"')[1].split("</tr>")[0]

    assert "删除旧的任务记录和已读的旧通知。" in row
    assert "Delete old job history" not in row
    assert "已删除运行记录：0" in row
    assert "job_runs_deleted" not in row


def _delivery_result(now):
    return {"claimed": 2, "sent": 1}


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "claimed: 2, sent: 1"), ("zh_CN", "已领取：2，已发送：1")],
)
def test_jobs_page_result_punctuation(world, login, language, expected):
    spec = JobSpec("cleanup_sessions", _delivery_result, "45 3 * * *")
    run_job_once("cleanup_sessions", specs=(spec,))
    session = login("admin")
    session.post(f"/language/{language}")

    page = session.get("/admin/jobs").get_data(as_text=True)

    row = page.split('id="job-cleanup_sessions"')[1].split("</tr>")[0]
    assert expected in row


def _schedule_cell(page: str, job_id: str) -> str:
    row = page.split(f'id="job-{job_id}"')[1].split("</tr>")[0]
    return row.split("<td>")[1].split("</td>")[0]


def test_jobs_page_schedule_in_chinese_words(world, login):
    page = login("admin").get("/admin/jobs").get_data(as_text=True)

    delivery = _schedule_cell(page, "deliver_notifications")
    assert "每分钟" in delivery
    assert '<code title="配置中的 Cron 表达式">* * * * *</code>' in delivery
    assert "每天 08:00" in _schedule_cell(page, "deadline_reminders")
    assert "每小时第 15 分钟" in _schedule_cell(page, "cleanup_temp_uploads")
    assert "每 5 分钟" in _schedule_cell(page, "close_expired_attempts")
    assert "每月 1 日 08:00" in _schedule_cell(page, "compliance_reminders_monthly")
    assert "每年 11月1日 08:00" in _schedule_cell(page, "compliance_reminders_yearly")
    assert "Every" not in page
    row = page.split('id="job-cleanup_expired"')[1].split("</tr>")[0]
    assert "<code" in row.split("</th>")[0]
    assert "cleanup_expired</code>" in row.split("</th>")[0]


def test_jobs_page_schedule_in_english_words(world, login, english):
    page = login("admin").get("/admin/jobs").get_data(as_text=True)

    assert "Every minute" in _schedule_cell(page, "deliver_notifications")
    assert "Every day at 03:30" in _schedule_cell(page, "cleanup_expired")
    assert "Every year on November 1 at 08:00" in _schedule_cell(
        page, "compliance_reminders_yearly"
    )


def test_jobs_page_unworded_schedule_shows_cron(world, login, app, monkeypatch):
    monkeypatch.setitem(
        app.config, "LMS_JOBS", '{"compliance_snapshot": {"cron": "0,30 8 * * mon,wed"}}'
    )

    page = login("admin").get("/admin/jobs").get_data(as_text=True)

    cell = _schedule_cell(page, "compliance_snapshot").strip()
    assert cell == '<code title="配置中的 Cron 表达式">0,30 8 * * mon,wed</code>'


def test_jobs_page_names_scheduler_zone(world, login):
    from lms.organisations.models import Institution

    admin = login("admin")
    assert "调度程序的时区" not in admin.get("/admin/jobs").get_data(as_text=True)

    db.session.get(Institution, world.uni_a).timezone = "Europe/Berlin"
    db.session.commit()
    page = admin.get("/admin/jobs").get_data(as_text=True)

    assert "计划时间按调度程序的时区（Asia/Shanghai）计算。" in page


def test_run_now_flash_names_job_description(world, login):
    session = login("admin")

    page = session.post(
        "/admin/jobs/compliance_snapshot/run", follow_redirects=True
    ).get_data(as_text=True)

    assert "任务已完成：按院系和规则保存当日达标统计，用于趋势图。" in page
    assert "任务 compliance_snapshot 已完成" not in page


def test_run_now_flash_in_english(world, login, english):
    session = login("admin")

    page = session.post(
        "/admin/jobs/compliance_snapshot/run", follow_redirects=True
    ).get_data(as_text=True)

    assert "Job finished: Store the day&#39;s compliance counts" in page


def test_jobs_refused_to_admin_not_operator(world, login):
    admin = db.session.get(User, world.admin)
    admin.platform_operator = False
    db.session.commit()
    session = login("admin")

    assert session.get("/admin/jobs").status_code == 403
    assert session.post("/admin/jobs/compliance_snapshot/run").status_code == 403
    assert session.post("/admin/jobs/compliance_snapshot/pause").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(JobRun)) == 0
    assert 'href="/admin/jobs"' not in session.get("/admin/audit").get_data(as_text=True)


def test_operator_command_grants_and_revokes(app, world):
    runner = app.test_cli_runner()
    admin = db.session.get(User, world.admin)
    admin.platform_operator = False
    db.session.commit()

    granted = runner.invoke(args=["lms", "operator", "admin"])
    again = runner.invoke(args=["lms", "operator", "admin"])
    db.session.expire_all()
    after_grant = db.session.get(User, world.admin).platform_operator
    revoked = runner.invoke(args=["lms", "operator", "admin", "--revoke"])
    db.session.expire_all()

    assert granted.exit_code == 0, granted.output
    assert "admin is now a platform operator." in granted.output
    assert "nothing changed" in again.output
    assert after_grant is True
    assert revoked.exit_code == 0, revoked.output
    assert db.session.get(User, world.admin).platform_operator is False
    actions = db.session.scalars(
        sa.select(AuditEntry.action).where(AuditEntry.action.like("account.operator_%"))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["account.operator_granted", "account.operator_revoked"]


def test_operator_command_rejects_non_admin(app, world):
    result = app.test_cli_runner().invoke(args=["lms", "operator", "hr"])

    assert result.exit_code != 0
    assert "only an admin can be a platform operator" in result.output
    assert db.session.get(User, world.hr).platform_operator is False
