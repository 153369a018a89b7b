"""Certificate expiry reminders, counted in the holder's local date."""

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from certificates.models import Certificate, CertificateStatus
from lms.extensions import db
from lms.notifications import tasks
from lms.notifications.models import Notification
from lms.scheduler import run_job_once
from tests.notifications.conftest import make_person

UTC = timezone.utc
EXPIRES = date(2026, 4, 30)
#: 2026-03-31 00:00 in Asia/Shanghai, 30 days before EXPIRES; still 2026-03-30 in UTC.
LOCAL_DAY_30 = datetime(2026, 3, 30, 16, 0, tzinfo=UTC)
#: One minute earlier: 23:59 on 2026-03-30 in Shanghai, 31 days before.
LOCAL_DAY_31 = datetime(2026, 3, 30, 15, 59, tzinfo=UTC)


def _certificate(holder, serial, *, expires_on=EXPIRES, status=CertificateStatus.VALID):
    certificate = Certificate(
        serial=serial,
        verification_code=f"code-{serial}",
        achievement_key=f"achievement-{serial}",
        holder_id=holder.id,
        institution_id=holder.institution_id,
        holder_name=holder.full_name,
        title="辅导员岗前培训合格证书",
        hours=Decimal("40"),
        issued_on=date(2025, 4, 30),
        expires_on=expires_on,
        status=status,
        revoked_at=datetime(2026, 1, 1, tzinfo=UTC) if status is CertificateStatus.REVOKED else None,
    )
    db.session.add(certificate)
    db.session.flush()
    return certificate


def _kinds(user) -> list[str]:
    return sorted(
        db.session.scalars(
            sa.select(Notification.kind).where(Notification.recipient_id == user.id)
        )
    )


@pytest.mark.parametrize(
    ("days_left", "kind"),
    [
        (91, None),
        (90, "certificate_expiring_90"),
        (31, "certificate_expiring_90"),
        (30, "certificate_expiring_30"),
        (8, "certificate_expiring_30"),
        (7, "certificate_expiring_7"),
        (1, "certificate_expiring_7"),
        (0, "certificate_expired"),
        (-6, "certificate_expired"),
        (-7, None),
    ],
)
def test_reminder_kind_by_days_left(days_left, kind):
    assert tasks.expiry_reminder_kind(days_left) == kind


def test_30_day_reminder_on_local_date_once(institution):
    holder = make_person(institution, "holder", locale="en")
    certificate = _certificate(holder, "SR-2025-000001")
    db.session.commit()

    day_31 = tasks.certificate_expiry_reminders(LOCAL_DAY_31)
    db.session.commit()
    assert day_31 == {"checked": 1, "queued": 1}
    assert _kinds(holder) == ["certificate_expiring_90"]

    day_30 = tasks.certificate_expiry_reminders(LOCAL_DAY_30)
    db.session.commit()
    rerun = tasks.certificate_expiry_reminders(LOCAL_DAY_30)
    db.session.commit()

    assert day_30 == {"checked": 1, "queued": 1}
    assert rerun == {"checked": 1, "queued": 0}
    assert _kinds(holder) == ["certificate_expiring_30", "certificate_expiring_90"]
    reminder = db.session.scalars(
        sa.select(Notification).where(Notification.kind == "certificate_expiring_30")
    ).one()
    assert reminder.subject_type == "certificate"
    assert reminder.subject_id == certificate.id
    assert reminder.title == "Your certificate expires in 30 days"
    assert "辅导员岗前培训合格证书" in reminder.body
    assert "SR-2025-000001" in reminder.body
    assert "2026-04-30" in reminder.body


def test_reminder_uses_holder_language(institution):
    chinese = make_person(institution, "zh-holder", locale="zh_CN")
    _certificate(chinese, "SR-2025-000002")
    db.session.commit()

    tasks.certificate_expiry_reminders(LOCAL_DAY_30)
    db.session.commit()

    reminder = db.session.scalars(sa.select(Notification)).one()
    # The date is formatted by Babel's zh_CN data whether or not messages are translated.
    assert "2026年4月30日" in reminder.body


def test_expired_notice_on_expiry_day(institution):
    holder = make_person(institution, "expired", locale="en")
    _certificate(holder, "SR-2025-000003", expires_on=date(2026, 3, 31))
    db.session.commit()

    tasks.certificate_expiry_reminders(LOCAL_DAY_30)
    db.session.commit()

    reminder = db.session.scalars(sa.select(Notification)).one()
    assert reminder.kind == "certificate_expired"
    assert reminder.title == "Your certificate has expired"


def test_revoked_superseded_and_old_certificates_skipped(institution):
    holder = make_person(institution, "skipped")
    _certificate(holder, "SR-2025-000004", status=CertificateStatus.REVOKED)
    _certificate(holder, "SR-2025-000005", status=CertificateStatus.SUPERSEDED)
    _certificate(holder, "SR-2025-000006", expires_on=None)
    _certificate(holder, "SR-2025-000007", expires_on=date(2026, 3, 1))
    _certificate(holder, "SR-2025-000008", expires_on=date(2026, 12, 31))
    inactive = make_person(institution, "inactive")
    inactive.active = False
    _certificate(inactive, "SR-2025-000009")
    db.session.commit()

    result = tasks.certificate_expiry_reminders(LOCAL_DAY_30)
    db.session.commit()

    assert result["queued"] == 0
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0


def test_reminder_job_through_scheduler_wrapper(institution):
    holder = make_person(institution, "wrapped", locale="en")
    _certificate(holder, "SR-2025-000010")
    db.session.commit()
    slot = datetime(2026, 3, 31, 0, 0, tzinfo=UTC)

    run = run_job_once("certificate_expiry_reminders", scheduled_for=slot, now=LOCAL_DAY_30)
    repeat = run_job_once("certificate_expiry_reminders", scheduled_for=slot, now=LOCAL_DAY_30)

    assert run.ok is True, run.error
    assert run.result == {"checked": 1, "queued": 1}
    assert repeat is None
    assert _kinds(holder) == ["certificate_expiring_30"]
