"""Leave limit of training classes

A class now records whether it is off-the-job training (脱产培训) and the
largest share of its scheduled time a member may miss. A member withdrawn
from a class keeps the reason, so that a withdrawal for exceeding the limit
can be told apart from one by a trainer. Existing classes are on-the-job
without a limit, so no existing member is withdrawn by the change.

Revision ID: f248431004db
Revises: 5e23dc16ebdb
Create Date: 2026-12-05 14:13:12.193857

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f248431004db'
down_revision = '5e23dc16ebdb'
branch_labels = None
depends_on = None


def upgrade():
    # batch_alter_table recreates the table on SQLite, which cannot add a
    # CHECK constraint to an existing table.
    with op.batch_alter_table('class_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawal_reason', sa.Enum('self', 'trainer', 'leave_limit', name='withdrawalreason', native_enum=False, create_constraint=False, length=32), nullable=True))
        batch_op.create_check_constraint(
            'withdrawalreason', "withdrawal_reason IN ('self', 'trainer', 'leave_limit')"
        )

    with op.batch_alter_table('training_class', schema=None) as batch_op:
        batch_op.add_column(sa.Column('off_the_job', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('leave_limit_num', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('leave_limit_den', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            'leave_limit_fraction',
            "(leave_limit_num IS NULL AND leave_limit_den IS NULL)"
            " OR (leave_limit_num > 0 AND leave_limit_den > leave_limit_num)",
        )


def downgrade():
    with op.batch_alter_table('training_class', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_training_class_leave_limit_fraction'), type_='check')
        batch_op.drop_column('leave_limit_den')
        batch_op.drop_column('leave_limit_num')
        batch_op.drop_column('off_the_job')

    with op.batch_alter_table('class_member', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_class_member_withdrawalreason'), type_='check')
        batch_op.drop_column('withdrawal_reason')
