"""``flask lms`` commands print one line, not a traceback, when the database fails."""

import os
import socket
import sqlite3

import click
import pytest
import sqlalchemy as sa
from flask.cli import with_appcontext

from lms import create_app
from lms.cli import lms_cli
from lms.cli_errors import describe_database_error
from lms.extensions import db

_apps = []


@pytest.fixture(autouse=True)
def _dispose_engines():
    """Close the pooled connections of the apps a test created."""
    yield
    while _apps:
        with _apps.pop().app_context():
            db.session.remove()
            db.engine.dispose()


def _app_on(url: str):
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SESSION_STORE_URL": None}
    )
    _apps.append(app)
    return app


def _free_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on once this returns."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _assert_one_line(result, *fragments):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    for fragment in fragments:
        assert fragment in lines[0]


def test_unreachable_postgresql_named(tmp_path):
    port = _free_port()
    app = _app_on(f"postgresql+psycopg://shuren:secret@127.0.0.1:{port}/shuren")

    result = app.test_cli_runner().invoke(args=["lms", "set-password", "anyone"])

    _assert_one_line(
        result,
        f"127.0.0.1:{port}",
        "Cannot connect",
        "Connection refused",
        "LMS_DATABASE_URL",
    )
    assert "secret" not in result.output


def test_missing_tables_ask_for_upgrade(tmp_path):
    app = _app_on(f"sqlite:///{tmp_path}/empty.sqlite3")

    result = app.test_cli_runner().invoke(args=["lms", "operator", "admin"])

    _assert_one_line(result, "no table user", "flask --app wsgi db upgrade")


@pytest.mark.skipif(
    not os.environ.get("LMS_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="needs the PostgreSQL server of LMS_TEST_DATABASE_URL",
)
def test_missing_postgresql_tables_ask_for_upgrade():
    base = sa.engine.make_url(os.environ["LMS_TEST_DATABASE_URL"])
    name = f"{base.database}_cli_empty"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        app = _app_on(base.set(database=name).render_as_string(hide_password=False))
        result = app.test_cli_runner().invoke(args=["lms", "jobs"])
        missing_database = (
            _app_on(
                base.set(database=f"{name}_absent").render_as_string(
                    hide_password=False
                )
            )
            .test_cli_runner()
            .invoke(args=["lms", "jobs"])
        )
        while _apps:
            with _apps.pop().app_context():
                db.engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()

    _assert_one_line(result, "has no table", "flask --app wsgi db upgrade")
    _assert_one_line(missing_database, f"{name}_absent does not exist", "createdb")


def test_unopenable_sqlite_file_named(tmp_path):
    path = tmp_path / "no" / "such" / "folder" / "db.sqlite3"
    app = _app_on(f"sqlite:///{path}")

    result = app.test_cli_runner().invoke(args=["lms", "jobs"])

    _assert_one_line(result, str(path), "Cannot open the SQLite database", "writable")


def test_locked_sqlite_database_named(tmp_path):
    path = tmp_path / "busy.sqlite3"
    app = _app_on(f"sqlite:///{path}")
    with app.app_context():
        db.create_all()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        # The app waits its busy_timeout (5 s) before SQLite reports the lock.
        # Readers pass in WAL mode, so the command is one that writes.
        result = app.test_cli_runner().invoke(
            args=[
                "lms",
                "create-institution",
                "bnu",
                "北京师范大学",
                "--serial-prefix",
                "BNU",
            ]
        )
    finally:
        holder.rollback()
        holder.close()

    _assert_one_line(result, "is locked by another process", "Try again")


@pytest.fixture
def duplicate_username_command():
    """A ``flask lms`` subcommand that inserts a taken username, as a lost race would."""

    @click.command("insert-duplicate-user")
    @with_appcontext
    def insert_duplicate_user():
        db.session.execute(
            sa.text(
                "INSERT INTO user_account_probe (username) VALUES ('wangmin'), ('wangmin')"
            )
        )
        db.session.commit()

    lms_cli.add_command(insert_duplicate_user)
    yield
    lms_cli.commands.pop("insert-duplicate-user")


def test_constraint_violation_rolled_back(app, duplicate_username_command):
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "CREATE TABLE user_account_probe (username VARCHAR(64) "
                    "CONSTRAINT uq_user_account_probe_username UNIQUE)"
                )
            )
    try:
        result = app.test_cli_runner().invoke(args=["lms", "insert-duplicate-user"])
        with app.app_context():
            rows = db.session.scalar(sa.text("SELECT count(*) FROM user_account_probe"))
            db.session.remove()
    finally:
        with app.app_context():
            with db.engine.begin() as connection:
                connection.execute(sa.text("DROP TABLE user_account_probe"))

    _assert_one_line(
        result, "same values already exists", "uncommitted changes were rolled back"
    )
    assert rows == 0


def test_real_sqlite_lock_described(tmp_path):
    path = tmp_path / "held.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE probe (id INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        with pytest.raises(sa.exc.OperationalError) as caught:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT * FROM probe"))
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()

    message = describe_database_error(caught.value, engine.url)

    assert str(path) in message
    assert "locked by another process" in message
