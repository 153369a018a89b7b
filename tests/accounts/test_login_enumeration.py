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


def _disable(app, username: str) -> None:
    import sqlalchemy as sa

    from lms.accounts.models import User
    from lms.extensions import db

    with app.app_context():
        user = db.session.scalar(sa.select(User).filter_by(username=username))
        user.active = False
        db.session.commit()


def test_disabled_account_told_only_after_the_right_password(app, seeded, hash_checks):
    from tests.conftest import TEST_PASSWORD

    _disable(app, "counselor1")

    wrong = _post_login(app, "counselor1", "wrong-password").get_data(as_text=True)
    right = _post_login(app, "counselor1", TEST_PASSWORD)

    assert "用户名或密码错误" in wrong
    assert right.status_code == 200
    page = right.get_data(as_text=True)
    assert "用户名或密码错误" not in page
    assert 'class="flash flash-error"' in page
    # One hash check each, whether the account is disabled or the password wrong.
    assert len(hash_checks) == 2


def test_disabled_account_message_and_audit(app, seeded, login, english):
    import sqlalchemy as sa

    from lms.audit import AuditEntry
    from lms.extensions import db
    from tests.conftest import TEST_PASSWORD

    _disable(app, "counselor1")
    client = app.test_client()
    csrf = csrf_from(client.get("/login").get_data(as_text=True))

    response = client.post(
        "/login",
        data={"username": "counselor1", "password": TEST_PASSWORD, "csrf_token": csrf},
    )

    assert "This account is disabled, so it cannot log in." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    with app.app_context():
        entry = db.session.scalars(
            sa.select(AuditEntry).filter_by(action="account.login_failed")
        ).all()[-1]
        assert entry.data["reason"] == "disabled"
