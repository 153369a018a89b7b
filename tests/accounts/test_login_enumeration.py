"""A failed login checks a password hash whether or not the account exists."""

import pytest
import werkzeug.security

from lms.accounts import models
from tests.conftest import csrf_from


@pytest.fixture
def hash_checks(monkeypatch):
    """Record the hash of every password check that models makes."""
    checked: list[str] = []
    real_check = werkzeug.security.check_password_hash

    def counting_check(password_hash, password):
        checked.append(password_hash)
        return real_check(password_hash, password)

    monkeypatch.setattr(models, "check_password_hash", counting_check)
    return checked


def _post_login(app, username: str, password: str):
    client = app.test_client()
    csrf = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf}
    )


def test_unknown_username_checks_a_hash(app, seeded, hash_checks):
    response = _post_login(app, "no-such-account", "wrong-password")

    assert response.status_code == 200
    assert len(hash_checks) == 1


def test_unknown_username_uses_configured_method(app, seeded, hash_checks):
    _post_login(app, "no-such-account", "wrong-password")

    method = app.config["PASSWORD_HASH_METHOD"]
    assert hash_checks[0].startswith(method.split(":")[0] + ":")


def test_known_and_unknown_usernames_check_alike(app, seeded, hash_checks):
    known = _post_login(app, "counselor1", "wrong-password")
    unknown = _post_login(app, "no-such-account", "wrong-password")

    assert known.status_code == unknown.status_code
    assert len(hash_checks) == 2
    assert hash_checks[0] != hash_checks[1]
