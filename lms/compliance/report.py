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
row instead: everyone under a rule whose window is counted from a profile
date (``before_post``, ``around_post_start``, ``probation``,
``first_member_year``), and people whose post started, or who reached their
rank, inside a rolling rule's window (their deadline is counted from that
date). Both groups are small: staff new to their post, rank or Party
membership. People without a post start date under a rule that needs one
are counted as ``Status.START_DATE_MISSING`` by one more grouped query.
Under a probation or first-member-year rule, the row-by-row pass decides
coverage and missing dates with the engine's own functions
(``engine.person_window``), on the rows that a WHERE clause narrows to
probationary members and recent or undated full members.
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
    PARTY_WINDOW_SHOWN_MONTHS,
    Status,
    Today,
    Verdict,
    _status,
    anchor_column,
    deadline_anchor,
    needs_post_start,
    new_to_post_cutoff,
    person_window,
)
from lms.compliance.models import (
    PARTY_DATE_WINDOWS,
    CadreRank,
    ComplianceRule,
    PartyStatus,
    PersonProfile,
    WindowKind,
    covered_rank_since_column,
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
        clauses.append(PersonProfile.post_started_on >= new_to_post_cutoff(rule, today))
    if rule.window_kind in PARTY_DATE_WINDOWS:
        clauses.append(_recent_party_members(today))
    if rule.window_kind is WindowKind.CALENDAR_YEAR:
        clauses.extend(_judged_year_filters(rule, today.year))
    return clauses


def _judged_year_filters(rule: ComplianceRule, year: int) -> list:
    """WHERE clauses keeping people whose Party, rank or post date lets ``year`` be judged.

    Mirrors ``engine.first_judged_year``: a status held on 1 January of
    ``year`` counts, and a missing date leaves the person covered. A rank
    counts from the first day of the unbroken run of the rule's ranks
    (``engine.rank_run_since``). The post
    start date counts only for a rule with ``skip_post_start_year``.
    """
    first_day = date(year, 1, 1)
    dates = []
    if rule.party_member_only:
        dates.append(
            sa.func.coalesce(
                PersonProfile.probation_started_on, PersonProfile.full_member_on
            )
        )
    if rule.cadre_ranks:
        dates.append(covered_rank_since_column(rule.cadre_ranks))
    if rule.skip_post_start_year:
        dates.append(PersonProfile.post_started_on)
    return [sa.or_(since.is_(None), since <= first_day) for since in dates]


def _recent_party_members(today: date) -> sa.ColumnElement[bool]:
    """Probationary members and full members who may still be under a Party-date rule.

    A superset: ``engine.party_dates_outcome`` decides each row. A full
    member is covered until ``PARTY_WINDOW_SHOWN_MONTHS`` after their first
    full year, so an earlier full-member date never is.
    """
    cutoff = add_months(today, -(12 + PARTY_WINDOW_SHOWN_MONTHS + 1))
    return sa.or_(
        PersonProfile.party_status == PartyStatus.PROBATIONARY,
        sa.and_(
            PersonProfile.party_status == PartyStatus.MEMBER,
            sa.or_(
                PersonProfile.full_member_on.is_(None),
                PersonProfile.full_member_on >= cutoff,
            ),
        ),
    )


def _not_met_status(rule: ComplianceRule, window: Window, today: date) -> Status:
    """The status of someone below the minimum, when the window is shared.

    The post start date passed is any recorded one: a rolling window is shared
    only by people whose post started before it.
    """
    return _status(rule, window, today, Decimal(-1), Decimal(-1), window.start)


def _status_case(
    rule: ComplianceRule, window: Window, today: date, tally, anchor, exam
) -> sa.Case:
    """CASE giving each row's status; ``anchor`` is the rolling deadline's date column.

    ``exam`` is the subquery of ``ledger.exam_query``, or None when the rule
    requires no exam.
    """
    achieved = sa.func.coalesce(tally.c.achieved, 0)
    still = sa.func.coalesce(tally.c.still, 0)
    if not rule.counts_trainings:
        # SQLite adds NUMERIC as floating point; the ledger rounds to 0.1 学时.
        achieved = sa.func.round(achieved, 1)
        still = sa.func.round(still, 1)
    required = sa.literal(rule.required, sa.Numeric(9, 1))
    reached = achieved >= required
    still_reached = still >= required
    if rule.counts_days:
        min_days = sa.literal(rule.min_days, sa.Numeric(9, 1))
        days = sa.func.round(sa.func.coalesce(tally.c.days, 0), 1)
        still_days = sa.func.round(sa.func.coalesce(tally.c.still_days, 0), 1)
        reached = sa.or_(reached, days >= min_days)
        still_reached = sa.or_(still_reached, still_days >= min_days)
    met = sa.literal(Status.MET.value)
    if rule.is_rolling:
        met = sa.case((still_reached, met), else_=sa.literal(Status.AT_RISK.value))
    if exam is not None:
        reached = sa.and_(reached, sa.func.coalesce(exam.c.passed, 0) == 1)
    whens = [(reached, met)]
    if rule.is_rolling:
        whens.append((anchor.is_(None), sa.literal(Status.START_DATE_MISSING.value)))
    return sa.case(
        *whens,
        else_=sa.literal(_not_met_status(rule, window, today).value),
    )


def _shared_window_counts(
    report: RuleReport, rule: ComplianceRule, institution_ids: list[int], today: date
) -> None:
    """Count everyone whose window and deadline are the rule's shared ones, in SQL."""
    if rule.counts_from_person_dates:
        return
    window = window_for(rule, today)
    anchor = getattr(PersonProfile, anchor_column(rule))
    clauses = [User.institution_id.in_(institution_ids), *coverage_filters(rule, today)]
    if rule.is_rolling:
        clauses.append(sa.or_(anchor.is_(None), anchor < window.start))
    covered = (
        sa.select(
            User.id,
            User.institution_id,
            User.department_id,
            anchor.label("anchor"),
        )
        .outerjoin(PersonProfile, PersonProfile.user_id == User.id)
        .where(*clauses)
        .subquery()
    )
    filters = [
        HoursEntry.user_id.in_(sa.select(covered.c.id)),
        *ledger.restriction_filters(rule),
        *ledger.window_filters(window),
    ]
    tally = ledger.tally_query(rule, filters, window.horizon_start).subquery()
    exam = ledger.exam_query(filters).subquery() if rule.exam_required else None
    status = _status_case(rule, window, today, tally, covered.c.anchor, exam)
    query = (
        sa.select(covered.c.institution_id, covered.c.department_id, status, sa.func.count())
        .select_from(covered)
        .outerjoin(tally, tally.c.user_id == covered.c.id)
    )
    if exam is not None:
        query = query.outerjoin(exam, exam.c.user_id == covered.c.id)
    query = query.group_by(covered.c.institution_id, covered.c.department_id, status)
    for institution_id, department_id, value, count in db.session.execute(query):
        report.add((institution_id, department_id), Status(value), count)


def _own_window_counts(
    report: RuleReport, rule: ComplianceRule, institution_ids: list[int], today: date
) -> None:
    """Count people with a window or deadline of their own, row by row."""
    if rule.window_kind in PARTY_DATE_WINDOWS:
        _party_date_counts(report, rule, institution_ids, today)
        return
    clauses = [User.institution_id.in_(institution_ids), *coverage_filters(rule, today)]
    anchor = getattr(PersonProfile, anchor_column(rule))
    if rule.is_rolling:
        shared_start = window_for(rule, today).start
        clauses.append(anchor >= shared_start)
    elif not rule.counts_from_post_start:
        return
    rows = db.session.execute(
        sa.select(
            User.id,
            User.institution_id,
            User.department_id,
            PersonProfile.post_started_on,
            anchor.label("anchor"),
        )
        .outerjoin(PersonProfile, PersonProfile.user_id == User.id)
        .where(*clauses)
    ).all()
    if not rows:
        return
    windows = {
        row.id: window_for(
            rule, today, post_started_on=row.post_started_on, rank_since=row.anchor
        )
        for row in rows
    }
    _add_tallied(report, rule, today, rows, windows)


def _add_tallied(report: RuleReport, rule, today: date, rows, windows) -> None:
    """Add up the ledger for each row's window and count the statuses.

    Each row has ``id``, ``institution_id``, ``department_id`` and
    ``anchor`` (see ``engine.deadline_anchor``).
    """
    if rule.counts_from_person_dates:
        filters = [*ledger.restriction_filters(rule), *ledger.per_person_filters(windows)]
    else:
        filters = [
            HoursEntry.user_id.in_(list(windows)),
            *ledger.restriction_filters(rule),
            *ledger.window_filters(next(iter(windows.values()))),
        ]
    tally = ledger.tally(rule, filters, ledger.shared_horizon_start(windows))
    exams = ledger.exam_results(filters) if rule.exam_required else {}
    for row in rows:
        sums = tally.get(row.id, ledger.EMPTY_TALLY)
        status = _status(
            rule,
            windows[row.id],
            today,
            sums.achieved,
            sums.still,
            row.anchor,
            exams.get(row.id),
            days=sums.days,
            still_days=sums.still_days,
        )
        report.add((row.institution_id, row.department_id), status, 1)


@dataclass(frozen=True)
class _Row:
    id: int
    institution_id: int
    department_id: Optional[int]
    anchor: Optional[date]


def _party_date_counts(
    report: RuleReport, rule: ComplianceRule, institution_ids: list[int], today: date
) -> None:
    """Count everyone under a probation or first-member-year rule.

    Full members without a full-member date, the bulk of the members until
    HR records the dates, are counted by one grouped query, because
    ``engine.party_dates_outcome`` gives them ``Status.START_DATE_MISSING``
    under both rules. Everyone else is evaluated row by row.
    """
    clauses = [User.institution_id.in_(institution_ids), *coverage_filters(rule, today)]
    undated = sa.and_(
        PersonProfile.party_status == PartyStatus.MEMBER,
        PersonProfile.full_member_on.is_(None),
    )
    missing = db.session.execute(
        sa.select(User.institution_id, User.department_id, sa.func.count())
        .outerjoin(PersonProfile, PersonProfile.user_id == User.id)
        .where(*clauses, undated)
        .group_by(User.institution_id, User.department_id)
    )
    for institution_id, department_id, count in missing:
        report.add((institution_id, department_id), Status.START_DATE_MISSING, count)

    people = db.session.execute(
        sa.select(User, PersonProfile)
        .outerjoin(PersonProfile, PersonProfile.user_id == User.id)
        .where(*clauses, sa.not_(undated))
    ).all()
    rows, windows = [], {}
    for person, profile in people:
        window = person_window(rule, person, profile, today)
        unit = (person.institution_id, person.department_id)
        if isinstance(window, Verdict):
            if window.applies:
                report.add(unit, window.status, 1)
            continue
        windows[person.id] = window
        rows.append(_Row(person.id, *unit, deadline_anchor(rule, profile)))
    if rows:
        _add_tallied(report, rule, today, rows, windows)


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
