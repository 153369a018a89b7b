"""Store course co-teachers and recover the authors of older courses

A course's author and the administrators of its institution add trainers
as co-teachers, who grade the course's work as its author does. Courses
created before ``course.author_id`` existed get as author the user who
created them, taken from the audit entry ``course.created`` of that course
when one exists and its actor belongs to the course's institution; the
others keep no author until an administrator sets one. A downgrade keeps
the recovered authors, as the column predates this revision.

NOTE: no release before this revision writes ``course.created``, so a
database upgraded from one has no such entry, and its courses without an
author keep none.

Revision ID: 792c66dd54c1
Revises: 7c3d91e4a2b5
Create Date: 2026-12-05 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import lms.db


# revision identifiers, used by Alembic.
revision = '792c66dd54c1'
down_revision = '7c3d91e4a2b5'
branch_labels = None
depends_on = None

#: The author of each course without one: the actor of the oldest
#: ``course.created`` entry about it, if that user is of its institution.
BACKFILL_AUTHORS = """
UPDATE course SET author_id = (
    SELECT audit_entry.actor_id
    FROM audit_entry JOIN "user" ON "user".id = audit_entry.actor_id
    WHERE audit_entry.action = 'course.created'
      AND audit_entry.subject_type = 'course'
      AND audit_entry.subject_id = course.id
      AND "user".institution_id = course.institution_id
    ORDER BY audit_entry.id
    LIMIT 1
)
WHERE author_id IS NULL
"""


def upgrade():
    op.create_table('course_teacher',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', lms.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['user.id'], name=op.f('fk_course_teacher_added_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['course_id'], ['course.id'], name=op.f('fk_course_teacher_course_id_course'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_course_teacher_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_teacher')),
    sa.UniqueConstraint('course_id', 'user_id', name=op.f('uq_course_teacher_course_id_user_id'))
    )
    with op.batch_alter_table('course_teacher', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_teacher_user_id'), ['user_id'], unique=False)

    op.execute(sa.text(BACKFILL_AUTHORS))


def downgrade():
    with op.batch_alter_table('course_teacher', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_teacher_user_id'))

    op.drop_table('course_teacher')
