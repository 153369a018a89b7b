"""Skip revoked certificates in batches

A batch item can now end as "revoked": the person's certificate of the
programme was revoked, so the batch skipped them instead of issuing a
replacement.

Revision ID: 7d3c52e1a9f4
Revises: a16674c16de7
Create Date: 2026-12-05 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d3c52e1a9f4'
down_revision = 'a16674c16de7'
branch_labels = None
depends_on = None

OLD = ('pending', 'issued', 'existing', 'failed')
NEW = ('pending', 'issued', 'existing', 'revoked', 'failed')


def _status(values):
    return sa.Enum(*values, name='itemstatus', native_enum=False, create_constraint=True, length=32)


def upgrade():
    with op.batch_alter_table('certificate_batch_item', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=_status(OLD), type_=_status(NEW),
                              existing_nullable=False)


def downgrade():
    op.execute("UPDATE certificate_batch_item SET status = 'existing' WHERE status = 'revoked'")
    with op.batch_alter_table('certificate_batch_item', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=_status(NEW), type_=_status(OLD),
                              existing_nullable=False)
