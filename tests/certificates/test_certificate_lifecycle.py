"""Certificate lifecycle: issue, expire in Shanghai time, renew, supersede, revoke."""

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from certificates import renewal, serials, services, template_services
from certificates.models import Certificate, CertificateStatus
from certificates.services import DisplayStatus
from lms.accounts.models import Role
from lms.audit import AuditEntry
from lms.extensions import db
from lms.notifications import services as notifications
from lms.notifications.models import EmailStatus, Notification
from tests.certificates.builders import issue, make_institution, make_programme, make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(year, month, day, hour=12, minute=0, second=0) -> datetime:
    """Return an aware datetime of a wall-clock time in Shanghai."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture
def school(app_ctx):
    institution = make_institution()
    counselor = make_user(institution, "c1", full_name="欧阳明辉")
    counselor.email = "c1@example.edu.cn"
    counselor.locale = "zh_CN"
    base = make_programme(institution, "junior", validity_months=36)
    refresher = make_programme(
        institution, "junior-refresh", title="初级辅导员复训", validity_months=36
    )
    admin = make_user(institution, "admin1", Role.ADMIN)
    template_services.update_programme_settings(
        refresher, admin, template_id=None, renews_programme_id=base.id
    )
    return {
        "institution": institution,
        "counselor": counselor,
        "base": base,
        "refresher": refresher,
        "admin": admin,
        "hr": make_user(institution, "hr1", Role.HR),
    }


def test_shanghai_helper():
    assert shanghai(2029, 4, 30, 23, 59, 59) == datetime(
        2029, 4, 30, 15, 59, 59, tzinfo=timezone.utc
    )
    assert shanghai(2029, 5, 1, 0, 0, 0) == datetime(
        2029, 4, 30, 16, 0, 0, tzinfo=timezone.utc
    )


def test_issue_sets_dates(school):
    cert = issue(school["counselor"], school["base"])

    assert cert.status is CertificateStatus.VALID
    assert cert.issued_on == date(2026, 5, 1)
    assert cert.expires_on == date(2029, 4, 30)
    assert cert.supersedes_id is None


def test_expires_at_midnight_shanghai(school):
    cert = issue(school["counselor"], school["base"])
    institution = school["institution"]

    last_second = services.institution_today(institution, shanghai(2029, 4, 30, 23, 59, 59))
    first_second = services.institution_today(institution, shanghai(2029, 5, 1, 0, 0, 0))

    assert last_second == date(2029, 4, 30)
    assert first_second == date(2029, 5, 1)
    assert services.status_of(cert, last_second) is DisplayStatus.EXPIRING_SOON
    assert services.status_of(cert, first_second) is DisplayStatus.EXPIRED


def test_expiry_not_by_utc_date(school):
    # 16:30 UTC on 30 April is already 1 May in Shanghai.
    cert = issue(school["counselor"], school["base"])
    moment = datetime(2029, 4, 30, 16, 30, tzinfo=timezone.utc)

    today = services.institution_today(school["institution"], moment)

    assert moment.date() == date(2029, 4, 30)
    assert services.status_of(cert, today) is DisplayStatus.EXPIRED


def test_window_opens_90_days_before_expiry(school):
    cert = issue(school["counselor"], school["base"])

    assert renewal.window_opens_on(cert) == date(2029, 1, 30)
    assert not renewal.in_window(cert, date(2029, 1, 29))
    assert renewal.in_window(cert, date(2029, 1, 30))
    assert renewal.in_window(cert, date(2029, 4, 30))
    assert not renewal.in_window(cert, date(2029, 5, 1))


def test_window_follows_institution_setting(school):
    serials.update_settings(
        school["institution"], prefix="SR", pattern="{prefix}-{year}-{seq:06d}",
        renewal_window_days=30,
    )
    cert = issue(school["counselor"], school["base"])

    assert renewal.window_opens_on(cert) == date(2029, 3, 31)


def test_renew_in_window_supersedes(school):
    old = issue(school["counselor"], school["base"])

    new = issue(school["counselor"], school["refresher"], shanghai(2029, 3, 1, 10))

    db.session.refresh(old)
    assert old.status is CertificateStatus.SUPERSEDED
    assert old.superseded_by_id == new.id
    assert old.superseded_by.id == new.id
    assert new.supersedes_id == old.id
    assert new.supersedes.id == old.id
    assert old.superseded_at is not None
    # The old certificate keeps its own dates in the history.
    assert (old.issued_on, old.expires_on) == (date(2026, 5, 1), date(2029, 4, 30))
    assert (new.issued_on, new.expires_on) == (date(2029, 3, 1), date(2032, 2, 29))
    assert services.status_of(old, date(2029, 3, 2)) is DisplayStatus.SUPERSEDED
    assert services.status_of(new, date(2029, 3, 2)) is DisplayStatus.VALID
    assert [c.id for c in services.certificates_of(school["counselor"])] == [
        new.id,
        old.id,
    ]
    assert db.session.scalar(
        sa.select(AuditEntry).filter_by(action="certificate.superseded")
    )


def test_renew_on_expiry_day_in_shanghai(school):
    old = issue(school["counselor"], school["base"])

    issue(school["counselor"], school["refresher"], shanghai(2029, 4, 30, 23, 50))

    db.session.refresh(old)
    assert old.status is CertificateStatus.SUPERSEDED


def test_refresher_after_expiry_does_not_supersede(school):
    old = issue(school["counselor"], school["base"])

    new = issue(school["counselor"], school["refresher"], shanghai(2029, 5, 1, 0, 10))

    db.session.refresh(old)
    assert old.status is CertificateStatus.VALID
    assert services.status_of(old, date(2029, 5, 1)) is DisplayStatus.EXPIRED
    assert new.supersedes_id is None


def test_refresher_before_window_does_not_supersede(school):
    old = issue(school["counselor"], school["base"])

    new = issue(school["counselor"], school["refresher"], shanghai(2028, 1, 10))

    db.session.refresh(old)
    assert old.status is CertificateStatus.VALID
    assert new.supersedes_id is None


def test_revoked_certificate_not_renewed(school):
    old = issue(school["counselor"], school["base"])
    services.revoke(old, "材料不实", school["hr"])

    new = issue(school["counselor"], school["refresher"], shanghai(2029, 3, 1))

    assert old.status is CertificateStatus.REVOKED
    assert new.supersedes_id is None


def test_programme_without_renewal_setting_supersedes_nothing(school):
    old = issue(school["counselor"], school["base"])
    other = make_programme(school["institution"], "other", title="专题培训")

    issue(school["counselor"], other, shanghai(2029, 3, 1))

    db.session.refresh(old)
    assert old.status is CertificateStatus.VALID


def test_renewal_issue_is_idempotent(school):
    old = issue(school["counselor"], school["base"])
    moment = shanghai(2029, 3, 1)

    first = issue(school["counselor"], school["refresher"], moment)
    second = issue(school["counselor"], school["refresher"], moment)

    assert first.id == second.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 2
    db.session.refresh(old)
    assert old.superseded_by_id == first.id


def test_supersede_only_once(school):
    old = issue(school["counselor"], school["base"])
    first = issue(school["counselor"], school["refresher"], shanghai(2029, 3, 1))
    other = make_programme(school["institution"], "x", title="其他")
    stray = issue(school["counselor"], other, shanghai(2029, 3, 2))

    changed = renewal.supersede(old, stray)

    db.session.refresh(old)
    assert changed is False
    assert old.superseded_by_id == first.id
    assert stray.supersedes_id is None


def test_revoke_superseded_certificate(school):
    old = issue(school["counselor"], school["base"])
    issue(school["counselor"], school["refresher"], shanghai(2029, 3, 1))
    db.session.refresh(old)

    services.revoke(old, "发现材料不实", school["hr"])

    assert old.status is CertificateStatus.REVOKED
    assert old.superseded_by_id is not None


def test_revoke_notifies_holder_in_app_and_email(school):
    cert = issue(school["counselor"], school["base"])

    services.revoke(cert, "培训记录有误", school["hr"])

    note = db.session.scalar(
        sa.select(Notification).filter_by(
            recipient_id=school["counselor"].id, kind="certificate_revoked"
        )
    )
    assert note is not None
    assert cert.serial in note.title
    assert "培训记录有误" in note.body
    assert note.link == f"/certificates/{cert.serial}"
    assert note.email_status is EmailStatus.PENDING


def test_revoke_notification_in_english(school):
    school["counselor"].locale = "en"
    cert = issue(school["counselor"], school["base"])

    services.revoke(cert, "wrong record", school["hr"])

    note = db.session.scalar(sa.select(Notification).filter_by(kind="certificate_revoked"))
    assert note.title == f"Your certificate {cert.serial} was revoked"
    assert "Reason: wrong record" in note.body


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_revoke_notification_date_in_locale(school, locale):
    school["counselor"].locale = locale
    cert = issue(school["counselor"], school["base"])

    services.revoke(cert, "培训记录有误", school["hr"])

    note = db.session.scalar(sa.select(Notification).filter_by(kind="certificate_revoked"))
    day = services.revoked_on(cert)
    expected = {
        "zh_CN": f"{day.year}年{day.month}月{day.day}日",
        "en": day.isoformat(),
    }[locale]
    assert expected in note.body


def test_revoke_notification_respects_email_opt_out(school):
    notifications.set_email_preference(school["counselor"], "certificate_revoked", False)
    cert = issue(school["counselor"], school["base"])

    services.revoke(cert, "培训记录有误", school["hr"])

    note = db.session.scalar(sa.select(Notification).filter_by(kind="certificate_revoked"))
    assert note.email_status is EmailStatus.SKIPPED
    assert note.read_at is None


def test_revoke_twice_notifies_once(school):
    cert = issue(school["counselor"], school["base"])

    services.revoke(cert, "培训记录有误", school["hr"])
    services.revoke(cert, "培训记录有误", school["hr"])

    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(Notification).filter_by(
            kind="certificate_revoked"
        )
    )
    assert total == 1


def test_detail_shows_renewal_links(school, login):
    old = issue(school["counselor"], school["base"])
    new = issue(school["counselor"], school["refresher"], shanghai(2029, 3, 1))
    db.session.commit()
    holder = login("c1")

    old_page = holder.get(f"/certificates/{old.serial}").get_data(as_text=True)
    new_page = holder.get(f"/certificates/{new.serial}").get_data(as_text=True)

    assert f"/certificates/{new.serial}" in old_page
    assert f"/certificates/{old.serial}" in new_page


def test_detail_offers_refresher_in_window(school, login):
    cert = issue(school["counselor"], school["base"])
    db.session.commit()

    page = login("c1").get(f"/certificates/{cert.serial}").get_data(as_text=True)

    assert f"/programmes/{school['refresher'].id}" in page
    assert "初级辅导员复训" in page
