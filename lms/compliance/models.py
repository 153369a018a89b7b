import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from lms.accounts.models import Post, Role, User
from lms.db import UTCDateTime, enum_column, now_utc
from lms.extensions import db
from lms.revisions import Versioned
from lms.organisations.models import Institution
from lms.records.models import TrainingKind, TrainingTier


class WindowKind(enum.Enum):
    """The period over which a rule adds up a person's hours or trainings."""

    #: One calendar year in the institution's zone, due by 31 December.
    CALENDAR_YEAR = "calendar_year"
    #: The last ``window_years`` years ending today.
    ROLLING_YEARS = "rolling_years"
    #: The ``window_months`` months before the person took up the post, due
    #: on the day the post starts.
    BEFORE_POST = "before_post"
    #: The ``window_months`` months before the person took up the post and
    #: their first ``new_to_post_months`` months in it, due on the last day
    #: of those first months.
    AROUND_POST_START = "around_post_start"
    #: A probationary Party member's probation (预备期): from the day they
    #: became a probationary member to the day before they became a full
    #: member. Without a full-member date, the probation lasts one year, or
    #: two once the first year has passed, because a probation is extended
    #: by at most one year.
    PROBATION = "probation"
    #: The first year as a full Party member, from the full-member date.
    FIRST_MEMBER_YEAR = "first_member_year"
    #: The last ``window_years`` years ending today, like ``ROLLING_YEARS``,
    #: but a person who reached their cadre rank inside the window and is
    #: short of the minimum has until ``window_months`` months after the
    #: rank date to make it up.
    ROLLING_YEARS_AFTER_RANK = "rolling_years_after_rank"


#: Window kinds counted from each person's post start date.
POST_START_WINDOWS = frozenset({WindowKind.BEFORE_POST, WindowKind.AROUND_POST_START})

#: Window kinds counted from the dates of each person's Party membership.
PARTY_DATE_WINDOWS = frozenset({WindowKind.PROBATION, WindowKind.FIRST_MEMBER_YEAR})

#: Window kinds whose window, not only its deadline, differs per person.
PERSONAL_WINDOWS = POST_START_WINDOWS | PARTY_DATE_WINDOWS

#: Window kinds over the last ``window_years`` years.
ROLLING_WINDOWS = frozenset({WindowKind.ROLLING_YEARS, WindowKind.ROLLING_YEARS_AFTER_RANK})

#: Window kinds that use ``window_months``.
MONTHS_WINDOWS = POST_START_WINDOWS | {WindowKind.ROLLING_YEARS_AFTER_RANK}


class PartyStatus(enum.Enum):
    NONE = "none"
    PROBATIONARY = "probationary"  # 预备党员
    MEMBER = "member"  # 正式党员


class CadreRank(enum.Enum):
    """Administrative rank (职级) of a cadre, lowest first."""

    CLERK = "clerk"  # 科员
    SECTION_DEPUTY = "section_deputy"  # 副科级
    SECTION_CHIEF = "section_chief"  # 正科级
    DIVISION_DEPUTY = "division_deputy"  # 副处级
    DIVISION_CHIEF = "division_chief"  # 正处级
    BUREAU_DEPUTY = "bureau_deputy"  # 副厅级
    BUREAU_CHIEF = "bureau_chief"  # 正厅级


class PersonProfile(Versioned, db.Model):
    """Attributes of a person that decide which training rules cover them.

    One row per user at most. A user without a row is treated as a non-member
    of the Party (unless their post is one only Party members hold), without
    cadre rank, with no recorded post start date or Party dates, and
    full-time or not according to their post.
    """

    __tablename__ = "person_profile"
    __table_args__ = (
        sa.CheckConstraint(
            "full_member_on IS NULL OR probation_started_on IS NULL"
            " OR full_member_on > probation_started_on",
            name="full_member_after_probation",
        ),
    )

    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    party_status: so.Mapped[PartyStatus] = so.mapped_column(
        enum_column(PartyStatus), default=PartyStatus.NONE
    )
    #: Secretary or committee member (书记、委员) of a grassroots Party
    #: organisation, such as a student Party branch, beyond what the post shows.
    party_committee_member: so.Mapped[bool] = so.mapped_column(default=False)
    cadre_rank: so.Mapped[Optional[CadreRank]] = so.mapped_column(
        enum_column(CadreRank)
    )
    #: Full-time status that overrides the one implied by the post (None: use the post).
    full_time: so.Mapped[Optional[bool]]
    #: Day the person took up their current post, in the institution's zone.
    post_started_on: so.Mapped[Optional[date]]
    #: Day the person became a probationary Party member (入党日期), which
    #: starts the probation.
    probation_started_on: so.Mapped[Optional[date]]
    #: Day the person became a full Party member (转正日期).
    full_member_on: so.Mapped[Optional[date]]
    #: Day the person reached their current cadre rank, in the institution's zone.
    rank_since: so.Mapped[Optional[date]]
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc
    )

    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<PersonProfile {self.user_id}>"


class CadreRankPeriod(db.Model):
    """A cadre rank a person held from a day on, until their next period starts.

    The profile keeps only the current rank and its date. A yearly rule
    that covers several ranks (科员 to 正科级) covers a cadre promoted
    between two of them without a break, so it counts from the first day
    of the unbroken run of covered ranks (``covered_rank_since``). A row is
    written whenever the profile's rank or rank date changes
    (``record_rank_periods``). ``rank`` is None for a person whose rank
    was cleared on that day.
    """

    __tablename__ = "cadre_rank_period"
    __table_args__ = (sa.UniqueConstraint("user_id", "since"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    rank: so.Mapped[Optional[CadreRank]] = so.mapped_column(enum_column(CadreRank))
    #: First day in the rank, in the institution's zone.
    since: so.Mapped[date]
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    def __repr__(self) -> str:
        rank = self.rank.value if self.rank else None
        return f"<CadreRankPeriod {self.user_id} {rank} {self.since}>"


@sa.event.listens_for(so.Session, "before_flush")
def record_rank_periods(session, _context, _instances) -> None:
    """Keep a rank period for each rank and rank date a profile is given.

    A new rank adds a period from its date. A new date for the same rank
    corrects that rank's period, so a mistyped date leaves no trace in the
    runs of ranks. Every writer of the profile (the profile page, rank
    changes on the record, uploads, the seed) passes through here.
    """
    for profile in list(session.new) + list(session.dirty):
        if not isinstance(profile, PersonProfile):
            continue
        state = sa.inspect(profile)
        rank_history = state.attrs.cadre_rank.history
        since_history = state.attrs.rank_since.history
        if not rank_history.has_changes() and not since_history.has_changes():
            continue
        if profile.rank_since is None:
            continue
        old_rank = (rank_history.deleted or rank_history.unchanged or [None])[0]
        old_since = (since_history.deleted or since_history.unchanged or [None])[0]
        with session.no_autoflush:
            _store_rank_period(session, profile, old_rank, old_since)


def _store_rank_period(session, profile, old_rank, old_since) -> None:
    def period_on(day):
        if day is None:
            return None
        pending = [
            row for row in session.new
            if isinstance(row, CadreRankPeriod)
            and row.user_id == profile.user_id
            and row.since == day
        ]
        if pending:
            return pending[0]
        return session.scalar(
            sa.select(CadreRankPeriod).filter_by(user_id=profile.user_id, since=day)
        )

    period = period_on(profile.rank_since)
    if period is None and old_rank == profile.cadre_rank and old_since is not None:
        # The same rank with another date corrects the date of its period.
        period = period_on(old_since)
        if period is not None and period.rank == profile.cadre_rank:
            period.since = profile.rank_since
            return
        period = None
    if period is None:
        session.add(
            CadreRankPeriod(
                user_id=profile.user_id, rank=profile.cadre_rank, since=profile.rank_since
            )
        )
    else:
        period.rank = profile.cadre_rank


def covered_rank_since(
    periods: list[CadreRankPeriod], ranks: set[str], current_since: Optional[date]
) -> Optional[date]:
    """Return the first day of the unbroken run of ``ranks`` that ends in the current rank.

    ``periods`` are the person's rank periods in any order and
    ``current_since`` the profile's rank date, which is returned when no
    period reaches further back (or none is recorded). Without a rank
    date there is no run to count, so None is returned.
    """
    if current_since is None:
        return None
    since = current_since
    for period in sorted(periods, key=lambda row: row.since, reverse=True):
        if period.since > current_since:
            continue
        if period.rank is None or period.rank.value not in ranks:
            break
        since = min(since, period.since)
    return since


def covered_rank_since_column(ranks: list[str]) -> sa.ColumnElement:
    """SQL for ``covered_rank_since`` of the ``PersonProfile`` row in the query."""
    period = so.aliased(CadreRankPeriod)
    later = so.aliased(CadreRankPeriod)
    values = [CadreRank(value) for value in ranks]
    breaks_run = (
        sa.select(later.id)
        .where(
            later.user_id == period.user_id,
            later.since > period.since,
            later.since <= PersonProfile.rank_since,
            sa.or_(later.rank.is_(None), later.rank.not_in(values)),
        )
        .exists()
    )
    earliest = (
        sa.select(sa.func.min(period.since))
        .where(
            period.user_id == PersonProfile.user_id,
            period.rank.in_(values),
            period.since <= PersonProfile.rank_since,
            ~breaks_run,
        )
        .scalar_subquery()
    )
    return sa.func.coalesce(earliest, PersonProfile.rank_since)


def _values_of(enum_cls: type[enum.Enum]) -> frozenset[str]:
    return frozenset(member.value for member in enum_cls)


#: Allowed values of each list column, by column name.
_LIST_VALUES = {
    "roles": _values_of(Role),
    "posts": _values_of(Post),
    "cadre_ranks": _values_of(CadreRank),
    "tiers": _values_of(TrainingTier),
    "kinds": _values_of(TrainingKind),
    "excluded_kinds": _values_of(TrainingKind),
}


#: Shared rules that the seed creates, by code: the stored Chinese name and the
#: English one. The Chinese translation of each English name is the stored
#: name, so a Chinese page reads what is stored.
SHARED_RULE_NAMES = {
    "counselor-pre-job": (
        "新任专职辅导员岗前培训不少于40学时",
        _l("Pre-job training of new full-time counselors: at least 40 hours"),
    ),
    "counselor-school-yearly": (
        "专职辅导员每年参加校级培训不少于16学时",
        _l("Full-time counselors: at least 16 hours of school-level training a year"),
    ),
    "counselor-national-provincial-5y": (
        "专职辅导员每5年至少参加1次国家级或省级培训",
        _l("Full-time counselors: a national or provincial training at least every 5 years"),
    ),
    "party-member-yearly": (
        "党员每年集中学习培训不少于32学时",
        _l("Party members: at least 32 hours of centralised study a year"),
    ),
    "party-officer-yearly-hours": (
        "基层党组织书记和委员每年集中学习培训不少于56学时",
        _l(
            "Secretaries and committee members of primary Party organisations:"
            " at least 56 hours of centralised study a year"
        ),
    ),
    "party-officer-yearly-centralised": (
        "基层党组织书记和委员每年至少参加1次集中培训",
        _l(
            "Secretaries and committee members of primary Party organisations:"
            " a centralised training at least once a year"
        ),
    ),
    "cadre-section-yearly": (
        "乡科级和一级主任科员以下干部每年参加集中培训不少于12天或90学时",
        _l(
            "Cadres at section level and below: at least 12 days or 90 hours of"
            " centralised training a year"
        ),
    ),
    "party-secretary-new-post": (
        "新任院系党组织书记和党支部书记任职后6个月内参加任职培训",
        _l(
            "Newly appointed department Party secretaries and branch secretaries:"
            " job training within 6 months of taking up the post"
        ),
    ),
    "party-probationary-training": (
        "预备党员在预备期内至少参加1次集中培训",
        _l("Probationary Party members: a centralised training during the probation"),
    ),
    "party-new-member-training": (
        "党员转正后第一年内至少参加1次集中培训",
        _l(
            "New full Party members: a centralised training in the first year"
            " after admission to full membership"
        ),
    ),
    "cadre-division-5y": (
        "县处级以上领导干部每5年参加脱产培训累计不少于3个月或550学时",
        _l(
            "Leading cadres at division level and above: at least 3 months or 550"
            " hours of full-time training every 5 years"
        ),
    ),
}


class ComplianceRule(Versioned, db.Model):
    """A training requirement: who it covers, over which window, how much.

    A rule requires either a minimum of 学时 (``min_hours``) or a minimum
    number of distinct trainings (``min_count``), never both. An hours rule
    may also accept a number of training days (``min_days``), and reaching
    either minimum meets it. Days are counted where the ledger records them
    (``HoursEntry.days``); hours recorded without days count one day per
    ``hours_per_day``. Either minimum can be
    limited to some tiers and kinds of training. The list columns store enum
    values as JSON strings, and an empty list means no filter, except
    ``roles``, which must name at least one role.
    """

    __tablename__ = "compliance_rule"
    __table_args__ = (
        sa.UniqueConstraint("institution_id", "code"),
        # NULLs never collide in a unique constraint, so rules shared by every
        # institution need their own index to keep their codes unique.
        sa.Index(
            "uq_compliance_rule_shared_code",
            "code",
            unique=True,
            sqlite_where=sa.text("institution_id IS NULL"),
            postgresql_where=sa.text("institution_id IS NULL"),
        ),
        sa.CheckConstraint("code <> ''", name="code_not_empty"),
        sa.CheckConstraint("json_array_length(roles) > 0", name="roles_not_empty"),
        sa.CheckConstraint(
            "(min_hours IS NOT NULL AND min_count IS NULL)"
            " OR (min_hours IS NULL AND min_count IS NOT NULL)",
            name="one_minimum",
        ),
        sa.CheckConstraint(
            "min_hours IS NULL OR min_hours > 0", name="min_hours_positive"
        ),
        sa.CheckConstraint(
            "min_count IS NULL OR min_count > 0", name="min_count_positive"
        ),
        sa.CheckConstraint(
            "(min_days IS NULL) = (hours_per_day IS NULL)"
            " AND (min_days IS NULL OR (min_hours IS NOT NULL"
            " AND min_days > 0 AND hours_per_day > 0))",
            name="min_days_with_hours_per_day",
        ),
        sa.CheckConstraint(
            "(window_kind IN ('rolling_years', 'rolling_years_after_rank'))"
            " = (window_years IS NOT NULL)"
            " AND (window_years IS NULL OR window_years > 0)",
            name="window_years_iff_rolling",
        ),
        sa.CheckConstraint(
            "(window_kind IN ('before_post', 'around_post_start',"
            " 'rolling_years_after_rank'))"
            " = (window_months IS NOT NULL)"
            " AND (window_months IS NULL OR window_months > 0)",
            name="window_months_iff_months_window",
        ),
        sa.CheckConstraint(
            "NOT skip_post_start_year OR window_kind = 'calendar_year'",
            name="skip_post_start_year_only_yearly",
        ),
        sa.CheckConstraint("at_risk_days >= 0", name="at_risk_days_not_negative"),
        sa.CheckConstraint(
            "new_to_post_months > 0", name="new_to_post_months_positive"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: None makes the rule apply in every institution. An institution's rule
    #: with the same code replaces the shared one there.
    institution_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("institution.id", ondelete="CASCADE")
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    #: Citation of the document the rule comes from, with article if known.
    source: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    #: True once someone has read the value in the official text.
    verified: so.Mapped[bool] = so.mapped_column(default=False)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    #: First day an institution's rule applies. A calendar year that ended
    #: before it is judged by the national rule of the same code, if any, so
    #: a rule made today does not fail people for years before it existed.
    #: None (national rules) applies to every year.
    in_force_from: so.Mapped[Optional[date]]

    # Who the rule covers: every condition below must hold.
    roles: so.Mapped[list[str]] = so.mapped_column(sa.JSON)
    posts: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    full_time_only: so.Mapped[bool] = so.mapped_column(default=False)
    #: Probationary and full Party members both count.
    party_member_only: so.Mapped[bool] = so.mapped_column(default=False)
    #: Only secretaries and committee members of grassroots Party organisations.
    party_committee_only: so.Mapped[bool] = so.mapped_column(default=False)
    cadre_ranks: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    #: Only people whose post started at most ``new_to_post_months`` ago.
    new_to_post: so.Mapped[bool] = so.mapped_column(default=False)
    new_to_post_months: so.Mapped[int] = so.mapped_column(default=12)

    window_kind: so.Mapped[WindowKind] = so.mapped_column(enum_column(WindowKind))
    #: Calendar-year rules only: the year in which the person took up the
    #: post is not judged, unless the post started on 1 January, so the rule
    #: is judged from the first full calendar year in the post.
    skip_post_start_year: so.Mapped[bool] = so.mapped_column(
        default=False, server_default=sa.false()
    )
    window_years: so.Mapped[Optional[int]]
    window_months: so.Mapped[Optional[int]]

    min_hours: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(7, 1))
    #: Minimum number of distinct trainings in the window, such as programmes
    #: or external trainings, each counted once (see ``HoursEntry.training_type``).
    #: A programme counts only once the person has completed it.
    min_count: so.Mapped[Optional[int]]
    tiers: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    kinds: so.Mapped[list[str]] = so.mapped_column(sa.JSON, default=list)
    #: Kinds whose hours never count. Entries recorded without a kind, such
    #: as standalone courses, still count.
    excluded_kinds: so.Mapped[list[str]] = so.mapped_column(
        sa.JSON, default=list, server_default="[]"
    )
    #: Training days that meet the rule as well as ``min_hours`` does. Only
    #: for hours rules. ``hours_per_day`` 学时 recorded without days make a day.
    min_days: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(5, 1))
    hours_per_day: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(4, 1))
    #: Days before the deadline from which a shortfall is reported as at risk.
    #: For rolling windows: how far ahead to look for hours that will drop out.
    at_risk_days: so.Mapped[int] = so.mapped_column(default=60)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    institution: so.Mapped[Optional[Institution]] = so.relationship()

    @so.validates("roles", "posts", "cadre_ranks", "tiers", "kinds", "excluded_kinds")
    def _validate_list(self, key: str, values) -> list[str]:
        """Store enum members or their values as a list of unique known values."""
        if values is None:
            values = []
        if isinstance(values, (str, enum.Enum)):
            raise ValueError(f"{key}: expected a list of values, got {values!r}")
        allowed = _LIST_VALUES[key]
        cleaned: list[str] = []
        for value in values:
            text = value.value if isinstance(value, enum.Enum) else value
            if text not in allowed:
                raise ValueError(
                    f"{key}: unknown value {value!r}; expected one of {sorted(allowed)}"
                )
            if text not in cleaned:
                cleaned.append(text)
        if key == "roles" and not cleaned:
            raise ValueError("roles: a rule must name at least one role")
        return cleaned

    @property
    def display_name(self) -> str:
        """The name in the reader's language for a shared seeded rule, else the stored name.

        A shared rule whose stored name was changed keeps the changed name.
        """
        known = SHARED_RULE_NAMES.get(self.code) if self.institution_id is None else None
        if known is None or known[0] != self.name:
            return self.name
        return str(known[1])

    @property
    def counts_from_post_start(self) -> bool:
        """Whether each person's window is counted from their post start date."""
        return self.window_kind in POST_START_WINDOWS

    @property
    def counts_from_person_dates(self) -> bool:
        """Whether each person's window is counted from a date on their profile."""
        return self.window_kind in PERSONAL_WINDOWS

    @property
    def is_rolling(self) -> bool:
        """Whether the window is the last ``window_years`` years ending today."""
        return self.window_kind in ROLLING_WINDOWS

    @property
    def exam_required(self) -> bool:
        """Whether a passed exam is required on top of the minimum.

        Rules that count only pre-job training (岗前培训) require one,
        because counselors must pass the pre-job exam before taking the post.
        """
        return list(self.kinds or []) == ["pre_job"]

    @property
    def counts_trainings(self) -> bool:
        """Whether the minimum is a number of trainings rather than of 学时."""
        return self.min_count is not None

    @property
    def counts_days(self) -> bool:
        """Whether a number of training days also meets the rule (``min_days``)."""
        return self.min_days is not None and self.hours_per_day is not None

    @property
    def required(self) -> Decimal:
        """The minimum, in 学时 or in trainings.

        A days minimum is separate (``min_days``), because days are counted
        apart from hours.
        """
        if self.min_count is not None:
            return Decimal(self.min_count)
        return Decimal(self.min_hours)

    def __repr__(self) -> str:
        return (
            f"<ComplianceRule {self.id} {self.code} institution={self.institution_id}>"
        )
