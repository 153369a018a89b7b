"""Platform operators

An administrator may also be a platform operator, who runs the scheduled
jobs that every institution shares. A database with one institution keeps
its administrators in charge of the jobs, as before. With several
institutions nobody is made an operator here, because no institution's
administrators can be assumed to run the platform: grant it with
`flask lms operator USERNAME`.

Revision ID: 9ab941078223
Revises: 7d3c52e1a9f4
Create Date: 2026-12-05 11:29:39.780103

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9ab941078223'
down_revision = '7d3c52e1a9f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('platform_operator', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    connection = op.get_bind()
    institutions = connection.execute(sa.text('SELECT count(*) FROM institution')).scalar_one()
    if institutions == 1:
        connection.execute(
            sa.text(
                "UPDATE \"user\" SET platform_operator = :yes WHERE role = 'admin'"
            ),
            {"yes": True},
        )


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('platform_operator')
