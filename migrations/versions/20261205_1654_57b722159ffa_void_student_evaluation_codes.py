"""Void student evaluation codes

HR voids an unused access code that was given to the wrong student or
became known to others. The code row stays, so the numbers of the code
download keep naming the same codes, and it records when and by whom it
was voided. A code is never both used and void.

Revision ID: 57b722159ffa
Revises: bad675862c76
Create Date: 2026-12-05 16:54:44.365821

"""
from alembic import op
import sqlalchemy as sa

import lms.db


# revision identifiers, used by Alembic.
revision = '57b722159ffa'
down_revision = 'bad675862c76'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('student_evaluation_code', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voided_at', lms.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('voided_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_student_evaluation_code_voided_by_id_user'), 'user', ['voided_by_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_student_evaluation_code_voided_with_actor'), '(voided_at IS NULL) = (voided_by_id IS NULL)')
        batch_op.create_check_constraint(batch_op.f('ck_student_evaluation_code_used_or_void'), 'NOT (used AND voided_at IS NOT NULL)')


def downgrade():
    with op.batch_alter_table('student_evaluation_code', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_student_evaluation_code_used_or_void'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_student_evaluation_code_voided_with_actor'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_student_evaluation_code_voided_by_id_user'), type_='foreignkey')
        batch_op.drop_column('voided_by_id')
        batch_op.drop_column('voided_at')
