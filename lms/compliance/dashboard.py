"""Institution-wide compliance counts and the per-rule lists HR drills into.

The counts come from ``report.population_report``, which counts in the
database with one grouped query per rule. The per-rule lists evaluate each
person with ``engine.evaluate_institution``, which issues two queries per
rule whatever the number of people.
"""

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Iterable, Optional

import sqlalchemy as sa

from lms.accounts.models import User
from lms.compliance.engine import (
    Status,
    Today,
    Verdict,
    rules_for,
)
from lms.compliance.models import ComplianceRule
from lms.extensions import db
from lms.compliance.report import population_report
from lms.organisations.models import Institution
from lms.records.models import HoursEntry

#: Display order of the statuses, from done to not concerned.
STATUS_ORDER = (
    Status.MET,
    Status.IN_PROGRESS,
    Status.AT_RISK,
    Status.MISSED,
    Status.START_DATE_MISSING,
    Status.NOT_APPLICABLE,
)

#: Characters that make a spreadsheet read a cell as a formula. Tab and
#: carriage return are included because some spreadsheet programs strip them
#: before looking at the first character.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class RuleSummary:
    """Verdict counts of one rule, for the institution and per department.

    ``by_department`` is keyed by department id, with None for people
    without a department.
    """

    rule: ComplianceRule
    total: Counter = field(default_factory=Counter)
    by_department: dict[Optional[int], Counter] = field(default_factory=dict)


def count_verdicts(rule: ComplianceRule, verdicts: Iterable[Verdict]) -> RuleSummary:
    summary = RuleSummary(rule=rule)
    for verdict in verdicts:
        department_id = verdict.person.department_id
        summary.total[verdict.status] += 1
        summary.by_department.setdefault(department_id, Counter())[verdict.status] += 1
    return summary


def summarise(
    institution: Institution,
    today: Today = None,
    *,
    department_id: Optional[int] = None,
) -> list[RuleSummary]:
    """Count verdicts per status for every rule that applies in ``institution``.

    With ``department_id`` only the people of that department are counted.
    The database counts, so the page costs the same for 50 people as for
    5,000; building a verdict object per person took seconds at that size.
    """
    summaries = []
    for report in population_report([institution.id], today):
        by_department = {
            department: Counter(dict(counts))
            for (_institution_id, department), counts in report.units.items()
        }
        total = Counter(dict(report.totals))
        if department_id is not None:
            by_department = {
                department: counts
                for department, counts in by_department.items()
                if department == department_id
            }
            total = sum(by_department.values(), Counter())
        summaries.append(
            RuleSummary(rule=report.rule, total=total, by_department=by_department)
        )
    return summaries


def department_totals(
    summaries: list[RuleSummary],
) -> dict[Optional[int], Counter]:
    """Add up the verdicts of every rule per department, for the chart."""
    totals: dict[Optional[int], Counter] = {}
    for summary in summaries:
        for department_id, counts in summary.by_department.items():
            totals.setdefault(department_id, Counter()).update(counts)
    return totals


def hours_by_month(
    institution: Institution, year: int, department_id: Optional[int] = None
) -> list[Decimal]:
    """Sum the 学时 credited in each month of ``year``, January first.

    Entries count in the month of their ``occurred_on`` date. Corrections
    are signed entries, so they lower the month they are dated in.
    """
    month = sa.extract("month", HoursEntry.occurred_on)
    query = (
        sa.select(month, sa.func.sum(HoursEntry.hours))
        .join(User, User.id == HoursEntry.user_id)
        .where(User.institution_id == institution.id, HoursEntry.year == year)
        .group_by(month)
    )
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    totals = [Decimal(0)] * 12
    for number, total in db.session.execute(query):
        totals[int(number) - 1] = Decimal(total or 0)
    return totals


def find_rule(institution: Institution, rule_id: int) -> Optional[ComplianceRule]:
    """Return the rule if it is one of the institution's active rules, else None.

    A shared rule that the institution replaces with its own rule of the same
    code is not found either.
    """
    return next(
        (rule for rule in rules_for(institution.id) if rule.id == rule_id), None
    )


def filter_verdicts(
    verdicts: list[Verdict],
    *,
    department_id: Optional[int] = None,
    status: Optional[Status] = None,
) -> list[Verdict]:
    return [
        verdict
        for verdict in verdicts
        if (department_id is None or verdict.person.department_id == department_id)
        and (status is None or verdict.status is status)
    ]


def neutralise_cell(value) -> str:
    """Return ``value`` as text that a spreadsheet shows as it is, never as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_text(header: list[str], rows: Iterable[list]) -> str:
    """Render rows as CSV with a UTF-8 byte order mark, so Excel reads Chinese text.

    Every cell goes through ``neutralise_cell``.
    """
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([neutralise_cell(cell) for cell in row])
    return buffer.getvalue()
