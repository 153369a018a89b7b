"""Compliance counts for a whole population, computed in the database.

``engine.evaluate_institution`` returns one verdict object per person, which
HR needs to drill into a list. A dashboard, a provincial report or the
nightly snapshot only needs how many people are met, at risk or missed per
rule and per department. ``population_report`` computes those counts with
one grouped query per rule: who a rule covers becomes a WHERE clause on the
accounts and their profiles, the ledger sum is a subquery from ``ledger``,
and the status is a CASE over the sum. It gives the same counts as
evaluating everyone with the engine (a test compares the two).

Two groups of people have a window of their own and are evaluated row by
row instead: everyone under a rule whose window is counted from the post
start date (``before_post``, ``around_post_start``), and people whose post
started inside a rolling rule's window (their deadline is the anniversary
of the post). Both groups are small: staff new to their post. People
without a post start date under a rule that needs one are counted as
``Status.START_DATE_MISSING`` by one more grouped query.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Iterable, Optional

import sqlalchemy as sa

from lms.accounts.models import Post, Role, User
from lms.compliance import ledger
from lms.compliance.engine import (
    FULL_TIME_POSTS,
    PARTY_MEMBER_POSTS,
    PARTY_SECRETARY_POSTS,
    Status,
    Today,
    _status,
    needs_post_start,
)
from lms.compliance.models import (
    CadreRank,
    ComplianceRule,
    PartyStatus,
    PersonProfile,
    WindowKind,
)
from lms.compliance.windows import Window, add_months, local_today, window_for
from lms.extensions import db
from lms.organisations.models import Institution
from lms.records.models import HoursEntry

#: (institution id, department id or None)
Unit = tuple[int, Optional[int]]


@dataclass
class RuleReport:
    """Verdict counts of one rule over a population, in total and per department."""

    rule: ComplianceRule
    totals: Counter = field(default_factory=Counter)
    units: dict[Unit, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, unit: Unit, status: Status, count: int) -> None:
        self.totals[status] += count
        self.units[unit][status] += count


def coverage_filters(
    rule: ComplianceRule, today: date, *, post_start_missing: bool = False
) -> list:
    """WHERE clauses on User outer-joined to PersonProfile: whom ``rule`` covers.

    Mirrors ``engine.uncovered_reason`` for an active rule. A rule that needs
    a post start date (``engine.needs_post_start``) selects only people with
    one, or with ``post_start_missing`` only people without one.
    """
    clauses = [
        User.active.is_(True),
        User.role.in_([Role(value) for value in rule.roles]),
    ]
    if rule.institution_id is not None:
        clauses.append(User.institution_id == rule.institution_id)
    if rule.posts:
        clauses.append(User.post.in_([Post(value) for value in rule.posts]))
    if rule.full_time_only:
        clauses.append(
            sa.or_(
                PersonProfile.full_time.is_(True),
                sa.and_(
                    PersonProfile.full_time.is_(None), User.post.in_(FULL_TIME_POSTS)
                ),
            )
        )
    if rule.party_member_only:
        clauses.append(
            sa.or_(
                User.post.in_(PARTY_MEMBER_POSTS),
                PersonProfile.party_status.in_(
                    [PartyStatus.PROBATIONARY, PartyStatus.MEMBER]
                ),
            )
        )
    if rule.party_committee_only:
        clauses.append(
            sa.or_(
                User.post.in_(PARTY_SECRETARY_POSTS),
                PersonProfile.party_committee_member.is_(True),
            )
        )
    if rule.cadre_ranks:
        clauses.append(
            PersonProfile.cadre_rank.in_([CadreRank(value) for value in rule.cadre_ranks])
        )
    if needs_post_start(rule):
        if post_start_missing:
            clauses.append(PersonProfile.post_started_on.is_(None))
            return clauses
        clauses.append(PersonProfile.post_started_on.is_not(None))
    if rule.new_to_post:
        clauses.append(
            PersonProfile.post_started_on >= add_months(today, -rule.new_to_post_months)
        )
    return clauses


def _not_met_status(rule: ComplianceRule, window: Window, today: date) -> Status:
    """The status of someone below the minimum, when the window is shared.

    The post start date passed is any recorded one: a rolling window is shared
    only by people whose post started before it.
    """
    return _status(rule, window, today, Decimal(-1), Decimal(-1), window.start)


def _status_case(
    rule: ComplianceRule, window: Window, today: date, tally, post_started_on
) -> sa.Case:
    achieved = sa.func.coalesce(tally.c.achieved, 0)
    still = sa.func.coalesce(tally.c.still, 0)
    if not rule.counts_trainings:
        # SQLite adds NUMERIC as floating point; the ledger rounds to 0.1 学时.
        achieved = sa.func.round(achieved, 1)
        still = sa.func.round(still, 1)
    required = sa.literal(rule.required, sa.Numeric(9, 1))
    met = sa.literal(Status.MET.value)
    if rule.window_kind is WindowKind.ROLLING_YEARS:
        met = sa.case((still >= required, met), else_=sa.literal(Status.AT_RISK.value))
    whens = [(achieved >= required, met)]
    if rule.window_kind is WindowKind.ROLLING_YEARS:
        whens.append(
            (post_started_on.is_(None), sa.literal(Status.START_DATE_MISSING.value))
        )
    return sa.case(
        *whens,
        else_=sa.literal(_not_met_status(rule, window, today).value),
    )


def _shared_window_counts(
    report: RuleReport, rule: ComplianceRule, institution_ids: list[int], today: date
) -> None:
    """Count everyone whose window and deadline are the rule's shared ones, in SQL."""
    if rule.counts_from_post_start:
        return
    window = window_for(rule, today)
    clauses = [User.institution_id.in_(institution_ids), *coverage_filters(rule, today)]
    if rule.window_kind is WindowKind.ROLLING_YEARS:
        clauses.append(
            sa.or_(
                PersonProfile.post_started_on.is_(None),
                PersonProfile.post_started_on < window.start,
            )
        )
    covered = (
        sa.select(
            User.id,
            User.institution_id,
            User.department_id,
            PersonProfile.post_started_on,
        )
        .outerjoin(PersonProfile, PersonProfile.user_id == User.id)
        .where(*clauses)
        .subquery()
    )
    tally = ledger.tally_query(
        rule,
        [
            HoursEntry.user_id.in_(sa.select(covered.c.id)),
            *ledger.restriction_filters(rule),
            *ledger.window_filters(window),
        ],
        window.horizon_start,
    ).subquery()
    status = _status_case(rule, window, today, tally, covered.c.post_started_on)
    query = (
        sa.select(covered.c.institution_id, covered.c.department_id, status, sa.func.count())
        .select_from(covered)
        .outerjoin(tally, tally.c.user_id == covered.c.id)
        .group_by(covered.c.institution_id, covered.c.department_id, status)
    )
    for institution_id, department_id, value, count in db.session.execute(query):
        report.add((institution_id, department_id), Status(value), count)


def _own_window_counts(
    report: RuleReport, rule: ComplianceRule, institution_ids: list[int], today: date
) -> None:
    """Count people with a window or deadline of their own, row by row."""
    clauses = [User.institution_id.in_(institution_ids), *coverage_filters(rule, today)]
    if rule.window_kind is WindowKind.ROLLING_YEARS:
        shared_start = window_for(rule, today).start
        clauses.append(PersonProfile.post_started_on >= shared_start)
    elif not rule.counts_from_post_start:
        return
    rows = db.session.execute(
        sa.select(
            User.id, User.institution_id, User.department_id, PersonProfile.post_started_on
        )
        .outerjoin(PersonProfile, PersonProfile.user_id == User.id)
        .where(*clauses)
    ).all()
    if not rows:
        return
    windows = {
        row.id: window_for(rule, today, post_started_on=row.post_started_on) for row in rows
    }
    if rule.counts_from_post_start:
        filters = [*ledger.restriction_filters(rule), *ledger.per_person_filters(windows)]
    else:
        filters = [
            HoursEntry.user_id.in_(list(windows)),
            *ledger.restriction_filters(rule),
            *ledger.window_filters(next(iter(windows.values()))),
        ]
    tally = ledger.tally(rule, filters, ledger.shared_horizon_start(windows))
    zero = (Decimal(0), Decimal(0))
    for row in rows:
        achieved, still = tally.get(row.id, zero)
        status = _status(
            rule, windows[row.id], today, achieved, still, row.post_started_on
        )
        report.add((row.institution_id, row.department_id), status, 1)


def _missing_start_counts(
    report: RuleReport, rule: ComplianceRule, institution_ids: list[int], today: date
) -> None:
    """Count the people a rule needing a post start date covers but who have none."""
    if not needs_post_start(rule):
        return
    clauses = [
        User.institution_id.in_(institution_ids),
        *coverage_filters(rule, today, post_start_missing=True),
    ]
    query = (
        sa.select(User.institution_id, User.department_id, sa.func.count())
        .outerjoin(PersonProfile, PersonProfile.user_id == User.id)
        .where(*clauses)
        .group_by(User.institution_id, User.department_id)
    )
    for institution_id, department_id, count in db.session.execute(query):
        report.add((institution_id, department_id), Status.START_DATE_MISSING, count)


def _rules_by_institution(institution_ids: list[int]) -> dict[int, list[ComplianceRule]]:
    """Resolve each institution's active rules in one query (own rule wins per code)."""
    rules = db.session.scalars(
        sa.select(ComplianceRule)
        .where(
            ComplianceRule.active.is_(True),
            sa.or_(
                ComplianceRule.institution_id.is_(None),
                ComplianceRule.institution_id.in_(institution_ids),
            ),
        )
        .order_by(ComplianceRule.code)
    ).all()
    shared = {rule.code: rule for rule in rules if rule.institution_id is None}
    resolved = {}
    for institution_id in institution_ids:
        by_code = dict(shared)
        for rule in rules:
            if rule.institution_id == institution_id:
                by_code[rule.code] = rule
        resolved[institution_id] = [by_code[code] for code in sorted(by_code)]
    return resolved


def population_report(
    institution_ids: Iterable[int], today: Today = None
) -> list[RuleReport]:
    """Count verdicts per rule for everyone in ``institution_ids``, by code order.

    People a rule does not cover are counted as not applicable, as in
    ``engine.evaluate_institution``. ``today`` is a date, an aware datetime
    (taken in each institution's zone) or None for now.
    """
    institutions = db.session.scalars(
        sa.select(Institution).where(Institution.id.in_(list(institution_ids)))
    ).all()
    if not institutions:
        return []
    ids = [institution.id for institution in institutions]
    rules_of = _rules_by_institution(ids)

    # One group per (rule, local date): institutions in other zones may be
    # on another day.
    groups: dict[tuple[int, date], list[int]] = defaultdict(list)
    rules: dict[int, ComplianceRule] = {}
    for institution in institutions:
        local = local_today(institution, today)
        for rule in rules_of[institution.id]:
            rules[rule.id] = rule
            groups[(rule.id, local)].append(institution.id)

    population = db.session.execute(
        sa.select(User.institution_id, User.department_id, sa.func.count())
        .where(User.institution_id.in_(ids))
        .group_by(User.institution_id, User.department_id)
    ).all()

    reports: dict[int, RuleReport] = {}
    for (rule_id, local), members in groups.items():
        rule = rules[rule_id]
        report = reports.setdefault(rule_id, RuleReport(rule))
        _shared_window_counts(report, rule, members, local)
        _own_window_counts(report, rule, members, local)
        _missing_start_counts(report, rule, members, local)

    # Institutions under each rule: those whose resolved rules include it.
    covering: dict[int, set[int]] = defaultdict(set)
    for (rule_id, _local), members in groups.items():
        covering[rule_id].update(members)

    for report in reports.values():
        for institution_id, department_id, count in population:
            if institution_id not in covering[report.rule.id]:
                continue
            unit = (institution_id, department_id)
            covered = sum(
                n for status, n in report.units.get(unit, Counter()).items()
                if status is not Status.NOT_APPLICABLE
            )
            if count > covered:
                report.add(unit, Status.NOT_APPLICABLE, count - covered)
    return sorted(reports.values(), key=lambda r: (r.rule.code, r.rule.id))


def province_institution_ids(province: str) -> list[int]:
    return list(
        db.session.scalars(sa.select(Institution.id).where(Institution.province == province))
    )
