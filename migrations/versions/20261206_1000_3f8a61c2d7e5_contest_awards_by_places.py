"""Give contest awards by a number of places

Competitions often give prizes by place: first place 一等奖, second and
third 二等奖, fourth to eighth 三等奖, however many take part. A contest
may now give its awards by a number of places per prize besides a share
of the entrants or a minimum total, so the award mode takes a third value.

Revision ID: 3f8a61c2d7e5
Revises: e5b2c7d91a34
Create Date: 2026-12-06 10:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3f8a61c2d7e5'
down_revision = 'e5b2c7d91a34'
branch_labels = None
depends_on = None

OLD_MODES = "'rank_share', 'threshold'"
NEW_MODES = OLD_MODES + ", 'rank_count'"


def upgrade():
    # batch_alter_table recreates the table on SQLite, which cannot change a
    # CHECK constraint of an existing table.
    with op.batch_alter_table('contest', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_contest_awardmode'), type_='check')
        batch_op.create_check_constraint('awardmode', f"award_mode IN ({NEW_MODES})")


def downgrade():
    # The old modes cannot say "number of places"; such contests keep their
    # numbers as shares of the entrants, which a trainer then corrects.
    op.execute("UPDATE contest SET award_mode = 'rank_share' WHERE award_mode = 'rank_count'")
    with op.batch_alter_table('contest', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_contest_awardmode'), type_='check')
        batch_op.create_check_constraint('awardmode', f"award_mode IN ({OLD_MODES})")
