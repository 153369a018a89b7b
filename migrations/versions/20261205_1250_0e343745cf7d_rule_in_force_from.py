"""Institution rules in force from a date

An institution's training-hour rule now has the first day it applies.
Calendar years that ended before it are judged by the national rule of the
same code. Existing rules get none, so they keep judging every year.

Revision ID: 0e343745cf7d
Revises: 495fa5127902
Create Date: 2026-12-05 12:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0e343745cf7d'
down_revision = '495fa5127902'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('compliance_rule', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_force_from', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('compliance_rule', schema=None) as batch_op:
        batch_op.drop_column('in_force_from')
