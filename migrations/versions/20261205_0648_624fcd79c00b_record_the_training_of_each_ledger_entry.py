"""record the training of each ledger entry

A rule that counts trainings counted every ledger source, so the courses of
one programme, or the sessions of one class, counted as several trainings.
Each hours entry now names the training its source is part of, and the
existing rows are filled in from the completion's programme enrolment and
the session's class.

Revision ID: 624fcd79c00b
Revises: bf2deaabc2c8
Create Date: 2026-12-05 06:48:51.964655

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '624fcd79c00b'
down_revision = 'bf2deaabc2c8'
branch_labels = None
depends_on = None

# Correlated subqueries, which SQLite and PostgreSQL both run in an UPDATE.
COMPLETION_PROGRAMME = """
    SELECT enrolment.programme_id FROM course_completion
    JOIN enrolment ON enrolment.id = course_completion.enrolment_id
    WHERE course_completion.id = hours_entry.source_id
"""
SESSION_PROGRAMME = """
    SELECT training_class.programme_id FROM class_session
    JOIN training_class ON training_class.id = class_session.class_id
    WHERE class_session.id = hours_entry.source_id
"""
SESSION_CLASS = """
    SELECT class_session.class_id FROM class_session
    WHERE class_session.id = hours_entry.source_id
"""


def upgrade():
    with op.batch_alter_table('hours_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('training_type', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('training_id', sa.Integer(), nullable=True))

    op.execute(
        f"UPDATE hours_entry SET training_type = 'programme',"
        f" training_id = ({COMPLETION_PROGRAMME})"
        f" WHERE source_type = 'course_completion'"
        f" AND ({COMPLETION_PROGRAMME}) IS NOT NULL"
    )
    op.execute(
        f"UPDATE hours_entry SET training_type = 'programme',"
        f" training_id = ({SESSION_PROGRAMME})"
        f" WHERE source_type = 'class_session'"
        f" AND ({SESSION_PROGRAMME}) IS NOT NULL"
    )
    op.execute(
        f"UPDATE hours_entry SET training_type = 'training_class',"
        f" training_id = ({SESSION_CLASS})"
        f" WHERE source_type = 'class_session' AND training_type IS NULL"
        f" AND ({SESSION_CLASS}) IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table('hours_entry', schema=None) as batch_op:
        batch_op.drop_column('training_id')
        batch_op.drop_column('training_type')
