"""The keepalive endpoint behind the expiry warning's "stay logged in" button."""

from datetime import timedelta

import pytest

from lms.accounts import sessions
from lms.config import load_config
from lms.db import now_utc
from tests.conftest import csrf_from

URL = "/session/keepalive"
JSON = {"Accept": "application/json", "X-Requested-With": "fetch"}


class FrozenClock:
    """Replace ``sessions.clock`` with a time that tests move by hand."""

    def __init__(self, monkeypatch):
        self.now = now_utc()
        monkeypatch.setattr(sessions, "clock", lambda: self.now)

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


def _keep_alive(session):
    """Post as the page script does: the CSRF token in a header, JSON wanted."""
    return session.client.post(URL, headers={**JSON, "X-CSRFToken": session.csrf})


def _is_logged_in(session) -> bool:
    response = session.get("/")
    return not response.headers["Location"].startswith("/login")


def test_keepalive_restarts_idle_timer(app, seeded, login, monkeypatch):
    clock = FrozenClock(monkeypatch)
    session = login("counselor1")

    clock.advance(minutes=25)
    response = _keep_alive(session)

    assert response.status_code == 200
    assert response.get_json() == {"seconds_left": 30 * 60, "extendable": True}
    clock.advance(minutes=29)
    # 54 minutes after the last page, the login still holds.
    assert _is_logged_in(session)


def test_keepalive_touches_within_touch_interval(app, seeded, login, monkeypatch):
    """The button works even right after a page load, which did not touch the record."""
    clock = FrozenClock(monkeypatch)
    session = login("counselor1")
    clock.advance(minutes=29, seconds=50)
    assert _is_logged_in(session)  # touches at 29:50
    clock.advance(seconds=30)

    response = _keep_alive(session)  # within the touch interval of 60 s

    assert response.get_json()["seconds_left"] == 30 * 60
    clock.advance(minutes=29, seconds=50)
    assert _is_logged_in(session)


def test_keepalive_refuses_ended_login(app, seeded, login, monkeypatch):
    clock = FrozenClock(monkeypatch)
    session = login("counselor1")
    clock.advance(minutes=30, seconds=1)

    response = _keep_alive(session)

    assert response.status_code == 401
    data = response.get_json()
    assert data["error"] == "login_required"
    assert data["login"] == "/login"
    assert data["message"].startswith("您的登录已经结束，无法保持。")
    # The refused call does not bring the login back.
    assert not _is_logged_in(session)


def test_keepalive_of_guest_is_refused(app, seeded):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))

    response = client.post(URL, headers={**JSON, "X-CSRFToken": token})

    assert response.status_code == 401
    assert response.get_json()["error"] == "login_required"


def test_keepalive_requires_csrf_token(app, seeded, login):
    session = login("counselor1")

    response = session.client.post(URL, headers=JSON)

    assert response.status_code == 400
    assert response.get_json()["error"] == "csrf"


def test_keepalive_cannot_pass_absolute_end(app, seeded, login, monkeypatch):
    clock = FrozenClock(monkeypatch)
    session = login("counselor1")
    for _ in range(23):  # a call every 29 minutes for 11 hours 7 minutes
        clock.advance(minutes=29)
        assert _keep_alive(session).get_json()["extendable"] is True

    clock.advance(minutes=29)  # 11 hours 36 minutes after login
    data = _keep_alive(session).get_json()

    assert data["extendable"] is False
    assert data["seconds_left"] == 24 * 60


def test_keepalive_is_rate_limited(app, seeded, login):
    session = login("counselor1")
    statuses = [_keep_alive(session).status_code for _ in range(61)]

    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429


def test_pages_carry_seconds_left(app, seeded, login, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 10)
    clock = FrozenClock(monkeypatch)
    session = login("counselor1")
    clock.advance(minutes=3)
    assert session.get("/learning").headers[sessions.SECONDS_LEFT_HEADER] == "600"

    clock.advance(seconds=20)  # within the touch interval: counted from 3:00
    page = session.get("/learning")

    assert page.headers[sessions.SECONDS_LEFT_HEADER] == "580"
    html = page.get_data(as_text=True)
    assert 'data-seconds-left="580"' in html
    assert 'data-warning-seconds="300"' in html


def test_guest_pages_carry_no_seconds_left(app, seeded):
    response = app.test_client().get("/login")

    assert sessions.SECONDS_LEFT_HEADER not in response.headers
    assert 'id="session-expiry"' not in response.get_data(as_text=True)


def test_login_page_of_logged_in_user_follows_next(app, seeded, login):
    """The login link of a tab whose login ended returns to its page once another tab logged in."""
    session = login("counselor1")

    response = session.get("/login?next=/certificates")

    assert response.headers["Location"] == "/certificates"
    assert session.get("/login?next=//evil.example/").headers["Location"] == "/"


def test_short_idle_timeout_touches_more_often(app, seeded, login, monkeypatch):
    """With an idle timeout under two minutes, activity still keeps the login."""
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 0.5)
    clock = FrozenClock(monkeypatch)
    session = login("counselor1")
    for _ in range(6):
        clock.advance(seconds=20)
        assert _is_logged_in(session)
    clock.advance(seconds=31)
    assert not _is_logged_in(session)


def test_idle_and_warning_times_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_SESSION_IDLE_MINUTES", "0.5")
    monkeypatch.setenv("LMS_SESSION_WARNING_SECONDS", "20")
    config = load_config(str(tmp_path))

    assert config["SESSION_IDLE_MINUTES"] == 0.5
    assert config["SESSION_WARNING_SECONDS"] == 20


@pytest.mark.parametrize("value", ["0", "-5", "soon", "nan"])
def test_idle_minutes_must_be_positive(monkeypatch, tmp_path, value):
    monkeypatch.setenv("LMS_SESSION_IDLE_MINUTES", value)

    with pytest.raises(ValueError, match="LMS_SESSION_IDLE_MINUTES must be a number above 0"):
        load_config(str(tmp_path))


def test_warning_lead_capped_at_half_idle(app, seeded, login, monkeypatch):
    """A lead as long as the idle timeout would show the warning on every page."""
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 1)
    monkeypatch.setitem(app.config, "SESSION_WARNING_SECONDS", 300)
    session = login("counselor1")

    html = session.get("/learning").get_data(as_text=True)

    assert 'data-warning-seconds="30"' in html


def test_warning_lead_from_config(app, seeded, login, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 1)
    monkeypatch.setitem(app.config, "SESSION_WARNING_SECONDS", 20)
    session = login("counselor1")

    html = session.get("/learning").get_data(as_text=True)

    assert 'data-warning-seconds="20"' in html


def test_keepalive_limit_scales_with_idle(app, seeded, login, monkeypatch):
    """Typing sends a keepalive every 30 s under a one-minute idle time, 120 an hour."""
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 1)
    session = login("counselor1")

    statuses = [_keep_alive(session).status_code for _ in range(121)]

    assert statuses[:120] == [200] * 120
