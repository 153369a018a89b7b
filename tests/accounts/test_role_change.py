"""Role changes by an admin, including those of department HR officers."""

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from lms.extensions import db
from lms.organisations.models import Department

pytestmark = pytest.mark.usefixtures("english")


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).filter_by(username=username))


def _role_entries() -> list[AuditEntry]:
    query = sa.select(AuditEntry).where(AuditEntry.action == "account.role_changed")
    return list(db.session.scalars(query.order_by(AuditEntry.id)))


@pytest.mark.parametrize("role", ["counselor", "party_worker", "trainer", "admin"])
def test_role_change_removes_department_scope(seeded, app_ctx, login, role):
    officer = _user("hr_cs")
    officer_id = officer.id
    department_id = officer.hr_department_id

    response = login("admin").post(f"/people/{officer_id}/role", data={"role": role})

    assert response.status_code == 302
    db.session.expire_all()
    changed = db.session.get(User, officer_id)
    assert changed.role is Role(role)
    assert changed.hr_department_id is None
    (entry,) = _role_entries()
    assert entry.data == {"from": "hr", "to": role, "hr_department_id": department_id}
    assert f"HR scope of department {department_id}" in entry.summary


def test_role_change_page_names_removed_scope(seeded, app_ctx, login):
    officer_id = _user("hr_cs").id

    page = login("admin").post(
        f"/people/{officer_id}/role", data={"role": "counselor"}, follow_redirects=True
    )

    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert (
        "吴敏 is no longer HR, so the department HR scope (计算机科学与技术学院) was removed."
        in text
    )


def test_role_change_audit_page_names_scope(seeded, app_ctx, login):
    officer_id = _user("hr_cs").id
    admin = login("admin")
    admin.post(f"/people/{officer_id}/role", data={"role": "trainer"})

    page = admin.get("/admin/audit").get_data(as_text=True)

    assert "and removed their HR scope of 计算机科学与技术学院" in page


def test_role_change_keeps_scope_within_hr(seeded, app_ctx, login):
    officer = _user("hr_cs")
    officer_id = officer.id
    department_id = officer.hr_department_id

    response = login("admin").post(f"/people/{officer_id}/role", data={"role": "hr"})

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, officer_id).hr_department_id == department_id
    assert _role_entries() == []


def test_role_change_institution_hr_no_scope_message(seeded, app_ctx, login):
    hr_id = _user("hr").id

    page = login("admin").post(
        f"/people/{hr_id}/role", data={"role": "trainer"}, follow_redirects=True
    )

    text = page.get_data(as_text=True)
    assert "is now Trainer" in text
    assert "was removed" not in text
    (entry,) = _role_entries()
    assert entry.data == {"from": "hr", "to": "trainer"}


@pytest.mark.parametrize(
    "value, message",
    [
        ("king", "Role: king is not a role. Choose one of the listed roles."),
        ("HR", "Role: HR is not a role. Choose one of the listed roles."),
        ("", "Role: choose one of the listed roles."),
        ("x" * 500, "Role: " + "x" * 40 + " is not a role."),
    ],
)
def test_role_change_rejects_invalid_role(seeded, app_ctx, login, value, message):
    officer_id = _user("hr_cs").id

    response = login("admin").post(f"/people/{officer_id}/role", data={"role": value})

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    officer = db.session.get(User, officer_id)
    assert officer.role is Role.HR
    assert officer.hr_department_id == db.session.scalar(
        sa.select(Department.id).filter_by(name="计算机科学与技术学院")
    )
    assert _role_entries() == []


def test_role_change_revokes_platform_operator(seeded, app_ctx, login):
    other = _user("hr")
    other.role = Role.ADMIN
    other.platform_operator = True
    db.session.commit()
    other_id = other.id

    response = login("admin").post(f"/people/{other_id}/role", data={"role": "trainer"})
    login("admin").post(f"/people/{other_id}/role", data={"role": "admin"})

    assert response.status_code == 302
    db.session.expire_all()
    changed = db.session.get(User, other_id)
    assert changed.role is Role.ADMIN
    assert changed.platform_operator is False
    first, _second = _role_entries()
    assert first.data == {"from": "admin", "to": "trainer", "platform_operator_revoked": True}


def test_unknown_hr_scope_shows_field_error(seeded, app_ctx, login):
    officer = _user("hr_cs")
    officer_id = officer.id
    department_id = officer.hr_department_id

    response = login("admin").post(
        f"/people/{officer_id}/hr-scope", data={"department": "99999"}
    )

    assert response.status_code == 400
    assert "Location" not in response.headers
    page = response.get_data(as_text=True)
    assert "Redirecting" not in page
    assert 'id="department-error"' in page
    assert 'aria-describedby="department-error"' in page
    assert "“99999” is not one of the listed options; choose one from the list." in page
    db.session.expire_all()
    assert db.session.get(User, officer_id).hr_department_id == department_id


def test_missing_hr_scope_shows_field_error(seeded, app_ctx, login):
    officer_id = _user("hr_cs").id

    response = login("admin").post(f"/people/{officer_id}/hr-scope", data={})

    assert response.status_code == 400
    assert "Location" not in response.headers
    page = response.get_data(as_text=True)
    assert 'id="department-error"' in page
    assert "Department HR scope: choose a department or the whole institution." in page
