"""Record the author of each programme

The author of a programme and the administrators of its institution
change, publish and archive it. The audit log of earlier revisions has no
entry for the creation of a programme (only ``programme.published`` and
``programme.archived``, which any trainer could do), so existing
programmes get no author, and only administrators change them until one
sets an author on the programme's page.

Revision ID: d7a35b1e90c4
Revises: c41e7a9d2f63
Create Date: 2026-12-06 04:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7a35b1e90c4'
down_revision = 'c41e7a9d2f63'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_programme_author_id'), ['author_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_programme_author_id_user'), 'user', ['author_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_programme_author_id_user'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_programme_author_id'))
        batch_op.drop_column('author_id')
