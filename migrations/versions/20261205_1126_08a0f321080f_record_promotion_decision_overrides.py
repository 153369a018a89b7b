"""Record promotion decision overrides

A reviewer who approves an application that fails the check at decision
time writes a reason, stored with the checks that failed.

Revision ID: 08a0f321080f
Revises: a16497ef67c5
Create Date: 2026-12-05 11:26:18.850755

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '08a0f321080f'
down_revision = 'a16497ef67c5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('promotion_decision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('override_reason', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('overridden_problems', sa.JSON(), server_default='[]', nullable=False))


def downgrade():
    with op.batch_alter_table('promotion_decision', schema=None) as batch_op:
        batch_op.drop_column('overridden_problems')
        batch_op.drop_column('override_reason')
