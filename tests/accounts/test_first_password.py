"""A first password from a roster import must be changed, and expires if unused."""

from datetime import timedelta

import sqlalchemy as sa

from lms.accounts.models import User
from lms.db import now_utc
from lms.extensions import db
from tests.conftest import TEST_PASSWORD, csrf_from


def _imported(created_days_ago: int) -> None:
    user = db.session.scalar(sa.select(User).filter_by(username="counselor2"))
    user.password_must_change = True
    user.created_at = now_utc() - timedelta(days=created_days_ago)
    db.session.commit()


def _log_in(client):
    page = client.get("/login").get_data(as_text=True)
    return client.post(
        "/login",
        data={"username": "counselor2", "password": TEST_PASSWORD, "csrf_token": csrf_from(page)},
    )


def test_fresh_first_password_leads_to_change(app_ctx, seeded, client):
    _imported(created_days_ago=3)
    response = _log_in(client)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/password")


def test_expired_first_password_is_refused(app_ctx, seeded, client):
    _imported(created_days_ago=15)
    response = _log_in(client)
    assert response.status_code == 200
    assert "expired" in response.get_data(as_text=True) or "过期" in response.get_data(as_text=True)
    assert client.get("/learning").status_code == 302
