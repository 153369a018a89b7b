"""store the scheduler's jobs in the database

APScheduler's SQLAlchemy job store keeps each job's next run time and
pickled state here, so the schedule survives a restart. The columns are the
ones that store reads and writes.

Revision ID: 3d1c51ef4bca
Revises: 33343770fddd
Create Date: 2026-12-04 21:21:46.696908

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3d1c51ef4bca'
down_revision = '33343770fddd'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'scheduled_job',
        sa.Column('id', sa.Unicode(length=191), nullable=False),
        sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
        sa.Column('job_state', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_job')),
    )
    op.create_index(
        op.f('ix_scheduled_job_next_run_time'), 'scheduled_job', ['next_run_time'], unique=False
    )


def downgrade():
    op.drop_index(op.f('ix_scheduled_job_next_run_time'), table_name='scheduled_job')
    op.drop_table('scheduled_job')
