"""Usernames name one account whatever the letter case someone types."""

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from courses.models import CourseTeacher
from lms.accounts.models import Role, User, user_by_username, username_taken
from lms.extensions import db
from lms.onboarding import OnboardingError, create_account
from lms.organisations.models import Institution
from tests.conftest import TEST_PASSWORD, csrf_from
from tests.factories import build_learning_world, make_user

pytestmark = pytest.mark.usefixtures("english")


def _post_login(app, username: str):
    client = app.test_client()
    csrf = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": TEST_PASSWORD, "csrf_token": csrf}
    )


def test_login_ignores_letter_case(app, seeded):
    response = _post_login(app, "Counselor1")

    assert response.status_code == 302


def test_login_with_wrong_password_still_fails_in_other_case(app, seeded):
    client = app.test_client()
    csrf = csrf_from(client.get("/login").get_data(as_text=True))

    response = client.post(
        "/login", data={"username": "COUNSELOR1", "password": "wrong", "csrf_token": csrf}
    )

    assert response.status_code == 200
    assert "Invalid username or password." in response.get_data(as_text=True)


def test_login_field_is_not_capitalised(app, seeded):
    page = app.test_client().get("/login").get_data(as_text=True)

    assert 'autocapitalize="none"' in page


def test_admin_cannot_create_username_differing_in_case(seeded, app_ctx, login):
    response = login("admin").post("/people/new", data={
        "username": "COUNSELOR1",
        "full_name": "张三",
        "role": "counselor",
        "post": "",
        "department": "",
        "email": "",
        "employee_no": "",
        "post_started_on": "",
    })

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "COUNSELOR1 is taken. Choose another username." in page
    count = db.session.scalar(
        sa.select(sa.func.count()).where(sa.func.lower(User.username) == "counselor1")
    )
    assert count == 1


def test_command_line_refuses_username_differing_in_case(seeded, app_ctx):
    institution = db.session.scalar(
        sa.select(User).filter_by(username="counselor1")
    ).institution

    with pytest.raises(OnboardingError, match="is taken"):
        create_account(
            institution, "Counselor1", "张三", Role.COUNSELOR, password="Zx-9vQ!rT4#pLm"
        )


def test_exact_match_wins_over_other_case(seeded, app_ctx):
    counselor = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    twin = User(
        username="Counselor1",
        full_name="同名",
        role=counselor.role,
        institution_id=counselor.institution_id,
        password_hash=counselor.password_hash,
    )
    db.session.add(twin)
    db.session.flush()

    assert user_by_username("counselor1") is counselor
    assert user_by_username("Counselor1") is twin
    assert user_by_username("COUNSELOR1") is None
    assert username_taken("COUNSELOR1")


def test_set_password_command_ignores_letter_case(app, seeded):
    runner = CliRunner()
    from lms.cli import set_password_command

    with app.app_context():
        result = runner.invoke(
            set_password_command, ["Counselor1"], input="Zx-9vQ!rT4#pLm\nZx-9vQ!rT4#pLm\n"
        )

    assert result.exit_code == 0, result.output


def test_co_teacher_found_whatever_the_case(app_ctx, login):
    world = build_learning_world()
    make_user(db.session.get(Institution, world.uni_a), "trainer2", Role.TRAINER)
    db.session.commit()

    response = login("trainer").post(
        f"/manage/courses/{world.course1}/teachers", data={"username": "Trainer2"}
    )

    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseTeacher)) == 1



def test_case_blind_lookup_uses_an_index(app):
    """A username typed in another case is found through an index, not a scan."""
    query = "SELECT id FROM \"user\" WHERE lower(username) = 'counselor1'"
    with app.app_context():
        with db.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                # An empty table is cheaper to scan; ask whether an index can serve.
                connection.exec_driver_sql("SET enable_seqscan = off")
                plan = connection.exec_driver_sql("EXPLAIN " + query).scalars().all()
            else:
                rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + query)
                plan = [row[-1] for row in rows]
        db.session.remove()

    assert any("ix_user_lower_username" in line for line in plan), plan
