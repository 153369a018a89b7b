"""``flask lms scheduler``, ``flask lms run-job`` and ``flask lms jobs``."""

import logging
import signal
from datetime import datetime, timezone

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from lms.cli import lms_cli
from lms.extensions import db

logger = logging.getLogger("lms.scheduler")


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the job scheduler in the foreground until interrupted.

    Run one per deployment next to the web workers. The schedule is stored
    in the database, so a restart runs a slot missed while it was down. A
    second instance is harmless: each scheduled time still runs once.
    """
    from lms.scheduler import JobConfigError, build_scheduler

    app = current_app._get_current_object()
    try:
        scheduler = build_scheduler(app, blocking=True)
    except JobConfigError as exc:
        raise click.ClickException(str(exc)) from None
    for job in scheduler.get_jobs():
        click.echo(f"{job.id}: {job.trigger}")

    def stop(signum, frame) -> None:
        # Stop scheduling; a job already running finishes before the process exits.
        logger.info("scheduler stopping on signal %s", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    logger.info("scheduler starting with %s jobs", len(scheduler.get_jobs()))
    try:
        scheduler.start()
    except KeyboardInterrupt:
        scheduler.shutdown(wait=False)
    logger.info("scheduler stopped")


@click.command("run-job")
@click.argument("job_id")
@click.option(
    "--now",
    "now_text",
    metavar="ISO-DATETIME",
    help="Time the job treats as now, e.g. 2026-03-01T08:00:00+08:00 (default: now).",
)
@with_appcontext
def run_job_command(job_id: str, now_text: str | None) -> None:
    """Run JOB_ID once now, under the same lock as scheduled runs."""
    from lms.scheduler import find_job, run_job_once

    try:
        find_job(job_id)
    except KeyError as exc:
        raise click.BadParameter(exc.args[0], param_hint="JOB_ID") from None
    now = _parse_now(now_text) if now_text else None
    run = run_job_once(job_id, now=now)
    if run is None:
        raise click.ClickException(
            f"job {job_id} is running in another process; try again when it finishes"
        )
    if not run.ok:
        click.echo(run.error or "", err=True)
        raise click.ClickException(f"job {job_id} failed (run {run.id})")
    click.echo(f"job {job_id} finished in {run.duration_ms} ms: {run.result or {}}")


@click.command("jobs")
@with_appcontext
def jobs_command() -> None:
    """List the jobs, their schedules, stored next runs (or pause) and last runs."""
    from lms.notifications.models import JobRun
    from lms.scheduler import JobConfigError, job_settings, make_trigger, stored_schedule

    zone = current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    now = datetime.now(timezone.utc)
    try:
        rows = [
            (settings, make_trigger(settings.spec.id, settings.cron, zone))
            for settings in job_settings(current_app.config)
        ]
    except JobConfigError as exc:
        raise click.ClickException(str(exc)) from None
    schedule = stored_schedule()
    for settings, trigger in rows:
        next_fire = None
        if settings.enabled and settings.spec.id in schedule:
            next_fire = schedule[settings.spec.id]
        elif settings.enabled:
            next_fire = trigger.get_next_fire_time(None, now)
        if not settings.enabled:
            status = "disabled"
        elif settings.spec.id in schedule and next_fire is None:
            status = "paused"
        else:
            status = "enabled"
        last = db.session.scalars(
            sa.select(JobRun)
            .where(JobRun.job_id == settings.spec.id)
            .order_by(JobRun.started_at.desc())
            .limit(1)
        ).first()
        if last is None:
            last_text = "never run"
        else:
            state = {True: "ok", False: "failed", None: "running"}[last.ok]
            last_text = f"last run {last.started_at.isoformat()} {state}"
        click.echo(
            f"{settings.spec.id}\t{status}\t"
            f"cron={settings.cron!r}\tnext={next_fire.isoformat() if next_fire else '-'}"
            f"\t{last_text}"
        )


def _parse_now(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 datetime", param_hint="--now"
        ) from None
    if value.tzinfo is None:
        raise click.BadParameter(
            f"{text!r} has no UTC offset; add one, e.g. +08:00", param_hint="--now"
        )
    return value.astimezone(timezone.utc)


def register(app: Flask) -> None:
    """Add this package's settings to ``app`` and its commands to ``flask lms``."""
    from lms import notifications

    notifications.init_app(app)
    for command in (scheduler_command, run_job_command, jobs_command):
        lms_cli.add_command(command)
