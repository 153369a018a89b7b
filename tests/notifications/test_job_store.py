"""The schedule lives in the app database and survives a scheduler restart."""

import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from apscheduler.jobstores.base import JobLookupError

from lms import scheduler
from lms.audit import AuditEntry
from lms.extensions import db
from lms.notifications.models import JobRun, ScheduledJob
from lms.scheduler import AppJobStore, JobSpec, build_scheduler, set_paused, stored_schedule
from tests.factories import build_learning_world

UTC = timezone.utc


def _start_and_stop(app, **kwargs):
    """Start a scheduler without running jobs, so it writes its jobs to the store."""
    built = build_scheduler(app, **kwargs)
    built.start(paused=True)
    jobs = {job.id: job for job in built.get_jobs()}
    built.shutdown(wait=True)
    return jobs


def test_enabled_jobs_stored_with_next_run(app, app_ctx):
    jobs = _start_and_stop(app)

    rows = {row.id: row for row in db.session.scalars(sa.select(ScheduledJob))}
    assert set(rows) == set(jobs)
    assert "certificate_expiry_reminders" in rows
    schedule = stored_schedule()
    daily = schedule["certificate_expiry_reminders"]
    # 08:00 in Shanghai is midnight UTC.
    assert (daily.hour, daily.minute) == (0, 0)
    assert daily == jobs["certificate_expiry_reminders"].next_run_time
    assert daily > datetime.now(UTC)


def test_restart_runs_missed_slot_once(app, app_ctx):
    calls = []

    def probe(now):
        calls.append(now)
        return {"calls": len(calls)}

    spec = JobSpec("catch_up_probe", probe, "* * * * *", misfire_grace_seconds=3600)
    _start_and_stop(app, specs=(spec,))
    # The scheduler was down for three slots: its stored next run is in the past.
    store = AppJobStore(db.engine)
    job = store.lookup_job("catch_up_probe")
    minute = datetime.now(UTC).replace(second=0, microsecond=0)
    job.next_run_time = minute - timedelta(minutes=2)
    store.update_job(job)

    restarted_at = datetime.now(UTC)
    built = build_scheduler(app, specs=(spec,))
    built.start()
    try:
        deadline = time.monotonic() + 10
        while not calls and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        built.shutdown(wait=True)

    db.session.expire_all()
    runs = db.session.scalars(sa.select(JobRun).where(JobRun.job_id == "catch_up_probe")).all()
    missed = [run for run in runs if run.scheduled_for <= restarted_at]
    # The three missed slots coalesce into one run of the latest of them,
    # which a schedule rebuilt from scratch would never have run.
    assert len(missed) == 1
    assert missed[0].ok is True
    assert missed[0].scheduled_for >= minute - timedelta(minutes=2)
    assert missed[0].scheduled_for == scheduler.latest_fire_time(
        scheduler.make_trigger("catch_up_probe", "* * * * *", "Asia/Shanghai"),
        restarted_at,
        timedelta(minutes=5),
    )


def test_unchanged_schedule_keeps_next_run(app, app_ctx):
    _start_and_stop(app)
    store = AppJobStore(db.engine)
    job = store.lookup_job("cleanup_expired")
    stored_time = job.trigger.get_next_fire_time(None, datetime.now(UTC) + timedelta(days=3))
    job.next_run_time = stored_time
    store.update_job(job)

    jobs = _start_and_stop(app)

    assert jobs["cleanup_expired"].next_run_time == stored_time


def test_pause_survives_restart(app, app_ctx):
    _start_and_stop(app)

    assert set_paused("cleanup_expired", True) is None
    db.session.commit()
    jobs = _start_and_stop(app)

    assert jobs["cleanup_expired"].next_run_time is None
    assert jobs["deliver_notifications"].next_run_time is not None
    resumed = set_paused("cleanup_expired", False)
    db.session.commit()
    assert resumed > datetime.now(UTC)
    assert stored_schedule()["cleanup_expired"] == resumed


def test_pause_during_a_run_is_kept(app, app_ctx):
    _start_and_stop(app)
    store = AppJobStore(db.engine)
    # The scheduler read the job before running it ...
    job = store.lookup_job("cleanup_expired")
    # ... an admin paused it while it ran ...
    set_paused("cleanup_expired", True)
    db.session.commit()
    # ... and the scheduler writes back the next run time.
    job.next_run_time = datetime.now(UTC) + timedelta(hours=1)
    store.update_job(job)

    assert stored_schedule()["cleanup_expired"] is None


def test_update_of_removed_job_raises(app, app_ctx):
    _start_and_stop(app)
    store = AppJobStore(db.engine)
    job = store.lookup_job("cleanup_expired")
    store.remove_job("cleanup_expired")

    with pytest.raises(JobLookupError):
        store.update_job(job)


def test_changed_and_disabled_jobs_rescheduled(app, app_ctx, monkeypatch):
    _start_and_stop(app)
    before = stored_schedule()["cleanup_expired"]
    monkeypatch.setitem(
        app.config,
        "LMS_JOBS",
        {"cleanup_expired": {"cron": "15 2 * * *"}, "compliance_snapshot": {"enabled": False}},
    )

    _start_and_stop(app)

    schedule = stored_schedule()
    assert "compliance_snapshot" not in schedule
    # 02:15 in Shanghai is 18:15 UTC the day before.
    assert (schedule["cleanup_expired"].hour, schedule["cleanup_expired"].minute) == (18, 15)
    assert schedule["cleanup_expired"] != before


def test_partial_scheduler_keeps_other_jobs(app, app_ctx):
    _start_and_stop(app)
    spec = JobSpec("side_probe", lambda now: None, "0 9 * * *")

    _start_and_stop(app, specs=(spec,))

    schedule = stored_schedule()
    assert "side_probe" in schedule
    assert "deliver_notifications" in schedule


def test_unknown_job_in_store_is_skipped(app, app_ctx, caplog):
    scheduler._scheduled_call("no_such_job")

    assert "no configuration" in caplog.text
    assert db.session.scalar(sa.select(sa.func.count(JobRun.id))) == 0


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


@pytest.mark.usefixtures("english")
def test_admin_pauses_and_resumes_a_job(app, world, login):
    _start_and_stop(app)
    admin = login("admin")

    page = admin.post("/admin/jobs/cleanup_expired/pause", follow_redirects=True)
    text = page.get_data(as_text=True)
    row = text.split('id="job-cleanup_expired"')[1].split("</tr>")[0]

    assert "is paused" in text
    assert "Paused" in row
    assert ">Resume<" in row
    assert stored_schedule()["cleanup_expired"] is None
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "job.pause")).one()
    assert entry.data["job_id"] == "cleanup_expired"

    page = admin.post("/admin/jobs/cleanup_expired/resume", follow_redirects=True)
    row = page.get_data(as_text=True).split('id="job-cleanup_expired"')[1].split("</tr>")[0]

    assert ">Pause<" in row
    assert stored_schedule()["cleanup_expired"] is not None
    assert db.session.scalar(
        sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action == "job.resume")
    ) == 1


@pytest.mark.usefixtures("english")
def test_second_pause_changes_nothing(app, world, login):
    _start_and_stop(app)
    admin = login("admin")
    admin.post("/admin/jobs/cleanup_expired/pause")

    again = admin.post("/admin/jobs/cleanup_expired/pause", follow_redirects=True)
    resumed = stored_schedule()["deliver_notifications"]
    not_paused = admin.post("/admin/jobs/deliver_notifications/resume", follow_redirects=True)

    assert "is already paused" in again.get_data(as_text=True)
    assert "is not paused" in not_paused.get_data(as_text=True)
    assert stored_schedule()["deliver_notifications"] == resumed
    actions = db.session.scalars(sa.select(AuditEntry.action).where(
        AuditEntry.action.in_(["job.pause", "job.resume"]))).all()
    assert actions == ["job.pause"]


@pytest.mark.usefixtures("english")
def test_pause_unstored_job_explains(world, login):
    admin = login("admin")

    page = admin.post("/admin/jobs/cleanup_expired/pause", follow_redirects=True)
    text = page.get_data(as_text=True)

    assert "has not been scheduled yet" in text
    assert ">Pause<" not in text
    assert db.session.scalar(
        sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action.like("job.%"))
    ) == 0


def test_pause_needs_csrf_and_known_job(world, login):
    admin = login("admin")

    assert admin.client.post("/admin/jobs/cleanup_expired/pause").status_code == 400
    assert admin.post("/admin/jobs/no_such_job/pause").status_code == 404


def test_jobs_command_shows_schedule(app, app_ctx):
    _start_and_stop(app)
    set_paused("cleanup_expired", True)
    db.session.commit()

    output = app.test_cli_runner().invoke(args=["lms", "jobs"]).output
    lines = {line.split("\t")[0]: line.split("\t") for line in output.splitlines()}

    assert lines["cleanup_expired"][1] == "paused"
    assert lines["cleanup_expired"][3] == "next=-"
    stored = stored_schedule()["deliver_notifications"].isoformat()
    assert lines["deliver_notifications"][1:4] == ["enabled", "cron='* * * * *'", f"next={stored}"]
