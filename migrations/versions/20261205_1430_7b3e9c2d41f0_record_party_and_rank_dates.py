"""record Party membership and cadre rank dates

Two training rules are counted from dates the profile did not record: the
training during a probationary Party member's probation and in the first
year as a full member, and the division-level cadre training that a cadre
promoted short of it completes within a year of the promotion. The profile
now stores the day the probation began, the day the person became a full
member and the day they reached their cadre rank, and the window kinds of
compliance rules accept the windows counted from them.

Revision ID: 7b3e9c2d41f0
Revises: f248431004db
Create Date: 2026-12-05 14:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7b3e9c2d41f0'
down_revision = 'f248431004db'
branch_labels = None
depends_on = None

OLD_KINDS = "'calendar_year', 'rolling_years', 'before_post', 'around_post_start'"
NEW_KINDS = OLD_KINDS + ", 'probation', 'first_member_year', 'rolling_years_after_rank'"
YEARS_POSITIVE = " AND (window_years IS NULL OR window_years > 0)"
MONTHS_POSITIVE = " AND (window_months IS NULL OR window_months > 0)"


def upgrade():
    with op.batch_alter_table('person_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('probation_started_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('full_member_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('rank_since', sa.Date(), nullable=True))
        batch_op.create_check_constraint(
            'full_member_after_probation',
            "full_member_on IS NULL OR probation_started_on IS NULL"
            " OR full_member_on > probation_started_on",
        )

    # batch_alter_table recreates the table on SQLite, which cannot change a
    # CHECK constraint of an existing table.
    with op.batch_alter_table('compliance_rule', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_compliance_rule_windowkind'), type_='check')
        batch_op.drop_constraint(
            op.f('ck_compliance_rule_window_years_iff_rolling'), type_='check'
        )
        batch_op.drop_constraint(
            op.f('ck_compliance_rule_window_months_iff_post_start_window'), type_='check'
        )
        batch_op.create_check_constraint('windowkind', f"window_kind IN ({NEW_KINDS})")
        batch_op.create_check_constraint(
            'window_years_iff_rolling',
            "(window_kind IN ('rolling_years', 'rolling_years_after_rank'))"
            " = (window_years IS NOT NULL)" + YEARS_POSITIVE,
        )
        batch_op.create_check_constraint(
            'window_months_iff_months_window',
            "(window_kind IN ('before_post', 'around_post_start',"
            " 'rolling_years_after_rank'))"
            " = (window_months IS NOT NULL)" + MONTHS_POSITIVE,
        )


def downgrade():
    # Rules of the new kinds cannot be stored under the old constraints: a
    # rolling rule counted from the rank date becomes a plain rolling rule,
    # and the Party-date rules are removed.
    op.execute(
        "UPDATE compliance_rule SET window_kind = 'rolling_years', window_months = NULL"
        " WHERE window_kind = 'rolling_years_after_rank'"
    )
    op.execute(
        "DELETE FROM compliance_rule"
        " WHERE window_kind IN ('probation', 'first_member_year')"
    )
    with op.batch_alter_table('compliance_rule', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_compliance_rule_windowkind'), type_='check')
        batch_op.drop_constraint(
            op.f('ck_compliance_rule_window_years_iff_rolling'), type_='check'
        )
        batch_op.drop_constraint(
            op.f('ck_compliance_rule_window_months_iff_months_window'), type_='check'
        )
        batch_op.create_check_constraint('windowkind', f"window_kind IN ({OLD_KINDS})")
        batch_op.create_check_constraint(
            'window_years_iff_rolling',
            "(window_kind = 'rolling_years') = (window_years IS NOT NULL)"
            + YEARS_POSITIVE,
        )
        batch_op.create_check_constraint(
            'window_months_iff_post_start_window',
            "(window_kind IN ('before_post', 'around_post_start'))"
            " = (window_months IS NOT NULL)" + MONTHS_POSITIVE,
        )

    with op.batch_alter_table('person_profile', schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f('ck_person_profile_full_member_after_probation'), type_='check'
        )
        batch_op.drop_column('rank_since')
        batch_op.drop_column('full_member_on')
        batch_op.drop_column('probation_started_on')
