"""Index account usernames in lower case

Login, account creation and the co-teacher lookup match a username
without regard to letter case through lower(username). The unique index
on username serves only exact matches, so a login with a name typed in
another case, or one that names no account, read every account. An
index on the expression serves those lookups on SQLite and PostgreSQL.

Revision ID: e3a9c1f7b2d6
Revises: 55cf031ff93c
Create Date: 2026-12-06 16:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3a9c1f7b2d6'
down_revision = '55cf031ff93c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_user_lower_username", "user", [sa.text("lower(username)")])


def downgrade():
    op.drop_index("ix_user_lower_username", table_name="user")
