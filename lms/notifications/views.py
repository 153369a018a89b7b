"""Admin page of the scheduled jobs: schedule, next and last run, run now, pause.

Jobs are shared by every institution on the platform, so only platform
operators (administrators with ``platform_operator`` set) see and run them.
A run by hand is audited under the operator's institution.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from lms import audit
from lms.accounts.access import operator_required
from lms.accounts.forms import EmptyForm
from lms.cron_description import describe_cron
from lms.db import now_utc
from lms.extensions import db
from lms.notifications.models import JobRun
from lms.scheduler import (
    JobConfigError,
    JobSettings,
    job_settings,
    make_trigger,
    set_paused,
    stored_schedule,
)

logger = logging.getLogger("lms.scheduler")

bp = Blueprint("jobs", __name__)


@dataclass
class JobRow:
    """One line of the jobs page."""

    settings: JobSettings
    next_run: Optional[datetime]
    #: Whether a scheduler has stored the job (only a stored job can be paused).
    stored: bool
    paused: bool
    last_run: Optional[JobRun]
    #: The latest run that failed, shown even when a later run succeeded.
    last_failure: Optional[JobRun]

    @property
    def schedule_words(self) -> Optional[str]:
        """The schedule in the reader's language, or None to show the cron expression."""
        return describe_cron(self.settings.cron)


def _last_run(job_id: str, *conditions) -> Optional[JobRun]:
    return db.session.scalars(
        sa.select(JobRun)
        .where(JobRun.job_id == job_id, *conditions)
        .order_by(JobRun.started_at.desc(), JobRun.id.desc())
        .limit(1)
    ).first()


def job_rows(now: datetime) -> list[JobRow]:
    """Return every job with its next run and its latest run.

    The next run is the scheduler's stored time; for a job no scheduler
    has stored yet, it is the schedule's next time after ``now``.
    """
    zone = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    schedule = stored_schedule()
    rows = []
    for settings in job_settings(current_app.config):
        job_id = settings.spec.id
        stored = settings.enabled and job_id in schedule
        paused = stored and schedule[job_id] is None
        next_run = None
        if stored:
            next_run = schedule[job_id]
        elif settings.enabled:
            trigger = make_trigger(job_id, settings.cron, zone)
            next_run = trigger.get_next_fire_time(None, now)
        rows.append(
            JobRow(
                settings,
                next_run,
                stored,
                paused,
                _last_run(job_id),
                _last_run(job_id, JobRun.ok.is_(False)),
            )
        )
    return rows


#: Labels of the counts that jobs return for the run history.
RESULT_LABELS = {
    "claimed": _l("claimed"),
    "sent": _l("sent"),
    "retried": _l("to retry"),
    "failed": _l("failed"),
    "skipped": _l("skipped"),
    "checked": _l("checked"),
    "queued": _l("queued"),
    "failed_sources": _l("failed sources"),
    "reminders": _l("reminders"),
    "summaries": _l("HR summaries"),
    "institutions": _l("institutions"),
    "rows": _l("rows"),
    "closed": _l("attempts closed"),
    "batches": _l("batches run"),
    "job_runs_deleted": _l("job runs deleted"),
    "notifications_deleted": _l("notifications deleted"),
    "sessions_deleted": _l("sessions deleted"),
    "files_deleted": _l("files deleted"),
    "folders_deleted": _l("folders deleted"),
    "hr_record_previews_deleted": _l("HR record upload previews deleted"),
    "score_sheet_previews_deleted": _l("score sheet previews deleted"),
    "roster_previews_deleted": _l("class roster previews deleted"),
    "question_import_previews_deleted": _l("question import previews deleted"),
    "framework_import_previews_deleted": _l("framework import previews deleted"),
    "lesson_images_deleted": _l("unused lesson images deleted"),
}


#: Without a scheduled run for this long, the page warns that no scheduler
#: is running. ``deliver_notifications`` runs every minute by default.
HEARTBEAT_LIMIT = timedelta(minutes=10)


def last_scheduled_run() -> Optional[datetime]:
    """Return the start of the latest run that a scheduler (not a person) began."""
    return db.session.scalar(
        sa.select(sa.func.max(JobRun.started_at)).where(JobRun.scheduled_for.is_not(None))
    )


def scheduler_silent(rows: list[JobRow], now: datetime) -> bool:
    """Return whether every-minute delivery is on but no scheduled run started lately."""
    delivery_on = any(
        row.settings.spec.id == "deliver_notifications" and row.settings.enabled
        for row in rows
    )
    if not delivery_on:
        return False
    latest = last_scheduled_run()
    if latest is not None and latest.tzinfo is None:
        latest = latest.replace(tzinfo=timezone.utc)
    return latest is None or now - latest > HEARTBEAT_LIMIT


@bp.route("/admin/jobs")
@operator_required
def index():
    now = now_utc()
    try:
        rows = job_rows(now)
        config_error = None
    except JobConfigError as exc:
        rows, config_error = [], str(exc)
    # Schedules fire in the scheduler's zone, which need not be the reader's.
    schedule_zone = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    return render_template(
        "lms/jobs.html",
        rows=rows,
        config_error=config_error,
        schedule_zone=schedule_zone if schedule_zone != str(get_timezone()) else None,
        silent=scheduler_silent(rows, now),
        last_scheduled=last_scheduled_run(),
        result_labels=RESULT_LABELS,
        form=EmptyForm(),
    )


@bp.route("/admin/jobs/<job_id>/run", methods=["POST"])
@operator_required
def run_now(job_id: str):
    from lms.scheduler import find_job, run_job_once

    try:
        spec = find_job(job_id)
    except KeyError:
        abort(404)
    # Flashes name the job by its translated description because the id is a config key.
    job_name = str(spec.description) if spec.description else job_id
    if not EmptyForm().validate_on_submit():
        abort(400)
    actor = current_user._get_current_object()
    actor_id, institution_id, username = actor.id, actor.institution_id, actor.username
    run = run_job_once(job_id)
    if run is None:
        outcome = "skipped because another process is running it"
    elif run.ok:
        outcome = "ok"
    else:
        outcome = "failed"
    audit.record(
        "job.run_now",
        "job_run",
        run.id if run is not None else 0,
        f"{username} ran job {job_id} by hand: {outcome}",
        actor_id=actor_id,
        institution_id=institution_id,
        data={"job_id": job_id, "ok": None if run is None else run.ok},
    )
    db.session.commit()
    if run is None:
        flash(
            _("Job running in another process, try again later: %(job)s", job=job_name),
            "error",
        )
    elif run.ok:
        flash(_("Job finished: %(job)s", job=job_name), "success")
    else:
        flash(_("Job failed, the error is shown below: %(job)s", job=job_name), "error")
    return redirect(url_for("jobs.index"))


@bp.route("/admin/jobs/<job_id>/pause", methods=["POST"], defaults={"paused": True})
@bp.route("/admin/jobs/<job_id>/resume", methods=["POST"], defaults={"paused": False})
@operator_required
def pause(job_id: str, paused: bool):
    from lms.scheduler import find_job

    try:
        find_job(job_id)
    except KeyError:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    stored = stored_schedule()
    if job_id in stored and (stored[job_id] is None) == paused:
        # A second click or a stale page: nothing changes, so nothing is audited.
        if paused:
            flash(_("Job %(job)s is already paused.", job=job_id), "success")
        else:
            flash(_("Job %(job)s is not paused.", job=job_id), "success")
        return redirect(url_for("jobs.index"))
    try:
        next_run = set_paused(job_id, paused)
    except LookupError:
        flash(
            _(
                "Job %(job)s has not been scheduled yet: start the scheduler"
                " (flask lms scheduler) first.",
                job=job_id,
            ),
            "error",
        )
        return redirect(url_for("jobs.index"))
    actor = current_user._get_current_object()
    audit.record(
        "job.pause" if paused else "job.resume",
        "job",
        0,
        f"{actor.username} {'paused' if paused else 'resumed'} job {job_id}",
        actor_id=actor.id,
        institution_id=actor.institution_id,
        data={"job_id": job_id, "next_run": next_run.isoformat() if next_run else None},
    )
    db.session.commit()
    if paused:
        flash(_("Job %(job)s is paused; it will not run until it is resumed.", job=job_id), "success")
    else:
        flash(_("Job %(job)s is resumed.", job=job_id), "success")
    return redirect(url_for("jobs.index"))
