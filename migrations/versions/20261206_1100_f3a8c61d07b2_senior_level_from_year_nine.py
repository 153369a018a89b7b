"""Start the national senior level at year 9 of service

The 2014 counselor competency standard gives 中级 4 to 8 years and 高级
"8年以上" (more than 8 years). It was seeded as 中级 4–8 and 高级 from 8,
so year 8 of service was in both levels, and the level of a counselor in
it came from the order of the levels alone (中级, the first). Framework
edits and imports now reject years that two levels share, so the national
frameworks that still have that seed start 高级 at year 9: the same level
for every year of service, stated once.

Only national frameworks (no institution) whose senior level starts at 8
while an intermediate level of the same framework ends at 8 change. An
institution's copy is its own data: it is named when its next version is
published.

Revision ID: f3a8c61d07b2
Revises: 8c4d2f7a9e31
Create Date: 2026-12-06 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a8c61d07b2'
down_revision = '8c4d2f7a9e31'
branch_labels = None
depends_on = None

SHARED_EIGHTH_YEAR = """
UPDATE competency_level SET min_years = {new}
WHERE code = 'senior' AND min_years = {old}
  AND framework_id IN (
    SELECT competency_framework.id FROM competency_framework
    WHERE competency_framework.institution_id IS NULL
  )
  AND EXISTS (
    SELECT 1 FROM competency_level AS intermediate
    WHERE intermediate.framework_id = competency_level.framework_id
      AND intermediate.code = 'intermediate'
      AND intermediate.max_years = 8
  )
"""


def upgrade():
    op.execute(sa.text(SHARED_EIGHTH_YEAR.format(new=9, old=8)))


def downgrade():
    op.execute(sa.text(SHARED_EIGHTH_YEAR.format(new=8, old=9)))
