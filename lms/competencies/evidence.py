"""Competency evidence and the attainment computed from it.

A passed quiz or a released task score adds one evidence row per competency
item it maps to. Attainment is computed from these rows on every call, so it
is always current and no job has to refresh it.
"""

import logging
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from lms import signals
from lms.accounts.models import Role, User
from lms.competencies.models import CompetencyItem, Framework, FunctionalArea, Level
from lms.db import UTCDateTime, now_utc
from lms.extensions import db

logger = logging.getLogger("lms.competencies")

#: Framework used for a counselor who has no evidence yet.
DEFAULT_FRAMEWORK_CODE = "counselor-2014"


class CompetencyEvidence(db.Model):
    """One demonstration of a competency item, e.g. a passed quiz of a mapped course."""

    __tablename__ = "competency_evidence"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "source_type", "source_id", "item_id"),
        sa.CheckConstraint("fraction >= 0 AND fraction <= 1", name="fraction_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE")
    )
    item_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("competency_item.id", ondelete="CASCADE"), index=True
    )
    #: "quiz_attempt" or "task_submission".
    source_type: so.Mapped[str] = so.mapped_column(sa.String(32))
    source_id: so.Mapped[int]
    #: Score as a fraction of the maximum, 0 to 1, to six decimal places.
    fraction: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(7, 6))
    evidenced_on: so.Mapped[date]
    recorded_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    item: so.Mapped[CompetencyItem] = so.relationship()


def record_evidence(
    user_id: int,
    source_type: str,
    source_id: int,
    item_ids: Iterable[int],
    fraction: Decimal,
    evidenced_on: date,
) -> int:
    """Add an evidence row per item the source has not yet given; return the count."""
    fraction = min(max(Decimal(fraction), Decimal(0)), Decimal(1)).quantize(
        Decimal("0.000001")
    )
    added = 0
    for item_id in sorted(set(item_ids)):
        try:
            with db.session.begin_nested():
                db.session.add(
                    CompetencyEvidence(
                        user_id=user_id,
                        item_id=item_id,
                        source_type=source_type,
                        source_id=source_id,
                        fraction=fraction,
                        evidenced_on=evidenced_on,
                    )
                )
        except IntegrityError:
            continue
        added += 1
    if added:
        logger.info(
            "Evidence from %s %s for user %s: %s items",
            source_type,
            source_id,
            user_id,
            added,
        )
    return added


def evidence_of(user: User) -> list[CompetencyEvidence]:
    return list(
        db.session.scalars(
            sa.select(CompetencyEvidence)
            .filter_by(user_id=user.id)
            .order_by(
                CompetencyEvidence.evidenced_on.desc(), CompetencyEvidence.id.desc()
            )
        )
    )


def framework_for(user: User) -> Optional[Framework]:
    """Return the framework of most of the user's evidence.

    Without evidence, counselors get the counselor standard and others none.
    """
    framework_id = db.session.scalar(
        sa.select(CompetencyItem.framework_id)
        .join(CompetencyEvidence, CompetencyEvidence.item_id == CompetencyItem.id)
        .where(CompetencyEvidence.user_id == user.id)
        .group_by(CompetencyItem.framework_id)
        .order_by(sa.func.count().desc(), CompetencyItem.framework_id)
        .limit(1)
    )
    if framework_id is not None:
        return db.session.get(Framework, framework_id)
    if user.role is not Role.COUNSELOR:
        return None
    return db.session.scalar(
        sa.select(Framework).filter_by(code=DEFAULT_FRAMEWORK_CODE)
    )


def attainment_by_item(user: User, framework: Framework) -> dict[int, Decimal]:
    """Map each item of ``framework`` to the user's best evidence fraction, else 0."""
    best = dict(
        db.session.execute(
            sa.select(
                CompetencyEvidence.item_id, sa.func.max(CompetencyEvidence.fraction)
            )
            .join(CompetencyItem, CompetencyItem.id == CompetencyEvidence.item_id)
            .where(
                CompetencyEvidence.user_id == user.id,
                CompetencyItem.framework_id == framework.id,
            )
            .group_by(CompetencyEvidence.item_id)
        ).all()
    )
    items = db.session.scalars(
        sa.select(CompetencyItem.id).filter_by(framework_id=framework.id)
    )
    return {item_id: Decimal(best.get(item_id, 0)) for item_id in items}


def _mean(values: list[Decimal]) -> Decimal:
    # NOTE: a mean is rounded to six places like the stored fractions it averages.
    if not values:
        return Decimal(0)
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.000001"))


def attainment_by_area(
    user: User, level: Optional[Level] = None
) -> list[tuple[FunctionalArea, Decimal]]:
    """Return (area, attainment 0..1) in framework order for the user's framework.

    An area's attainment is the mean of the best evidence fraction of each
    of its items, of ``level`` only when given. Items without evidence count as 0.
    """
    framework = framework_for(user)
    if framework is None:
        return []
    by_item = attainment_by_item(user, framework)
    query = sa.select(CompetencyItem).filter_by(framework_id=framework.id)
    if level is not None:
        query = query.filter_by(level_id=level.id)
    items = list(db.session.scalars(query))
    return [
        (area, _mean([by_item[i.id] for i in items if i.area_id == area.id]))
        for area in framework.areas
    ]


def population_attainment(
    people: sa.Select, framework: Framework
) -> list[tuple[FunctionalArea, Decimal]]:
    """Return (area, mean attainment 0..1 over ``people``) in framework order.

    ``people`` selects user ids. The mean is over every selected person,
    with the same rule as ``attainment_by_area`` for each of them, so people
    without evidence pull the mean down. Computed in two grouped queries.
    """
    count = db.session.scalar(sa.select(sa.func.count()).select_from(people.subquery()))
    if not count:
        return [(area, Decimal(0)) for area in framework.areas]
    best = (
        sa.select(
            CompetencyEvidence.user_id,
            CompetencyEvidence.item_id,
            sa.func.max(CompetencyEvidence.fraction).label("best"),
        )
        .join(CompetencyItem, CompetencyItem.id == CompetencyEvidence.item_id)
        .where(
            CompetencyEvidence.user_id.in_(people),
            CompetencyItem.framework_id == framework.id,
        )
        .group_by(CompetencyEvidence.user_id, CompetencyEvidence.item_id)
        .subquery()
    )
    sums = dict(
        db.session.execute(
            sa.select(CompetencyItem.area_id, sa.func.sum(best.c.best))
            .join(best, best.c.item_id == CompetencyItem.id)
            .group_by(CompetencyItem.area_id)
        ).all()
    )
    items = dict(
        db.session.execute(
            sa.select(CompetencyItem.area_id, sa.func.count())
            .where(CompetencyItem.framework_id == framework.id)
            .group_by(CompetencyItem.area_id)
        ).all()
    )
    result = []
    for area in framework.areas:
        total = Decimal(str(sums.get(area.id) or 0))
        slots = items.get(area.id, 0) * count
        result.append((area, total / slots if slots else Decimal(0)))
    return result


def attainment_by_level(user: User) -> list[tuple[Level, Decimal]]:
    """Return (level, attainment 0..1): the mean over the level's items, like areas."""
    framework = framework_for(user)
    if framework is None:
        return []
    by_item = attainment_by_item(user, framework)
    items = list(
        db.session.scalars(
            sa.select(CompetencyItem).filter_by(framework_id=framework.id)
        )
    )
    return [
        (level, _mean([by_item[i.id] for i in items if i.level_id == level.id]))
        for level in framework.levels
    ]


def _on_quiz_passed(sender, **kwargs) -> None:
    item_ids = kwargs.get("competency_item_ids") or []
    if not item_ids or not kwargs.get("max_score"):
        return
    fraction = Decimal(kwargs["score"]) / Decimal(kwargs["max_score"])
    record_evidence(
        kwargs["user_id"],
        "quiz_attempt",
        kwargs["attempt_id"],
        item_ids,
        fraction,
        kwargs["passed_on"],
    )


def connect_listeners() -> None:
    """Record evidence for every passed quiz; connecting twice is a no-op."""
    signals.quiz_passed.connect(_on_quiz_passed)


def radar_for(user: User):
    """Return the user's area attainment as (radar SVG, rows), or None without one."""
    from flask_babel import gettext as _

    from lms.charts import radar_svg

    rows = attainment_by_area(user)
    if len(rows) < 3:
        return None
    svg = radar_svg(
        [area.name for area, _value in rows],
        [value for _area, value in rows],
        title=_("Competency attainment by functional area"),
    )
    return svg, rows
