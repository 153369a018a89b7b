"""Store the exam result of trainings

A ledger row and an outside training record whether the training's exam
was passed, failed or has no recorded result. Rules that count only
pre-job training require a passed exam. Course completions already in the
ledger were reached by passing every quiz of the course, so those of
courses with a quiz are marked passed. The national pre-job rule's source
no longer says that the exam is not checked.

Revision ID: 2ee342559f1d
Revises: 0eb94100bede
Create Date: 2026-12-05 14:28:12.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2ee342559f1d'
down_revision = '0eb94100bede'
branch_labels = None
depends_on = None

#: The end of the old source sentence, replaced by a full stop.
UNCHECKED_NOTE = '，考核结果不在本规则内核对。'


def upgrade():
    with op.batch_alter_table('external_training', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exam_passed', sa.Boolean(), nullable=True))

    with op.batch_alter_table('hours_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exam_passed', sa.Boolean(), nullable=True))

    op.execute(
        sa.text(
            "UPDATE hours_entry SET exam_passed = :passed "
            "WHERE source_type = 'course_completion' AND source_id IN ("
            "SELECT course_completion.id FROM course_completion "
            "JOIN quiz ON quiz.course_id = course_completion.course_id)"
        ).bindparams(passed=True)
    )
    op.execute(
        sa.text(
            "UPDATE compliance_rule SET source = REPLACE(source, :note, '。') "
            "WHERE code = 'counselor-pre-job'"
        ).bindparams(note=UNCHECKED_NOTE)
    )


def downgrade():
    with op.batch_alter_table('hours_entry', schema=None) as batch_op:
        batch_op.drop_column('exam_passed')

    with op.batch_alter_table('external_training', schema=None) as batch_op:
        batch_op.drop_column('exam_passed')
