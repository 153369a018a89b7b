"""Scheduler setup, job configuration, the job lock and the run history."""

import os
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from lms import scheduler
from lms.extensions import db
from lms.notifications.cli import register
from lms.notifications.models import JobLease, JobRun, Notification
from lms.scheduler import JobConfigError, JobSpec, job_settings, run_job_once
from tests.conftest import count
from tests.notifications.conftest import make_person

UTC = timezone.utc
ON_POSTGRESQL = os.environ.get("LMS_TEST_DATABASE_URL", "").startswith("postgresql")


def test_daily_8am_shanghai_fires_at_midnight_utc(app, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    built = scheduler.build_scheduler(app)
    job = built.get_job("certificate_expiry_reminders")

    next_fire = job.trigger.get_next_fire_time(None, datetime(2026, 3, 1, 12, 0, tzinfo=UTC))

    assert next_fire.astimezone(UTC) == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    assert next_fire.hour == 8


def test_jobs_have_stable_ids_and_single_instance(app):
    built = scheduler.build_scheduler(app)
    jobs = {job.id: job for job in built.get_jobs()}

    assert set(jobs) == {
        "deliver_notifications",
        "certificate_expiry_reminders",
        "cleanup_expired",
        "deadline_reminders",
        "compliance_reminders_monthly",
        "compliance_reminders_yearly",
        "compliance_snapshot",
        "cleanup_sessions",
        "cleanup_temp_uploads",
        "certificate_batches",
        "close_expired_attempts",
    }
    for job in jobs.values():
        assert job.coalesce is True
        assert job.max_instances == 1
    assert str(jobs["deliver_notifications"].trigger.timezone) == "Asia/Shanghai"


def test_lms_jobs_and_env_override_defaults(monkeypatch):
    config = {
        "LMS_JOBS": '{"deliver_notifications": {"enabled": false},'
        ' "cleanup_expired": {"cron": {"hour": 2, "minute": 15}}}'
    }
    monkeypatch.setenv("LMS_JOB_CERTIFICATE_EXPIRY_REMINDERS_CRON", "30 9 * * mon-fri")

    settings = {item.spec.id: item for item in job_settings(config)}

    assert settings["deliver_notifications"].enabled is False
    assert settings["cleanup_expired"].cron == {"hour": 2, "minute": 15}
    assert settings["certificate_expiry_reminders"].cron == "30 9 * * mon-fri"
    assert settings["certificate_expiry_reminders"].enabled is True


def test_disabled_job_is_not_scheduled(app, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_JOBS", {"cleanup_expired": {"enabled": False}})

    built = scheduler.build_scheduler(app)

    assert built.get_job("cleanup_expired") is None
    assert built.get_job("deliver_notifications") is not None


@pytest.mark.parametrize(
    ("jobs", "message"),
    [
        ("{not json", "LMS_JOBS is not valid JSON"),
        ('["deliver_notifications"]', "must be a JSON object"),
        ('{"send_everything": {}}', "unknown job 'send_everything'"),
        ('{"cleanup_expired": {"when": "daily"}}', "'enabled' and/or 'cron'"),
        ('{"cleanup_expired": {"enabled": "maybe"}}', "expected true or false"),
    ],
)
def test_invalid_lms_jobs_is_rejected(jobs, message):
    with pytest.raises(JobConfigError, match=message):
        job_settings({"LMS_JOBS": jobs})


def test_invalid_cron_names_job(app, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_JOBS", {"cleanup_expired": {"cron": "61 * * * *"}})

    with pytest.raises(JobConfigError, match="invalid schedule '61 \\* \\* \\* \\*' for job 'cleanup_expired'"):
        scheduler.build_scheduler(app)


def test_latest_fire_time_recovers_the_slot():
    trigger = scheduler.make_trigger("probe", "* * * * *", "Asia/Shanghai")
    now = datetime(2026, 3, 1, 0, 5, 0, 400000, tzinfo=UTC)

    slot = scheduler.latest_fire_time(trigger, now, timedelta(seconds=55))

    assert slot.astimezone(UTC) == datetime(2026, 3, 1, 0, 5, tzinfo=UTC)
    assert scheduler.latest_fire_time(
        scheduler.make_trigger("daily", "0 8 * * *", "Asia/Shanghai"),
        now,
        timedelta(minutes=1),
    ) is None


def _counting_job(calls):
    def job(now):
        calls.append(now)
        return {"calls": len(calls)}

    return JobSpec("probe", job, "* * * * *")


def test_run_job_once_records_run(app_ctx):
    calls = []
    spec = _counting_job(calls)
    slot = datetime(2026, 3, 1, 0, 5, tzinfo=UTC)
    now = datetime(2026, 3, 1, 0, 5, 1, tzinfo=UTC)

    run = run_job_once("probe", scheduled_for=slot, now=now, specs=(spec,))

    assert calls == [now]
    assert run.ok is True
    assert run.result == {"calls": 1}
    assert run.scheduled_for == slot
    assert run.finished_at >= run.started_at
    assert run.duration_ms >= 0
    assert run.pid == os.getpid()
    assert run.host


def test_same_slot_runs_once(app_ctx):
    calls = []
    spec = _counting_job(calls)
    slot = datetime(2026, 3, 1, 0, 5, tzinfo=UTC)

    first = run_job_once("probe", scheduled_for=slot, specs=(spec,))
    second = run_job_once("probe", scheduled_for=slot, specs=(spec,))
    next_slot = run_job_once("probe", scheduled_for=slot + timedelta(minutes=1), specs=(spec,))

    assert first is not None
    assert second is None
    assert next_slot is not None
    assert len(calls) == 2
    assert count(JobRun) == 2


def test_manual_runs_are_not_deduplicated(app_ctx):
    calls = []
    spec = _counting_job(calls)

    run_job_once("probe", specs=(spec,))
    run_job_once("probe", specs=(spec,))

    assert len(calls) == 2


def test_held_lock_skips_run(app_ctx):
    calls = []
    spec = _counting_job(calls)

    with scheduler.job_lock("probe") as held:
        assert held is True
        skipped = run_job_once("probe", specs=(spec,))

    assert skipped is None
    assert calls == []
    assert run_job_once("probe", specs=(spec,)) is not None


def test_failing_job_is_recorded_and_rolled_back(institution):
    user = make_person(institution, "rollback")
    db.session.commit()

    def broken(now):
        db.session.add(
            Notification(
                recipient_id=user.id,
                kind="k",
                subject_type="certificate",
                subject_id=1,
                dedupe_key="rolled-back",
                title="t",
                body="b",
            )
        )
        db.session.flush()
        raise RuntimeError("template missing")

    run = run_job_once("broken", specs=(JobSpec("broken", broken, "* * * * *"),))

    assert run.ok is False
    assert "RuntimeError: template missing" in run.error
    assert run.finished_at is not None
    assert count(Notification) == 0


@pytest.mark.skipif(ON_POSTGRESQL, reason="job_lease rows are the SQLite lock; PostgreSQL uses advisory locks")
def test_expired_lease_is_taken_over(app_ctx):
    calls = []
    spec = _counting_job(calls)
    now = datetime.now(UTC)
    db.session.add(JobLease(job_id="probe", owner="dead-host:1:x", expires_at=now + timedelta(hours=1)))
    db.session.commit()

    assert run_job_once("probe", specs=(spec,)) is None

    db.session.execute(
        sa.update(JobLease).values(expires_at=now - timedelta(seconds=1))
    )
    db.session.commit()
    assert run_job_once("probe", specs=(spec,)) is not None
    assert len(calls) == 1
    lease = db.session.get(JobLease, "probe")
    db.session.refresh(lease)
    assert lease.owner != "dead-host:1:x"
    assert lease.expires_at <= datetime.now(UTC)


def test_cleanup_deletes_old_runs_and_read_notifications(institution, app, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_JOB_RUN_RETENTION_DAYS", 30)
    monkeypatch.setitem(app.config, "LMS_NOTIFICATION_RETENTION_DAYS", 180)
    now = datetime(2026, 6, 1, tzinfo=UTC)
    user = make_person(institution, "cleanup")
    for days, job in ((31, "old"), (29, "recent")):
        db.session.add(JobRun(job_id=job, started_at=now - timedelta(days=days), host="h", pid=1))
    for key, read_days in (("old-read", 181), ("recent-read", 10), ("unread", None)):
        db.session.add(
            Notification(
                recipient_id=user.id,
                kind="k",
                subject_type="certificate",
                subject_id=1,
                dedupe_key=key,
                title="t",
                body="b",
                created_at=now - timedelta(days=400),
                read_at=now - timedelta(days=read_days) if read_days else None,
            )
        )
    db.session.commit()

    run = run_job_once("cleanup_expired", now=now)

    assert run.result == {"job_runs_deleted": 1, "notifications_deleted": 1}
    assert set(db.session.scalars(sa.select(JobRun.job_id))) == {"recent", "cleanup_expired"}
    assert set(db.session.scalars(sa.select(Notification.dedupe_key))) == {"recent-read", "unread"}


def test_cleanup_keeps_its_own_run(institution, app, monkeypatch):
    """With --now past the retention, cleanup must not delete the run that records it."""
    monkeypatch.setitem(app.config, "LMS_JOB_RUN_RETENTION_DAYS", 30)
    finished = datetime.now(UTC) - timedelta(days=2)
    db.session.add(
        JobRun(job_id="old", started_at=finished, finished_at=finished, host="h", pid=1)
    )
    db.session.commit()

    run = run_job_once("cleanup_expired", now=datetime.now(UTC) + timedelta(days=400))

    assert run.ok is True
    assert run.result["job_runs_deleted"] == 1
    assert list(db.session.scalars(sa.select(JobRun.job_id))) == ["cleanup_expired"]


def test_start_in_process_refuses_under_tests(app):
    assert scheduler.start_in_process(app) is None


def test_cli_run_job(app):
    register(app)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["lms", "run-job", "cleanup_expired"])
    unknown = runner.invoke(args=["lms", "run-job", "send_everything"])
    naive = runner.invoke(args=["lms", "run-job", "cleanup_expired", "--now", "2026-03-01T08:00"])
    listing = runner.invoke(args=["lms", "jobs"])

    assert result.exit_code == 0, result.output
    assert "job cleanup_expired finished" in result.output
    assert unknown.exit_code == 2
    assert "unknown job 'send_everything'; known jobs: deliver_notifications" in unknown.output
    assert naive.exit_code == 2
    assert "has no UTC offset" in naive.output
    assert listing.exit_code == 0
    assert "cleanup_expired\tenabled\tcron='30 3 * * *'" in listing.output
    assert "last run" in listing.output
