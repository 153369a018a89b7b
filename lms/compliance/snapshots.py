"""Daily compliance counts per institution, department and rule, for trend charts.

``take_snapshot`` stores the counts of one local date; running it again on
the same date replaces that date's rows, so a rerun never duplicates them.
``trend`` reads them back as institution totals per rule and date.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from lms.compliance.engine import Status
from lms.db import UTCDateTime, now_utc
from lms.extensions import db
from lms.organisations.models import Institution


class ComplianceSnapshot(db.Model):
    """Verdict counts of one rule in one department on one local date.

    ``department_id`` is None for the people without a department. The
    counts leave out people the rule does not apply to.
    """

    __tablename__ = "compliance_snapshot"
    __table_args__ = (
        sa.UniqueConstraint("snapshot_date", "institution_id", "rule_id", "department_id"),
        # NULLs never collide in a unique constraint, so the rows of people
        # without a department need their own index.
        sa.Index(
            "uq_compliance_snapshot_no_department",
            "snapshot_date",
            "institution_id",
            "rule_id",
            unique=True,
            sqlite_where=sa.text("department_id IS NULL"),
            postgresql_where=sa.text("department_id IS NULL"),
        ),
        sa.CheckConstraint(
            "met >= 0 AND in_progress >= 0 AND at_risk >= 0 AND missed >= 0",
            name="counts_not_negative",
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: Date in the institution's zone that the counts describe.
    snapshot_date: so.Mapped[date]
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id", ondelete="CASCADE")
    )
    department_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("department.id", ondelete="CASCADE")
    )
    rule_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("compliance_rule.id", ondelete="CASCADE")
    )
    met: so.Mapped[int] = so.mapped_column(default=0)
    in_progress: so.Mapped[int] = so.mapped_column(default=0)
    at_risk: so.Mapped[int] = so.mapped_column(default=0)
    missed: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    def __repr__(self) -> str:
        return (
            f"<ComplianceSnapshot {self.snapshot_date} rule={self.rule_id} "
            f"department={self.department_id}>"
        )


#: Statuses stored in a snapshot, by column name.
COUNTED = ("met", "in_progress", "at_risk", "missed")


def take_snapshot(institution: Institution, summaries, snapshot_date: date) -> int:
    """Replace the snapshot rows of ``institution`` on ``snapshot_date``; return the count.

    ``summaries`` are ``dashboard.RuleSummary`` objects for that date.
    """
    db.session.execute(
        sa.delete(ComplianceSnapshot).where(
            ComplianceSnapshot.institution_id == institution.id,
            ComplianceSnapshot.snapshot_date == snapshot_date,
        )
    )
    rows = 0
    for summary in summaries:
        for department_id, counts in summary.by_department.items():
            values = {name: counts.get(Status(name), 0) for name in COUNTED}
            if not any(values.values()):
                continue
            db.session.add(
                ComplianceSnapshot(
                    snapshot_date=snapshot_date,
                    institution_id=institution.id,
                    department_id=department_id,
                    rule_id=summary.rule.id,
                    **values,
                )
            )
            rows += 1
    db.session.flush()
    return rows


@dataclass
class RuleTrend:
    """Institution totals of one rule per snapshot date, oldest first."""

    rule_id: int
    points: list[tuple[date, Counter]] = field(default_factory=list)

    def coordinates(
        self, status: str, width: int = 240, height: int = 48
    ) -> list[tuple[float, float]]:
        """Return chart coordinates of the share of ``status`` per date, oldest first.

        x runs from 0 to ``width`` over the dates, and y from ``height``
        (0 %) up to 0 (100 %), as SVG draws downwards.
        """
        step = width / max(len(self.points) - 1, 1)
        result = []
        for index, (_day, counts) in enumerate(self.points):
            total = sum(counts[name] for name in COUNTED) or 1
            y = height - height * counts[status] / total
            result.append((round(index * step, 1), round(y, 1)))
        return result

    def polyline(self, status: str, width: int = 240, height: int = 48) -> str:
        """Return the ``points`` attribute of an SVG polyline for ``status``."""
        return " ".join(f"{x},{y}" for x, y in self.coordinates(status, width, height))


def trend(
    institution: Institution,
    today: date,
    days: int = 30,
    department_id: Optional[int] = None,
) -> dict[int, RuleTrend]:
    """Return each rule's totals for the snapshots of the last ``days`` days, by rule id.

    With ``department_id``, only that department's snapshots are counted.
    """
    query = sa.select(
        ComplianceSnapshot.rule_id,
        ComplianceSnapshot.snapshot_date,
        *(sa.func.sum(getattr(ComplianceSnapshot, name)) for name in COUNTED),
    ).where(
        ComplianceSnapshot.institution_id == institution.id,
        ComplianceSnapshot.snapshot_date > today - timedelta(days=days),
        ComplianceSnapshot.snapshot_date <= today,
    )
    if department_id is not None:
        query = query.where(ComplianceSnapshot.department_id == department_id)
    rows = db.session.execute(
        query.group_by(ComplianceSnapshot.rule_id, ComplianceSnapshot.snapshot_date)
        .order_by(ComplianceSnapshot.rule_id, ComplianceSnapshot.snapshot_date)
    ).all()
    trends: dict[int, RuleTrend] = {}
    for rule_id, day, *sums in rows:
        counts = Counter({name: int(value or 0) for name, value in zip(COUNTED, sums)})
        trends.setdefault(rule_id, RuleTrend(rule_id)).points.append((day, counts))
    return trends
