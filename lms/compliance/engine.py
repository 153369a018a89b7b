"""Evaluate compliance rules against the hours ledger.

The ledger is added up in the database (SUM or COUNT with GROUP BY over
``hours_entry``), never by loading rows. Windows and deadlines are computed
as calendar dates in the institution's zone, so 23:30 on 31 December in
Asia/Shanghai (15:30 UTC) still belongs to that year.

Views call ``evaluate_all`` for one person, ``evaluate_institution`` for an
HR overview of one rule, and read ``Verdict.message`` for the explanation.
"""

import calendar
import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Optional, Union
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from lms.accounts.models import Post, User
from lms.compliance.models import ComplianceRule, PartyStatus, PersonProfile, WindowKind
from lms.db import now_utc
from lms.extensions import db
from lms.organisations.models import Institution
from lms.records.models import HoursEntry, TrainingKind, TrainingTier

DEFAULT_TIMEZONE = "Asia/Shanghai"

#: Posts held full-time unless a person's profile overrides it. 组织员 are
#: full-time Party cadres. Branch secretaries usually combine the role with
#: teaching, so they are not on this list.
FULL_TIME_POSTS = frozenset({Post.FULL_TIME_COUNSELOR, Post.PARTY_ORGANISER})

#: Posts that make their holder a grassroots Party organisation secretary.
PARTY_SECRETARY_POSTS = frozenset(
    {Post.TEACHER_BRANCH_SECRETARY, Post.DEPARTMENT_PARTY_SECRETARY}
)

HALF_HOUR = Decimal("0.5")

#: A date, or an aware datetime that is converted to the institution's zone.
Today = Union[date, datetime, None]


class Status(enum.Enum):
    MET = "met"
    #: Short, but the deadline is more than ``at_risk_days`` away.
    IN_PROGRESS = "in_progress"
    #: Short with the deadline at most ``at_risk_days`` away, or (rolling
    #: windows) met today but falling short within ``at_risk_days``.
    AT_RISK = "at_risk"
    MISSED = "missed"
    NOT_APPLICABLE = "not_applicable"


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
    NO_POST_START = "no_post_start"


@dataclass(frozen=True)
class Window:
    """The days whose ledger entries count toward a rule, and its deadline."""

    start: Optional[date]
    end: date
    deadline: Optional[date]
    #: Calendar-year windows: the year, matched against ``HoursEntry.year``.
    year: Optional[int] = None
    #: Rolling windows: the day ``at_risk_days`` ahead, and the first day that
    #: will still be inside the window then.
    horizon: Optional[date] = None
    horizon_start: Optional[date] = None


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

    @property
    def applies(self) -> bool:
        return self.status is not Status.NOT_APPLICABLE

    @property
    def missing(self) -> Decimal:
        return max(self.required - self.achieved, Decimal(0))

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


# Dates and windows


def add_months(day: date, months: int) -> date:
    """Shift ``day`` by whole months, clamping to the last day of the month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def local_today(institution: Optional[Institution], today: Today = None) -> date:
    """Return the calendar date in the institution's zone.

    ``today`` may be a date (used as it is), an aware datetime (converted to
    the zone) or None for the current moment.
    """
    if isinstance(today, datetime):
        if today.tzinfo is None:
            raise ValueError(f"naive datetime {today!r}: pass an aware datetime")
        moment = today
    elif isinstance(today, date):
        return today
    else:
        moment = now_utc()
    zone = (institution.timezone if institution else None) or DEFAULT_TIMEZONE
    return moment.astimezone(ZoneInfo(zone)).date()


def _rolling_start(end: date, years: int) -> date:
    """First day of the ``years``-year window that ends on ``end``."""
    return add_months(end, -12 * years) + timedelta(days=1)


def window_for(
    rule: ComplianceRule,
    today: date,
    *,
    year: Optional[int] = None,
    post_started_on: Optional[date] = None,
) -> Window:
    """Compute the window of ``rule`` as seen on ``today``.

    ``year`` picks a calendar-year rule's year (default: today's year) and is
    ignored by the other window kinds. A ``before_post`` rule needs
    ``post_started_on``. For a rolling rule, a post that started inside the
    window gives a deadline: the day before the post's N-year anniversary.
    """
    if rule.window_kind is WindowKind.CALENDAR_YEAR:
        if year is None:
            year = today.year
        return Window(
            start=date(year, 1, 1),
            end=date(year, 12, 31),
            deadline=date(year, 12, 31),
            year=year,
        )

    if rule.window_kind is WindowKind.ROLLING_YEARS:
        years = rule.window_years
        start = _rolling_start(today, years)
        horizon = today + timedelta(days=rule.at_risk_days)
        deadline = None
        if post_started_on is not None and post_started_on > start:
            deadline = add_months(post_started_on, 12 * years) - timedelta(days=1)
        return Window(
            start=start,
            end=today,
            deadline=deadline,
            horizon=horizon,
            horizon_start=_rolling_start(horizon, years),
        )

    if post_started_on is None:
        raise ValueError(f"rule {rule.code!r} needs the date the post started")
    return Window(
        start=add_months(post_started_on, -rule.window_months),
        end=post_started_on,
        deadline=post_started_on,
    )


def split_hours_by_year(
    start_date: date, end_date: date, hours: Decimal
) -> list[tuple[int, Decimal]]:
    """Split a training's 学时 across the calendar years it spans.

    Each year gets a share proportional to its days (both ends inclusive),
    rounded half up to 0.5 学时. The last year takes the remainder, so the
    parts add up to ``hours`` exactly. Years whose share is zero are left
    out, except the last one.
    """
    hours = Decimal(hours)
    if end_date < start_date:
        raise ValueError(f"end_date {end_date} is before start_date {start_date}")
    if hours < 0:
        raise ValueError(f"hours must not be negative, got {hours}")

    total_days = (end_date - start_date).days + 1
    parts: list[tuple[int, Decimal]] = []
    remaining = hours
    for year in range(start_date.year, end_date.year):
        days = (date(year, 12, 31) - max(start_date, date(year, 1, 1))).days + 1
        share = (hours * days / total_days / HALF_HOUR).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        ) * HALF_HOUR
        # Rounding up must not take more than is left when ``hours`` is not
        # a multiple of 0.5.
        share = min(share, remaining)
        remaining -= share
        if share:
            parts.append((year, share))
    parts.append((end_date.year, remaining))
    return parts


# Who a rule covers


def is_full_time(person: User, profile: Optional[PersonProfile]) -> bool:
    if profile is not None and profile.full_time is not None:
        return profile.full_time
    return person.post in FULL_TIME_POSTS


def _is_party_member(profile: Optional[PersonProfile]) -> bool:
    return profile is not None and profile.party_status in (
        PartyStatus.PROBATIONARY,
        PartyStatus.MEMBER,
    )


def _is_party_officer(person: User, profile: Optional[PersonProfile]) -> bool:
    if person.post in PARTY_SECRETARY_POSTS:
        return True
    return profile is not None and profile.party_committee_member


def uncovered_reason(
    rule: ComplianceRule,
    person: User,
    profile: Optional[PersonProfile],
    today: date,
) -> Optional[Uncovered]:
    """Return why ``rule`` does not cover ``person``, or None if it does."""
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
            rule.party_member_only and not _is_party_member(profile),
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
            (rule.new_to_post or rule.window_kind is WindowKind.BEFORE_POST)
            and post_started_on is None,
            Uncovered.NO_POST_START,
        ),
        (
            rule.new_to_post
            and post_started_on is not None
            and post_started_on < add_months(today, -rule.new_to_post_months),
            Uncovered.NOT_NEW_TO_POST,
        ),
    )
    for failed, reason in checks:
        if failed:
            return reason
    return None


# Adding up the ledger


def _restriction_filters(rule: ComplianceRule) -> list:
    """WHERE clauses on HoursEntry for the rule's tiers and kinds."""
    clauses = []
    if rule.tiers:
        clauses.append(HoursEntry.tier.in_([TrainingTier(v) for v in rule.tiers]))
    if rule.kinds:
        clauses.append(HoursEntry.kind.in_([TrainingKind(v) for v in rule.kinds]))
    return clauses


def _window_filters(window: Window) -> list:
    """WHERE clauses on HoursEntry for a window shared by everyone evaluated.

    A calendar-year window matches the year that the ledger writer assigned
    to the entry. Other windows match the day the training happened.
    """
    if window.year is not None:
        return [HoursEntry.year == window.year]
    clauses = [HoursEntry.occurred_on <= window.end]
    if window.start is not None:
        clauses.append(HoursEntry.occurred_on >= window.start)
    return clauses


def _per_person_filters(windows: dict[int, Window]) -> list:
    """WHERE clauses for windows that differ by person (``before_post``).

    Each row is compared with its own person's bounds through a CASE on
    ``user_id``. Rows of people not in ``windows`` get NULL bounds and drop out.
    """
    starts = {user_id: window.start for user_id, window in windows.items()}
    ends = {user_id: window.end for user_id, window in windows.items()}
    return [
        HoursEntry.user_id.in_(list(windows)),
        HoursEntry.occurred_on >= sa.case(starts, value=HoursEntry.user_id),
        HoursEntry.occurred_on <= sa.case(ends, value=HoursEntry.user_id),
    ]


def _sum_hours(filters: list, horizon_start: Optional[date]) -> dict:
    """Return {user_id: (hours, hours still counting at the horizon)}."""
    still = HoursEntry.hours
    if horizon_start is not None:
        still = sa.case(
            (HoursEntry.occurred_on >= horizon_start, HoursEntry.hours), else_=0
        )
    query = (
        sa.select(HoursEntry.user_id, sa.func.sum(HoursEntry.hours), sa.func.sum(still))
        .where(*filters)
        .group_by(HoursEntry.user_id)
    )
    return {
        user_id: (_hours(total), _hours(later))
        for user_id, total, later in db.session.execute(query)
    }


def _count_trainings(filters: list, horizon_start: Optional[date]) -> dict:
    """Return {user_id: (trainings, trainings still counting at the horizon)}.

    A training is one ledger source (source_type, source_id), or a single
    entry without a source. Corrections are netted against the entry named
    in ``corrects_id``, and a training whose net hours are not positive does
    not count.
    """
    # NOTE: a correction is netted only against the entry it names directly,
    # and only when both fall inside the window.
    root_id = sa.func.coalesce(HoursEntry.corrects_id, HoursEntry.id)
    per_entry = (
        sa.select(HoursEntry.user_id.label("user_id"), root_id.label("root_id"))
        .where(*filters)
        .group_by(HoursEntry.user_id, root_id)
        .having(sa.func.sum(HoursEntry.hours) > 0)
        .subquery()
    )

    root = so.aliased(HoursEntry)
    has_source = sa.and_(root.source_type.is_not(None), root.source_id.is_not(None))
    per_training = (
        sa.select(
            per_entry.c.user_id,
            sa.func.max(root.occurred_on).label("last_on"),
        )
        .join(root, root.id == per_entry.c.root_id)
        .group_by(
            per_entry.c.user_id,
            sa.case((has_source, root.source_type), else_=None),
            sa.case((has_source, root.source_id), else_=root.id),
        )
        .subquery()
    )

    # Inline constants: PostgreSQL cannot infer the type of a bare parameter
    # inside SUM or CASE.
    literal_one = sa.literal_column("1")
    still = literal_one
    if horizon_start is not None:
        still = sa.case(
            (per_training.c.last_on >= horizon_start, literal_one),
            else_=sa.literal_column("0"),
        )
    query = sa.select(
        per_training.c.user_id, sa.func.count(), sa.func.sum(still)
    ).group_by(per_training.c.user_id)
    return {
        user_id: (Decimal(total), Decimal(later or 0))
        for user_id, total, later in db.session.execute(query)
    }


def _hours(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.1"))


def _tally(rule: ComplianceRule, filters: list, horizon_start: Optional[date]) -> dict:
    if rule.counts_trainings:
        return _count_trainings(filters, horizon_start)
    return _sum_hours(filters, horizon_start)


# Verdicts


def _status(
    rule: ComplianceRule, window: Window, today: date, achieved, still
) -> Status:
    required = rule.required
    if rule.window_kind is WindowKind.ROLLING_YEARS and achieved >= required:
        return Status.MET if still >= required else Status.AT_RISK
    if achieved >= required:
        return Status.MET
    if window.deadline is None or today > window.deadline:
        return Status.MISSED
    if (window.deadline - today).days <= rule.at_risk_days:
        return Status.AT_RISK
    return Status.IN_PROGRESS


def _verdict(rule, person, today, window, tally) -> Verdict:
    achieved, still = tally.get(person.id, (Decimal(0), Decimal(0)))
    rolling = rule.window_kind is WindowKind.ROLLING_YEARS
    return Verdict(
        rule=rule,
        person=person,
        status=_status(rule, window, today, achieved, still),
        today=today,
        required=rule.required,
        achieved=achieved,
        window=window,
        still_counting=still if rolling else None,
        reason=None,
    )


def _not_applicable(rule, person, today, reason: Uncovered) -> Verdict:
    return Verdict(
        rule=rule,
        person=person,
        status=Status.NOT_APPLICABLE,
        today=today,
        required=rule.required,
        reason=reason,
    )


def _evaluate_loaded(
    rule, person, profile, today: date, year: Optional[int]
) -> Verdict:
    reason = uncovered_reason(rule, person, profile, today)
    if reason is not None:
        return _not_applicable(rule, person, today, reason)

    post_started_on = profile.post_started_on if profile else None
    window = window_for(rule, today, year=year, post_started_on=post_started_on)
    filters = [
        HoursEntry.user_id == person.id,
        *_restriction_filters(rule),
        *_window_filters(window),
    ]
    tally = _tally(rule, filters, window.horizon_start)
    return _verdict(rule, person, today, window, tally)


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
    profile = db.session.get(PersonProfile, person.id)
    return _evaluate_loaded(rule, person, profile, today, year)


def rules_for(institution_id: int) -> list[ComplianceRule]:
    """Return the active rules of an institution, shared ones included, by code.

    An institution's own rule replaces a shared rule with the same code.
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
        by_code.setdefault(rule.code, rule)
    return list(by_code.values())


def evaluate_all(
    person: User, today: Today = None, *, year: Optional[int] = None
) -> list[Verdict]:
    """Evaluate every active rule of the person's institution, by rule code.

    Rules that do not cover the person are included as not applicable, with
    the reason.
    """
    today = local_today(person.institution, today)
    profile = db.session.get(PersonProfile, person.id)
    return [
        _evaluate_loaded(rule, person, profile, today, year)
        for rule in rules_for(person.institution_id)
    ]


def evaluate_institution(
    institution: Institution,
    rule: ComplianceRule,
    today: Today = None,
    *,
    year: Optional[int] = None,
) -> list[Verdict]:
    """Evaluate one rule for every account of an institution, ordered by name.

    Issues two queries whatever the number of people: one for the accounts
    and their profiles, one that adds up the ledger per person.
    """
    today = local_today(institution, today)
    rows = db.session.execute(
        sa.select(User, PersonProfile)
        .outerjoin(PersonProfile, PersonProfile.user_id == User.id)
        .where(User.institution_id == institution.id)
        .order_by(User.full_name, User.id)
    ).all()

    verdicts: dict[int, Verdict] = {}
    windows: dict[int, Window] = {}
    for person, profile in rows:
        reason = uncovered_reason(rule, person, profile, today)
        if reason is not None:
            verdicts[person.id] = _not_applicable(rule, person, today, reason)
            continue
        post_started_on = profile.post_started_on if profile else None
        windows[person.id] = window_for(
            rule, today, year=year, post_started_on=post_started_on
        )

    if windows:
        tally = _tally(
            rule, _institution_filters(rule, institution, windows), _horizon(windows)
        )
        for person, _profile in rows:
            if person.id in windows:
                verdicts[person.id] = _verdict(
                    rule, person, today, windows[person.id], tally
                )
    return [verdicts[person.id] for person, _profile in rows]


def _institution_filters(
    rule: ComplianceRule, institution: Institution, windows: dict[int, Window]
) -> list:
    """Filters for everyone covered in one institution.

    Calendar and rolling windows are the same for everyone, apart from the
    deadline, so one WHERE clause serves them all.
    """
    restrictions = _restriction_filters(rule)
    if rule.window_kind is WindowKind.BEFORE_POST:
        return [*restrictions, *_per_person_filters(windows)]
    window = next(iter(windows.values()))
    people = sa.select(User.id).where(User.institution_id == institution.id)
    return [HoursEntry.user_id.in_(people), *restrictions, *_window_filters(window)]


def _horizon(windows: dict[int, Window]) -> Optional[date]:
    return next(iter(windows.values())).horizon_start
