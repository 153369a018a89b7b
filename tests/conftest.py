"""Shared fixtures: one app per session, a clean database per test, real logins."""

import os
import re
import tempfile
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from lms import create_app
from lms.extensions import db as _db

TEST_PASSWORD = "demo-pass-2026"


def _database_url(tmpdir: str) -> str:
    return os.environ.get("LMS_TEST_DATABASE_URL") or f"sqlite:///{tmpdir}/test.sqlite3"


#: With ``LMS_TEST_REDIS_URL`` set, the app keeps sessions, user-row copies
#: and rate limits in that Redis database, as production does, under a
#: prefix of this run's own.
REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL")
REDIS_PREFIX = f"shuren-test-{uuid.uuid4().hex[:12]}:"


#: Marks a test of the session records that the database store keeps.
database_sessions = pytest.mark.skipif(
    bool(REDIS_URL), reason="checks session records kept in the database"
)


def _store_settings() -> dict:
    if not REDIS_URL:
        return {"RATELIMIT_STORAGE_URI": "memory://", "SESSION_STORE_URL": None}
    return {
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": REDIS_PREFIX,
        "SESSION_STORE_URL": REDIS_URL,
        "SESSION_REDIS_PREFIX": REDIS_PREFIX,
    }


def _forget_redis_keys() -> None:
    """Delete this run's session keys: each test's tables start empty and reuse ids.

    The rate limiter's ``reset`` deletes its own keys, every run's in the
    database, so concurrent runs need Redis databases of their own.
    """
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{REDIS_PREFIX}*", count=1000))
    if keys:
        client.delete(*keys)


class FreshContextClient(FlaskClient):
    """Test client that runs every request in its own app context, as a server does.

    Tests hold an app context to query the database, and Flask reuses an
    active app context for a request. Without a fresh one, ``g`` would carry
    the logged-in user, the CSRF token and the locale from one request, or
    one client, into the next. Each request therefore also gets its own
    database session: re-query or ``expire_all()`` to see what it wrote.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app():
    tmpdir = tempfile.mkdtemp(prefix="shuren-test-")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": _database_url(tmpdir),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "CERTIFICATE_DIR": os.path.join(tmpdir, "certificates"),
            "EVIDENCE_DIR": os.path.join(tmpdir, "evidence"),
            "UPLOAD_DIR": os.path.join(tmpdir, "uploads"),
            # Tests run batches themselves instead of on a background thread.
            "CERTIFICATE_BATCH_AUTOSTART": False,
            **_store_settings(),
            "PUBLIC_URL": "http://127.0.0.1:5000",
            "SERVER_NAME": None,
            # No time passes in a test, so lessons need only be opened before
            # they are completed; tests of the minimum time set their own share.
            "LESSON_MIN_TIME_SHARE": Decimal(0),
        }
    )
    app.test_client_class = FreshContextClient
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(app):
    """Give every test empty tables and a fresh rate-limit window."""
    from lms.extensions import limiter

    limiter.reset()
    if REDIS_URL:
        _forget_redis_keys()
    yield
    with app.app_context():
        _db.session.rollback()
        _empty_tables(_db.engine)
        _db.session.remove()


def _empty_tables(engine: sa.Engine) -> None:
    """Delete every row, children first, in one round trip to the database.

    One statement per table cost PostgreSQL runs about 50 ms per test in
    round trips. Sent as one script, the same deletes take a few ms.
    """
    quote = engine.dialect.identifier_preparer.format_table
    script = "".join(
        f"DELETE FROM {quote(table)};" for table in reversed(_db.metadata.sorted_tables)
    )
    if engine.dialect.name == "sqlite":
        # sqlite3 runs one statement per execute(); executescript runs many,
        # outside the driver's own transaction handling.
        with engine.connect() as conn:
            conn.connection.driver_connection.executescript(f"BEGIN;{script}COMMIT;")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql(script)


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


class LoggedIn:
    """A test client logged in through the real login form, carrying its CSRF token."""

    def __init__(self, client, username: str, password: str = TEST_PASSWORD):
        self.client = client
        page = client.get("/login")
        self.csrf = csrf_from(page.get_data(as_text=True))
        response = client.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": self.csrf},
        )
        assert response.status_code == 302, f"login as {username} failed"
        # Login replaces the session and with it the CSRF token.
        page = client.get("/account/password")
        self.csrf = csrf_from(page.get_data(as_text=True))

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, data=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf)
        return self.client.post(url, data=data, **kw)


@pytest.fixture
def login(app):
    """Return a function that logs a fresh client in as ``username``."""

    def _login(username: str, password: str = TEST_PASSWORD) -> LoggedIn:
        return LoggedIn(app.test_client(), username, password)

    return _login


#: The rows of every table right after the first demo seed of this run.
_seed_rows: dict[str, list[dict]] = {}


@pytest.fixture
def seeded(app):
    """Load the demo seed with every account's password set to TEST_PASSWORD.

    The seed runs once per test process. Later tests get a copy of the rows
    it wrote, because inserting them is several times quicker than seeding
    again. Tests of the seed itself call ``seed_demo`` directly.
    """
    from lms.seed import seed_demo

    with app.app_context():
        if not _seed_rows or not _tables_empty(_db.engine):
            # A test that wrote rows before asking for the seed gets the
            # seed itself, which adds what is missing around them.
            seed_demo(password=TEST_PASSWORD)
            _db.session.commit()
            if not _seed_rows:
                _seed_rows.update(_table_rows(_db.engine))
        else:
            _restore_rows(_db.engine, _seed_rows)
    return TEST_PASSWORD


def _tables_empty(engine: sa.Engine) -> bool:
    quote = engine.dialect.identifier_preparer.format_table
    filled = " OR ".join(
        f"EXISTS (SELECT 1 FROM {quote(table)})" for table in _db.metadata.sorted_tables
    )
    with engine.connect() as conn:
        return not conn.scalar(sa.text(f"SELECT {filled}"))


def _table_rows(engine: sa.Engine) -> dict[str, list[dict]]:
    with engine.connect() as conn:
        return {
            table.name: [
                dict(row._mapping)
                for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            ]
            for table in _db.metadata.sorted_tables
        }


def _restore_rows(engine: sa.Engine, rows: dict[str, list[dict]]) -> None:
    """Insert a copy of ``rows``, parents first, keeping their primary keys.

    On PostgreSQL each sequence is then moved past the copied keys, so rows
    that the test adds never take one of them. A sequence is never moved
    back, so no key of an earlier test's row is reused either.
    """
    with engine.begin() as conn:
        for table in _db.metadata.sorted_tables:
            if rows[table.name]:
                conn.execute(table.insert(), rows[table.name])
        if engine.dialect.name == "postgresql":
            moves = [
                f"setval({sequence}, GREATEST({top}, nextval({sequence})))"
                for table, column, top, sequence in _serial_keys(rows)
            ]
            conn.exec_driver_sql("SELECT " + ", ".join(moves))


def _serial_keys(rows: dict[str, list[dict]]):
    """Yield (table, column, highest copied value, sequence expression) per serial key."""
    for table in _db.metadata.sorted_tables:
        if not rows[table.name]:
            continue
        for column in table.primary_key.columns:
            if isinstance(column.type, sa.Integer) and column is table.autoincrement_column:
                top = max(row[column.name] for row in rows[table.name])
                yield table, column, top, (
                    f"pg_get_serial_sequence('\"{table.name}\"', '{column.name}')"
                )


def demo_row(model, **values):
    """Return the demo university's row of ``model`` with these column values.

    The seed gives the second demo institution its own copy of the pre-job
    programme and its courses, with the same codes.
    """
    from lms.organisations.models import Institution

    return _db.session.scalar(
        sa.select(model)
        .join(Institution, Institution.id == model.institution_id)
        .where(Institution.code == "demo-univ")
        .where(*(getattr(model, name) == value for name, value in values.items()))
    )


def count(model) -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def english(app, monkeypatch):
    """Produce messages in English, for tests that compare message text.

    The UI defaults to Chinese; this replaces the locale selector, so pages,
    flashes and service errors all come out in English.
    """
    from flask import has_app_context
    from flask_babel import refresh

    monkeypatch.setattr(app.extensions["babel"], "locale_selector", lambda: "en")
    if has_app_context():
        refresh()
