"""The Redis session store, against the Redis server on 127.0.0.1:6379."""

import json
import uuid
from datetime import timedelta

import pytest
import redis
import sqlalchemy as sa

from lms.accounts import redis_sessions, sessions
from lms.accounts.redis_sessions import RedisSessionStore
from lms.db import now_utc
from tests.conftest import TEST_PASSWORD

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def store():
    store = RedisSessionStore.from_url(REDIS_URL, prefix=f"shuren-test-{uuid.uuid4().hex}:")
    try:
        store.client.ping()
    except redis.ConnectionError as error:
        pytest.fail(f"Redis at {REDIS_URL} is not reachable: {error}")
    yield store
    keys = list(store.client.scan_iter(match=f"{store.prefix}*"))
    if keys:
        store.client.delete(*keys)
    store.client.close()


def _record(user_id: int, now, token: str) -> sessions.SessionRecord:
    return sessions.SessionRecord(
        id=sessions.hash_token(token),
        user_id=user_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=12),
        ip="127.0.0.1",
        user_agent="pytest",
    )


def test_redis_store_round_trip(store):
    now = now_utc().replace(microsecond=0)
    record = _record(7, now, "token-a")

    store.create(record)

    assert store.get(record.id) == record
    assert store.get(sessions.hash_token("unknown")) is None
    ttl = store.client.ttl(f"{store.prefix}session:{record.id}")
    assert ttl > 12 * 3600

    later = now + timedelta(minutes=5)
    store.touch(record.id, later)
    assert store.get(record.id).last_seen_at == later

    store.revoke(record.id, later)
    assert store.get(record.id).revoked_at == later
    assert not store.get(record.id).is_valid(later, timedelta(minutes=30))


def test_redis_touch_skips_vanished_record(store):
    now = now_utc().replace(microsecond=0)
    record = _record(8, now, "token-gone")
    store.create(record)
    key = f"{store.prefix}session:{record.id}"
    store.client.delete(key)

    store.touch(record.id, now + timedelta(minutes=5))

    assert not store.client.exists(key)
    assert store.get(record.id) is None


def test_redis_revoke_all_keeps_one(store):
    now = now_utc().replace(microsecond=0)
    keep, other, stranger = (_record(7, now, "a"), _record(7, now, "b"), _record(8, now, "c"))
    for record in (keep, other, stranger):
        store.create(record)

    assert store.revoke_all(7, now, keep=keep.id) == 1

    assert store.get(keep.id).revoked_at is None
    assert store.get(other.id).revoked_at == now
    assert store.get(stranger.id).revoked_at is None
    assert {r.id for r in store.list_for_user(7)} == {keep.id, other.id}


def test_redis_backend_login_logout_replay(app, seeded, login, monkeypatch, store):
    monkeypatch.setitem(app.extensions, "lms_session_store", store)
    session = login("counselor1")
    stolen = session.client.get_cookie("session").value

    assert session.get("/learning").status_code == 200
    assert list(store.client.scan_iter(match=f"{store.prefix}session:*"))

    session.post("/logout")
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/learning")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_redis_purge_drops_vanished_ids(store):
    now = now_utc().replace(microsecond=0)
    kept = _record(8, now, "token-kept")
    vanished = _record(8, now, "token-vanished")
    store.create(kept)
    store.create(vanished)
    store.client.delete(f"{store.prefix}session:{vanished.id}")

    removed = store.purge_expired(now, timedelta(minutes=30), sessions.RETENTION)

    assert removed == 1
    assert store.client.smembers(f"{store.prefix}user:8") == {kept.id}


IDLE = timedelta(minutes=30)


def _stored_last_seen(store, record) -> str:
    return store.client.hget(f"{store.prefix}session:{record.id}", "last_seen_at")


def test_get_and_touch_refreshes_due_record(app_ctx, store):
    now = now_utc()
    record = _record(9, now, "token-due")
    store.create(record)
    later = now + timedelta(minutes=5)

    read, _user = store.get_and_touch(record.id, 9, later, IDLE)

    assert read.last_seen_at == now  # the record as it was before the refresh
    assert store.get(record.id).last_seen_at == later
    store.get_and_touch(record.id, 9, later + timedelta(seconds=30), IDLE)
    assert store.get(record.id).last_seen_at == later  # within the touch interval


@pytest.mark.parametrize(
    "case",
    ["recent", "idle", "expired", "revoked", "other user"],
)
def test_get_and_touch_skips_record(app_ctx, store, case):
    now = now_utc()
    record = _record(9, now, f"token-{case}")
    store.create(record)
    user_id, at = 9, now + timedelta(minutes=5)
    if case == "recent":
        at = now + timedelta(seconds=59)
    elif case == "idle":
        at = now + IDLE
    elif case == "expired":
        at = now + timedelta(hours=12)
    elif case == "revoked":
        store.revoke(record.id, now)
    else:
        user_id = 10
    before = _stored_last_seen(store, record)

    read, _user = store.get_and_touch(record.id, user_id, at, IDLE)

    assert read.id == record.id
    assert _stored_last_seen(store, record) == before


def test_get_and_touch_legacy_times(app_ctx, store):
    """Times written without microseconds, as older records hold them, compare in order."""
    now = now_utc().replace(microsecond=0)
    record = _record(9, now, "token-legacy")
    store.create(record)
    key = f"{store.prefix}session:{record.id}"
    store.client.hset(key, "last_seen_at", now.isoformat())
    store.client.hset(key, "expires_at", (now + timedelta(hours=12)).isoformat())

    store.get_and_touch(record.id, 9, now + IDLE - timedelta(microseconds=1), IDLE)
    assert store.get(record.id).last_seen_at == now + IDLE - timedelta(microseconds=1)

    store.client.hset(key, "last_seen_at", now.isoformat())
    store.get_and_touch(record.id, 9, now + IDLE, IDLE)
    assert store.get(record.id).last_seen_at == now  # idle for exactly the timeout


def test_get_and_touch_vanished_record(app_ctx, store):
    now = now_utc()
    record = _record(9, now, "token-vanished-read")

    assert store.get_and_touch(record.id, 9, now + timedelta(minutes=5), IDLE) == (None, None)
    assert not store.client.exists(f"{store.prefix}session:{record.id}")


def _user_id_of(app, username: str) -> int:
    from lms.accounts.models import User
    from lms.extensions import db

    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.username == username))


def test_redis_backend_idle_timeout(app, seeded, login, monkeypatch, store):
    from tests.accounts.test_sessions import FrozenClock, _is_logged_in

    monkeypatch.setitem(app.extensions, "lms_session_store", store)
    clock = FrozenClock(monkeypatch)
    session = login("counselor1")

    clock.advance(minutes=29)
    assert _is_logged_in(session)  # activity restarts the idle window
    clock.advance(minutes=29)
    assert _is_logged_in(session)
    last_activity = clock.now
    clock.advance(minutes=30, seconds=1)
    assert not _is_logged_in(session)
    # The rejected request left the record as it was.
    (record,) = store.list_for_user(_user_id_of(app, "counselor1"))
    assert record.last_seen_at == last_activity


def test_redis_request_one_round_trip(app, seeded, login, monkeypatch, store):
    """A request that refreshes its session sends one command to Redis."""
    from tests.accounts.test_sessions import FrozenClock

    monkeypatch.setitem(app.extensions, "lms_session_store", store)
    clock = FrozenClock(monkeypatch)
    session = login("counselor1")
    commands = []
    send = store.client.execute_command

    def counting(*args, **options):
        commands.append(args[0])
        return send(*args, **options)

    monkeypatch.setattr(store.client, "execute_command", counting)
    clock.advance(minutes=5)

    assert session.get("/healthz").status_code == 200

    assert commands == ["EVALSHA"]
    (record,) = store.list_for_user(_user_id_of(app, "counselor1"))
    assert record.last_seen_at == clock.now


def _copy_key(store, user_id: int) -> str:
    return f"{store.prefix}user-row:{user_id}"


def test_cached_user_reads_no_database(app, seeded, login, monkeypatch, store):
    """Once the user's row is copied to Redis, a request that renders nothing reads only Redis."""
    from tests.test_query_budgets import counted_queries

    monkeypatch.setitem(app.extensions, "lms_session_store", store)
    session = login("counselor1")
    assert session.get("/healthz").status_code == 200  # copies the row
    commands = []
    send = store.client.execute_command

    def counting(*args, **options):
        commands.append(args[0])
        return send(*args, **options)

    monkeypatch.setattr(store.client, "execute_command", counting)

    with counted_queries(app) as statements:
        assert session.get("/healthz").status_code == 200
    assert statements == []
    assert commands == ["EVALSHA"]


def test_user_copy_lacks_password_hash(app, seeded, login, monkeypatch, store):
    monkeypatch.setitem(app.extensions, "lms_session_store", store)
    session = login("counselor1")
    assert session.get("/healthz").status_code == 200
    user_id = _user_id_of(app, "counselor1")

    columns = json.loads(store.client.hget(_copy_key(store, user_id), "columns"))

    assert columns["username"] == "counselor1"
    assert columns["role"] == "counselor"
    assert "password_hash" not in columns
    # Changing the password checks the current one against the hash, which
    # the request user loads from the database.
    response = session.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": "another-pass-2026",
            "confirm_password": "another-pass-2026",
        },
    )
    assert response.status_code == 302
    assert login("counselor1", "another-pass-2026").get("/healthz").status_code == 200

def test_user_change_reaches_next_request(app, seeded, login, monkeypatch, store):
    """The next request loads the name and role committed before it."""
    from lms.accounts.models import User
    from lms.extensions import db

    monkeypatch.setitem(app.extensions, "lms_session_store", store)
    counselor = login("counselor1")
    admin = login("admin")
    assert "辅导员甲" not in counselor.get("/learning").get_data(as_text=True)
    user_id = _user_id_of(app, "counselor1")
    assert store.client.exists(_copy_key(store, user_id))

    with app.app_context():
        db.session.get(User, user_id).full_name = "辅导员甲"
        db.session.commit()
    assert "辅导员甲" in counselor.get("/learning").get_data(as_text=True)

    assert counselor.get("/manage/programmes").status_code == 403
    assert admin.post(f"/people/{user_id}/role", data={"role": "trainer"}).status_code == 302
    assert counselor.get("/manage/programmes").status_code == 200

    assert admin.post(f"/people/{user_id}/disable").status_code == 302
    response = counselor.get("/learning")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_rolled_back_change_not_shown(app, seeded, login, monkeypatch, store):
    from lms.accounts.models import User
    from lms.extensions import db

    monkeypatch.setitem(app.extensions, "lms_session_store", store)
    counselor = login("counselor1")
    user_id = _user_id_of(app, "counselor1")
    assert counselor.get("/healthz").status_code == 200

    with app.app_context():
        db.session.get(User, user_id).full_name = "未保存的名字"
        db.session.flush()
        db.session.rollback()

    page = counselor.get("/learning").get_data(as_text=True)
    assert "未保存的名字" not in page


def test_stale_copy_not_written(app, app_ctx, monkeypatch, store):
    """A row read before a change and written after it never counts."""
    from lms.accounts.models import User
    from lms.extensions import db
    from tests.factories import make_institution, make_user

    monkeypatch.setitem(app.extensions, "lms_session_store", store)
    user = make_user(make_institution(), "race")
    db.session.commit()
    now = now_utc()
    record = _record(user.id, now, "token-race")
    store.create(record)
    # The generation the reader saw before the change.
    generation = store.client.get(f"{store.prefix}user-generation:{user.id}") or "0"
    copy_before = redis_sessions._copy_of(user)

    user.full_name = "新名字"
    db.session.commit()
    store._remember_user(
        keys=[_copy_key(store, user.id), f"{store.prefix}user-generation:{user.id}"],
        args=[generation, copy_before, 600],
    )

    assert not store.client.exists(_copy_key(store, user.id))
    db.session.expunge_all()
    _record_read, loaded = store.get_and_touch(record.id, user.id, now, IDLE)
    assert loaded.full_name == "新名字"
    db.session.expunge_all()
    _record_read, copied = store.get_and_touch(record.id, user.id, now, IDLE)
    assert copied.full_name == "新名字"
    assert db.session.get(User, user.id) is copied


def test_language_choice_reaches_other_sessions(app, seeded, login, monkeypatch, store):
    """A change the request makes to its own user is stored and reaches the user's other logins."""
    monkeypatch.setitem(app.extensions, "lms_session_store", store)
    phone = login("counselor1")
    laptop = login("counselor1")
    assert laptop.get("/learning").status_code == 200  # copies the row
    assert '<html lang="zh' in laptop.get("/learning").get_data(as_text=True)

    response = phone.post("/language/en", headers={"Referer": "http://localhost/learning"})

    assert response.status_code == 302
    assert '<html lang="en' in laptop.get("/learning").get_data(as_text=True)


def test_user_load_inside_flush(app, seeded, login, monkeypatch, store):
    """A row that stamps its author can be the first to read the user, during a flush."""
    from lms.competencies.models import Framework
    from lms.extensions import db

    monkeypatch.setitem(app.extensions, "lms_session_store", store)
    session = login("counselor1")
    assert session.get("/healthz").status_code == 200  # copies the row
    cookie = session.client.get_cookie("session").value
    user_id = _user_id_of(app, "counselor1")

    # The client's address and agent, which the session protection checks.
    environ = dict(session.client.environ_base, HTTP_COOKIE=f"session={cookie}")
    with app.test_request_context("/healthz", environ_base=environ):
        framework = Framework(code=f"flush-{uuid.uuid4().hex[:8]}", title="在刷新中读取用户")
        db.session.add(framework)
        db.session.flush()
        assert framework.changed_by_id == user_id
        db.session.rollback()
