"""Scheduled jobs on APScheduler 3.x, run once per scheduled time across processes.

APScheduler 3.x does not coordinate processes: every scheduler that has a
job fires it. Two guards keep each scheduled time (slot) to one run:

* a lock per job id: ``pg_try_advisory_xact_lock`` on PostgreSQL, and on
  other databases (SQLite) a ``job_lease`` row taken by a conditional UPDATE
  that matches only an expired lease. A process that cannot take the lock
  skips the slot, so one job never runs twice at the same time.
* a ``job_run`` row per (job id, slot) under a UNIQUE constraint, written
  before the job body starts. A process that takes the lock after another
  one finished the slot finds the row and skips.

The schedule itself is stored in the app database (``scheduled_job``,
through APScheduler's SQLAlchemy job store), so each job's next run time
survives a restart. A run that fell due while no scheduler was up starts
late, within its grace time, instead of being lost, and a job paused on the
admin page stays paused. Every scheduler may share that table, because the
guards above decide who runs a slot.

Jobs and their times come from ``DEFAULT_JOBS``, then the ``LMS_JOBS`` JSON
object, then per-job variables, for example::

    LMS_JOBS='{"cleanup_expired": {"cron": "15 2 * * *"},
               "deliver_notifications": {"enabled": false}}'
    LMS_JOB_CERTIFICATE_EXPIRY_REMINDERS_CRON='30 8 * * *'
    LMS_JOB_DELIVER_NOTIFICATIONS_ENABLED=false

A ``cron`` value is a five-field crontab string (minute hour day month
weekday) or an object of ``CronTrigger`` fields such as ``{"hour": 8}``. In
APScheduler 3.x a numeric weekday 0 is Monday, not Sunday as in crontab, so
write weekdays as names (``mon-fri``). Times are in the zone set by
``LMS_TIMEZONE`` (Asia/Shanghai by default).
"""

import atexit
import hashlib
import importlib
import json
import logging
import os
import pickle
import socket
import time
import traceback
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Iterator, Optional, Union

import sqlalchemy as sa
from apscheduler.jobstores.base import BaseJobStore, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.util import datetime_to_utc_timestamp, utc_timestamp_to_datetime
from flask import Flask
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from lms.db import now_utc
from lms.extensions import db
from lms.notifications import setting

logger = logging.getLogger("lms.scheduler")


class _TentativeJobFilter(logging.Filter):
    """Drop APScheduler's "Adding job tentatively" line, logged once per job before start.

    Every scheduler start printed one such INFO line per job; the jobs are
    listed by ``flask lms jobs`` and the admin jobs page instead.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Adding job tentatively")


logging.getLogger("apscheduler.scheduler").addFilter(_TentativeJobFilter())

JobFunction = Callable[..., Optional[dict]]


@dataclass(frozen=True)
class JobSpec:
    """A job the scheduler can run: its id, function and default crontab.

    ``func`` is a callable or a ``"module:attribute"`` path imported on
    first use. It is called as ``func(now=<aware UTC datetime>)`` inside an
    app context and may return a dict of counts for the run history.
    """

    id: str
    func: Union[JobFunction, str]
    cron: Union[str, dict]
    #: Shown on the admin jobs page; a lazy string is translated there.
    description: object = ""
    #: Seconds after its time that a delayed run still starts (APScheduler's
    #: ``misfire_grace_time``); later than that the slot is skipped.
    misfire_grace_seconds: int = 300

    def resolve(self) -> JobFunction:
        if callable(self.func):
            return self.func
        module_name, _, attribute = self.func.partition(":")
        return getattr(importlib.import_module(module_name), attribute)


DEFAULT_JOBS: tuple[JobSpec, ...] = (
    JobSpec(
        "deliver_notifications",
        "lms.notifications.tasks:deliver_notifications",
        "* * * * *",
        _l("Send the e-mail copies of notifications that are due."),
        misfire_grace_seconds=50,
    ),
    JobSpec(
        "certificate_expiry_reminders",
        "lms.notifications.tasks:certificate_expiry_reminders",
        "0 8 * * *",
        _l("Remind holders 90, 30 and 7 days before a certificate expires, and on expiry."),
        misfire_grace_seconds=3600,
    ),
    JobSpec(
        "cleanup_expired",
        "lms.notifications.tasks:cleanup_expired",
        "30 3 * * *",
        _l("Delete old job history and old read notifications."),
        misfire_grace_seconds=3600,
    ),
    JobSpec(
        "deadline_reminders",
        "lms.notifications.deadlines:deadline_reminders",
        "0 8 * * *",
        _l("Remind people of deadlines (offline sessions and other registered sources)."),
        misfire_grace_seconds=3600,
    ),
    JobSpec(
        "compliance_reminders_monthly",
        "lms.compliance.tasks:compliance_reminders_monthly",
        "0 8 1 * *",
        _l("Remind learners at risk on a training rule; send HR the monthly summary."),
        misfire_grace_seconds=6 * 3600,
    ),
    JobSpec(
        "compliance_reminders_yearly",
        "lms.compliance.tasks:compliance_reminders_yearly",
        "0 8 1 11 *",
        _l("Remind learners still short of this year's training; send HR a summary."),
        misfire_grace_seconds=6 * 3600,
    ),
    JobSpec(
        "compliance_snapshot",
        "lms.compliance.tasks:compliance_snapshot",
        "50 23 * * *",
        _l("Store the day's compliance counts per department and rule for trend charts."),
        misfire_grace_seconds=600,
    ),
    JobSpec(
        "cleanup_sessions",
        "lms.notifications.tasks:cleanup_sessions",
        "45 3 * * *",
        _l("Delete login session records that ended more than 30 days ago."),
        misfire_grace_seconds=3600,
    ),
    JobSpec(
        "cleanup_temp_uploads",
        "lms.notifications.tasks:cleanup_temp_uploads",
        "15 * * * *",
        _l(
            "Delete temporary uploads, unconfirmed import previews and unused "
            "lesson images older than the configured age."
        ),
        misfire_grace_seconds=1800,
    ),
    JobSpec(
        "certificate_batches",
        "certificates.batches:resume_batches",
        "* * * * *",
        _l("Run queued certificate batches and resume those whose runner stopped."),
        misfire_grace_seconds=50,
    ),
    JobSpec(
        "close_expired_attempts",
        "assessments.services:close_expired_attempts_job",
        "*/5 * * * *",
        _l("Close and grade quiz attempts left open after their time limit or the quiz closing."),
        misfire_grace_seconds=240,
    ),
)


class JobConfigError(ValueError):
    """``LMS_JOBS`` or an ``LMS_JOB_*`` variable is invalid."""


@dataclass(frozen=True)
class JobSettings:
    spec: JobSpec
    enabled: bool
    cron: Union[str, dict]


def _spec_table(specs: Optional[tuple[JobSpec, ...]] = None) -> dict[str, JobSpec]:
    return {spec.id: spec for spec in (specs or DEFAULT_JOBS)}


def _parse_bool(name: str, value) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise JobConfigError(f"{name}={value!r} is invalid: expected true or false")


def _jobs_overrides(config: dict, known: dict[str, JobSpec]) -> dict:
    raw = config.get("LMS_JOBS", os.environ.get("LMS_JOBS"))
    if not raw:
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise JobConfigError(f"LMS_JOBS is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise JobConfigError("LMS_JOBS must be a JSON object keyed by job id")
    for job_id, value in raw.items():
        if job_id not in known:
            raise JobConfigError(
                f"LMS_JOBS names unknown job {job_id!r}; known jobs: {', '.join(known)}"
            )
        if not isinstance(value, dict) or set(value) - {"enabled", "cron"}:
            raise JobConfigError(
                f"LMS_JOBS[{job_id!r}] must be an object with 'enabled' and/or 'cron'"
            )
    return raw


def job_settings(
    config: dict, specs: Optional[tuple[JobSpec, ...]] = None
) -> list[JobSettings]:
    """Return each job's enabled flag and crontab after applying the overrides."""
    known = _spec_table(specs)
    overrides = _jobs_overrides(config, known)
    result = []
    for spec in known.values():
        enabled, cron = True, spec.cron
        override = overrides.get(spec.id, {})
        if "enabled" in override:
            enabled = _parse_bool(f"LMS_JOBS[{spec.id!r}].enabled", override["enabled"])
        if "cron" in override:
            cron = override["cron"]
        prefix = f"LMS_JOB_{spec.id.upper()}_"
        if os.environ.get(prefix + "ENABLED"):
            enabled = _parse_bool(prefix + "ENABLED", os.environ[prefix + "ENABLED"])
        if os.environ.get(prefix + "CRON"):
            cron = os.environ[prefix + "CRON"]
        result.append(JobSettings(spec, enabled, cron))
    return result


def make_trigger(job_id: str, cron: Union[str, dict], timezone: str) -> CronTrigger:
    """Build the trigger for a crontab string or a dict of CronTrigger fields."""
    try:
        if isinstance(cron, dict):
            return CronTrigger(timezone=timezone, **cron)
        return CronTrigger.from_crontab(str(cron), timezone=timezone)
    except (TypeError, ValueError, LookupError) as exc:
        raise JobConfigError(f"invalid schedule {cron!r} for job {job_id!r}: {exc}") from None


def latest_fire_time(
    trigger: CronTrigger, now: datetime, lookback: timedelta
) -> Optional[datetime]:
    """Return the trigger's last fire time in ``[now - lookback, now]``, or None.

    APScheduler 3.x does not pass the scheduled time to the job function,
    so the wrapper recovers it from the trigger. APScheduler starts a run
    shortly after its time, and with ``coalesce=True`` a late run replaces
    the missed ones and carries the latest missed time, which is also what
    this returns.
    """
    fire = trigger.get_next_fire_time(None, now - lookback)
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire)
    return latest


class AppJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy job store on the app's engine and ``scheduled_job``.

    The table belongs to the app's migrations, so the store never creates
    it, and the engine belongs to the app, so a scheduler's shutdown leaves
    it open.
    """

    def __init__(self, engine: sa.Engine) -> None:
        from lms.notifications.models import ScheduledJob

        BaseJobStore.__init__(self)
        self.pickle_protocol = pickle.HIGHEST_PROTOCOL
        self.engine = engine
        self.jobs_t = ScheduledJob.__table__

    def start(self, scheduler, alias) -> None:
        BaseJobStore.start(self, scheduler, alias)

    def shutdown(self) -> None:
        pass

    def update_job(self, job) -> None:
        """Store the job's new state, unless it was paused since the scheduler read it.

        A scheduler writes a job back after running it. An admin may pause
        the job in between (``set_paused`` writes the row directly), and a
        plain update would resume it. So an update that carries a next run
        time changes only a row that is not paused.
        """
        table = self.jobs_t
        next_run = datetime_to_utc_timestamp(job.next_run_time)
        update = (
            table.update()
            .values(
                next_run_time=next_run,
                job_state=pickle.dumps(job.__getstate__(), self.pickle_protocol),
            )
            .where(table.c.id == job.id)
        )
        if next_run is not None:
            update = update.where(table.c.next_run_time.is_not(None))
        with self.engine.begin() as connection:
            if connection.execute(update).rowcount:
                return
            exists = connection.scalar(sa.select(table.c.id).where(table.c.id == job.id))
        if exists is None:
            raise JobLookupError(job.id)
        logger.info("job %s was paused while it ran; it stays paused", job.id)


#: The app, spec and trigger of each job id in this process. The job store
#: keeps only the job id as the argument, because the app and a spec's
#: function cannot be pickled. Each process fills this table when it builds
#: its scheduler.
_registered: dict[str, tuple[Flask, JobSpec, CronTrigger]] = {}


def build_scheduler(
    app: Flask,
    *,
    blocking: bool = False,
    specs: Optional[tuple[JobSpec, ...]] = None,
) -> BaseScheduler:
    """Build a scheduler with every enabled job; the caller starts it.

    Jobs go to the ``scheduled_job`` table. A job whose schedule is
    unchanged keeps its stored next run time, so a slot missed while no
    scheduler ran still starts (late, within its grace time). A paused job
    stays paused, a changed schedule starts afresh, and a job that is no
    longer enabled is removed from the table. Each job has a stable id,
    ``coalesce=True`` and ``max_instances=1``, and runs through
    ``run_job_once`` in an app context.
    """
    timezone = app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(timezone=timezone)
    with app.app_context():
        store = AppJobStore(db.engine)
        stored = {job.id: job for job in store.get_all_jobs()}
    scheduler.add_jobstore(store, "default")
    scheduled = set()
    for settings in job_settings(app.config, specs):
        job_id = settings.spec.id
        if not settings.enabled:
            logger.info("job %s is disabled", job_id)
            continue
        trigger = make_trigger(job_id, settings.cron, timezone)
        _registered[job_id] = (app, settings.spec, trigger)
        scheduled.add(job_id)
        options = {}
        previous = stored.get(job_id)
        if previous is not None and previous.next_run_time is None:
            options["next_run_time"] = None
        elif previous is not None and repr(previous.trigger) == repr(trigger):
            options["next_run_time"] = previous.next_run_time
        scheduler.add_job(
            _scheduled_call,
            trigger=trigger,
            args=(job_id,),
            id=job_id,
            name=job_id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=settings.spec.misfire_grace_seconds,
            replace_existing=True,
            **options,
        )
    unscheduled = set(stored) - scheduled
    if unscheduled and specs is None:
        # Only the full job list may prune: a scheduler built for a few
        # specs (a test, a one-off tool) must not unschedule the others.
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(store.jobs_t.delete().where(store.jobs_t.c.id.in_(unscheduled)))
        logger.info("removed jobs no longer enabled: %s", ", ".join(sorted(unscheduled)))
    return scheduler


def _scheduled_call(job_id: str) -> None:
    try:
        app, spec, trigger = _registered[job_id]
    except KeyError:
        logger.warning("job %s skipped: this process has no configuration for it", job_id)
        return
    now = now_utc()
    # A few seconds beyond the grace time cover the delay between APScheduler's
    # misfire check and this call.
    lookback = timedelta(seconds=spec.misfire_grace_seconds + 5)
    slot = latest_fire_time(trigger, now, lookback)
    if slot is None:
        # Without the slot, two processes could not agree on the run to keep.
        logger.warning("job %s skipped: no scheduled time within %s of %s", spec.id, lookback, now)
        return
    with app.app_context():
        run_job_once(spec.id, scheduled_for=slot, specs=(spec,))


def stored_schedule() -> dict[str, Optional[datetime]]:
    """Return the next run time of each stored job (None while paused), by job id.

    Needs an app context. A job that no scheduler has stored yet is absent.
    """
    from lms.notifications.models import ScheduledJob

    rows = db.session.execute(sa.select(ScheduledJob.id, ScheduledJob.next_run_time)).all()
    return {row.id: utc_timestamp_to_datetime(row.next_run_time) for row in rows}


def set_paused(job_id: str, paused: bool, *, now: Optional[datetime] = None) -> Optional[datetime]:
    """Pause or resume a stored job and return its next run time (None when paused).

    Works from any process. A running scheduler reads the stored time when
    it next wakes (within a minute while ``deliver_notifications`` runs
    every minute) and skips a paused job. A resumed job's next run is the
    trigger's next time after ``now``; missed slots are not made up. Raises
    LookupError when no scheduler has stored the job yet. The change is
    made in the current database session, and the caller commits it.
    """
    from lms.notifications.models import ScheduledJob

    row = db.session.get(ScheduledJob, job_id, with_for_update=True)
    if row is None:
        raise LookupError(job_id)
    state = pickle.loads(row.job_state)
    if paused:
        next_run = None
    else:
        next_run = state["trigger"].get_next_fire_time(None, now or now_utc())
    state["next_run_time"] = next_run
    row.job_state = pickle.dumps(state, pickle.HIGHEST_PROTOCOL)
    row.next_run_time = datetime_to_utc_timestamp(next_run)
    return next_run


_in_process_scheduler: Optional[BackgroundScheduler] = None


def start_in_process(app: Flask) -> Optional[BackgroundScheduler]:
    """Start a background scheduler in this process, once; return it.

    Meant for a single-process deployment (``LMS_SCHEDULER=inprocess``).
    Every process that calls it runs its own scheduler, and the job locks
    and slot rows keep each scheduled time to one run. It refuses to start
    under the test runner or when ``app.testing`` is set, and returns None.
    """
    global _in_process_scheduler
    if app.testing or "PYTEST_CURRENT_TEST" in os.environ:
        logger.info("in-process scheduler not started: running under tests")
        return None
    if _in_process_scheduler is not None:
        return _in_process_scheduler
    scheduler = build_scheduler(app, blocking=False)
    scheduler.start()
    atexit.register(_shutdown_in_process)
    _in_process_scheduler = scheduler
    logger.info("in-process scheduler started in pid %s", os.getpid())
    return scheduler


def _shutdown_in_process() -> None:
    if _in_process_scheduler is not None and _in_process_scheduler.running:
        _in_process_scheduler.shutdown(wait=False)


# --- locks ---------------------------------------------------------------


def advisory_lock_key(job_id: str) -> int:
    """Return a stable signed 64-bit key for ``pg_try_advisory_xact_lock``."""
    digest = hashlib.sha256(f"shuren.job:{job_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def job_lock(job_id: str) -> Iterator[bool]:
    """Hold the job's lock for the body of the ``with`` block, if it is free.

    Yields True when this process holds the lock and False when another
    process holds it, without waiting for that process. The session must
    have no uncommitted writes, because on SQLite the lease is written on a
    second connection.
    """
    if db.engine.dialect.name == "postgresql":
        with _advisory_lock(job_id) as acquired:
            yield acquired
    else:
        with _lease(job_id) as acquired:
            yield acquired


@contextmanager
def _advisory_lock(job_id: str) -> Iterator[bool]:
    # A transaction-level lock on a connection of its own: it ends with that
    # transaction, so the lock cannot stay behind on a pooled connection, and
    # PostgreSQL releases it if this process dies.
    with db.engine.connect() as connection:
        with connection.begin() as transaction:
            acquired = connection.execute(
                sa.select(sa.func.pg_try_advisory_xact_lock(advisory_lock_key(job_id)))
            ).scalar_one()
            try:
                yield bool(acquired)
            finally:
                transaction.rollback()


@contextmanager
def _lease(job_id: str) -> Iterator[bool]:
    from lms.notifications.models import JobLease

    owner = f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    lifetime = timedelta(seconds=int(setting("LMS_JOB_LEASE_SECONDS")))
    now = now_utc()
    with db.engine.begin() as connection:
        result = connection.execute(
            sa.update(JobLease)
            .where(JobLease.job_id == job_id, JobLease.expires_at <= now)
            .values(owner=owner, expires_at=now + lifetime)
        )
        acquired = result.rowcount == 1
    if not acquired:
        try:
            with db.engine.begin() as connection:
                connection.execute(
                    sa.insert(JobLease).values(
                        job_id=job_id, owner=owner, expires_at=now + lifetime
                    )
                )
            acquired = True
        except IntegrityError:
            acquired = False
    try:
        yield acquired
    finally:
        if acquired:
            with db.engine.begin() as connection:
                connection.execute(
                    sa.update(JobLease)
                    .where(JobLease.job_id == job_id, JobLease.owner == owner)
                    .values(expires_at=now_utc())
                )


# --- running a job -------------------------------------------------------


def find_job(job_id: str, specs: Optional[tuple[JobSpec, ...]] = None) -> JobSpec:
    """Return the spec of ``job_id``; raise KeyError naming the known ids."""
    known = _spec_table(specs)
    if job_id not in known:
        raise KeyError(f"unknown job {job_id!r}; known jobs: {', '.join(known)}")
    return known[job_id]


def run_job_once(
    job_id: str,
    *,
    scheduled_for: Optional[datetime] = None,
    now: Optional[datetime] = None,
    specs: Optional[tuple[JobSpec, ...]] = None,
):
    """Run a job under its lock and record the run; return the JobRun or None.

    Needs an app context and a session without uncommitted work. Returns
    None, without running the job, when another process holds the job's
    lock or a run for ``scheduled_for`` already exists. With no
    ``scheduled_for`` (a run started by hand) only the lock applies. A job
    that raises is rolled back and recorded with ``ok=False`` and the
    traceback, and the error is logged, not raised.
    """
    from lms.notifications.models import JobRun

    spec = find_job(job_id, specs)
    function = spec.resolve()
    db.session.commit()
    with job_lock(job_id) as acquired:
        if not acquired:
            logger.debug("job %s skipped: another process holds its lock", job_id)
            return None
        run = JobRun(
            job_id=job_id,
            scheduled_for=scheduled_for,
            started_at=now_utc(),
            host=socket.gethostname()[:255],
            pid=os.getpid(),
        )
        try:
            with db.session.begin_nested():
                db.session.add(run)
        except IntegrityError:
            db.session.rollback()
            logger.debug("job %s skipped: slot %s already ran", job_id, scheduled_for)
            return None
        db.session.commit()

        started = time.monotonic()
        try:
            result = function(now=now or now_utc())
            db.session.commit()
        except Exception:
            db.session.rollback()
            run.ok = False
            run.error = traceback.format_exc()[-8000:]
            logger.exception("job %s failed (run %s)", job_id, run.id)
        else:
            run.ok = True
            run.result = result if isinstance(result, dict) else None
            logger.info("job %s finished (run %s): %s", job_id, run.id, run.result)
        run.finished_at = now_utc()
        run.duration_ms = int((time.monotonic() - started) * 1000)
        db.session.commit()
        return run
