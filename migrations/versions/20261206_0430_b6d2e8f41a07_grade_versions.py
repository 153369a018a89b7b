"""Count the saved grades of essay answers and task submissions

A grading page sends back the ``grade_version`` it showed, so a grade
saved from a page opened before another grader's save is rejected
instead of overwriting that grade.

Revision ID: b6d2e8f41a07
Revises: 4f1d2c9b7e30
Create Date: 2026-12-06 04:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b6d2e8f41a07'
down_revision = '4f1d2c9b7e30'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('attempt_answer', 'task_submission'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    'grade_version', sa.Integer(), server_default=sa.text('0'), nullable=False
                )
            )


def downgrade():
    for table in ('task_submission', 'attempt_answer'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('grade_version')
