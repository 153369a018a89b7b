"""Rubrics: the text definition trainers edit, saving, copying and the seeded rubrics.

A definition has one line per criterion, ``title | weight``, followed by its
levels, one per line starting with ``-``: ``- title | points | descriptor``.
A criterion scores ``weight`` times the points of the chosen level.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from assessments import logger
from assessments.tasks_models import (
    CriterionMark,
    PerformanceTask,
    Rubric,
    RubricCriterion,
    RubricLevel,
)
from courses.authoring import AuthoringError
from lms import audit
from lms.accounts.models import User
from lms.extensions import db

MAX_CRITERIA = 30
MAX_LEVELS = 10
#: Largest weight or level points that Numeric(8, 4) holds.
MAX_NUMBER = Decimal("9999.9999")


@dataclass
class LevelSpec:
    title: str
    points: Decimal
    descriptor: str = ""


@dataclass
class CriterionSpec:
    title: str
    weight: Decimal
    levels: list[LevelSpec] = field(default_factory=list)


def _number(raw: str, line_no: int, is_weight: bool) -> Decimal:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0 or value > MAX_NUMBER:
        if is_weight:
            message = _(
                "Line %(line)s: the weight must be a number from 0 to 9999, "
                "e.g. 20 or 0.5.",
                line=line_no,
            )
        else:
            message = _(
                "Line %(line)s: the points must be a number from 0 to 9999, "
                "e.g. 20 or 2.5.",
                line=line_no,
            )
        raise AuthoringError({"definition": message})
    return value


def _line_error(line_no: int, message: str) -> AuthoringError:
    text = _("Line %(line)s: %(message)s", line=line_no, message=message)
    return AuthoringError({"definition": text})


def parse_definition(text: str) -> list[CriterionSpec]:
    """Parse a rubric definition or raise AuthoringError naming the first bad line."""
    criteria: list[CriterionSpec] = []
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("-"):
            if not criteria:
                message = _("a level needs a criterion line above it.")
                raise _line_error(line_no, message)
            parts = [part.strip() for part in line[1:].split("|", 2)]
            if len(parts) < 2 or not parts[0]:
                message = _("write a level as “- title | points | descriptor”.")
                raise _line_error(line_no, message)
            points = _number(parts[1], line_no, is_weight=False)
            descriptor = parts[2] if len(parts) > 2 else ""
            criteria[-1].levels.append(LevelSpec(parts[0][:100], points, descriptor))
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) != 2 or not parts[0]:
            raise _line_error(line_no, _("write a criterion as “title | weight”."))
        weight = _number(parts[1], line_no, is_weight=True)
        if weight == 0:
            raise _line_error(line_no, _("the weight must be greater than 0."))
        criteria.append(CriterionSpec(parts[0][:200], weight))
    _check_shape(criteria)
    return criteria


def _check_shape(criteria: list[CriterionSpec]) -> None:
    if not criteria:
        message = _("Add at least one criterion with its levels.")
        raise AuthoringError({"definition": message})
    if len(criteria) > MAX_CRITERIA:
        message = _("A rubric has at most %(n)s criteria.", n=MAX_CRITERIA)
        raise AuthoringError({"definition": message})
    for criterion in criteria:
        if len(criterion.levels) < 2 or len(criterion.levels) > MAX_LEVELS:
            raise AuthoringError(
                {
                    "definition": _(
                        "Criterion “%(title)s” needs 2 to %(n)s levels.",
                        title=criterion.title,
                        n=MAX_LEVELS,
                    )
                }
            )
        if max(level.points for level in criterion.levels) == 0:
            raise AuthoringError(
                {
                    "definition": _(
                        "Criterion “%(title)s”: at least one level must give points.",
                        title=criterion.title,
                    )
                }
            )


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_definition(rubric: Rubric) -> str:
    """Write a rubric back as the text definition that ``parse_definition`` reads."""
    lines = []
    for criterion in rubric.criteria:
        lines.append(f"{criterion.title} | {_plain(criterion.weight)}")
        for level in criterion.levels:
            suffix = f" | {level.descriptor}" if level.descriptor else ""
            lines.append(f"- {level.title} | {_plain(level.points)}{suffix}")
    return "\n".join(lines)


def institution_rubrics(institution_id: int) -> list[Rubric]:
    """Return the institution's rubrics by code, with their criteria and levels loaded."""
    return list(
        db.session.scalars(
            sa.select(Rubric)
            .filter_by(institution_id=institution_id)
            .options(so.selectinload(Rubric.criteria).selectinload(RubricCriterion.levels))
            .order_by(Rubric.code)
        )
    )


def is_in_use(rubric: Rubric) -> bool:
    """Return whether any score sheet marks a criterion of ``rubric``."""
    return (
        db.session.scalar(
            sa.select(CriterionMark.id)
            .join(RubricCriterion, RubricCriterion.id == CriterionMark.criterion_id)
            .where(RubricCriterion.rubric_id == rubric.id)
            .limit(1)
        )
        is not None
    )


def _fill(rubric: Rubric, criteria: list[CriterionSpec]) -> None:
    rubric.criteria.clear()
    db.session.flush()
    for position, spec in enumerate(criteria, start=1):
        criterion = RubricCriterion(
            position=position, title=spec.title, weight=spec.weight
        )
        for level_position, level in enumerate(spec.levels, start=1):
            criterion.levels.append(
                RubricLevel(
                    position=level_position,
                    title=level.title,
                    points=level.points,
                    descriptor=level.descriptor,
                )
            )
        rubric.criteria.append(criterion)


def save_rubric(
    institution_id: int, data: dict, actor: User, rubric: Optional[Rubric] = None
) -> Rubric:
    """Create or update a rubric from form values, unless it has been used to score."""
    errors = {}
    code = (data.get("code") or "").strip()
    title = (data.get("title") or "").strip()
    if not code or len(code) > 64:
        errors["code"] = _("Enter a short code of 1 to 64 characters, e.g. speech-100.")
    if not title or len(title) > 200:
        errors["title"] = _("Enter a title of 1 to 200 characters.")
    clash = db.session.scalar(
        sa.select(Rubric).filter_by(institution_id=institution_id, code=code)
    )
    if code and clash is not None and clash is not rubric:
        errors["code"] = _(
            "The code %(code)s is already used by another rubric.", code=code
        )
    try:
        criteria = parse_definition(data.get("definition") or "")
    except AuthoringError as error:
        errors.update(error.errors)
        criteria = []
    if rubric is not None and is_in_use(rubric):
        errors["form"] = _(
            "This rubric has been used to score; copy it to change its criteria."
        )
    if errors:
        raise AuthoringError(errors)

    if rubric is None:
        rubric = Rubric(institution_id=institution_id)
        db.session.add(rubric)
    rubric.code = code
    rubric.title = title
    rubric.description = (data.get("description") or "").strip()
    _fill(rubric, criteria)
    db.session.flush()
    logger.info("Rubric %r saved by %r", rubric, actor)
    return rubric


def copy_rubric(rubric: Rubric, actor: User) -> Rubric:
    """Copy a rubric with its criteria and levels under a free code ending in -copy."""
    code = f"{rubric.code[:56]}-copy"
    number = 1
    while db.session.scalar(
        sa.select(Rubric.id).filter_by(institution_id=rubric.institution_id, code=code)
    ):
        number += 1
        code = f"{rubric.code[:54]}-copy{number}"
    copy = Rubric(
        institution_id=rubric.institution_id,
        code=code,
        title=_("Copy of %(title)s", title=rubric.title)[:200],
        description=rubric.description,
        copied_from_id=rubric.id,
    )
    db.session.add(copy)
    _fill(
        copy,
        [
            CriterionSpec(
                c.title,
                c.weight,
                [
                    LevelSpec(level.title, level.points, level.descriptor)
                    for level in c.levels
                ],
            )
            for c in rubric.criteria
        ],
    )
    db.session.flush()
    audit.record(
        "rubric.copied",
        "rubric",
        copy.id,
        f"{rubric.code} -> {copy.code}",
        actor_id=actor.id,
        institution_id=rubric.institution_id,
    )
    return copy


def tasks_using(rubric: Rubric) -> list[PerformanceTask]:
    return list(
        db.session.scalars(
            sa.select(PerformanceTask).where(
                sa.or_(
                    PerformanceTask.rubric_id == rubric.id,
                    PerformanceTask.student_rubric_id == rubric.id,
                )
            )
        )
    )


# Seeded 100-point rubrics -----------------------------------------------------

#: Share of a criterion's points each level gives, with its descriptor.
_BANDS = (
    ("优秀", Decimal("1"), "全面达到本项要求，表现突出"),
    ("良好", Decimal("0.8"), "较好达到本项要求，个别方面有欠缺"),
    ("合格", Decimal("0.6"), "基本达到本项要求，存在明显不足"),
    ("不足", Decimal("0.3"), "未达到本项要求"),
)

#: (code, title, description, [(criterion, points)]) of the competition rubrics.
SEED_RUBRICS = (
    (
        "class-meeting-100",
        "主题班会评分标准",
        "主题班会视频评审。",
        [
            ("贴近工作实际，主题鲜明", 20),
            ("学生广泛参与，互动真实", 20),
            ("教育方法科学得当", 20),
            ("教育效果明显", 30),
            ("视频画面与声音质量", 10),
        ],
    ),
    (
        "speech-100",
        "主题演讲评分标准",
        "主题演讲、理论宣讲评审。",
        [
            ("主题明确，观点正确", 30),
            ("内容有深度，联系实际", 30),
            ("逻辑清晰，语言流畅", 30),
            ("仪表仪态大方得体", 10),
        ],
    ),
    (
        "case-analysis-100",
        "案例分析评分标准",
        "书面或现场案例分析评审。",
        [
            ("准确把握问题实质", 20),
            ("解决思路清晰", 30),
            ("工作方法可行", 30),
            ("经验启示有益，能打动听众", 20),
        ],
    ),
    (
        "case-discussion-100",
        "案例研讨评分标准",
        "A、B两人互问互答：提问占30%，回答占70%。",
        [
            ("提问质量", 30),
            ("回答质量", 70),
        ],
    ),
    (
        "heart-talk-100",
        "谈心谈话评分标准",
        "模拟谈心谈话评审。",
        [
            ("运用思想政治教育理论和方法", 20),
            ("准确把握学生特点", 30),
            ("引导效果明显", 30),
            ("沟通技巧娴熟", 20),
        ],
    ),
    (
        "heart-talk-counselor-100",
        "谈心谈话·辅导员角色",
        "双角色谈话中辅导员角色的评分；最终成绩取两个角色的平均分。",
        [
            ("切合主题，简明扼要", 25),
            ("说理充分，以理服人", 25),
            ("语言温暖，富有感染力", 20),
            ("化解抵触情绪", 20),
            ("谈话效果", 10),
        ],
    ),
    (
        "heart-talk-student-100",
        "谈心谈话·学生角色",
        "双角色谈话中学生角色的评分；最终成绩取两个角色的平均分。",
        [
            ("积极配合谈话", 25),
            ("表达真实", 25),
            ("符合角色设定", 20),
            ("体现学生视角", 20),
            ("表达清楚", 10),
        ],
    ),
)


def seed_criteria(criteria: list[tuple[str, int]]) -> list[CriterionSpec]:
    """Turn (criterion, points) pairs into weight-1 criteria with four banded levels."""
    return [
        CriterionSpec(
            title,
            Decimal(1),
            [
                LevelSpec(name, share * points, descriptor)
                for name, share, descriptor in _BANDS
            ],
        )
        for title, points in criteria
    ]


def seed_rubrics(institution_id: int) -> int:
    """Add the competition rubrics the institution lacks (by code); return the count."""
    added = 0
    for code, title, description, criteria in SEED_RUBRICS:
        exists = db.session.scalar(
            sa.select(Rubric.id).filter_by(institution_id=institution_id, code=code)
        )
        if exists is not None:
            continue
        rubric = Rubric(
            institution_id=institution_id,
            code=code,
            title=title,
            description=description,
        )
        db.session.add(rubric)
        _fill(rubric, seed_criteria(criteria))
        added += 1
    db.session.flush()
    return added
