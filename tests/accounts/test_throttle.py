"""Login throttling per address+username and per account across addresses."""

import pytest

from tests.conftest import TEST_PASSWORD, csrf_from


def _attempt(app, username, password, address):
    client = app.test_client()
    environ = {"REMOTE_ADDR": address}
    csrf = csrf_from(client.get("/login", environ_base=environ).get_data(as_text=True))
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf},
        environ_base=environ,
    )


@pytest.fixture
def account_limit(app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_ACCOUNT_RATE_LIMIT", "5 per hour")
    return 5


def test_account_limit_holds_across_addresses(app, seeded, account_limit):
    for attempt in range(account_limit):
        response = _attempt(app, "counselor1", "wrong-password", f"10.0.0.{attempt + 1}")
        assert response.status_code == 200, attempt

    blocked = _attempt(app, "counselor1", TEST_PASSWORD, "10.0.1.1")
    assert blocked.status_code == 429


def test_account_limit_is_per_account(app, seeded, account_limit):
    for attempt in range(account_limit):
        _attempt(app, "counselor1", "wrong-password", f"10.0.0.{attempt + 1}")

    response = _attempt(app, "counselor2", TEST_PASSWORD, "10.0.2.1")
    assert response.status_code == 302


def test_successful_logins_do_not_count(app, seeded, account_limit):
    for attempt in range(account_limit + 2):
        response = _attempt(app, "counselor1", TEST_PASSWORD, f"10.0.3.{attempt + 1}")
        assert response.status_code == 302, attempt


def test_default_account_limit_is_twenty_per_hour(app):
    assert app.config["LOGIN_ACCOUNT_RATE_LIMIT"] == "20 per hour"


def test_address_limit_still_applies(app, seeded, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    for _ in range(3):
        assert _attempt(app, "counselor1", "wrong-password", "10.0.4.1").status_code == 200

    assert _attempt(app, "counselor1", "wrong-password", "10.0.4.1").status_code == 429


def test_address_limit_skips_successful_logins(app, seeded, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "3 per minute")
    for attempt in range(5):
        response = _attempt(app, "counselor1", TEST_PASSWORD, "10.0.5.1")
        assert response.status_code == 302, attempt

    for _ in range(3):
        assert _attempt(app, "counselor1", "wrong-password", "10.0.5.1").status_code == 200
    assert _attempt(app, "counselor1", "wrong-password", "10.0.5.1").status_code == 429


def test_limiter_refuses_limits_that_no_view_declares():
    from flask import Flask
    from flask_limiter.util import get_remote_address

    from lms.extensions import ViewLimiter

    app = Flask(__name__)
    app.config["RATELIMIT_STORAGE_URI"] = "memory://"
    with pytest.raises(RuntimeError, match="declare each limit on its view"):
        ViewLimiter(key_func=get_remote_address, default_limits=["100 per day"]).init_app(app)

