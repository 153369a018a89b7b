"""Accounts created and edited by an administrator in the browser."""

import logging
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from lms.accounts.models import Post, Role, User
from lms.audit import AuditEntry
from lms.extensions import db
from lms.organisations.models import Department, Institution
from lms.records.events import profile_of
from tests.conftest import LoggedIn, csrf_from

pytestmark = pytest.mark.usefixtures("english")

#: The first password as the creation page shows it.
PASSWORD_RE = re.compile(r'<code id="first-password">([^<]+)</code>')


def _user(username: str):
    return db.session.scalar(sa.select(User).filter_by(username=username))


def _department(institution_code: str, code: str) -> Department:
    return db.session.scalar(
        sa.select(Department)
        .join(Institution, Institution.id == Department.institution_id)
        .where(Institution.code == institution_code, Department.code == code)
    )


def _entries(action: str) -> list[AuditEntry]:
    query = sa.select(AuditEntry).where(AuditEntry.action == action)
    return list(db.session.scalars(query.order_by(AuditEntry.id)))


def _new_counselor(**overrides) -> dict:
    values = {
        "username": "wangmin",
        "employee_no": "20250901",
        "full_name": "王敏",
        "role": "counselor",
        "post": "",
        "department": str(_department("demo-univ", "cs").id),
        "email": "wangmin@shuren.example",
        "post_started_on": "",
    }
    values.update(overrides)
    return values


# The people list links to the form -------------------------------------------


def test_people_list_links_new_account(seeded, app_ctx, login):
    page = login("admin").get("/people").get_data(as_text=True)

    assert 'href="/people/new"' in page


def test_people_list_hides_link_from_hr(seeded, app_ctx, login):
    page = login("hr").get("/people").get_data(as_text=True)

    assert 'href="/people/new"' not in page


def test_new_account_form_lists_own_departments(seeded, app_ctx, login):
    page = login("admin").get("/people/new").get_data(as_text=True)

    assert "计算机科学与技术学院" in page
    assert "外国语学院" not in page


# Creating --------------------------------------------------------------------


def test_create_counselor_shows_account_page(seeded, app_ctx, login):
    response = login("admin").post("/people/new", data=_new_counselor())

    page = response.get_data(as_text=True)
    assert response.status_code == 201
    assert "no-store" in response.headers["Cache-Control"]
    created = _user("wangmin")
    assert created is not None
    assert f'/people/{created.id}/account' in response.headers["Location"]
    assert "Active sessions" in page
    assert PASSWORD_RE.search(page) is not None


def test_create_counselor_stores_fields(seeded, app_ctx, login):
    login("admin").post("/people/new", data=_new_counselor())

    created = _user("wangmin")
    assert created.full_name == "王敏"
    assert created.role is Role.COUNSELOR
    assert created.post is Post.FULL_TIME_COUNSELOR
    assert created.employee_no == "20250901"
    assert created.email == "wangmin@shuren.example"
    assert created.department_id == _department("demo-univ", "cs").id
    assert created.institution.code == "demo-univ"
    assert created.password_must_change is True
    assert created.active is True


def test_create_normalises_typed_values(seeded, app_ctx, login):
    values = _new_counselor(
        username="  wangmin ",
        employee_no=" t2025a ",
        full_name=" 王  敏 ",
        email=" WangMin@Shuren.example ",
    )

    login("admin").post("/people/new", data=values)

    created = _user("wangmin")
    assert created.employee_no == "T2025A"
    assert created.full_name == "王敏"
    assert created.email == "wangmin@shuren.example"


def test_first_password_logs_in_and_must_change(seeded, app, app_ctx, login):
    page = login("admin").post("/people/new", data=_new_counselor()).get_data(as_text=True)
    password = PASSWORD_RE.search(page).group(1)

    client = app.test_client()
    LoggedIn(client, "wangmin", password)
    response = client.get("/")

    assert response.status_code == 302
    assert "/account/password" in response.headers["Location"]


def test_first_password_expires(seeded, app, app_ctx, login):
    page = login("admin").post("/people/new", data=_new_counselor()).get_data(as_text=True)
    password = PASSWORD_RE.search(page).group(1)
    created = _user("wangmin")
    days = app.config["FIRST_PASSWORD_DAYS"]
    created.created_at = created.created_at - timedelta(days=days + 1)
    db.session.commit()

    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": "wangmin", "password": password, "csrf_token": token}
    )

    assert response.status_code == 200
    assert "Your first password has expired" in response.get_data(as_text=True)


def test_first_password_shown_once(seeded, app_ctx, login):
    admin = login("admin")
    page = admin.post("/people/new", data=_new_counselor()).get_data(as_text=True)
    password = PASSWORD_RE.search(page).group(1)
    created = _user("wangmin")

    again = admin.get(f"/people/{created.id}/account").get_data(as_text=True)

    assert password not in again
    assert created.password_hash != password


def test_create_audits_without_password(seeded, app_ctx, login, caplog):
    caplog.set_level(logging.DEBUG)
    page = login("admin").post("/people/new", data=_new_counselor()).get_data(as_text=True)
    password = PASSWORD_RE.search(page).group(1)

    (entry,) = _entries("account.created_by_admin")
    admin = _user("admin")
    assert entry.actor_id == admin.id
    assert entry.subject_id == _user("wangmin").id
    assert entry.institution_id == admin.institution_id
    assert entry.data["role"] == "counselor"
    assert entry.data["username"] == "wangmin"
    assert entry.data["employee_no"] == "20250901"
    assert entry.data["email"] == "wangmin@shuren.example"
    assert entry.data["department_id"] == _department("demo-univ", "cs").id
    every_entry = db.session.scalars(sa.select(AuditEntry)).all()
    assert not any(password in f"{row.summary}{row.data}" for row in every_entry)
    assert password not in caplog.text


def test_create_audit_page_names_admin(seeded, app_ctx, login):
    admin = login("admin")
    admin.post("/people/new", data=_new_counselor())

    page = admin.get("/admin/audit").get_data(as_text=True)

    assert "admin created the account wangmin (Counselor)" in page


def test_create_party_worker_with_post_start(seeded, app_ctx, login):
    values = _new_counselor(
        username="zhaoli",
        employee_no="20250902",
        email="",
        role="party_worker",
        post="party_organiser",
        post_started_on="2025-09-01",
    )

    response = login("admin").post("/people/new", data=values)

    assert response.status_code == 201
    created = _user("zhaoli")
    assert created.role is Role.PARTY_WORKER
    assert created.post is Post.PARTY_ORGANISER
    assert created.email is None
    assert profile_of(created).post_started_on == date(2025, 9, 1)


def test_create_trainer_without_department(seeded, app_ctx, login):
    values = _new_counselor(
        username="trainer2", employee_no="", email="", role="trainer", department=""
    )

    response = login("admin").post("/people/new", data=values)

    assert response.status_code == 201
    created = _user("trainer2")
    assert created.role is Role.TRAINER
    assert created.post is None
    assert created.department_id is None
    assert created.employee_no is None


# Rejected input ----------------------------------------------------------------


def _errors(response) -> str:
    return response.get_data(as_text=True)


def test_create_reports_every_error_at_once(seeded, app_ctx, login):
    values = _new_counselor(
        username="counselor1",
        employee_no="20230117",
        full_name="王" * 101,
        email="not-an-address",
    )

    response = login("admin").post("/people/new", data=values)

    text = _errors(response)
    assert response.status_code == 400
    assert "Username: counselor1 is taken" in text
    assert "Employee number: 20230117 belongs to another account" in text
    assert "Full name: Enter at most 100 characters; 101 were entered." in text
    assert "E-mail: not-an-address is not an e-mail address" in text
    assert _user("counselor1").full_name != "王" * 101
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.full_name == "王" * 101)) == 0


def test_create_keeps_typed_values_after_error(seeded, app_ctx, login):
    values = _new_counselor(email="not-an-address")

    text = _errors(login("admin").post("/people/new", data=values))

    assert 'value="wangmin"' in text
    assert 'value="王敏"' in text
    assert 'value="not-an-address"' in text


def test_create_rejects_lowercase_duplicate_employee_no(seeded, app_ctx, login):
    counselor = _user("counselor1")
    counselor.employee_no = "md-7"
    db.session.commit()

    response = login("admin").post("/people/new", data=_new_counselor(employee_no="MD-7"))

    assert response.status_code == 400
    assert "Employee number: MD-7 belongs to another account" in _errors(response)


def test_create_allows_employee_no_of_other_institution(seeded, app_ctx, login):
    number = _user("counselor3").employee_no

    response = login("admin").post("/people/new", data=_new_counselor(employee_no=number))

    assert response.status_code == 201


def test_create_rejects_taken_email(seeded, app_ctx, login):
    values = _new_counselor(email="Counselor2@shuren.example")

    response = login("admin").post("/people/new", data=values)

    assert response.status_code == 400
    assert "E-mail: counselor2@shuren.example is the address of another account" in _errors(
        response
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "a", "Username: a is not a valid username"),
        ("username", "王敏", "Username: 王敏 is not a valid username"),
        ("username", "x" * 65, "Username: Enter at most 64 characters; 65 were entered."),
        ("username", "", "Username: Enter a username."),
        ("full_name", "  ", "Full name: Enter the name, such as 王敏."),
        ("employee_no", "1" * 33, "Employee number: Enter at most 32 characters; 33 were entered."),
        ("employee_no", "20_25", "Employee number: 20_25 is not an employee number"),
        ("employee_no", "12", "Employee number: 12 is not an employee number"),
        ("email", "a@" + "b" * 250 + ".cn", "E-mail: Enter at most 254 characters; 255 were entered."),
        ("role", "root", "Role: “root” is not one of the listed options"),
        ("post_started_on", "2025-02-30", "Post start date: Enter a date"),
        ("post_started_on", "1900-09-01", "is not a plausible post start date"),
    ],
)
def test_create_rejects_field(seeded, app_ctx, login, field, value, message):
    response = login("admin").post("/people/new", data=_new_counselor(**{field: value}))

    assert response.status_code == 400
    assert message in _errors(response)
    assert _user("wangmin") is None


def test_create_rejects_unknown_department(seeded, app_ctx, login):
    response = login("admin").post("/people/new", data=_new_counselor(department="999999"))

    assert response.status_code == 400
    assert "Department: “999999” is not one of the listed options" in _errors(response)
    assert _user("wangmin") is None


def test_create_rejects_other_institutions_department(seeded, app_ctx, login):
    other = _department("demo-normal", "education")

    response = login("admin").post(
        "/people/new", data=_new_counselor(department=str(other.id))
    )

    assert response.status_code == 400
    assert f"Department: “{other.id}” is not one of the listed options" in _errors(response)
    assert _user("wangmin") is None


def test_create_rejects_post_of_other_role(seeded, app_ctx, login):
    values = _new_counselor(role="trainer", post="full_time_counselor")

    response = login("admin").post("/people/new", data=values)

    assert response.status_code == 400
    assert "Post: This role has no post; leave it empty." in _errors(response)


def test_create_party_worker_needs_post(seeded, app_ctx, login):
    values = _new_counselor(role="party_worker", post="")

    response = login("admin").post("/people/new", data=values)

    assert response.status_code == 400
    assert "Post: Choose the post of this party worker." in _errors(response)


def test_create_counselor_rejects_party_post(seeded, app_ctx, login):
    values = _new_counselor(post="party_organiser")

    response = login("admin").post("/people/new", data=values)

    assert response.status_code == 400
    assert "is not a post of the role Counselor" in _errors(response)


def test_create_staff_rejects_post_start(seeded, app_ctx, login):
    values = _new_counselor(role="hr", post_started_on="2025-09-01")

    response = login("admin").post("/people/new", data=values)

    assert response.status_code == 400
    assert "Post start date: Only counselors and party workers have a post start date" in _errors(
        response
    )


def test_create_without_csrf_rejected(seeded, app_ctx, login):
    values = _new_counselor(csrf_token="")

    response = login("admin").post("/people/new", data=values)

    assert response.status_code == 400
    assert _user("wangmin") is None


# Access ------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["hr", "hr_cs", "trainer", "counselor1", "organiser"])
def test_new_account_forbidden_to_non_admins(seeded, app_ctx, login, username):
    session = login(username)

    assert session.get("/people/new").status_code == 403
    assert session.post("/people/new", data=_new_counselor()).status_code == 403
    assert _user("wangmin") is None


def test_new_account_needs_login(seeded, app_ctx, client):
    response = client.get("/people/new")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# Editing -----------------------------------------------------------------------


def _details(**overrides) -> dict:
    values = {
        "full_name": "李 华",
        "department": str(_department("demo-univ", "cs").id),
        "email": "lihua@shuren.example",
    }
    values.update(overrides)
    return values


def test_account_page_links_edit(seeded, app_ctx, login):
    counselor = _user("counselor1")

    page = login("admin").get(f"/people/{counselor.id}/account").get_data(as_text=True)

    assert f'href="/people/{counselor.id}/account/edit"' in page


def test_edit_form_shows_stored_values(seeded, app_ctx, login):
    counselor = _user("counselor1")

    page = login("admin").get(f"/people/{counselor.id}/account/edit").get_data(as_text=True)

    assert f'value="{counselor.full_name}"' in page
    assert 'value="counselor1@shuren.example"' in page


def test_edit_saves_and_audits_changes(seeded, app_ctx, login):
    counselor = _user("counselor1")
    counselor_id = counselor.id
    old_name = counselor.full_name
    old_department = counselor.department_id
    new_department = _department("demo-univ", "cs").id

    response = login("admin").post(f"/people/{counselor_id}/account/edit", data=_details())

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/people/{counselor_id}/account")
    db.session.expire_all()
    changed = db.session.get(User, counselor_id)
    assert changed.full_name == "李华"
    assert changed.department_id == new_department
    assert changed.email == "lihua@shuren.example"
    (entry,) = _entries("account.details_changed")
    assert entry.actor_id == _user("admin").id
    assert entry.subject_id == counselor_id
    assert entry.data["changes"] == {
        "full_name": [old_name, "李华"],
        "department_id": [old_department, new_department],
        "email": ["counselor1@shuren.example", "lihua@shuren.example"],
    }


def test_edit_audit_page_lists_fields(seeded, app_ctx, login):
    counselor_id = _user("counselor1").id
    admin = login("admin")
    admin.post(f"/people/{counselor_id}/account/edit", data=_details())

    page = admin.get("/admin/audit").get_data(as_text=True)

    assert "admin changed the account of" in page
    assert "Department, E-mail, and Full name" in page


def test_edit_without_changes_records_nothing(seeded, app_ctx, login):
    counselor = _user("counselor1")
    values = _details(
        full_name=counselor.full_name,
        department=str(counselor.department_id),
        email=counselor.email,
    )

    response = login("admin").post(
        f"/people/{counselor.id}/account/edit", data=values, follow_redirects=True
    )

    assert "Nothing changed." in response.get_data(as_text=True)
    assert _entries("account.details_changed") == []


def test_edit_clears_department_and_email(seeded, app_ctx, login):
    counselor_id = _user("counselor1").id

    login("admin").post(
        f"/people/{counselor_id}/account/edit", data=_details(department="", email="")
    )

    db.session.expire_all()
    changed = db.session.get(User, counselor_id)
    assert changed.department_id is None
    assert changed.email is None


def test_edit_reports_every_error_at_once(seeded, app_ctx, login):
    counselor = _user("counselor1")
    other = _department("demo-normal", "education")
    values = _details(full_name="", department=str(other.id), email="x@y")

    response = login("admin").post(f"/people/{counselor.id}/account/edit", data=values)

    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Full name: Enter the name, such as 王敏." in text
    assert f"Department: “{other.id}” is not one of the listed options" in text
    assert "E-mail: x@y is not an e-mail address" in text
    db.session.expire_all()
    assert _user("counselor1").full_name == counselor.full_name


def test_edit_rejects_email_of_another_account(seeded, app_ctx, login):
    counselor_id = _user("counselor1").id
    values = _details(email="counselor2@shuren.example")

    response = login("admin").post(f"/people/{counselor_id}/account/edit", data=values)

    assert response.status_code == 400
    assert "is the address of another account" in response.get_data(as_text=True)


def test_edit_keeps_own_email(seeded, app_ctx, login):
    counselor_id = _user("counselor1").id
    values = _details(email="Counselor1@shuren.example")

    response = login("admin").post(f"/people/{counselor_id}/account/edit", data=values)

    assert response.status_code == 302


def test_edit_without_csrf_rejected(seeded, app_ctx, login):
    counselor_id = _user("counselor1").id

    response = login("admin").post(
        f"/people/{counselor_id}/account/edit", data=_details(csrf_token="")
    )

    assert response.status_code == 400
    db.session.expire_all()
    assert _user("counselor1").full_name != "李华"


@pytest.mark.parametrize("username", ["hr", "trainer", "counselor1"])
def test_edit_forbidden_to_non_admins(seeded, app_ctx, login, username):
    counselor_id = _user("counselor1").id
    session = login(username)

    get_status = session.get(f"/people/{counselor_id}/account/edit").status_code
    post_status = session.post(
        f"/people/{counselor_id}/account/edit", data=_details()
    ).status_code

    assert get_status in (403, 404)
    assert post_status in (403, 404)
    db.session.expire_all()
    assert _user("counselor1").full_name != "李华"


def test_edit_other_institution_not_found(seeded, app_ctx, login):
    other_id = _user("counselor3").id

    session = login("admin")

    assert session.get(f"/people/{other_id}/account/edit").status_code == 404
    assert session.post(f"/people/{other_id}/account/edit", data=_details()).status_code == 404


def test_create_without_optional_fields(seeded, app_ctx, login):
    values = {"username": "wangmin", "full_name": "王敏", "role": "counselor"}

    response = login("admin").post("/people/new", data=values)

    assert response.status_code == 201
    created = _user("wangmin")
    assert created.post is Post.FULL_TIME_COUNSELOR
    assert created.department_id is None
    assert created.email is None
