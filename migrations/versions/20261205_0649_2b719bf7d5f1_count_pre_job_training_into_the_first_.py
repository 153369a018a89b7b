"""count pre-job training into the first year in post

Universities commonly run the pre-job training in a new counselor's first
months in post, so a rule's window can now run from some months before the
post start date to the end of the first months in the post
(``around_post_start``). The window kind's CHECK constraints accept it.

Revision ID: 2b719bf7d5f1
Revises: 624fcd79c00b
Create Date: 2026-12-05 06:49:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '2b719bf7d5f1'
down_revision = '624fcd79c00b'
branch_labels = None
depends_on = None

OLD_KINDS = "'calendar_year', 'rolling_years', 'before_post'"
NEW_KINDS = "'calendar_year', 'rolling_years', 'before_post', 'around_post_start'"
MONTHS_POSITIVE = " AND (window_months IS NULL OR window_months > 0)"


def upgrade():
    # batch_alter_table recreates the table on SQLite, which cannot change a
    # CHECK constraint of an existing table.
    with op.batch_alter_table('compliance_rule', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_compliance_rule_windowkind'), type_='check')
        batch_op.drop_constraint(
            op.f('ck_compliance_rule_window_months_iff_before_post'), type_='check'
        )
        batch_op.create_check_constraint('windowkind', f"window_kind IN ({NEW_KINDS})")
        batch_op.create_check_constraint(
            'window_months_iff_post_start_window',
            "(window_kind IN ('before_post', 'around_post_start'))"
            " = (window_months IS NOT NULL)" + MONTHS_POSITIVE,
        )


def downgrade():
    # Rules of the new kind cannot be stored under the old constraints.
    op.execute(
        "UPDATE compliance_rule SET window_kind = 'before_post'"
        " WHERE window_kind = 'around_post_start'"
    )
    with op.batch_alter_table('compliance_rule', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_compliance_rule_windowkind'), type_='check')
        batch_op.drop_constraint(
            op.f('ck_compliance_rule_window_months_iff_post_start_window'), type_='check'
        )
        batch_op.create_check_constraint('windowkind', f"window_kind IN ({OLD_KINDS})")
        batch_op.create_check_constraint(
            'window_months_iff_before_post',
            "(window_kind = 'before_post') = (window_months IS NOT NULL)"
            + MONTHS_POSITIVE,
        )
