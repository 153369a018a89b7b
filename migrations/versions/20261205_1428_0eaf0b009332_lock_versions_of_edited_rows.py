"""Lock versions of the rows people edit through forms

Each of these tables gets ``lock_version``, a counter raised on every update
and checked by the update, so that a save made from a page opened before
someone else's save is refused instead of overwriting it. ``changed_by_id``
and ``changed_at`` name who made the last change and when. Existing rows
start at version 1 with no known last change.

Revision ID: 0eaf0b009332
Revises: 5e89e73280d1
Create Date: 2026-12-05 14:28:57.727003

"""
from alembic import op
import sqlalchemy as sa

import lms.db


# revision identifiers, used by Alembic.
revision = '0eaf0b009332'
down_revision = '5e89e73280d1'
branch_labels = None
depends_on = None

TABLES = (
    'annual_assessment_scheme',
    'certificate_template',
    'class_session',
    'competency_area',
    'competency_framework',
    'competency_item',
    'competency_level',
    'compliance_rule',
    'contest',
    'course',
    'lesson',
    'performance_task',
    'person_profile',
    'programme',
    'promotion_rule',
    'question',
    'quiz',
    'rubric',
    'training_class',
)


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    'lock_version',
                    sa.Integer(),
                    server_default=sa.text('1'),
                    nullable=False,
                )
            )
            batch_op.add_column(sa.Column('changed_by_id', sa.Integer(), nullable=True))
            batch_op.add_column(
                sa.Column('changed_at', lms.db.UTCDateTime(), nullable=True)
            )
            batch_op.create_foreign_key(
                batch_op.f(f'fk_{table}_changed_by_id_user'),
                'user',
                ['changed_by_id'],
                ['id'],
                ondelete='SET NULL',
            )


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f(f'fk_{table}_changed_by_id_user'), type_='foreignkey'
            )
            batch_op.drop_column('changed_at')
            batch_op.drop_column('changed_by_id')
            batch_op.drop_column('lock_version')
