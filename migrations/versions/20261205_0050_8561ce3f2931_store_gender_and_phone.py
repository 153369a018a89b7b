"""store gender and phone

Class rosters imported from HR exports carry each person's gender and mobile
number. Both become nullable columns of ``user``, next to the other personal
attributes the roster import fills in.

Revision ID: 8561ce3f2931
Revises: 3d1c51ef4bca
Create Date: 2026-12-05 00:50:23.030126

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8561ce3f2931'
down_revision = '3d1c51ef4bca'
branch_labels = None
depends_on = None


def upgrade():
    # batch_alter_table recreates the table on SQLite, which cannot add a
    # CHECK constraint to an existing table.
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gender', sa.Enum('male', 'female', name='gender', native_enum=False, create_constraint=False, length=32), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=11), nullable=True))
        batch_op.create_check_constraint('gender', "gender IN ('male', 'female')")


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_gender'), type_='check')
        batch_op.drop_column('phone')
        batch_op.drop_column('gender')
