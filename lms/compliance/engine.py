"""Evaluate compliance rules against the hours ledger.

The ledger is added up in the database (see ``ledger``), and windows and
deadlines are calendar dates in the institution's zone (see ``windows``).

Views call ``evaluate_all`` for one person, ``evaluate_institution`` for an
HR overview of one rule, and read ``Verdict.message`` for the explanation.
"""

import enum
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Optional, Union

import sqlalchemy as sa

from lms.accounts.models import Post, User
from lms.compliance import ledger
from lms.compliance.models import (
    PARTY_DATE_WINDOWS,
    CadreRankPeriod,
    ComplianceRule,
    PartyStatus,
    PersonProfile,
    WindowKind,
    covered_rank_since,
)
from lms.compliance.profiles import find_profile
from lms.compliance.windows import (
    Today,
    Window,
    add_months,
    first_member_year,
    local_today,
    split_hours_by_year,
    window_for,
)
from lms.extensions import db
from lms.organisations.models import Institution

__all__ = [
    "Measure",
    "Status",
    "Today",
    "Uncovered",
    "Verdict",
    "Window",
    "evaluate",
    "evaluate_all",
    "evaluate_institution",
    "first_judged_year",
    "local_today",
    "needs_post_start",
    "party_dates_outcome",
    "party_since",
    "rules_for",
    "split_hours_by_year",
    "uncovered_reason",
    "window_for",
]

#: Posts held full-time unless a person's profile overrides it. 组织员 are
#: full-time Party cadres. Branch secretaries usually combine the role with
#: teaching, so they are not on this list.
FULL_TIME_POSTS = frozenset({Post.FULL_TIME_COUNSELOR, Post.PARTY_ORGANISER})

#: Posts that make their holder a grassroots Party organisation secretary.
PARTY_SECRETARY_POSTS = frozenset(
    {Post.TEACHER_BRANCH_SECRETARY, Post.DEPARTMENT_PARTY_SECRETARY}
)

#: Posts that only Party members hold, so the Party member rules cover
#: their holders even when the profile records no Party status.
PARTY_MEMBER_POSTS = PARTY_SECRETARY_POSTS | {Post.PARTY_ORGANISER}

#: Months after the end of a probation or of a first year as a full member
#: during which a rule counted from it still covers the person, so that a
#: missed training stays on show for HR to follow up.
PARTY_WINDOW_SHOWN_MONTHS = 12

#: Months after the first ``new_to_post_months`` in the post during which a
#: new-to-post rule whose window ends with those months (such as the pre-job
#: training) still covers the person, so that a missed training stays on
#: show instead of becoming "not applicable" the day after its deadline.
POST_WINDOW_SHOWN_MONTHS = 12


class Status(enum.Enum):
    """Outcome of a rule for one person on a given day."""

    MET = "met"
    #: Short, but the deadline is more than ``at_risk_days`` away.
    IN_PROGRESS = "in_progress"
    #: Short with the deadline at most ``at_risk_days`` away, or (rolling
    #: windows) met today but falling short within ``at_risk_days``.
    AT_RISK = "at_risk"
    MISSED = "missed"
    #: The rule needs a date from the person's profile to set a window or a
    #: deadline, or to decide whether they are new to the post, and the date
    #: is not recorded. ``Verdict.missing_date`` names it.
    START_DATE_MISSING = "start_date_missing"
    NOT_APPLICABLE = "not_applicable"


class Measure(enum.Enum):
    """A quantity a verdict counts: 学时, or training days under a days minimum."""

    HOURS = "hours"
    DAYS = "days"


class Uncovered(enum.Enum):
    """Reason a rule does not apply to a person."""

    INACTIVE_RULE = "inactive_rule"
    OTHER_INSTITUTION = "other_institution"
    INACTIVE_ACCOUNT = "inactive_account"
    ROLE = "role"
    POST = "post"
    FULL_TIME = "full_time"
    PARTY_MEMBER = "party_member"
    PARTY_COMMITTEE = "party_committee"
    CADRE_RANK = "cadre_rank"
    NOT_NEW_TO_POST = "not_new_to_post"
    #: A calendar year that ended before the person took up the post.
    NOT_YET_IN_POST = "not_yet_in_post"
    #: The calendar year in which the person took up the post, under a rule
    #: that judges only full years in the post (``skip_post_start_year``).
    POST_START_YEAR = "post_start_year"
    #: A probation or first-member-year rule, for someone whose window ended
    #: over ``PARTY_WINDOW_SHOWN_MONTHS`` ago, or whose profile records no
    #: Party status.
    NOT_NEW_PARTY_MEMBER = "not_new_party_member"
    #: A first-member-year rule, for a probationary member.
    NOT_YET_FULL_MEMBER = "not_yet_full_member"
    #: A calendar-year Party member rule, for a year that began before the
    #: person joined the Party (see ``first_judged_year``).
    NOT_YET_PARTY_MEMBER = "not_yet_party_member"
    #: A calendar-year cadre rule, for a year that began before the person
    #: reached the rank (see ``first_judged_year``).
    NOT_YET_IN_RANK = "not_yet_in_rank"


@dataclass(frozen=True)
class Verdict:
    """The outcome of one rule for one person, with the numbers behind it.

    ``required``, ``achieved`` and ``missing`` are 学时 for an hours rule and
    a number of trainings for a count rule (see ``rule.counts_trainings``).
    """

    rule: ComplianceRule
    person: User
    status: Status
    today: date
    required: Decimal
    achieved: Decimal = Decimal(0)
    window: Optional[Window] = None
    #: Rolling windows: what will still count on ``window.horizon``.
    still_counting: Optional[Decimal] = None
    reason: Optional[Uncovered] = None
    #: With ``Status.START_DATE_MISSING``: the missing ``PersonProfile``
    #: column, such as "post_started_on" or "rank_since".
    missing_date: Optional[str] = None
    #: Exam result when the rule requires a passed exam (``rule.exam_required``):
    #: True passed, False only failed exams recorded, None no result recorded.
    exam: Optional[bool] = None
    #: With ``Uncovered.NOT_YET_PARTY_MEMBER`` or ``Uncovered.NOT_YET_IN_RANK``:
    #: the Party or rank date that the first judged year follows.
    since: Optional[date] = None
    #: Training days in the window, for a rule with a days minimum
    #: (``rule.counts_days``); None otherwise.
    achieved_days: Optional[Decimal] = None
    #: Rolling windows of a rule with a days minimum: the training days that
    #: will still count on ``window.horizon``.
    still_counting_days: Optional[Decimal] = None

    @property
    def applies(self) -> bool:
        return self.status is not Status.NOT_APPLICABLE

    @property
    def days_required(self) -> Optional[Decimal]:
        """The rule's days minimum, or None for a rule without one."""
        if self.achieved_days is None:
            return None
        return Decimal(self.rule.min_days)

    @property
    def hours_reached(self) -> bool:
        """Whether the 学时 (or trainings) reach the rule's minimum."""
        return self.achieved >= self.required

    @property
    def days_reached(self) -> bool:
        """Whether the training days reach the rule's days minimum."""
        if self.achieved_days is None:
            return False
        return self.achieved_days >= self.days_required

    @property
    def reached(self) -> bool:
        """Whether either measure reaches its minimum, whatever the exam."""
        return self.hours_reached or self.days_reached

    @property
    def missing(self) -> Decimal:
        """Return the 学时 or trainings still missing, none once the days suffice."""
        if self.days_reached:
            return Decimal(0)
        return max(self.required - self.achieved, Decimal(0))

    @property
    def missing_days(self) -> Optional[Decimal]:
        """Return the training days still missing, none once the 学时 suffice.

        None for a rule without a days minimum.
        """
        if self.achieved_days is None:
            return None
        if self.hours_reached:
            return Decimal(0)
        return max(self.days_required - self.achieved_days, Decimal(0))

    def share(self, measure: Measure) -> Decimal:
        """Return the part of the minimum that ``measure`` has reached, 1 for all of it.

        Above 1 when the measure goes beyond its minimum.
        """
        if measure is Measure.DAYS:
            return self.achieved_days / self.days_required
        return self.achieved / self.required

    @property
    def closest_measure(self) -> Optional[Measure]:
        """Return the measure nearest its minimum, or None for a rule without days.

        That is the one with the larger share of its minimum, and the 学时
        when both shares are equal.
        """
        if self.achieved_days is None:
            return None
        if self.share(Measure.DAYS) > self.share(Measure.HOURS):
            return Measure.DAYS
        return Measure.HOURS

    @property
    def window_start(self) -> Optional[date]:
        return self.window.start if self.window else None

    @property
    def window_end(self) -> Optional[date]:
        return self.window.end if self.window else None

    @property
    def deadline(self) -> Optional[date]:
        return self.window.deadline if self.window else None

    @property
    def days_left(self) -> Optional[int]:
        """Days from today to the deadline, negative once it has passed."""
        if self.deadline is None:
            return None
        return (self.deadline - self.today).days

    @property
    def message(self) -> str:
        """The verdict in words, in the current locale."""
        from lms.compliance.explain import explain

        return explain(self)


# Who a rule covers


def is_full_time(person: User, profile: Optional[PersonProfile]) -> bool:
    if profile is not None and profile.full_time is not None:
        return profile.full_time
    return person.post in FULL_TIME_POSTS


def _is_party_member(person: User, profile: Optional[PersonProfile]) -> bool:
    if person.post in PARTY_MEMBER_POSTS:
        return True
    return profile is not None and profile.party_status in (
        PartyStatus.PROBATIONARY,
        PartyStatus.MEMBER,
    )


def _is_party_officer(person: User, profile: Optional[PersonProfile]) -> bool:
    if person.post in PARTY_SECRETARY_POSTS:
        return True
    return profile is not None and profile.party_committee_member


def needs_post_start(rule: ComplianceRule) -> bool:
    """Return whether ``rule`` cannot be evaluated without a post start date."""
    return rule.new_to_post or rule.counts_from_post_start


def uncovered_reason(
    rule: ComplianceRule,
    person: User,
    profile: Optional[PersonProfile],
    today: date,
) -> Optional[Uncovered]:
    """Return why ``rule`` does not cover ``person``, or None if it does.

    A missing post start date is not a reason: the verdict is then
    ``Status.START_DATE_MISSING`` (see ``needs_post_start``).
    """
    post_started_on = profile.post_started_on if profile else None
    cadre_rank = profile.cadre_rank.value if profile and profile.cadre_rank else None
    checks = (
        (not rule.active, Uncovered.INACTIVE_RULE),
        (
            rule.institution_id is not None
            and rule.institution_id != person.institution_id,
            Uncovered.OTHER_INSTITUTION,
        ),
        (not person.active, Uncovered.INACTIVE_ACCOUNT),
        (person.role.value not in rule.roles, Uncovered.ROLE),
        (
            bool(rule.posts)
            and (person.post is None or person.post.value not in rule.posts),
            Uncovered.POST,
        ),
        (
            rule.full_time_only and not is_full_time(person, profile),
            Uncovered.FULL_TIME,
        ),
        (
            rule.party_member_only and not _is_party_member(person, profile),
            Uncovered.PARTY_MEMBER,
        ),
        (
            rule.party_committee_only and not _is_party_officer(person, profile),
            Uncovered.PARTY_COMMITTEE,
        ),
        (
            bool(rule.cadre_ranks) and cadre_rank not in rule.cadre_ranks,
            Uncovered.CADRE_RANK,
        ),
        (
            rule.new_to_post
            and post_started_on is not None
            and post_started_on < new_to_post_cutoff(rule, today),
            Uncovered.NOT_NEW_TO_POST,
        ),
    )
    for failed, reason in checks:
        if failed:
            return reason
    return None


def new_to_post_cutoff(rule: ComplianceRule, today: date) -> date:
    """Return the earliest post start that a new-to-post rule still covers on ``today``.

    That is ``new_to_post_months`` before today. A rule whose window ends
    with those months covers the person ``POST_WINDOW_SHOWN_MONTHS`` longer,
    so a shortfall at its deadline shows as missed that long. A window that
    ends at the post start needs no more: its deadline is the post start.
    """
    months = rule.new_to_post_months
    if rule.window_kind is WindowKind.AROUND_POST_START:
        months += POST_WINDOW_SHOWN_MONTHS
    return add_months(today, -months)


def _party_window_over(deadline: date, today: date) -> bool:
    return add_months(deadline, PARTY_WINDOW_SHOWN_MONTHS) < today


def party_dates_outcome(
    rule: ComplianceRule, profile: Optional[PersonProfile], today: date
) -> tuple[Optional[Uncovered], Optional[str]]:
    """Return why a probation or first-member-year rule does not cover the person, or which date is missing.

    Returns (reason, missing date column), with both None when the window
    can be computed. Only the recorded Party status counts here, because a
    post only Party members hold does not tell a probationary member from a
    full one.
    """
    status = profile.party_status if profile else PartyStatus.NONE
    probation = profile.probation_started_on if profile else None
    full_member_on = profile.full_member_on if profile else None
    if status is PartyStatus.PROBATIONARY:
        if rule.window_kind is WindowKind.FIRST_MEMBER_YEAR:
            return Uncovered.NOT_YET_FULL_MEMBER, None
        return None, None if probation else "probation_started_on"
    if status is not PartyStatus.MEMBER:
        return Uncovered.NOT_NEW_PARTY_MEMBER, None
    if full_member_on is None:
        return None, "full_member_on"
    if rule.window_kind is WindowKind.FIRST_MEMBER_YEAR:
        deadline = first_member_year(full_member_on).deadline
        if _party_window_over(deadline, today):
            return Uncovered.NOT_NEW_PARTY_MEMBER, None
        return None, None
    if _party_window_over(full_member_on - timedelta(days=1), today):
        return Uncovered.NOT_NEW_PARTY_MEMBER, None
    return None, None if probation else "probation_started_on"


def person_window(
    rule: ComplianceRule,
    person: User,
    profile: Optional[PersonProfile],
    today: date,
    year: Optional[int] = None,
) -> Union["Verdict", Window]:
    """Return the person's window under ``rule``, or the verdict that needs no ledger.

    The verdict is not applicable (with the reason) or, when the window
    needs a profile date that is not recorded, ``Status.START_DATE_MISSING``.
    """
    reason = uncovered_reason(rule, person, profile, today)
    if reason is not None:
        return _not_applicable(rule, person, today, reason)

    post_started_on = profile.post_started_on if profile else None
    if rule.window_kind in PARTY_DATE_WINDOWS:
        reason, missing = party_dates_outcome(rule, profile, today)
        if reason is not None:
            return _not_applicable(rule, person, today, reason)
        if missing is not None:
            return _start_date_missing(rule, person, today, missing)
    elif post_started_on is None and needs_post_start(rule):
        return _start_date_missing(rule, person, today, "post_started_on")

    window = window_for(rule, today, year=year, **window_dates(profile))
    if _year_before_post(rule, window, post_started_on):
        return _not_applicable(rule, person, today, Uncovered.NOT_YET_IN_POST)
    if rule.skip_post_start_year and _year_not_yet_judged(rule, window, post_started_on):
        return _not_applicable(
            rule, person, today, Uncovered.POST_START_YEAR, post_started_on
        )
    for reason, since in _status_dates(rule, profile):
        if _year_not_yet_judged(rule, window, since):
            return _not_applicable(rule, person, today, reason, since)
    return window


def party_since(profile: Optional[PersonProfile]) -> Optional[date]:
    """Return the day the person joined the Party, if recorded.

    It is the probation start (入党日期), or without it the full-member date.
    """
    if profile is None:
        return None
    return profile.probation_started_on or profile.full_member_on


def _status_dates(
    rule: ComplianceRule, profile: Optional[PersonProfile]
) -> list[tuple[Uncovered, Optional[date]]]:
    """Return the dates from which a calendar-year rule's status holds, with the reason."""
    dates = []
    if rule.party_member_only:
        dates.append((Uncovered.NOT_YET_PARTY_MEMBER, party_since(profile)))
    if rule.cadre_ranks:
        dates.append((Uncovered.NOT_YET_IN_RANK, rank_run_since(rule, profile)))
    return dates


def rank_run_since(
    rule: ComplianceRule, profile: Optional[PersonProfile]
) -> Optional[date]:
    """Return the day the person entered the ranks ``rule`` covers, without a break since.

    A cadre promoted from 科员 to 副科级 stays under a rule that covers
    both, so the rule counts from the first covered rank, not from the
    current rank date.
    """
    if profile is None or profile.rank_since is None:
        return None
    periods = db.session.scalars(
        sa.select(CadreRankPeriod).where(CadreRankPeriod.user_id == profile.user_id)
    ).all()
    return covered_rank_since(periods, set(rule.cadre_ranks), profile.rank_since)


def first_judged_year(since: date) -> int:
    """Return the first calendar year a yearly rule judges for a status held from ``since``.

    A yearly minimum is set for a whole calendar year, so it is judged from
    the first year whose 1 January falls on or after ``since``: the year of
    ``since`` when it is 1 January, otherwise the next year. The part year
    after joining the Party or reaching a rank is not judged.
    """
    return since.year if (since.month, since.day) == (1, 1) else since.year + 1


def _year_not_yet_judged(
    rule: ComplianceRule, window: Window, since: Optional[date]
) -> bool:
    """Return whether ``window`` is a calendar year before the first judged year."""
    return (
        rule.window_kind is WindowKind.CALENDAR_YEAR
        and since is not None
        and window.year < first_judged_year(since)
    )


def window_dates(profile: Optional[PersonProfile]) -> dict:
    """Return the profile dates that ``window_for`` counts windows from.

    The full-member date counts only for a full member, so that a stale date
    left on a probationary member does not end the probation.
    """
    if profile is None:
        return {}
    full_member = profile.party_status is PartyStatus.MEMBER
    return {
        "post_started_on": profile.post_started_on,
        "probation_started_on": profile.probation_started_on,
        "full_member_on": profile.full_member_on if full_member else None,
        "rank_since": profile.rank_since,
    }


def deadline_anchor(rule: ComplianceRule, profile: Optional[PersonProfile]) -> Optional[date]:
    """Return the profile date a rolling rule's deadline is counted from, if recorded."""
    if profile is None:
        return None
    if rule.window_kind is WindowKind.ROLLING_YEARS_AFTER_RANK:
        return profile.rank_since
    return profile.post_started_on


def anchor_column(rule: ComplianceRule) -> str:
    """Return the ``PersonProfile`` column a rolling rule's deadline is counted from."""
    if rule.window_kind is WindowKind.ROLLING_YEARS_AFTER_RANK:
        return "rank_since"
    return "post_started_on"


def _year_before_post(
    rule: ComplianceRule, window: Window, post_started_on: Optional[date]
) -> bool:
    """Return whether ``window`` is a calendar year that ended before the post started."""
    return (
        rule.window_kind is WindowKind.CALENDAR_YEAR
        and post_started_on is not None
        and post_started_on > window.end
    )


# Verdicts


def _status(
    rule: ComplianceRule,
    window: Window,
    today: date,
    achieved,
    still,
    anchor: Optional[date],
    exam: Optional[bool] = None,
    *,
    days: Optional[Decimal] = None,
    still_days: Optional[Decimal] = None,
) -> Status:
    """Return the status of ``achieved`` in ``window``.

    ``anchor`` is the date a rolling rule's deadline is counted from (see
    ``deadline_anchor``); the other kinds ignore it. ``exam`` is the exam
    result (see ``Verdict.exam``), which only a rule that requires an exam
    reads: it is met only once a passed exam is recorded. ``days`` and
    ``still_days`` are the training days of a rule with a days minimum,
    which reaching meets the rule as well as reaching the hours does.
    """
    reached = _reached(rule, achieved, days) and (
        exam is True or not rule.exam_required
    )
    if rule.is_rolling and reached:
        still_reached = _reached(rule, still, still_days)
        return Status.MET if still_reached else Status.AT_RISK
    if reached:
        return Status.MET
    if rule.is_rolling and anchor is None:
        # Someone short of a rolling minimum has a deadline only if the post
        # started (or the rank was reached) inside the window, which is
        # unknown without the date.
        return Status.START_DATE_MISSING
    if window.deadline is None or today > window.deadline:
        return Status.MISSED
    if (window.deadline - today).days <= rule.at_risk_days:
        return Status.AT_RISK
    return Status.IN_PROGRESS


def _reached(rule: ComplianceRule, amount, days: Optional[Decimal]) -> bool:
    """Return whether ``amount``, or ``days`` under a days minimum, is enough."""
    if amount >= rule.required:
        return True
    return rule.counts_days and days is not None and days >= rule.min_days


def _verdict(rule, person, today, window, tallies, anchor, exams) -> Verdict:
    tally = tallies.get(person.id, ledger.EMPTY_TALLY)
    if rule.counts_days and tally.days is None:
        tally = tally._replace(days=Decimal(0), still_days=Decimal(0))
    exam = exams.get(person.id) if rule.exam_required else None
    status = _status(
        rule,
        window,
        today,
        tally.achieved,
        tally.still,
        anchor,
        exam,
        days=tally.days,
        still_days=tally.still_days,
    )
    missing = anchor_column(rule) if status is Status.START_DATE_MISSING else None
    return Verdict(
        rule=rule,
        person=person,
        status=status,
        today=today,
        required=rule.required,
        achieved=tally.achieved,
        window=window,
        still_counting=tally.still if rule.is_rolling else None,
        reason=None,
        missing_date=missing,
        exam=exam,
        achieved_days=tally.days,
        still_counting_days=tally.still_days if rule.is_rolling else None,
    )


def _not_applicable(
    rule, person, today, reason: Uncovered, since: Optional[date] = None
) -> Verdict:
    return Verdict(
        rule=rule,
        person=person,
        status=Status.NOT_APPLICABLE,
        today=today,
        required=rule.required,
        reason=reason,
        since=since,
    )


def _start_date_missing(rule, person, today, missing_date: str) -> Verdict:
    return Verdict(
        rule=rule,
        person=person,
        status=Status.START_DATE_MISSING,
        today=today,
        required=rule.required,
        missing_date=missing_date,
    )


def _evaluate_loaded(
    rule, person, profile, today: date, year: Optional[int]
) -> Verdict:
    window = person_window(rule, person, profile, today, year)
    if isinstance(window, Verdict):
        return window
    filters = ledger.person_filters(rule, person.id, window)
    tally = ledger.tally(rule, filters, window.horizon_start)
    exams = ledger.exam_results(filters) if rule.exam_required else {}
    anchor = deadline_anchor(rule, profile)
    return _verdict(rule, person, today, window, tally, anchor, exams)


def evaluate(
    person: User,
    rule: ComplianceRule,
    today: Today = None,
    *,
    year: Optional[int] = None,
) -> Verdict:
    """Evaluate one rule for one person as of ``today`` (see ``local_today``).

    ``year`` evaluates a calendar-year rule for a year other than today's.
    The deadline of a past year has passed, so its verdict is met or missed.
    """
    today = local_today(person.institution, today)
    profile = find_profile(person.id)
    return _evaluate_loaded(rule, person, profile, today, year)


def rules_for(institution_id: int, year: Optional[int] = None) -> list[ComplianceRule]:
    """Return the active rules of an institution, shared ones included, by code.

    An institution's own rule replaces a shared rule with the same code. For
    a past ``year`` that ended before the institution's rule came into force,
    the shared rule applies instead, or no rule of that code when there is
    none.
    """
    rules = db.session.scalars(
        sa.select(ComplianceRule)
        .where(
            ComplianceRule.active.is_(True),
            sa.or_(
                ComplianceRule.institution_id.is_(None),
                ComplianceRule.institution_id == institution_id,
            ),
        )
        .order_by(ComplianceRule.code, ComplianceRule.institution_id.is_(None))
    )
    by_code: dict[str, ComplianceRule] = {}
    for rule in rules:
        if year is not None and not _in_force_in(rule, year):
            continue
        by_code.setdefault(rule.code, rule)
    return list(by_code.values())


def _in_force_in(rule: ComplianceRule, year: int) -> bool:
    return rule.in_force_from is None or rule.in_force_from <= date(year, 12, 31)


def evaluate_all(
    person: User, today: Today = None, *, year: Optional[int] = None
) -> list[Verdict]:
    """Evaluate every active rule of the person's institution, by rule code.

    Rules that do not cover the person are included as not applicable, with
    the reason.
    """
    today = local_today(person.institution, today)
    profile = find_profile(person.id)
    return [
        _evaluate_loaded(rule, person, profile, today, year)
        for rule in rules_for(person.institution_id, year)
    ]


def evaluate_institution(
    institution: Institution,
    rule: ComplianceRule,
    today: Today = None,
    *,
    year: Optional[int] = None,
    people: Optional[sa.ColumnElement[bool]] = None,
) -> list[Verdict]:
    """Evaluate one rule for every account of an institution, ordered by name.

    ``people`` is an SQL condition on ``User`` that narrows the accounts
    evaluated, such as a department or a search text.
    Issues two queries whatever the number of people: one for the accounts
    and their profiles, one that adds up the ledger per person. A rule that
    requires an exam adds a third, for the exam results.
    """
    today = local_today(institution, today)
    accounts = (
        sa.select(User, PersonProfile)
        .outerjoin(PersonProfile, PersonProfile.user_id == User.id)
        .where(User.institution_id == institution.id)
    )
    if people is not None:
        accounts = accounts.where(people)
    rows = db.session.execute(accounts.order_by(User.full_name, User.id)).all()

    verdicts: dict[int, Verdict] = {}
    windows: dict[int, Window] = {}
    for person, profile in rows:
        window = person_window(rule, person, profile, today, year)
        if isinstance(window, Verdict):
            verdicts[person.id] = window
        else:
            windows[person.id] = window

    if windows:
        filters = ledger.institution_filters(rule, institution, windows)
        tally = ledger.tally(rule, filters, ledger.shared_horizon_start(windows))
        exams = ledger.exam_results(filters) if rule.exam_required else {}
        for person, profile in rows:
            if person.id in windows:
                verdicts[person.id] = _verdict(
                    rule,
                    person,
                    today,
                    windows[person.id],
                    tally,
                    deadline_anchor(rule, profile),
                    exams,
                )
    return [verdicts[person.id] for person, _profile in rows]
