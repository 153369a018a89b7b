"""Index the account columns that the people lists filter and order by

The people list, the list of a compliance rule's people and rule
evaluation select the accounts of one institution, or of one of its
departments, ordered by full name and id; record uploads and roster
imports look accounts up by employee number within an institution. With
only single-column indexes, both SQLite and PostgreSQL fetched every
account of the institution and sorted it for each page. The composite
indexes let a page read its 50 rows in index order and let the lookups
by number use an index.

Revision ID: 7b3e5a91c2d4
Revises: 8fb3718a4d9d
Create Date: 2026-12-06 16:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7b3e5a91c2d4'
down_revision = '8fb3718a4d9d'
branch_labels = None
depends_on = None

INDEXES = {
    "ix_user_institution_id_full_name": ["institution_id", "full_name", "id"],
    "ix_user_institution_id_department_id_full_name": [
        "institution_id",
        "department_id",
        "full_name",
        "id",
    ],
    "ix_user_institution_id_employee_no": ["institution_id", "employee_no"],
}


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
