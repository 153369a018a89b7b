"""Example promotion rules for the demo institution.

Years and grade requirements of promotions are school policy, not national
law: each university sets its own. The values below follow common practice
(years in the current step, passing annual assessments, some 优秀 for the
senior steps, training requirements met) and are meant to be edited.
"""

from typing import Optional

import sqlalchemy as sa

from lms.extensions import db
from lms.promotion import logger
from lms.promotion.models import PromotionRule, PromotionTrack

_SOURCE = (
    "示例规则：参照高校辅导员职务（职称）、职级“双线”晋升的常见做法设置，"
    "任职年限与考核要求以本校正式文件为准，请核对后修改。"
)

#: Rules by code. ``needs_pre_job_certificate`` requires the certificate of
#: the demo pre-job programme, when it exists.
RULES = [
    dict(
        code="level-junior-intermediate",
        name="初级辅导员晋升中级",
        track=PromotionTrack.COMPETENCY_LEVEL,
        from_value="junior",
        to_value="intermediate",
        min_years=3,
        assessment_years=3,
        min_grade="competent",
        compliance_required=True,
        needs_pre_job_certificate=True,
    ),
    dict(
        code="level-intermediate-senior",
        name="中级辅导员晋升高级",
        track=PromotionTrack.COMPETENCY_LEVEL,
        from_value="intermediate",
        to_value="senior",
        min_years=5,
        assessment_years=5,
        min_grade="competent",
        min_excellent=1,
        compliance_required=True,
    ),
    dict(
        code="title-assistant-lecturer",
        name="专职辅导员助教晋升讲师",
        track=PromotionTrack.PROFESSIONAL_TITLE,
        from_value="teaching_assistant",
        to_value="lecturer",
        min_years=2,
        assessment_years=2,
        min_grade="competent",
        compliance_required=True,
    ),
    dict(
        code="title-lecturer-associate",
        name="专职辅导员讲师晋升副教授",
        track=PromotionTrack.PROFESSIONAL_TITLE,
        from_value="lecturer",
        to_value="associate_professor",
        min_years=5,
        assessment_years=5,
        min_grade="competent",
        min_excellent=1,
        compliance_required=True,
        required_level="intermediate",
    ),
    dict(
        code="title-associate-professor",
        name="专职辅导员副教授晋升教授",
        track=PromotionTrack.PROFESSIONAL_TITLE,
        from_value="associate_professor",
        to_value="professor",
        min_years=5,
        assessment_years=5,
        min_grade="competent",
        min_excellent=2,
        compliance_required=True,
        required_level="senior",
    ),
    dict(
        code="rank-clerk-section-deputy",
        name="科员晋升副科级",
        track=PromotionTrack.ADMINISTRATIVE_RANK,
        from_value="clerk",
        to_value="section_deputy",
        min_years=3,
        assessment_years=3,
        min_grade="competent",
        compliance_required=True,
    ),
    dict(
        code="rank-section-deputy-chief",
        name="副科级晋升正科级",
        track=PromotionTrack.ADMINISTRATIVE_RANK,
        from_value="section_deputy",
        to_value="section_chief",
        min_years=3,
        assessment_years=3,
        min_grade="competent",
        compliance_required=True,
    ),
    dict(
        code="rank-section-chief-division-deputy",
        name="正科级晋升副处级",
        track=PromotionTrack.ADMINISTRATIVE_RANK,
        from_value="section_chief",
        to_value="division_deputy",
        min_years=3,
        assessment_years=3,
        min_grade="competent",
        min_excellent=1,
        compliance_required=True,
    ),
    dict(
        code="rank-division-deputy-chief",
        name="副处级晋升正处级",
        track=PromotionTrack.ADMINISTRATIVE_RANK,
        from_value="division_deputy",
        to_value="division_chief",
        min_years=3,
        assessment_years=3,
        min_grade="competent",
        min_excellent=1,
        compliance_required=True,
    ),
]


def seed_rules(institution_id: int, pre_job_programme_id: Optional[int]) -> int:
    """Add the example rules the institution lacks; return how many were added.

    Existing rules with the same code keep the values HR gave them.
    """
    existing = set(
        db.session.scalars(
            sa.select(PromotionRule.code).where(
                PromotionRule.institution_id == institution_id
            )
        )
    )
    added = 0
    for spec in RULES:
        if spec["code"] in existing:
            continue
        values = dict(spec)
        needs_certificate = values.pop("needs_pre_job_certificate", False)
        rule = PromotionRule(
            institution_id=institution_id,
            source=_SOURCE,
            required_programme_id=pre_job_programme_id if needs_certificate else None,
            **values,
        )
        rule.check()
        db.session.add(rule)
        added += 1
    db.session.flush()
    if added:
        logger.info(
            "Seeded %d promotion rules for institution %r", added, institution_id
        )
    return added
