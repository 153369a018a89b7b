"""E-mail delivery: SMTP against a local server, retries with backoff, and claims."""

import os
import threading
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa

from lms.extensions import db
from lms.notifications import services
from lms.notifications.models import EmailStatus, Notification
from tests.notifications.conftest import free_port, make_person

NOW = datetime(2026, 3, 1, 0, 0, tzinfo=timezone.utc)
SUBJECT = "证书即将到期：辅导员岗前培训合格证书"


def _queue(user, subject_id=1, title=SUBJECT, body="您的证书将于30天后到期。"):
    notification = services.enqueue(
        user, "certificate_expiring_30", "certificate", subject_id, title, body, now=NOW
    )
    db.session.commit()
    return notification.id


def _reload(notification_id: int) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, notification_id)


def test_smtp_delivers_chinese_subject_once(institution, smtp_server, mail_settings):
    handler, port = smtp_server
    mail_settings(port)
    user = make_person(institution, "mailee", full_name="张三")
    notification_id = _queue(user)

    report = services.deliver_pending(NOW)
    again = services.deliver_pending(NOW + timedelta(minutes=5))

    assert report.sent == 1
    assert again.claimed == 0
    assert len(handler.messages) == 1
    raw = handler.messages[0]
    assert b"=?utf-8?" in raw.lower(), "non-ASCII headers must be RFC 2047 encoded"
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == SUBJECT
    assert message["To"].addresses[0].display_name == "张三"
    assert message["To"].addresses[0].addr_spec == "zhangsan@example.edu.cn"
    assert message["From"].addresses[0].display_name == "树人培训平台"
    assert message["Message-ID"] == (
        f"<shuren-notification-{notification_id}@shuren.example.edu.cn>"
    )
    assert message.get_content().strip() == "您的证书将于30天后到期。"

    stored = _reload(notification_id)
    assert stored.email_status is EmailStatus.SENT
    assert stored.email_attempts == 1
    assert stored.sent_at is not None
    assert stored.claimed_by is None
    assert stored.next_attempt_at is None


def test_link_is_appended_to_body(app, institution, smtp_server, mail_settings, monkeypatch):
    handler, port = smtp_server
    mail_settings(port)
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://shuren.example.edu.cn/")
    user = make_person(institution, "linked")
    services.enqueue(user, "k", "certificate", 3, "t", "正文", link="/certificates/3", now=NOW)
    db.session.commit()

    services.deliver_pending(NOW)

    message = message_from_bytes(handler.messages[0], policy=policy.default)
    assert message.get_content().strip().endswith("https://shuren.example.edu.cn/certificates/3")


def test_transient_failure_retries_with_backoff(institution, smtp_server, mail_settings):
    handler, port = smtp_server
    mail_settings(port)
    handler.transient_failures = 1
    user = make_person(institution, "retry")
    notification_id = _queue(user)

    first = services.deliver_pending(NOW)

    assert first.retried == 1
    stored = _reload(notification_id)
    assert stored.email_status is EmailStatus.PENDING
    assert stored.email_attempts == 1
    assert stored.next_attempt_at == NOW + timedelta(seconds=60)
    assert "451" in stored.last_error
    assert stored.claimed_by is None
    assert handler.messages == []

    not_yet = services.deliver_pending(NOW + timedelta(seconds=59))
    assert not_yet.claimed == 0

    second = services.deliver_pending(NOW + timedelta(seconds=60))
    assert second.sent == 1
    stored = _reload(notification_id)
    assert stored.email_status is EmailStatus.SENT
    assert stored.email_attempts == 2
    assert stored.last_error is None
    assert len(handler.messages) == 1


def test_unreachable_server_fails_after_max_attempts(institution, mail_settings):
    mail_settings(free_port(), LMS_MAIL_MAX_ATTEMPTS=3)
    user = make_person(institution, "unreachable")
    first_id = _queue(user, subject_id=1)
    second_id = _queue(user, subject_id=2)

    now = NOW
    expected_waits = [timedelta(seconds=60), timedelta(seconds=120)]
    for attempt, wait in enumerate(expected_waits, start=1):
        report = services.deliver_pending(now)
        assert report.retried == 2
        for notification_id in (first_id, second_id):
            stored = _reload(notification_id)
            assert stored.email_status is EmailStatus.PENDING
            assert stored.email_attempts == attempt
            assert stored.next_attempt_at == now + wait
            assert "connection to 127.0.0.1" in stored.last_error
        now = now + wait

    last = services.deliver_pending(now)

    assert last.failed == 2
    for notification_id in (first_id, second_id):
        stored = _reload(notification_id)
        assert stored.email_status is EmailStatus.FAILED
        assert stored.email_attempts == 3
        assert stored.next_attempt_at is None
    assert services.deliver_pending(now + timedelta(days=1)).claimed == 0


def test_rejected_recipient_fails_at_once(institution, smtp_server, mail_settings):
    handler, port = smtp_server
    mail_settings(port)
    handler.unknown_recipients = {"gone@example.edu.cn"}
    gone = make_person(institution, "gone", email="gone@example.edu.cn")
    present = make_person(institution, "present", email="present@example.edu.cn")
    gone_id = _queue(gone)
    present_id = _queue(present)

    report = services.deliver_pending(NOW)

    assert report.failed == 1
    assert report.sent == 1
    stored = _reload(gone_id)
    assert stored.email_status is EmailStatus.FAILED
    assert stored.email_attempts == 1
    assert "550" in stored.last_error
    assert _reload(present_id).email_status is EmailStatus.SENT
    assert len(handler.messages) == 1


def test_retry_delay_is_capped(app_ctx, mail_settings):
    mail_settings(25, LMS_MAIL_RETRY_BASE_SECONDS=60, LMS_MAIL_RETRY_MAX_SECONDS=3600)

    assert services.retry_delay(1) == timedelta(seconds=60)
    assert services.retry_delay(3) == timedelta(seconds=240)
    assert services.retry_delay(7) == timedelta(seconds=3600)
    assert services.retry_delay(500) == timedelta(seconds=3600)


def test_no_smtp_host_marks_skipped(app, institution, mail_settings, monkeypatch):
    mail_settings(25)
    monkeypatch.setitem(app.config, "LMS_SMTP_HOST", None)
    user = make_person(institution, "nohost")
    notification_id = _queue(user)

    report = services.deliver_pending(NOW)

    assert report.skipped == 1
    stored = _reload(notification_id)
    assert stored.email_status is EmailStatus.SKIPPED
    assert stored.last_error == "LMS_SMTP_HOST is not set"


def test_missing_sender_raises(app, institution, mail_settings, monkeypatch):
    mail_settings(25)
    monkeypatch.setitem(app.config, "LMS_MAIL_FROM", None)
    user = make_person(institution, "nosender")
    _queue(user)

    with pytest.raises(RuntimeError, match="LMS_MAIL_FROM is not set"):
        services.deliver_pending(NOW)


def test_opt_out_after_queueing_skips_send(institution, smtp_server, mail_settings):
    handler, port = smtp_server
    mail_settings(port)
    user = make_person(institution, "lateoptout")
    notification_id = _queue(user)
    services.set_email_preference(user, "certificate_expiring_30", False)
    db.session.commit()

    report = services.deliver_pending(NOW)

    assert report.skipped == 1
    assert handler.messages == []
    assert _reload(notification_id).email_status is EmailStatus.SKIPPED


def test_claimed_row_is_left_to_its_worker(institution, smtp_server, mail_settings):
    handler, port = smtp_server
    mail_settings(port)
    user = make_person(institution, "claimed")
    notification_id = _queue(user)
    claimed = services._claim_due(NOW, "other-worker")
    db.session.commit()
    assert claimed == [notification_id]

    report = services.deliver_pending(NOW + timedelta(minutes=1))

    assert report.claimed == 0
    assert handler.messages == []
    stored = _reload(notification_id)
    assert stored.claimed_by == "other-worker"
    assert stored.email_status is EmailStatus.PENDING

    # A claim that outlived its lifetime belongs to a dead worker and is taken over.
    later = services.deliver_pending(stored.claimed_until + timedelta(seconds=1))
    assert later.sent == 1
    assert len(handler.messages) == 1


def test_concurrent_workers_send_each_row_once(app, institution, smtp_server, mail_settings):
    handler, port = smtp_server
    mail_settings(port, LMS_MAIL_BATCH_SIZE=5)
    users = [
        make_person(institution, f"bulk{i}", email=f"bulk{i}@example.edu.cn") for i in range(20)
    ]
    for user in users:
        services.enqueue(user, "k", "certificate", 1, f"通知 {user.username}", "正文", now=NOW)
    db.session.commit()
    start = threading.Barrier(3)
    errors = []

    def worker():
        try:
            with app.app_context():
                start.wait()
                while services.deliver_pending(NOW).claimed:
                    pass
                db.session.remove()
        except Exception as exc:  # reported by the main thread's assert
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    recipients = [
        message_from_bytes(raw, policy=policy.default)["To"].addresses[0].addr_spec
        for raw in handler.messages
    ]
    assert sorted(recipients) == sorted(user.email for user in users)
    statuses = db.session.scalars(sa.select(Notification.email_status)).all()
    assert statuses == [EmailStatus.SENT] * 20


@pytest.mark.skipif(
    not os.environ.get("LMS_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="FOR UPDATE SKIP LOCKED needs PostgreSQL: set LMS_TEST_DATABASE_URL",
)
def test_claim_skips_rows_locked_elsewhere(institution, smtp_server, mail_settings):
    handler, port = smtp_server
    mail_settings(port)
    locked_user = make_person(institution, "locked", email="locked@example.edu.cn")
    free_user = make_person(institution, "free", email="free@example.edu.cn")
    locked_id = _queue(locked_user)
    free_id = _queue(free_user)

    with db.engine.connect() as other:
        with other.begin():
            other.execute(
                sa.select(Notification.id)
                .where(Notification.id == locked_id)
                .with_for_update()
            ).all()
            report = services.deliver_pending(NOW)

    assert report.claimed == 1
    assert _reload(free_id).email_status is EmailStatus.SENT
    assert _reload(locked_id).email_status is EmailStatus.PENDING
    assert len(handler.messages) == 1


def test_settle_marks_read_skips_mail(institution, smtp_server, mail_settings):
    handler, port = smtp_server
    mail_settings(port)
    waiting = _queue(make_person(institution, "settled"), subject_id=7)
    claimed = _queue(make_person(institution, "inflight"), subject_id=7)
    other = _queue(make_person(institution, "othersubject"), subject_id=8)
    db.session.execute(
        sa.update(Notification)
        .where(Notification.id == claimed)
        .values(claimed_by="other-worker", claimed_until=NOW + timedelta(minutes=5))
    )
    db.session.commit()

    marked = services.settle("certificate_expiring_30", "certificate", 7, now=NOW)
    db.session.commit()
    report = services.deliver_pending(NOW)

    assert marked == 2
    assert _reload(waiting).read_at == NOW
    assert _reload(waiting).email_status is EmailStatus.SKIPPED
    # A copy a worker is sending is left to it.
    assert _reload(claimed).email_status is EmailStatus.PENDING
    assert _reload(other).read_at is None
    assert report.sent == 1
    assert len(handler.messages) == 1
