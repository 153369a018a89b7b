"""Outbox writes and e-mail delivery.

``enqueue`` stores a notification once per recipient, kind and subject.
``deliver_pending`` claims due e-mail copies with one conditional UPDATE
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL), sends them over SMTP and records
each outcome only if its claim is still current. Two workers therefore do not
send the same row, unless a send outlasts the claim's lifetime or a worker
dies between sending and recording.
"""

import logging
import os
import smtplib
import socket
import ssl
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Optional, Union

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from sqlalchemy.dialects import postgresql, sqlite

from lms.accounts.models import User
from lms.db import now_utc
from lms.extensions import db
from lms.notifications import setting
from lms.i18n import user_language
from lms.notifications import models
from lms.notifications.models import (
    EmailPreference,
    EmailStatus,
    Notification,
    shorten_title,
)
from lms.stored_text import Text, split_text

logger = logging.getLogger("lms.notifications")

#: Longest stored title, in characters; ``enqueue`` cuts longer ones.
TITLE_MAX = models.TITLE_MAX
ERROR_MAX = 500


def dedupe_key(
    recipient_id: int,
    kind: str,
    subject_type: str,
    subject_id: int,
    suffix: Optional[str] = None,
) -> str:
    """Return the key that makes a notification unique.

    ``suffix`` tells apart repeated notifications of one kind about one
    subject, e.g. the reminder 3 days and the one 1 day before a deadline.
    """
    key = f"{recipient_id}:{kind}:{subject_type}:{subject_id}"
    return f"{key}:{suffix}" if suffix else key


def email_enabled(user: User, kind: str) -> bool:
    """Return whether ``user`` accepts e-mail copies of ``kind`` (on unless opted out)."""
    preference = db.session.get(EmailPreference, (user.id, kind))
    return preference is None or preference.email_enabled


def set_email_preference(user: User, kind: str, enabled: bool) -> EmailPreference:
    """Turn e-mail copies of one notification kind on or off for ``user``."""
    preference = db.session.get(EmailPreference, (user.id, kind))
    if preference is None:
        preference = EmailPreference(user_id=user.id, kind=kind)
        db.session.add(preference)
    preference.email_enabled = enabled
    db.session.flush()
    return preference


def _email_skip_reason(user: User, kind: str) -> Optional[str]:
    if not user.active:
        return "recipient account is inactive"
    if not user.email:
        return "recipient has no e-mail address"
    if not email_enabled(user, kind):
        return "recipient opted out of this kind"
    return None


def _insert_ignoring_duplicate(values: dict):
    """Build an INSERT that does nothing when ``dedupe_key`` already exists."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        insert = postgresql.insert(Notification)
    elif dialect == "sqlite":
        insert = sqlite.insert(Notification)
    else:
        raise NotImplementedError(f"enqueue supports PostgreSQL and SQLite, not {dialect}")
    return insert.values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])


def enqueue(
    recipient: Union[User, int],
    kind: str,
    subject_type: str,
    subject_id: int,
    title: Text,
    body: Text,
    *,
    link: Optional[str] = None,
    now: Optional[datetime] = None,
    key_suffix: Optional[str] = None,
) -> Notification:
    """Store a notification unless one exists for the same recipient, kind and subject.

    Returns the stored row, new or existing. ``title`` and ``body`` are
    stored text (``lms.stored_text``), which pages and the e-mail copy
    render in the reader's language, or plain text already in the
    recipient's language, shown as it is. The e-mail copy starts pending,
    or skipped when the recipient is inactive, has no address or opted out.
    Concurrent callers with the same key store one row, because the INSERT
    uses ON CONFLICT DO NOTHING on the unique ``dedupe_key``. ``key_suffix``
    is added to the key (see ``dedupe_key``).
    """
    user = recipient if isinstance(recipient, User) else db.session.get(User, recipient)
    if user is None:
        raise ValueError(f"recipient user {recipient!r} not found")
    now = now or now_utc()
    key = dedupe_key(user.id, kind, subject_type, subject_id, key_suffix)
    language = user_language(user)
    title, title_data = split_text(title, language)
    body, body_data = split_text(body, language)
    title = shorten_title(title)

    skip_reason = _email_skip_reason(user, kind)
    values = {
        "recipient_id": user.id,
        "kind": kind,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "dedupe_key": key,
        "title": title,
        "body": body,
        "title_data": title_data,
        "body_data": body_data,
        "link": link,
        "created_at": now,
        "email_attempts": 0,
    }
    if skip_reason:
        values.update(email_status=EmailStatus.SKIPPED, last_error=skip_reason)
    else:
        values.update(email_status=EmailStatus.PENDING, next_attempt_at=now)

    db.session.flush()
    inserted = db.session.execute(_insert_ignoring_duplicate(values)).rowcount
    notification = db.session.scalars(
        sa.select(Notification).where(Notification.dedupe_key == key)
    ).one()
    if inserted:
        logger.info("notification %s queued for user %s: %s", notification.id, user.id, kind)
    return notification


def mark_read(notification: Notification, now: Optional[datetime] = None) -> bool:
    """Mark a notification read; return False if it was already read."""
    if notification.read_at is not None:
        return False
    notification.read_at = now or now_utc()
    db.session.flush()
    return True


def settle(kind: str, subject_type: str, subject_id: int, now: Optional[datetime] = None) -> int:
    """Mark the unread notifications of ``kind`` about one subject as read.

    For requests to act that someone has dealt with, such as a review another
    reviewer decided: they no longer show as new, and e-mail copies not yet
    claimed by a delivery worker are skipped. Returns the number of
    notifications marked read.
    """
    now = now or now_utc()
    about = (
        Notification.kind == kind,
        Notification.subject_type == subject_type,
        Notification.subject_id == subject_id,
    )
    db.session.execute(
        sa.update(Notification)
        .where(
            *about,
            Notification.email_status == EmailStatus.PENDING,
            sa.or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
        )
        .values(
            email_status=EmailStatus.SKIPPED,
            last_error="no longer needed: already dealt with",
            next_attempt_at=None,
            claimed_by=None,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    result = db.session.execute(
        sa.update(Notification)
        .where(*about, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def retry_delay(attempts: int) -> timedelta:
    """Return the wait after the ``attempts``-th failed attempt: exponential, capped."""
    base = int(setting("LMS_MAIL_RETRY_BASE_SECONDS"))
    cap = int(setting("LMS_MAIL_RETRY_MAX_SECONDS"))
    exponent = max(attempts - 1, 0)
    # Compare exponents first so a large attempt count never builds a huge integer.
    if exponent >= 32:
        return timedelta(seconds=cap)
    return timedelta(seconds=min(base * 2**exponent, cap))


@dataclass
class DeliveryReport:
    """Counts from one ``deliver_pending`` run."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0

    def as_dict(self) -> dict:
        return {
            "claimed": self.claimed,
            "sent": self.sent,
            "retried": self.retried,
            "failed": self.failed,
            "skipped": self.skipped,
        }


class _PermanentFailure(Exception):
    """The e-mail can never be sent as it is, e.g. the server rejected the address."""


class _ConnectionFailure(Exception):
    """The SMTP server could not be reached or refused the session."""


def deliver_pending(now: Optional[datetime] = None) -> DeliveryReport:
    """Send the e-mail copies that are due, and record each outcome.

    Unlike most services this commits: the claim must be visible to other
    workers before the first message goes out, and each outcome is committed
    right after its send, so a crash repeats at most the message in flight.
    Call it with no uncommitted work in the session. Without
    ``LMS_SMTP_HOST`` every due e-mail is marked skipped.

    A transient failure (4xx reply, timeout, lost connection) leaves the row
    pending and moves ``next_attempt_at`` back by ``retry_delay``. The row
    is marked failed after ``LMS_MAIL_MAX_ATTEMPTS`` attempts, or at once on
    a 5xx rejection.
    """
    now = now or now_utc()
    report = DeliveryReport()
    if not setting("LMS_SMTP_HOST"):
        report.skipped = _skip_due(now, "LMS_SMTP_HOST is not set")
        db.session.commit()
        return report
    sender = setting("LMS_MAIL_FROM")
    if not sender:
        raise RuntimeError(
            "LMS_MAIL_FROM is not set: set it to the sender, "
            "e.g. '树人培训平台 <noreply@example.edu.cn>'"
        )

    token = _claim_token()
    claimed_ids = _claim_due(now, token)
    db.session.commit()
    report.claimed = len(claimed_ids)
    if not claimed_ids:
        return report

    rows = db.session.scalars(
        sa.select(Notification)
        .where(Notification.id.in_(claimed_ids))
        .order_by(Notification.next_attempt_at, Notification.id)
    ).all()
    with _SmtpSession() as smtp:
        for index, notification in enumerate(rows):
            try:
                _deliver_one(smtp, notification, sender, token, now, report)
            except _ConnectionFailure as exc:
                # The server is unreachable: every remaining row counts an attempt
                # now, instead of each one waiting for its own connect timeout.
                for remaining in rows[index:]:
                    gave_up = _record_failure(remaining, token, now, str(exc), permanent=False)
                    _count_failure(report, gave_up)
                db.session.commit()
                break
    logger.info("e-mail delivery: %s", report.as_dict())
    return report


def _skip_due(now: datetime, reason: str) -> int:
    result = db.session.execute(
        sa.update(Notification)
        .where(
            Notification.email_status == EmailStatus.PENDING,
            Notification.next_attempt_at <= now,
            sa.or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
        )
        .values(
            email_status=EmailStatus.SKIPPED,
            last_error=reason,
            next_attempt_at=None,
            claimed_by=None,
            claimed_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        logger.warning("%s e-mails skipped: %s", result.rowcount, reason)
    return result.rowcount


def _claim_token() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _claim_due(now: datetime, token: str) -> list[int]:
    """Claim up to a batch of due rows for ``token`` and return their ids.

    On PostgreSQL the inner SELECT locks the rows it picks and skips rows
    another worker is claiming at the same moment. SQLite runs one writer
    at a time and ignores the FOR UPDATE clause, so the UPDATE alone is
    atomic there. A claim expires, so rows held by a crashed worker are
    picked up again after the claim's lifetime.
    """
    batch = int(setting("LMS_MAIL_BATCH_SIZE"))
    timeout = int(setting("LMS_SMTP_TIMEOUT"))
    # Long enough to try every row of the batch even when each send times out.
    lifetime = timedelta(seconds=batch * timeout + 60)
    due = (
        sa.select(Notification.id)
        .where(
            Notification.email_status == EmailStatus.PENDING,
            Notification.next_attempt_at <= now,
            sa.or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.id.in_(due.scalar_subquery()))
        .values(claimed_by=token, claimed_until=now + lifetime)
        .returning(Notification.id)
        .execution_options(synchronize_session=False)
    )
    return list(result.scalars())


def _deliver_one(smtp, notification, sender, token, now, report) -> None:
    db.session.refresh(notification)
    if notification.claimed_by != token:
        return
    user = notification.recipient
    skip_reason = _email_skip_reason(user, notification.kind)
    if skip_reason:
        _record_outcome(
            notification,
            token,
            email_status=EmailStatus.SKIPPED,
            last_error=skip_reason,
            next_attempt_at=None,
        )
        report.skipped += 1
        db.session.commit()
        return

    try:
        message = build_message(notification, user, sender, now)
        smtp.send(message)
    except _PermanentFailure as exc:
        gave_up = _record_failure(notification, token, now, str(exc), permanent=True)
        _count_failure(report, gave_up)
    except (smtplib.SMTPException, OSError) as exc:
        permanent = _is_permanent(exc)
        gave_up = _record_failure(notification, token, now, _describe(exc), permanent=permanent)
        _count_failure(report, gave_up)
        if isinstance(exc, (smtplib.SMTPServerDisconnected, OSError)):
            smtp.reset()
    else:
        _record_outcome(
            notification,
            token,
            email_status=EmailStatus.SENT,
            email_attempts=notification.email_attempts + 1,
            sent_at=now_utc(),
            last_error=None,
            next_attempt_at=None,
        )
        report.sent += 1
        logger.info("notification %s e-mailed to user %s", notification.id, user.id)
    db.session.commit()


def _record_outcome(notification: Notification, token: str, **values) -> bool:
    """Write ``values`` and release the claim, only if ``token`` still holds it."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.id == notification.id, Notification.claimed_by == token)
        .values(claimed_by=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:
        logger.warning(
            "notification %s: claim %s expired before its outcome was recorded",
            notification.id,
            token,
        )
    return bool(result.rowcount)


def _record_failure(notification, token, now, error: str, *, permanent: bool) -> bool:
    """Count a failed attempt; return True if the e-mail is now marked failed."""
    attempts = notification.email_attempts + 1
    max_attempts = int(setting("LMS_MAIL_MAX_ATTEMPTS"))
    give_up = permanent or attempts >= max_attempts
    _record_outcome(
        notification,
        token,
        email_status=EmailStatus.FAILED if give_up else EmailStatus.PENDING,
        email_attempts=attempts,
        last_error=error[:ERROR_MAX],
        next_attempt_at=None if give_up else now + retry_delay(attempts),
    )
    log = logger.error if give_up else logger.warning
    log(
        "notification %s e-mail attempt %s of %s failed%s: %s",
        notification.id,
        attempts,
        max_attempts,
        ", giving up" if give_up else "",
        error,
    )
    return give_up


def _count_failure(report: DeliveryReport, gave_up: bool) -> None:
    if gave_up:
        report.failed += 1
    else:
        report.retried += 1


def _is_permanent(exc: Exception) -> bool:
    """Return whether the server's reply means retrying cannot help (a 5xx code)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {reply.decode(errors='replace')}"
            for address, (code, reply) in exc.recipients.items()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        message = exc.smtp_error
        if isinstance(message, bytes):
            message = message.decode(errors="replace")
        return f"{exc.smtp_code} {message}"
    return f"{type(exc).__name__}: {exc}"


def build_message(
    notification: Notification, user: User, sender: str, now: datetime
) -> EmailMessage:
    """Build the e-mail copy of a notification.

    Non-ASCII headers (Chinese names and subjects) are encoded as RFC 2047
    UTF-8 words when the message is serialized. The Message-ID depends only
    on the notification, so a copy that is sent again after a crash carries
    the same ID. Subject and text are rendered in the recipient's language
    at the time of sending.
    """
    try:
        to = Address(display_name=user.full_name or "", addr_spec=user.email or "")
    except (HeaderParseError, IndexError, ValueError) as exc:
        raise _PermanentFailure(f"invalid recipient address {user.email!r}: {exc}") from exc
    if not to.username or not to.domain:
        raise _PermanentFailure(f"invalid recipient address {user.email!r}")

    sender_domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    with force_locale(user_language(user)):
        subject = notification.display_title
        text = notification.display_body
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<shuren-notification-{notification.id}@{sender_domain}>"
    if notification.link:
        base = current_app.config.get("PUBLIC_URL", "").rstrip("/")
        text = f"{text}\n\n{base}{notification.link}"
    message.set_content(text)
    return message


class _SmtpSession:
    """One SMTP connection, opened on first use and reopened after a failure."""

    def __init__(self):
        self._smtp: Optional[smtplib.SMTP] = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.reset(polite=True)

    def reset(self, polite: bool = False) -> None:
        if self._smtp is None:
            return
        try:
            if polite:
                self._smtp.quit()
            else:
                self._smtp.close()
        except (smtplib.SMTPException, OSError):
            self._smtp.close()
        self._smtp = None

    def send(self, message: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        self._smtp.send_message(message)

    def _connect(self) -> smtplib.SMTP:
        host = setting("LMS_SMTP_HOST")
        port = int(setting("LMS_SMTP_PORT"))
        timeout = int(setting("LMS_SMTP_TIMEOUT"))
        user = setting("LMS_SMTP_USER")
        smtp: Optional[smtplib.SMTP] = None
        try:
            if setting("LMS_SMTP_SSL"):
                context = ssl.create_default_context()
                smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
                if setting("LMS_SMTP_STARTTLS"):
                    smtp.starttls(context=ssl.create_default_context())
            if user:
                smtp.login(user, setting("LMS_SMTP_PASSWORD") or "")
        except (smtplib.SMTPException, OSError) as exc:
            if smtp is not None:
                smtp.close()
            raise _ConnectionFailure(
                f"SMTP connection to {host}:{port} failed: {_describe(exc)}"
            ) from exc
        return smtp
