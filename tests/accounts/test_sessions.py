"""Server-side sessions: logout, password change, admin revocation, timeouts, rotation."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.accounts import sessions
from lms.accounts.models import User, UserSession
from lms.audit import AuditEntry
from lms.db import now_utc
from lms.extensions import db
from tests.conftest import TEST_PASSWORD, LoggedIn, csrf_from, database_sessions

NEW_PASSWORD = "harbour-lantern-47"


def _is_logged_in(session) -> bool:
    """Return whether the dashboard still treats ``session`` as logged in."""
    response = session.get("/")
    assert response.status_code == 302
    return not response.headers["Location"].startswith("/login")


def _cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "client has no session cookie"
    return cookie.value


class FrozenClock:
    """Replace ``sessions.clock`` with a time that tests move by hand."""

    def __init__(self, monkeypatch):
        self.now = now_utc()
        monkeypatch.setattr(sessions, "clock", lambda: self.now)

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def test_logout_revokes_replayed_cookie(app, seeded, login):
    session = login("counselor1")
    stolen = _cookie(session.client)

    response = session.post("/logout")
    assert response.status_code == 302

    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/learning")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@database_sessions
def test_logout_marks_record_revoked(app, seeded, login, app_ctx):
    session = login("counselor1")
    session.post("/logout")

    record = db.session.scalar(sa.select(UserSession))
    assert record is not None
    assert record.revoked_at is not None


@database_sessions
def test_login_stores_only_token_hash(app, seeded, login, app_ctx):
    session = login("counselor1")
    with session.client.session_transaction() as cookie_session:
        token = cookie_session[sessions.SESSION_KEY]

    record = db.session.scalar(sa.select(UserSession))
    assert len(token) >= 43  # 32 random bytes, base64url
    assert record.id == sessions.hash_token(token)
    assert record.id != token


def test_login_rotates_cookie_and_session(app, seeded):
    client = app.test_client()
    page = client.get("/login")
    csrf = csrf_from(page.get_data(as_text=True))
    before = _cookie(client)
    with client.session_transaction() as cookie_session:
        csrf_before = cookie_session["csrf_token"]

    response = client.post(
        "/login", data={"username": "counselor1", "password": TEST_PASSWORD, "csrf_token": csrf}
    )
    assert response.status_code == 302
    after = _cookie(client)
    assert after != before
    with client.session_transaction() as cookie_session:
        assert cookie_session.get("csrf_token") != csrf_before
        first_token = cookie_session[sessions.SESSION_KEY]

    # The pre-login cookie carries no session: replaying it is a guest.
    replay = app.test_client()
    replay.set_cookie("session", before)
    assert replay.get("/learning").headers["Location"].startswith("/login")


def test_second_login_gets_new_session_id(app, seeded, login):
    first = login("counselor1")
    second = login("counselor1")
    with first.client.session_transaction() as one, second.client.session_transaction() as two:
        assert one[sessions.SESSION_KEY] != two[sessions.SESSION_KEY]
    assert _is_logged_in(first)
    assert _is_logged_in(second)


def test_password_change_ends_other_sessions(app, seeded, login, app_ctx):
    phone = login("counselor1")
    laptop = login("counselor1")

    response = laptop.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert _is_logged_in(laptop)
    assert not _is_logged_in(phone)
    user = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    assert user.check_password(NEW_PASSWORD)
    entry = db.session.scalar(
        sa.select(AuditEntry).filter_by(action="account.password_changed")
    )
    assert entry is not None
    assert entry.data == {"sessions_ended": 1}


def _change_password(session):
    return session.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
        follow_redirects=True,
    )


@pytest.mark.parametrize(
    "others, message",
    [
        (0, "Your password was changed.</"),
        (1, "Your password was changed. 1 other session was ended."),
        (2, "Your password was changed. 2 other sessions were ended."),
    ],
)
def test_password_change_message_counts_sessions(seeded, login, others, message):
    for _ in range(others):
        login("counselor1")
    laptop = login("counselor1")
    laptop.post("/language/en")

    page = _change_password(laptop).get_data(as_text=True)

    assert message in page
    assert "Other sessions ended" not in page


def test_password_change_alone_in_chinese(seeded, login):
    laptop = login("counselor1")

    page = _change_password(laptop).get_data(as_text=True)

    assert "密码已修改。" in page
    assert "会话" not in page


def test_password_change_wrong_current_password(app, seeded, login, app_ctx):
    session = login("counselor1")
    session.post("/language/en")

    response = session.post(
        "/account/password",
        data={
            "current_password": "not-my-password",
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )

    assert response.status_code == 200
    assert "Current password: It is not your current password." in response.get_data(
        as_text=True
    )
    user = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    assert user.check_password(TEST_PASSWORD)


def test_admin_end_sessions_kills_every_session(app, seeded, login, app_ctx):
    phone = login("counselor1")
    laptop = login("counselor1")
    admin = login("admin")
    admin.post("/language/en")
    person = db.session.scalar(sa.select(User).filter_by(username="counselor1"))

    page = admin.get(f"/people/{person.id}/account")
    assert page.status_code == 200
    assert "End all sessions" in page.get_data(as_text=True)

    response = admin.post(f"/people/{person.id}/sessions/end")

    assert response.status_code == 302
    assert not _is_logged_in(phone)
    assert not _is_logged_in(laptop)
    assert _is_logged_in(admin)
    entry = db.session.scalar(sa.select(AuditEntry).filter_by(action="account.sessions_ended"))
    assert entry is not None
    assert entry.subject_id == person.id
    assert entry.actor_id is not None
    assert entry.data == {"sessions_ended": 2}
    assert login("counselor1") is not None  # a new login still works


def test_admin_disable_kills_sessions_and_login(app, seeded, login, app_ctx):
    victim = login("counselor1")
    admin = login("admin")
    person = db.session.scalar(sa.select(User).filter_by(username="counselor1"))

    response = admin.post(f"/people/{person.id}/disable")

    assert response.status_code == 302
    assert not _is_logged_in(victim)
    with pytest.raises(AssertionError, match="login as counselor1 failed"):
        login("counselor1")
    db.session.expire_all()
    assert db.session.get(User, person.id).active is False
    actions = set(db.session.scalars(sa.select(AuditEntry.action)))
    assert "account.disabled" in actions

    admin.post(f"/people/{person.id}/enable")
    assert _is_logged_in(login("counselor1"))


def test_admin_cannot_disable_self(app, seeded, login, app_ctx):
    admin = login("admin")
    admin.post("/language/en")
    person = db.session.scalar(sa.select(User).filter_by(username="admin"))

    response = admin.post(f"/people/{person.id}/disable", follow_redirects=True)

    assert "You cannot disable your own account." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, person.id).active is True


def test_admin_of_other_institution_gets_404(app, seeded, login, app_ctx):
    from lms.accounts.models import Role
    from tests.factories import make_institution, make_user

    other = make_institution("uni-b", "另一所大学")
    make_user(other, "admin-b", Role.ADMIN)
    db.session.commit()
    person = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    victim = login("counselor1")
    foreign_admin = login("admin-b")

    assert foreign_admin.get(f"/people/{person.id}/account").status_code == 404
    assert foreign_admin.post(f"/people/{person.id}/sessions/end").status_code == 404
    assert foreign_admin.post(f"/people/{person.id}/disable").status_code == 404
    assert _is_logged_in(victim)


def test_idle_timeout_ends_session(app, seeded, login, monkeypatch):
    clock = FrozenClock(monkeypatch)
    session = login("counselor1")

    clock.advance(minutes=29)
    assert _is_logged_in(session)  # activity restarts the idle window
    clock.advance(minutes=29)
    assert _is_logged_in(session)
    clock.advance(minutes=30, seconds=1)
    assert not _is_logged_in(session)


@database_sessions
def test_writing_request_touches_session_in_its_transaction(app, seeded, login, monkeypatch):
    """A POST after the touch interval stores last_seen_at with its own commit.

    On SQLite a touch on a second connection would wait for the request's
    write lock until busy_timeout and fail the request.
    """
    clock = FrozenClock(monkeypatch)
    session = login("counselor1")
    clock.advance(minutes=5)

    response = session.post("/language/en")

    assert response.status_code == 302
    with app.app_context():
        record = db.session.scalar(sa.select(UserSession))
        assert record.last_seen_at == clock.now
        assert db.session.get(User, record.user_id).locale == "en"


def test_idle_timeout_follows_config(app, seeded, login, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 5)
    clock = FrozenClock(monkeypatch)
    session = login("counselor1")

    clock.advance(minutes=4)
    assert _is_logged_in(session)
    clock.advance(minutes=5, seconds=1)
    assert not _is_logged_in(session)


def test_absolute_timeout_despite_activity(app, seeded, login, monkeypatch):
    clock = FrozenClock(monkeypatch)
    session = login("counselor1")

    for _ in range(11 * 4):  # a request every 15 minutes for 11 hours
        clock.advance(minutes=15)
        assert _is_logged_in(session)
    clock.advance(minutes=29)
    assert _is_logged_in(session)
    clock.advance(minutes=29)  # 11 hours 58 minutes after login
    assert _is_logged_in(session)
    clock.advance(minutes=3)  # 12 hours 1 minute after login, idle for 3 minutes
    assert not _is_logged_in(session)


def test_remember_me_cannot_outlive_revocation(app, seeded, app_ctx):
    client = app.test_client()
    csrf = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={
            "username": "counselor1",
            "password": TEST_PASSWORD,
            "remember": "y",
            "csrf_token": csrf,
        },
    )
    assert response.status_code == 302
    set_cookies = response.headers.getlist("Set-Cookie")
    assert not any(c.startswith("remember_token=") for c in set_cookies)
    session_cookie = next(c for c in set_cookies if c.startswith("session="))
    assert "Expires=" in session_cookie  # persistent, so it survives a browser restart

    person = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    sessions.revoke_user_sessions(person)
    db.session.commit()
    assert client.get("/learning").headers["Location"].startswith("/login")


def test_password_must_change_redirects(app, seeded, app_ctx):
    person = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    person.password_must_change = True
    db.session.commit()
    session = LoggedIn(app.test_client(), "counselor1")

    response = session.get("/learning")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/password"

    response = session.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert session.get("/learning").status_code == 200
    db.session.expire_all()
    assert db.session.get(User, person.id).password_must_change is False
