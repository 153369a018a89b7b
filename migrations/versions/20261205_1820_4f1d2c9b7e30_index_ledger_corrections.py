"""Index the ledger rows that correct another row

Rules that require a passed exam ignore an exam row whose corrections took
all its hours back, and look its corrections up by ``corrects_id``. Without
an index each lookup scanned the whole ledger. The index is partial: only
correcting rows, a small share of the ledger, are in it.

Revision ID: 4f1d2c9b7e30
Revises: 792c66dd54c1
Create Date: 2026-12-05 18:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4f1d2c9b7e30'
down_revision = '792c66dd54c1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('hours_entry', schema=None) as batch_op:
        batch_op.create_index(
            'ix_hours_entry_corrects',
            ['corrects_id'],
            unique=False,
            sqlite_where=sa.text('corrects_id IS NOT NULL'),
            postgresql_where=sa.text('corrects_id IS NOT NULL'),
        )


def downgrade():
    with op.batch_alter_table('hours_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_hours_entry_corrects')
