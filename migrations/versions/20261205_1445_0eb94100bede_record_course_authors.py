"""Record the author of each course version

A course's authors, with the trainers of the classes that offer it, teach
the course and grade its learners' work. Courses that exist already have
no recorded author, so only class trainers and administrators grade them.

Revision ID: 0eb94100bede
Revises: 7b3e9c2d41f0
Create Date: 2026-12-05 14:13:45.639915

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0eb94100bede'
down_revision = '7b3e9c2d41f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_course_author_id'), ['author_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_course_author_id_user'), 'user', ['author_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('course', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_course_author_id_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_course_author_id'))
        batch_op.drop_column('author_id')

