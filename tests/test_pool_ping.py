"""Pooled connections are pinged only after sitting idle, and dead ones are replaced."""

import time

import pytest
import sqlalchemy as sa

import lms
from lms.extensions import db


def _pooled_connection_record(engine):
    """Check a connection out and in again; return its pool record."""
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
        record = connection.connection._connection_record
    return record


def _kill(engine, record) -> None:
    """Break the pooled connection behind ``record`` the way a database restart would."""
    if engine.dialect.name == "postgresql":
        pid = record.dbapi_connection.info.backend_pid
        # Another engine, because the pool of one has lent out its only connection.
        other_engine = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
        with other_engine.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        other_engine.dispose()
        # The terminated backend's socket closes asynchronously.
        time.sleep(0.2)
    else:
        record.dbapi_connection.close()


@pytest.fixture
def engine(app):
    with app.app_context():
        # A pool of one, so every checkout gets the same connection record.
        engine = sa.create_engine(db.engine.url, pool_size=1, max_overflow=0)
        yield engine
        engine.dispose()


def test_idle_connection_pinged_and_replaced(engine):
    record = _pooled_connection_record(engine)
    _kill(engine, record)
    record.info["checked_in_at"] -= lms.PING_AFTER_IDLE_SECONDS + 1

    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT 1")).scalar() == 1


def test_recently_used_connection_not_pinged(engine):
    record = _pooled_connection_record(engine)
    cursors = []

    class CountingConnection:
        def __init__(self, wrapped):
            self.wrapped = wrapped

        def cursor(self):
            cursors.append(True)
            return self.wrapped.cursor()

    lms._ping_idle_connection(CountingConnection(record.dbapi_connection), record, None)
    assert cursors == []
    record.info["checked_in_at"] -= lms.PING_AFTER_IDLE_SECONDS + 1
    lms._ping_idle_connection(CountingConnection(record.dbapi_connection), record, None)
    assert cursors == [True]


def test_fresh_connection_not_pinged(engine):
    with engine.connect() as connection:
        record = connection.connection._connection_record
        assert "checked_in_at" not in record.info
    assert record.info["checked_in_at"] <= time.monotonic()


def test_dead_connection_within_idle_window_fails_once(engine):
    record = _pooled_connection_record(engine)
    _kill(engine, record)

    with pytest.raises(sa.exc.DBAPIError):
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT 1")).scalar() == 1
