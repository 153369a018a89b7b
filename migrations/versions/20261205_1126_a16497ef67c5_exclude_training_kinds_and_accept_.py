"""exclude training kinds and accept training days in rules

A rule can leave out hours of some training kinds while still counting
hours recorded without a kind (``excluded_kinds``), and an hours rule can
also be met by a number of training days converted at a number of 学时 a
day (``min_days``, ``hours_per_day``). Existing rules get no exclusions and
no days minimum; ``flask lms seed`` updates the shared rules it seeded.

Revision ID: a16497ef67c5
Revises: 9ab941078223
Create Date: 2026-12-05 11:26:08.763770

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a16497ef67c5'
down_revision = '9ab941078223'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('compliance_rule', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('excluded_kinds', sa.JSON(), server_default='[]', nullable=False)
        )
        batch_op.add_column(
            sa.Column('min_days', sa.Numeric(precision=5, scale=1), nullable=True)
        )
        batch_op.add_column(
            sa.Column('hours_per_day', sa.Numeric(precision=4, scale=1), nullable=True)
        )
        batch_op.create_check_constraint(
            'min_days_with_hours_per_day',
            "(min_days IS NULL) = (hours_per_day IS NULL)"
            " AND (min_days IS NULL OR (min_hours IS NOT NULL"
            " AND min_days > 0 AND hours_per_day > 0))",
        )


def downgrade():
    with op.batch_alter_table('compliance_rule', schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f('ck_compliance_rule_min_days_with_hours_per_day'), type_='check'
        )
        batch_op.drop_column('hours_per_day')
        batch_op.drop_column('min_days')
        batch_op.drop_column('excluded_kinds')
