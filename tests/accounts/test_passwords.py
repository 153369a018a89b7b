"""Password policy in the change-password page and in ``flask lms set-password``."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.accounts.passwords import (
    PasswordProblem,
    common_passwords,
    first_password_expired,
    password_problem,
    unpredictable_count,
)
from lms.db import now_utc
from lms.extensions import db
from tests.conftest import TEST_PASSWORD, csrf_from


@pytest.mark.parametrize(
    "password",
    ["12345678", "88888888", "woaini1314", "qq123456", "a123456789", "5201314520", "Password1"],
)
def test_common_passwords_rejected(password):
    assert password_problem(password) is PasswordProblem.COMMON


@pytest.mark.parametrize(
    ("password", "count"),
    [("Aa123456", 0), ("x1y2z3w4", 8), ("ab2026cd", 4), ("1111aaaa", 0), ("k8901j", 2)],
)
def test_unpredictable_count_skips_patterns(password, count):
    assert unpredictable_count(password) == count


def test_common_list_contains_chinese_favourites():
    listed = common_passwords()
    for password in ("123456", "5201314", "woaini1314", "qq123456", "a123456", "88888888"):
        assert password in listed, password
    assert 1000 <= len(listed) <= 10000
    assert TEST_PASSWORD not in listed


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short7!", PasswordProblem.TOO_SHORT),
        ("x" * 257, PasswordProblem.TOO_LONG),
        ("my-Counselor1-pw", PasswordProblem.CONTAINS_USERNAME),
        ("pw-20230117-pw", PasswordProblem.CONTAINS_EMPLOYEE_NO),
        ("correct horse battery", None),
        ("only lowercase letters", None),  # no composition rules
        ("123456789012", PasswordProblem.PREDICTABLE),
        ("12345678901234567890", PasswordProblem.PREDICTABLE),
        ("abcabcabcabc", PasswordProblem.PREDICTABLE),
        ("qwerty2026!", PasswordProblem.PREDICTABLE),
        ("Zz98765432", PasswordProblem.PREDICTABLE),
        ("9f3kd82m", None),
    ],
)
def test_password_problem_rules(password, problem):
    assert password_problem(password, username="counselor1", employee_no="20230117") is problem


def _change(session, new_password, repeat=None):
    return session.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": new_password,
            "confirm_password": repeat if repeat is not None else new_password,
        },
    )


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("woaini1314", "New password: The password is too common"),
        ("Aa123456", "New password: The password is too common"),
        (
            "123456789012",
            "New password: The password is too easy to guess: apart from common"
            " passwords, years, repeats and sequences such as 123456, abcdef or"
            " qwerty, it has 0 other characters and needs at least 4.",
        ),
        ("12345678901234567890", "New password: The password is too easy to guess"),
        ("abc12", "New password: The password is too short: it has 5 characters"),
        ("counselor1-rocks", "New password: The password contains the username."),
        ("id20230117!", "New password: The password contains the employee number."),
        (TEST_PASSWORD, "New password: It is the same as your current password."),
    ],
)
def test_change_page_rejects_weak_password(app, seeded, login, app_ctx, new_password, message):
    session = login("counselor1")
    session.post("/language/en")

    response = _change(session, new_password)

    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    user = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    assert user.check_password(TEST_PASSWORD)


def test_change_page_rejects_mismatch(app, seeded, login):
    session = login("counselor1")
    session.post("/language/en")

    response = _change(session, "harbour-lantern-47", "harbour-lantern-48")

    assert response.status_code == 200
    assert "Repeat the new password: It does not match the new password." in (
        response.get_data(as_text=True)
    )


def test_change_page_requires_csrf(app, seeded, login):
    session = login("counselor1")

    response = session.client.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": "harbour-lantern-47",
            "confirm_password": "harbour-lantern-47",
        },
    )

    assert response.status_code == 400


def test_cli_rejects_common_password(app, seeded, app_ctx):
    result = app.test_cli_runner().invoke(
        args=["lms", "set-password", "counselor1"], input="qq123456\nqq123456\n"
    )

    assert result.exit_code == 1
    assert "The password is too common" in result.output
    assert "was not changed" in result.output
    user = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    assert user.check_password(TEST_PASSWORD)


def test_cli_rejects_employee_number(app, seeded):
    result = app.test_cli_runner().invoke(
        args=["lms", "set-password", "counselor1"],
        input="x20230117x\nx20230117x\n",
    )

    assert result.exit_code == 1
    assert "contains the employee number" in result.output


def test_cli_password_change_ends_sessions(app, seeded, login):
    session = login("counselor1")

    result = app.test_cli_runner().invoke(
        args=["lms", "set-password", "counselor1"],
        input="harbour-lantern-47\nharbour-lantern-47\n",
    )

    assert result.exit_code == 0, result.output
    assert "1 session(s) ended" in result.output
    response = session.get("/learning")
    assert response.headers["Location"].startswith("/login")


def test_cli_password_must_change_at_login(app, seeded, login):
    result = app.test_cli_runner().invoke(
        args=["lms", "set-password", "counselor1"],
        input="harbour-lantern-47\nharbour-lantern-47\n",
    )
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"csrf_token": token, "username": "counselor1", "password": "harbour-lantern-47"},
    )

    assert result.exit_code == 0, result.output
    assert "must be changed at the next login" in result.output
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/password")


def test_cli_password_of_old_account_not_expired(app, seeded, app_ctx):
    user = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    user.created_at = user.created_at - timedelta(days=400)
    db.session.commit()

    app.test_cli_runner().invoke(
        args=["lms", "set-password", "counselor1"],
        input="harbour-lantern-47\nharbour-lantern-47\n",
    )
    db.session.expire_all()
    user = db.session.scalar(sa.select(User).filter_by(username="counselor1"))

    assert user.password_must_change
    assert not first_password_expired(user)
    assert first_password_expired(user, now=now_utc() + timedelta(days=15))


def test_cli_help_says_password_must_change(app):
    result = app.test_cli_runner().invoke(args=["lms", "set-password", "--help"])

    assert "must change the password at the next login" in " ".join(result.output.split())
