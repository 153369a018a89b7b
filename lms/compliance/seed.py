"""The national training-hour rules, loaded as shared compliance rules.

The values come from the counselor regulation (教育部令第43号), the Party
member education regulation (2019) and the cadre training regulation (2023).
Only the cadre rules were read in the official text, so the others are
seeded with ``verified=False``. The app shows national rules read-only; an
institution changes a value by adapting the rule (see ``rule_admin``).
"""

import logging
from decimal import Decimal

import sqlalchemy as sa

from lms.accounts.models import Post, Role
from lms.compliance.models import CadreRank, ComplianceRule, WindowKind
from lms.extensions import db
from lms.records.models import TrainingKind, TrainingTier

logger = logging.getLogger("lms.compliance")

_LEARNERS = [Role.COUNSELOR, Role.PARTY_WORKER]

#: Kinds that are taught in person (集中培训): every kind except online.
_CENTRALISED_KINDS = [kind for kind in TrainingKind if kind is not TrainingKind.ONLINE]

_COUNSELOR_SOURCE = (
    "《普通高等学校辅导员队伍建设规定》（教育部令第43号，2017年10月1日起施行），"
    "培养与发展部分。数值据二手资料转述，尚未对照原文条款。"
)
_PARTY_MEMBER_SOURCE = (
    "《中国共产党党员教育管理工作条例》（2019年）。"
    "数值据二手资料转述，尚未对照原文条款。"
)
_CADRE_SOURCE = "《干部教育培训工作条例》（2023年修订）第十四条。"
_PARTY_ORGANISATION_SOURCE = (
    "《中国共产党党员教育管理工作条例》（2019年）：新任基层党组织书记一般在"
    "任职后6个月内参加任职培训。数值据二手资料转述，尚未对照原文条款。"
)
_SCHOOL_YEARLY_NOTE = "岗前培训学时不计入；未标培训类型的学时（如单门课程）计入。"

#: 学时 of a full day of training, the same as a training class credits for a
#: full-day session by default (CLASS_FULL_DAY_HOURS).
_FULL_DAY_HOURS = Decimal(8)

_SECTION_CADRE_RANKS = [
    CadreRank.CLERK,
    CadreRank.SECTION_DEPUTY,
    CadreRank.SECTION_CHIEF,
]

_OLD_SECTION_CADRE_NAME = "乡科级领导干部每年参加教育培训不少于90学时"
_OLD_SECTION_CADRE_SOURCE = (
    _CADRE_SOURCE + "原文为每年累计不少于12天或90学时，本规则按学时核对；"
    "原文还覆盖一级主任科员以下公务员，需要时可加入科员职级。"
)
SECTION_CADRE_NAME = "乡科级和一级主任科员以下干部每年参加集中培训不少于12天或90学时"
_SECTION_CADRE_DAYS_NOTE = _CADRE_SOURCE + "原文为每年累计不少于12天或90学时，达到其一即可；"
#: The previous source text. It stated that the conversion could be changed on
#: this rule, though national rules are read-only.
_EDITABLE_SECTION_CADRE_SOURCE = (
    _SECTION_CADRE_DAYS_NOTE + "1天按8学时折算，可在本规则中修改。科员职级计入一级主任科员以下。"
)
SECTION_CADRE_SOURCE = (
    _SECTION_CADRE_DAYS_NOTE + "1天按8学时折算；全国规则只读，院校可改编本规则后修改折算学时。"
    "科员职级计入一级主任科员以下。"
)

_CENTRALISED_NOTE = "集中培训按网络培训以外的培训类型计。"
_PROBATION_NOTE = (
    "预备期内至少参加1次集中培训。" + _CENTRALISED_NOTE
    + "预备期自入党之日起计算，至转正之日前一天止；未记录转正日期的，按1年计，"
    "满1年仍为预备党员的按延长预备期计，最长2年。"
)
_NEW_MEMBER_NOTE = (
    "转正后第一年内至少参加1次集中培训。" + _CENTRALISED_NOTE + "第一年自转正之日起计算。"
)

_OLD_DIVISION_CADRE_SOURCE = (
    _CADRE_SOURCE + "原文为每5年累计不少于3个月或550学时，本规则按学时核对；"
    "任职前未达到的，应在任职后1年内完成，本规则未单独处理。"
)
_DIVISION_CADRE_AFTER_RANK_NOTE = (
    "任职前未达到的，应在任职后1年内完成：5年内晋升到现职级且未达到的，"
    "期限为任现职级之日起1年。"
)
#: The source text while the rule counted 学时 only.
_HOURS_DIVISION_CADRE_SOURCE = (
    _CADRE_SOURCE + "原文为每5年累计不少于3个月或550学时，本规则按学时核对；"
    + _DIVISION_CADRE_AFTER_RANK_NOTE
)
_OLD_DIVISION_CADRE_NAME = "县处级以上领导干部每5年参加脱产培训不少于550学时"
DIVISION_CADRE_NAME = "县处级以上领导干部每5年参加脱产培训累计不少于3个月或550学时"
#: Three months of training, at 30 days a month.
_THREE_MONTHS_DAYS = Decimal(90)
DIVISION_CADRE_SOURCE = (
    _CADRE_SOURCE + "原文为每5年累计不少于3个月或550学时，达到其一即可。"
    "3个月按90天计（每月按30天计），天数按培训记录的天数累计：校外培训按起止日期"
    "计算天数（含其间的休息日），培训班按出勤学时折合天数，只记学时的培训每8学时"
    "折1天；全国规则只读，院校可改编本规则后修改天数或折算学时。"
    + _DIVISION_CADRE_AFTER_RANK_NOTE
)

RULES = [
    dict(
        code="counselor-pre-job",
        name="新任专职辅导员岗前培训不少于40学时",
        source=_COUNSELOR_SOURCE + "另须考核合格。",
        verified=False,
        roles=[Role.COUNSELOR],
        posts=[Post.FULL_TIME_COUNSELOR],
        full_time_only=True,
        new_to_post=True,
        new_to_post_months=12,
        # Universities commonly run the pre-job training in a new counselor's
        # first months in post, so training up to the end of the first year
        # counts too.
        window_kind=WindowKind.AROUND_POST_START,
        window_months=12,
        min_hours=Decimal(40),
        kinds=[TrainingKind.PRE_JOB],
    ),
    dict(
        code="counselor-school-yearly",
        name="专职辅导员每年参加校级培训不少于16学时",
        source=_COUNSELOR_SOURCE + _SCHOOL_YEARLY_NOTE,
        verified=False,
        roles=[Role.COUNSELOR],
        posts=[Post.FULL_TIME_COUNSELOR],
        full_time_only=True,
        window_kind=WindowKind.CALENDAR_YEAR,
        min_hours=Decimal(16),
        tiers=[TrainingTier.SCHOOL],
        # Pre-job training has a rule of its own and is not in-service
        # training. Hours recorded without a kind still count.
        excluded_kinds=[TrainingKind.PRE_JOB],
    ),
    dict(
        code="counselor-national-provincial-5y",
        name="专职辅导员每5年至少参加1次国家级或省级培训",
        source=_COUNSELOR_SOURCE,
        verified=False,
        roles=[Role.COUNSELOR],
        posts=[Post.FULL_TIME_COUNSELOR],
        full_time_only=True,
        window_kind=WindowKind.ROLLING_YEARS,
        window_years=5,
        min_count=1,
        tiers=[TrainingTier.NATIONAL, TrainingTier.PROVINCIAL],
        at_risk_days=180,
    ),
    dict(
        code="party-member-yearly",
        name="党员每年集中学习培训不少于32学时",
        source=_PARTY_MEMBER_SOURCE,
        verified=False,
        roles=_LEARNERS,
        party_member_only=True,
        window_kind=WindowKind.CALENDAR_YEAR,
        min_hours=Decimal(32),
    ),
    dict(
        code="party-officer-yearly-hours",
        name="基层党组织书记和委员每年集中学习培训不少于56学时",
        source=_PARTY_MEMBER_SOURCE,
        verified=False,
        roles=_LEARNERS,
        party_member_only=True,
        party_committee_only=True,
        window_kind=WindowKind.CALENDAR_YEAR,
        min_hours=Decimal(56),
    ),
    dict(
        code="party-officer-yearly-centralised",
        name="基层党组织书记和委员每年至少参加1次集中培训",
        source=_PARTY_MEMBER_SOURCE + "集中培训按网络培训以外的培训类型计。",
        verified=False,
        roles=_LEARNERS,
        party_member_only=True,
        party_committee_only=True,
        window_kind=WindowKind.CALENDAR_YEAR,
        min_count=1,
        kinds=_CENTRALISED_KINDS,
    ),
    dict(
        code="party-secretary-new-post",
        name="新任院系党组织书记和党支部书记任职后6个月内参加任职培训",
        source=_PARTY_ORGANISATION_SOURCE
        + "任职培训没有单独的培训类型，任一培训计入；任职前1个月内参加的培训也计入。",
        verified=False,
        roles=_LEARNERS,
        posts=[Post.TEACHER_BRANCH_SECRETARY, Post.DEPARTMENT_PARTY_SECRETARY],
        new_to_post=True,
        new_to_post_months=6,
        window_kind=WindowKind.AROUND_POST_START,
        window_months=1,
        min_count=1,
    ),
    dict(
        code="cadre-section-yearly",
        name=SECTION_CADRE_NAME,
        source=SECTION_CADRE_SOURCE,
        verified=True,
        roles=_LEARNERS,
        cadre_ranks=_SECTION_CADRE_RANKS,
        window_kind=WindowKind.CALENDAR_YEAR,
        min_hours=Decimal(90),
        min_days=Decimal(12),
        hours_per_day=_FULL_DAY_HOURS,
    ),
    dict(
        code="party-probationary-training",
        name="预备党员在预备期内至少参加1次集中培训",
        source=_PARTY_MEMBER_SOURCE + _PROBATION_NOTE,
        verified=False,
        roles=_LEARNERS,
        party_member_only=True,
        window_kind=WindowKind.PROBATION,
        min_count=1,
        kinds=_CENTRALISED_KINDS,
    ),
    dict(
        code="party-new-member-training",
        name="党员转正后第一年内至少参加1次集中培训",
        source=_PARTY_MEMBER_SOURCE + _NEW_MEMBER_NOTE,
        verified=False,
        roles=_LEARNERS,
        party_member_only=True,
        window_kind=WindowKind.FIRST_MEMBER_YEAR,
        min_count=1,
        kinds=_CENTRALISED_KINDS,
    ),
    dict(
        code="cadre-division-5y",
        name=DIVISION_CADRE_NAME,
        source=DIVISION_CADRE_SOURCE,
        verified=True,
        roles=_LEARNERS,
        cadre_ranks=[
            CadreRank.DIVISION_DEPUTY,
            CadreRank.DIVISION_CHIEF,
            CadreRank.BUREAU_DEPUTY,
            CadreRank.BUREAU_CHIEF,
        ],
        window_kind=WindowKind.ROLLING_YEARS_AFTER_RANK,
        window_years=5,
        window_months=12,
        min_hours=Decimal(550),
        min_days=_THREE_MONTHS_DAYS,
        hours_per_day=_FULL_DAY_HOURS,
        at_risk_days=180,
    ),
]


#: Steps of (rule code, values that an earlier version seeded, values that
#: replace them), applied in order, so a rule seeded by any earlier version
#: reaches the current values.
SUPERSEDED = [
    (
        "counselor-pre-job",
        dict(
            window_kind=WindowKind.BEFORE_POST,
            window_months=12,
            new_to_post_months=12,
        ),
        dict(window_kind=WindowKind.AROUND_POST_START),
    ),
    (
        "counselor-school-yearly",
        dict(source=_COUNSELOR_SOURCE, excluded_kinds=[]),
        dict(
            source=_COUNSELOR_SOURCE + _SCHOOL_YEARLY_NOTE,
            excluded_kinds=[TrainingKind.PRE_JOB.value],
        ),
    ),
    (
        "cadre-section-yearly",
        dict(
            name=_OLD_SECTION_CADRE_NAME,
            source=_OLD_SECTION_CADRE_SOURCE,
            cadre_ranks=[CadreRank.SECTION_DEPUTY.value, CadreRank.SECTION_CHIEF.value],
            min_days=None,
            hours_per_day=None,
        ),
        dict(
            name=SECTION_CADRE_NAME,
            source=SECTION_CADRE_SOURCE,
            cadre_ranks=[rank.value for rank in _SECTION_CADRE_RANKS],
            min_days=Decimal(12),
            hours_per_day=_FULL_DAY_HOURS,
        ),
    ),
    (
        "cadre-section-yearly",
        dict(source=_EDITABLE_SECTION_CADRE_SOURCE),
        dict(source=SECTION_CADRE_SOURCE),
    ),
    (
        "cadre-division-5y",
        dict(
            source=_OLD_DIVISION_CADRE_SOURCE,
            window_kind=WindowKind.ROLLING_YEARS,
            window_months=None,
        ),
        dict(
            source=_HOURS_DIVISION_CADRE_SOURCE,
            window_kind=WindowKind.ROLLING_YEARS_AFTER_RANK,
            window_months=12,
        ),
    ),
    (
        "cadre-division-5y",
        dict(
            name=_OLD_DIVISION_CADRE_NAME,
            source=_HOURS_DIVISION_CADRE_SOURCE,
            min_days=None,
            hours_per_day=None,
        ),
        dict(
            name=DIVISION_CADRE_NAME,
            source=DIVISION_CADRE_SOURCE,
            min_days=_THREE_MONTHS_DAYS,
            hours_per_day=_FULL_DAY_HOURS,
        ),
    ),
]


def seed_rules() -> list[ComplianceRule]:
    """Add the shared rules whose code is not in the database yet; flush only.

    Existing rules keep their values, so an administrator's edits survive a
    second run. The one exception is a shared rule that still has every old
    value listed in ``SUPERSEDED``, which gets the replacing values.
    Returns the rules added.
    """
    existing = {
        rule.code: rule
        for rule in db.session.scalars(
            sa.select(ComplianceRule).where(ComplianceRule.institution_id.is_(None))
        )
    }
    added = []
    for values in RULES:
        if values["code"] in existing:
            continue
        rule = ComplianceRule(institution_id=None, active=True, **values)
        db.session.add(rule)
        added.append(rule)
    _replace_superseded(existing)
    db.session.flush()
    if added:
        logger.info(
            "Seeded %d compliance rules: %s", len(added), [r.code for r in added]
        )
    return added


def _replace_superseded(existing: dict[str, ComplianceRule]) -> None:
    """Apply ``SUPERSEDED`` to the stored shared rules that still have the old values."""
    for code, old, new in SUPERSEDED:
        rule = existing.get(code)
        if rule is None:
            continue
        if any(getattr(rule, name) != value for name, value in old.items()):
            continue
        for name, value in new.items():
            setattr(rule, name, value)
        logger.info("Updated seeded compliance rule %s: %s", code, new)
