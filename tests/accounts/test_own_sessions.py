"""A user lists their own sessions and ends the others after re-entering the password."""

import pytest
import sqlalchemy as sa

from lms.audit import AuditEntry
from lms.extensions import db
from tests.conftest import TEST_PASSWORD


def _is_logged_in(session) -> bool:
    """Return whether the dashboard still treats ``session`` as logged in."""
    response = session.get("/")
    assert response.status_code == 302
    return not response.headers["Location"].startswith("/login")


def test_page_lists_every_session(seeded, login):
    phone = login("counselor1")
    laptop = login("counselor1")
    laptop.post("/language/en")

    page = laptop.get("/account/sessions").get_data(as_text=True)

    assert page.count("<tr>") == 3  # the header row and two sessions
    assert page.count("This session") == 1
    assert _is_logged_in(phone)


def test_others_ended_with_password(seeded, login, app_ctx):
    phone = login("counselor1")
    tablet = login("counselor1")
    laptop = login("counselor1")

    response = laptop.post("/account/sessions", {"password": TEST_PASSWORD})

    assert response.status_code == 302
    assert not _is_logged_in(phone)
    assert not _is_logged_in(tablet)
    assert _is_logged_in(laptop)
    entry = db.session.scalar(sa.select(AuditEntry).filter_by(action="account.sessions_ended"))
    assert entry is not None
    assert entry.data == {"sessions_ended": 2, "own": True}


@pytest.mark.parametrize(
    "others, message",
    [
        (0, "No other session was active."),
        (1, "1 other session was ended."),
        (2, "2 other sessions were ended."),
    ],
)
def test_end_others_message_counts_sessions(seeded, login, others, message):
    for _ in range(others):
        login("counselor1")
    laptop = login("counselor1")
    laptop.post("/language/en")

    response = laptop.post(
        "/account/sessions", {"password": TEST_PASSWORD}, follow_redirects=True
    )

    page = response.get_data(as_text=True)
    assert message in page
    assert "Other sessions ended" not in page


def test_wrong_password_ends_nothing(seeded, login, app_ctx):
    phone = login("counselor1")
    laptop = login("counselor1")
    laptop.post("/language/en")

    response = laptop.post("/account/sessions", {"password": "not-my-password"})

    assert response.status_code == 200
    assert "It is not your current password." in response.get_data(as_text=True)
    assert _is_logged_in(phone)
    entries = db.session.scalars(sa.select(AuditEntry).filter_by(action="account.sessions_ended"))
    assert list(entries) == []


def test_sessions_need_csrf(seeded, login):
    phone = login("counselor1")
    laptop = login("counselor1")

    response = laptop.client.post("/account/sessions", data={"password": TEST_PASSWORD})

    assert response.status_code == 400
    assert _is_logged_in(phone)
