"""Notification outbox, e-mail preferences, and the history and leases of scheduled jobs."""

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from lms.accounts.models import User
from lms.db import UTCDateTime, enum_column, now_utc
from lms.extensions import db
from lms.revisions import Versioned
from lms.stored_text import render_stored


class EmailStatus(enum.Enum):
    """Delivery state of a notification's e-mail copy."""

    PENDING = "pending"
    SENT = "sent"
    #: Every attempt failed, or the server rejected the recipient for good.
    FAILED = "failed"
    #: Not sent on purpose: no address, opted out, or no SMTP server configured.
    SKIPPED = "skipped"


TITLE_MAX = 200


class Notification(db.Model):
    """One message for one user, shown in the app and copied by e-mail.

    ``dedupe_key`` is unique per recipient, kind and subject, so a job that
    runs twice, or two processes running the same job, store one row. Title
    and body are stored as text in the recipient's language when the row is
    made and, unless the caller passed plain text, as a message and its
    parameters (``title_data``, ``body_data``, see ``lms.stored_text``) that
    pages render in the reader's current language.
    A delivery worker claims a pending row by setting ``claimed_by`` and
    ``claimed_until`` in one conditional UPDATE, and only the claim holder
    records the outcome.
    """

    __tablename__ = "notification"
    __table_args__ = (
        sa.Index("ix_notification_email_due", "email_status", "next_attempt_at"),
        sa.Index("ix_notification_recipient_created", "recipient_id", "created_at"),
        sa.CheckConstraint("email_attempts >= 0", name="email_attempts_not_negative"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    recipient_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE")
    )
    #: What happened, e.g. "certificate_expiring_30".
    kind: so.Mapped[str] = so.mapped_column(sa.String(64))
    subject_type: so.Mapped[str] = so.mapped_column(sa.String(32))
    subject_id: so.Mapped[int]
    dedupe_key: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(TITLE_MAX))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    #: Title and body as stored text (JSON), or None for plain text.
    title_data: so.Mapped[Optional[dict]] = so.mapped_column(sa.JSON)
    body_data: so.Mapped[Optional[dict]] = so.mapped_column(sa.JSON)
    #: Path inside the app that the notification points to, e.g. "/certificates/3".
    link: so.Mapped[Optional[str]] = so.mapped_column(sa.String(300))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    read_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    email_status: so.Mapped[EmailStatus] = so.mapped_column(
        enum_column(EmailStatus), default=EmailStatus.PENDING
    )
    email_attempts: so.Mapped[int] = so.mapped_column(default=0)
    #: Earliest time of the next e-mail attempt; None unless the status is pending.
    next_attempt_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    claimed_by: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    claimed_until: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    last_error: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
    sent_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    recipient: so.Mapped[User] = so.relationship()

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.dedupe_key}>"

    @property
    def display_title(self) -> str:
        """The title in the current language, cut to the stored title's length."""
        return shorten_title(render_stored(self.title_data, self.title))

    @property
    def display_body(self) -> str:
        """The body in the current language."""
        return render_stored(self.body_data, self.body)


def shorten_title(title: str) -> str:
    """Cut ``title`` to the title column's 200 characters, ending in an ellipsis."""
    if len(title) > TITLE_MAX:
        return title[: TITLE_MAX - 1] + "…"
    return title


class EmailPreference(db.Model):
    """A user's choice to receive, or not, e-mail copies of one notification kind.

    E-mail is on by default, so a row usually records an opt-out. In-app
    notifications are always kept.
    """

    __tablename__ = "email_preference"

    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    kind: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    email_enabled: so.Mapped[bool] = so.mapped_column(default=True)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc
    )


class EmailSettings(Versioned, db.Model):
    """The version of a user's e-mail settings page as a whole.

    The settings themselves are ``EmailPreference`` rows, one per kind. This
    row exists once the user has saved the page, and each save that changes
    a preference raises its version.
    """

    __tablename__ = "email_settings"

    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )


class JobRun(db.Model):
    """One execution of a scheduled job.

    ``(job_id, scheduled_for)`` is unique, so however many schedulers fire
    the same slot, one row (and one execution) exists for it. Runs started
    by hand have no ``scheduled_for`` and are never deduplicated.
    """

    __tablename__ = "job_run"
    __table_args__ = (
        sa.UniqueConstraint("job_id", "scheduled_for"),
        sa.Index("ix_job_run_job_started", "job_id", "started_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    job_id: so.Mapped[str] = so.mapped_column(sa.String(64))
    scheduled_for: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    finished_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    duration_ms: so.Mapped[Optional[int]]
    #: None while running, then whether the job returned without raising.
    ok: so.Mapped[Optional[bool]]
    error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    #: Counts the job returned, e.g. {"sent": 3, "failed": 1}.
    result: so.Mapped[Optional[dict]] = so.mapped_column(sa.JSON)
    host: so.Mapped[str] = so.mapped_column(sa.String(255))
    pid: so.Mapped[int]

    def __repr__(self) -> str:
        return f"<JobRun {self.id} {self.job_id} {self.scheduled_for}>"


class JobLease(db.Model):
    """Exclusive right to run one job, held until ``expires_at``.

    Used on databases without advisory locks (SQLite). A process takes the
    lease with a conditional UPDATE that matches only an expired lease, so
    at most one process holds it at a time.
    """

    __tablename__ = "job_lease"

    job_id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    owner: so.Mapped[str] = so.mapped_column(sa.String(100))
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)


class ScheduledJob(db.Model):
    """A job as the scheduler stores it: its next run time and pickled state.

    APScheduler's SQLAlchemy job store reads and writes this table (see
    ``lms.scheduler.AppJobStore``), so the columns are the ones that store
    expects. ``next_run_time`` is a UTC Unix timestamp, NULL while the job
    is paused. The schedule survives a restart: a run missed while no
    scheduler was up starts late (within the job's grace time), and a
    paused job stays paused.
    """

    __tablename__ = "scheduled_job"

    id: so.Mapped[str] = so.mapped_column(sa.Unicode(191), primary_key=True)
    next_run_time: so.Mapped[Optional[float]] = so.mapped_column(sa.Float(25), index=True)
    job_state: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
