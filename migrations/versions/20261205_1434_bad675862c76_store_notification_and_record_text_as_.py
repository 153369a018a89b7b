"""Store notification and record text as messages

Notifications and the record entries the platform writes keep their text as
a message id and its parameters (JSON), rendered in the reader's language.
Existing rows get NULL and keep showing the text they stored.

Revision ID: bad675862c76
Revises: c4e7b2a9f16d
Create Date: 2026-12-05 14:34:30.930439

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bad675862c76'
down_revision = 'c4e7b2a9f16d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_data', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('body_data', sa.JSON(), nullable=True))

    with op.batch_alter_table('progression_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_data', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('progression_entry', schema=None) as batch_op:
        batch_op.drop_column('title_data')

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('body_data')
        batch_op.drop_column('title_data')
