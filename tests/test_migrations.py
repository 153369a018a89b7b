"""The Alembic revisions build exactly the schema the models declare."""

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from lms import create_app
from lms.extensions import db


@pytest.fixture
def fresh_app(tmp_path):
    """Yield an app on an empty database of the backend under test."""
    url = os.environ.get("LMS_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield create_app(
            {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.sqlite3"}
        )
        return

    # A private database, so the migrations start from nothing on PostgreSQL too.
    name = f"shuren_migrations_{os.getpid()}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    private_url = sa.engine.make_url(url).set(database=name)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": private_url.render_as_string(hide_password=False),
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
    admin.dispose()


def test_upgrade_matches_models(fresh_app):
    with fresh_app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True}
            )
            differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_downgrade_to_base_and_back(fresh_app):
    with fresh_app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
        with db.engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
    assert set(db.metadata.tables) <= tables
