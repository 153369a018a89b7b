"""Lost-update protection of the certificate settings and e-mail settings pages."""

import pytest
import sqlalchemy as sa

from certificates.template_models import (
    CertificateTemplate,
    InstitutionCertificateSettings,
    ProgrammeCertificateSettings,
)
from courses.models import Programme
from lms.accounts.models import Role, User
from lms.extensions import db
from lms.notifications.models import EmailPreference, EmailSettings
from lms.organisations.models import Institution
from tests.factories import make_user
from tests.revisions.forms import text_of


def _demo() -> Institution:
    return db.session.scalar(sa.select(Institution).filter_by(code="demo-univ"))


def _full_name(username: str) -> str:
    return db.session.scalar(sa.select(User.full_name).filter_by(username=username))


@pytest.fixture
def programmes(app, seeded):
    """Return a demo programme's id, another programme's id and a template id."""
    with app.app_context():
        institution = _demo()
        ids = db.session.scalars(
            sa.select(Programme.id)
            .filter_by(institution_id=institution.id)
            .order_by(Programme.id)
        ).all()
        template_id = db.session.scalar(
            sa.select(CertificateTemplate.id)
            .filter_by(institution_id=institution.id)
            .order_by(CertificateTemplate.id)
        )
        return ids[0], ids[1], template_id


def test_programme_settings_save(app, race, programmes):
    programme_id, other_id, template_id = programmes
    edit = race(f"/certificates/programmes/{programme_id}", "trainer", "admin")
    assert edit.first_page["lock_version"] == "0"
    edit.first_saves(template_id=str(template_id))

    with app.app_context():
        row = db.session.get(ProgrammeCertificateSettings, programme_id)
        assert (row.template_id, row.lock_version) == (template_id, 1)


def test_stale_programme_settings_rejected(app, race, programmes):
    programme_id, other_id, template_id = programmes
    with app.app_context():
        db.session.add(ProgrammeCertificateSettings(programme_id=programme_id))
        db.session.commit()

    edit = race(f"/certificates/programmes/{programme_id}", "trainer", "admin")
    edit.first_saves(template_id=str(template_id))
    html = edit.second_saves(renews_programme_id=str(other_id))

    with app.app_context():
        assert f"{_full_name('trainer')} changed this on" in text_of(html)
        row = db.session.get(ProgrammeCertificateSettings, programme_id)
        assert (row.template_id, row.renews_programme_id) == (template_id, None)

    edit.second_reloads_and_saves(renews_programme_id=str(other_id))
    with app.app_context():
        row = db.session.get(ProgrammeCertificateSettings, programme_id)
        assert (row.template_id, row.renews_programme_id) == (template_id, other_id)


def test_programme_settings_created_meanwhile_rejected(app, race, programmes):
    programme_id, other_id, template_id = programmes
    edit = race(f"/certificates/programmes/{programme_id}", "trainer", "admin")
    edit.first_saves(template_id=str(template_id))
    edit.second_saves(renews_programme_id=str(other_id))

    with app.app_context():
        row = db.session.get(ProgrammeCertificateSettings, programme_id)
        assert row.renews_programme_id is None


@pytest.fixture
def second_admin(app, seeded):
    with app.app_context():
        make_user(_demo(), "admin_b", Role.ADMIN, full_name="第二管理员")
        db.session.commit()
    return "admin_b"


def test_institution_settings_save(app, race, second_admin):
    edit = race("/certificates/settings", "admin", second_admin)
    edit.first_saves(renewal_window_days="45")

    with app.app_context():
        institution = _demo()
        row = db.session.get(InstitutionCertificateSettings, institution.id)
        assert row.renewal_window_days == 45


def test_stale_institution_settings_rejected(app, race, second_admin):
    edit = race("/certificates/settings", second_admin, "admin")
    edit.first_saves(renewal_window_days="45")
    html = edit.second_saves(serial_prefix="SX", serial_pattern="{prefix}{year}{seq:05d}")

    assert "第二管理员 changed this on" in text_of(html)
    with app.app_context():
        institution = _demo()
        row = db.session.get(InstitutionCertificateSettings, institution.id)
        assert row.renewal_window_days == 45
        assert institution.serial_prefix != "SX"

    edit.second_reloads_and_saves(serial_prefix="SX")
    with app.app_context():
        institution = _demo()
        row = db.session.get(InstitutionCertificateSettings, institution.id)
        assert (institution.serial_prefix, row.renewal_window_days) == ("SX", 45)


def test_serial_prefix_change_alone_raises_version(app, race, second_admin):
    edit = race("/certificates/settings", second_admin, "admin")
    edit.first_saves(renewal_window_days="45")
    edit.second_reloads_and_saves(renewal_window_days="45", serial_prefix="SY")

    edit.first_page = edit._open(edit.first)
    edit.second_page = edit._open(edit.second)
    edit.first_saves(serial_prefix="SZ")
    edit.second_saves(renewal_window_days="60")


def _groups(user_id: int) -> dict:
    rows = db.session.scalars(sa.select(EmailPreference).filter_by(user_id=user_id))
    return {row.kind: row.email_enabled for row in rows}


def test_email_settings_save(app, race):
    edit = race("/notifications/settings", "counselor1", "counselor1")
    assert edit.first_page["email"]
    edit.first_saves(email=[])

    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).filter_by(username="counselor1"))
        assert not any(_groups(user_id).values())
        assert db.session.get(EmailSettings, user_id).lock_version == 1


def test_stale_email_settings_rejected(app, race):
    """The same user saves the page from two browsers."""
    edit = race("/notifications/settings", "counselor1", "counselor1")
    everything = edit.first_page["email"]
    edit.first_saves(email=[])
    html = edit.second_saves(email=everything[0])

    with app.app_context():
        assert f"{_full_name('counselor1')} changed this on" in text_of(html)
        user_id = db.session.scalar(sa.select(User.id).filter_by(username="counselor1"))
        assert not any(_groups(user_id).values())
    assert "E-mail off" in text_of(html)

    edit.second_reloads_and_saves(email=everything[0])
    with app.app_context():
        assert any(_groups(user_id).values())


def test_unchanged_email_settings_keep_version(app, race):
    edit = race("/notifications/settings", "counselor1", "counselor1")
    edit.first_saves(email=[])
    edit.second_reloads_and_saves(email=[])

    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).filter_by(username="counselor1"))
        assert db.session.get(EmailSettings, user_id).lock_version == 1
