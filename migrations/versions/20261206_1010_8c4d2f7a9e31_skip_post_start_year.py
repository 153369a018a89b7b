"""Let a yearly rule leave out the year the post started

Whether a counselor who takes up the post in September owes the whole
yearly minimum in that year is school policy, not settled by the national
rules. A calendar-year rule judged that year in full. An institution's
rule may now leave it out, so the rule is judged from the first full
calendar year in the post. Existing rules keep judging it.

Revision ID: 8c4d2f7a9e31
Revises: 3f8a61c2d7e5
Create Date: 2026-12-06 10:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8c4d2f7a9e31'
down_revision = '3f8a61c2d7e5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('compliance_rule', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'skip_post_start_year', sa.Boolean(), server_default=sa.false(),
                nullable=False,
            )
        )
        batch_op.create_check_constraint(
            'skip_post_start_year_only_yearly',
            "NOT skip_post_start_year OR window_kind = 'calendar_year'",
        )


def downgrade():
    with op.batch_alter_table('compliance_rule', schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f('ck_compliance_rule_skip_post_start_year_only_yearly'), type_='check'
        )
        batch_op.drop_column('skip_post_start_year')
