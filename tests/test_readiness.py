"""Running beside Redis: the readiness check, the page shown while Redis is unreachable
and the key prefix of rate limits."""

import uuid

import pytest

from lms.accounts.redis_sessions import RedisSessionStore
from tests.conftest import database_sessions

#: A port on 127.0.0.1 where no Redis listens.
UNREACHABLE = "redis://127.0.0.1:1/0"


def test_ready_reports_database_and_redis(app, monkeypatch):
    store = RedisSessionStore.from_url(
        "redis://127.0.0.1:6379/0", prefix=f"shuren-test-{uuid.uuid4().hex}:"
    )
    monkeypatch.setitem(app.extensions, "lms_session_store", store)
    monkeypatch.setitem(app.config, "SESSION_STORE_URL", "redis://127.0.0.1:6379/0")

    response = app.test_client().get("/readyz")

    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_ready_names_unreachable_redis(app, monkeypatch):
    monkeypatch.setitem(
        app.extensions, "lms_session_store", RedisSessionStore.from_url(UNREACHABLE)
    )
    monkeypatch.setitem(app.config, "SESSION_STORE_URL", UNREACHABLE)

    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "ok", "redis": "failed"}


@database_sessions
def test_ready_without_redis_checks_database(app):
    response = app.test_client().get("/readyz")

    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("language, text", [("zh", "服务暂时不可用"), ("en", "briefly unavailable")])
def test_unreachable_redis_gives_503_page(app, seeded, login, monkeypatch, language, text):
    """A logged-in request while Redis is down gets a 503 page, not a server error."""
    session = login("counselor1")
    monkeypatch.setitem(
        app.extensions, "lms_session_store", RedisSessionStore.from_url(UNREACHABLE)
    )
    header = "zh-CN,zh" if language == "zh" else "en"

    response = session.client.get("/learning", headers={"Accept-Language": header})

    assert response.status_code == 503
    assert text in response.get_data(as_text=True)


def test_limit_keys_take_session_prefix(tmp_path, monkeypatch):
    """Two deployments sharing a Redis database keep apart their limits as their sessions."""
    from lms.config import load_config

    monkeypatch.setenv("LMS_SESSION_REDIS_PREFIX", "campus-a:")

    config = load_config(str(tmp_path))

    assert config["SESSION_REDIS_PREFIX"] == "campus-a:"
    assert config["RATELIMIT_KEY_PREFIX"] == "campus-a:"


def test_expired_form_redis_down_503(app, seeded, login, monkeypatch):
    """A form with an expired CSRF token fails before the session is read.

    The error page then asks for the current user, which needs Redis: it
    must still answer with the 503 page, not a bare server error.
    """
    session = login("counselor1")
    monkeypatch.setitem(
        app.extensions, "lms_session_store", RedisSessionStore.from_url(UNREACHABLE)
    )

    response = session.client.post(
        "/language/en", data={"csrf_token": "expired"}, headers={"Accept-Language": "zh-CN"}
    )

    assert response.status_code == 503
    assert "服务暂时不可用" in response.get_data(as_text=True)


def test_expired_script_post_redis_down_503(app, seeded, login, monkeypatch):
    session = login("counselor1")
    monkeypatch.setitem(
        app.extensions, "lms_session_store", RedisSessionStore.from_url(UNREACHABLE)
    )

    response = session.client.post(
        "/language/en",
        data={"csrf_token": "expired"},
        headers={"Accept": "application/json", "X-Requested-With": "fetch"},
    )

    assert response.status_code == 503
    assert response.json["error"] == 503
