"""Outbox rows: one per recipient, kind and subject, with the e-mail state decided up front."""

from datetime import datetime, timezone

import sqlalchemy as sa

from lms.extensions import db
from lms.notifications import services
from lms.notifications.models import EmailStatus, Notification
from tests.conftest import count
from tests.notifications.conftest import make_person

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)


def test_enqueue_twice_stores_one_row(institution):
    user = make_person(institution, "dedupe")
    first = services.enqueue(user, "certificate_expiring_30", "certificate", 7, "标题", "正文", now=NOW)
    second = services.enqueue(
        user, "certificate_expiring_30", "certificate", 7, "另一个标题", "另一个正文", now=NOW
    )
    db.session.commit()

    assert count(Notification) == 1
    assert second.id == first.id
    assert second.title == "标题"
    assert first.dedupe_key == f"{user.id}:certificate_expiring_30:certificate:7"
    assert first.email_status is EmailStatus.PENDING
    assert first.next_attempt_at == NOW
    assert first.email_attempts == 0
    assert first.read_at is None


def test_enqueue_other_kind_or_subject_adds_rows(institution):
    user = make_person(institution, "kinds")
    services.enqueue(user, "certificate_expiring_30", "certificate", 7, "a", "b", now=NOW)
    services.enqueue(user, "certificate_expiring_7", "certificate", 7, "a", "b", now=NOW)
    services.enqueue(user, "certificate_expiring_30", "certificate", 8, "a", "b", now=NOW)
    services.enqueue(user.id, "certificate_expiring_30", "certificate", 7, "a", "b", now=NOW)
    db.session.commit()

    assert count(Notification) == 3


def test_enqueue_skips_email_without_address(institution):
    user = make_person(institution, "noaddress", email=None)
    notification = services.enqueue(user, "certificate_expired", "certificate", 1, "t", "b")
    db.session.commit()

    assert notification.email_status is EmailStatus.SKIPPED
    assert notification.last_error == "recipient has no e-mail address"
    assert notification.next_attempt_at is None


def test_enqueue_respects_email_opt_out(institution):
    user = make_person(institution, "optout")
    services.set_email_preference(user, "certificate_expiring_90", False)
    muted = services.enqueue(user, "certificate_expiring_90", "certificate", 1, "t", "b")
    other_kind = services.enqueue(user, "certificate_expiring_30", "certificate", 1, "t", "b")
    db.session.commit()

    assert muted.email_status is EmailStatus.SKIPPED
    assert muted.last_error == "recipient opted out of this kind"
    assert other_kind.email_status is EmailStatus.PENDING
    # The in-app copy is kept whatever the e-mail preference.
    assert count(Notification) == 2


def test_enqueue_truncates_long_title(institution):
    user = make_person(institution, "longtitle")
    notification = services.enqueue(user, "k", "certificate", 1, "长" * 300, "b")
    db.session.commit()

    assert len(notification.title) == services.TITLE_MAX
    assert notification.title.endswith("…")


def test_mark_read_once(institution):
    user = make_person(institution, "reader")
    notification = services.enqueue(user, "k", "certificate", 1, "t", "b")

    assert services.mark_read(notification, NOW) is True
    assert services.mark_read(notification) is False
    db.session.commit()
    stored = db.session.scalar(sa.select(Notification.read_at))
    assert stored == NOW
