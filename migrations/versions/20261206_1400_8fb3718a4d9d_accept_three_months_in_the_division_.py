"""Accept three months of training in the division-level cadre rule

The cadre training regulation asks leading cadres at division level and
above for at least 3 months or 550 学时 of off-the-job training every 5
years. The national rule checked the 学时 only. It now also accepts 90
training days (3 months at 30 days a month), counted as the section-level
rule counts its 12 days: the days a training records, and one day for
every 8 学时 recorded without days. Its name and source say so.

Only the national rule is changed, and only while it still has the values
seeded before, so a rule someone changed keeps its values. An
institution's adaptation of the rule is its own and keeps its values too;
HR adds the days on it if the institution wants them. A national rule
still on the values seeded before the year after a promotion was counted
gets both changes from ``flask lms seed``.

Revision ID: 8fb3718a4d9d
Revises: 5d1e7b9c2a40
Create Date: 2026-12-06 14:00:00.000000

"""
from decimal import Decimal

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '8fb3718a4d9d'
down_revision = '5d1e7b9c2a40'
branch_labels = None
depends_on = None

CODE = 'cadre-division-5y'
_CADRE_SOURCE = "《干部教育培训工作条例》（2023年修订）第十四条。"
_AFTER_RANK = (
    "任职前未达到的，应在任职后1年内完成：5年内晋升到现职级且未达到的，"
    "期限为任现职级之日起1年。"
)
#: The values seeded while the rule counted 学时 only.
OLD = {
    'name': "县处级以上领导干部每5年参加脱产培训不少于550学时",
    'source': _CADRE_SOURCE + "原文为每5年累计不少于3个月或550学时，本规则按学时核对；"
    + _AFTER_RANK,
}
#: The values that replace them, as ``lms.compliance.seed`` seeds them.
NEW = {
    'name': "县处级以上领导干部每5年参加脱产培训累计不少于3个月或550学时",
    'source': _CADRE_SOURCE + "原文为每5年累计不少于3个月或550学时，达到其一即可。"
    "3个月按90天计（每月按30天计），天数按培训记录的天数累计：校外培训按起止日期"
    "计算天数（含其间的休息日），培训班按出勤学时折合天数，只记学时的培训每8学时"
    "折1天；全国规则只读，院校可改编本规则后修改天数或折算学时。"
    + _AFTER_RANK,
}
MIN_HOURS = Decimal(550)
MIN_DAYS = Decimal(90)
HOURS_PER_DAY = Decimal(8)

RULE = sa.table(
    'compliance_rule',
    sa.column('id', sa.Integer),
    sa.column('institution_id', sa.Integer),
    sa.column('code', sa.String),
    sa.column('name', sa.String),
    sa.column('source', sa.Text),
    sa.column('min_hours', sa.Numeric(7, 1)),
    sa.column('min_days', sa.Numeric(5, 1)),
    sa.column('hours_per_day', sa.Numeric(4, 1)),
    sa.column('lock_version', sa.Integer),
)


def _national(values: dict, *, days: bool) -> list:
    """WHERE clauses for the national rule while it still has ``values``."""
    clauses = [
        RULE.c.institution_id.is_(None),
        RULE.c.code == CODE,
        RULE.c.name == values['name'],
        RULE.c.source == values['source'],
        RULE.c.min_hours == MIN_HOURS,
    ]
    if days:
        clauses += [RULE.c.min_days == MIN_DAYS, RULE.c.hours_per_day == HOURS_PER_DAY]
    else:
        clauses += [RULE.c.min_days.is_(None), RULE.c.hours_per_day.is_(None)]
    return clauses


def upgrade():
    op.execute(
        RULE.update()
        .where(*_national(OLD, days=False))
        .values(
            name=NEW['name'],
            source=NEW['source'],
            min_days=MIN_DAYS,
            hours_per_day=HOURS_PER_DAY,
            lock_version=RULE.c.lock_version + 1,
        )
    )


def downgrade():
    op.execute(
        RULE.update()
        .where(*_national(NEW, days=True))
        .values(
            name=OLD['name'],
            source=OLD['source'],
            min_days=None,
            hours_per_day=None,
            lock_version=RULE.c.lock_version + 1,
        )
    )
