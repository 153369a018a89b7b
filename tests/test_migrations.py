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
    url = os.environ.get("LMS_TEST_DATABASE_URL")
    if url:
        pytest.skip("runs on a private SQLite file; the PostgreSQL run covers models")
    return create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.sqlite3"}
    )


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
