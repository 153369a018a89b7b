"""keep question import previews

A question file previewed for import is now stored as a row, so the
confirmation names the preview it confirms and can import it only once.

Revision ID: 5c2e8d41a7b3
Revises: 2b719bf7d5f1
Create Date: 2026-12-05 09:10:00

"""
from alembic import op
import sqlalchemy as sa

import lms.db


# revision identifiers, used by Alembic.
revision = '5c2e8d41a7b3'
down_revision = '2b719bf7d5f1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('question_pending_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bank_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('stored_name', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('imported_at', lms.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['bank_id'], ['question_bank.id'], name=op.f('fk_question_pending_import_bank_id_question_bank'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['category_id'], ['question_category.id'], name=op.f('fk_question_pending_import_category_id_question_category'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_question_pending_import_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_pending_import'))
    )
    with op.batch_alter_table('question_pending_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_pending_import_bank_id'), ['bank_id'], unique=False)


def downgrade():
    with op.batch_alter_table('question_pending_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_pending_import_bank_id'))

    op.drop_table('question_pending_import')
