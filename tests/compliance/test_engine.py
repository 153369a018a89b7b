"""The compliance engine: coverage, windows in the institution's zone, sums
and counts in SQL, explanations, the bulk form, the seed and the schema."""

import itertools
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Optional
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from lms.accounts.models import Post, Role, User
from lms.compliance import windows
from lms.compliance.engine import (
    Status,
    Uncovered,
    evaluate,
    evaluate_all,
    evaluate_institution,
    split_hours_by_year,
)
from lms.compliance.models import (
    CadreRank,
    ComplianceRule,
    PartyStatus,
    PersonProfile,
    WindowKind,
)
from lms.compliance.seed import RULES, seed_rules
from lms.extensions import db
from lms.organisations.models import Institution
from lms.records.models import HoursEntry, TrainingKind, TrainingTier
from tests.conftest import TEST_PASSWORD

SHANGHAI = ZoneInfo("Asia/Shanghai")
_serial = itertools.count(1)


# Factories


def make_institution(code: str = "uni-a", zone: str = "Asia/Shanghai") -> Institution:
    institution = Institution(code=code, name=f"{code} 大学", timezone=zone)
    db.session.add(institution)
    db.session.flush()
    return institution


def make_person(
    institution: Institution,
    username: str,
    role: Role = Role.COUNSELOR,
    post: Optional[Post] = Post.FULL_TIME_COUNSELOR,
    *,
    full_name: Optional[str] = None,
    active: bool = True,
    **profile,
) -> User:
    """Add a user, and a PersonProfile when profile attributes are given."""
    user = User(
        username=username,
        full_name=full_name or username,
        role=role,
        post=post,
        institution_id=institution.id,
        active=active,
    )
    user.set_password(TEST_PASSWORD)
    db.session.add(user)
    db.session.flush()
    if profile:
        db.session.add(PersonProfile(user_id=user.id, **profile))
        db.session.flush()
    return user


def add_hours(
    person: User,
    hours,
    on: date,
    *,
    tier: TrainingTier = TrainingTier.SCHOOL,
    kind: Optional[TrainingKind] = TrainingKind.THEMATIC,
    year: Optional[int] = None,
    sourced: bool = True,
    corrects: Optional[HoursEntry] = None,
    exam_passed: Optional[bool] = None,
) -> HoursEntry:
    """Write a ledger row; each sourced row gets a new course-completion source."""
    entry = HoursEntry(
        user_id=person.id,
        source_type="course_completion" if sourced else None,
        source_id=next(_serial) if sourced else None,
        title="培训",
        occurred_on=on,
        year=year or on.year,
        tier=tier,
        kind=kind,
        hours=Decimal(str(hours)),
        exam_passed=exam_passed,
        corrects_id=corrects.id if corrects else None,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


#: The sentence that ends the explanation of a pre-job rule without an exam result.
PRE_JOB_EXAM_NOTE = (
    "No pre-job exam result is recorded, and the rule requires a passed exam."
)


def make_rule(**overrides) -> ComplianceRule:
    """Add a rule; by default 16 school-level hours per year for counselors."""
    values = dict(
        code=f"rule-{next(_serial)}",
        name="测试规则",
        source="测试",
        roles=[Role.COUNSELOR],
        window_kind=WindowKind.CALENDAR_YEAR,
        min_hours=Decimal(16),
        tiers=[TrainingTier.SCHOOL],
        at_risk_days=60,
    )
    values.update(overrides)
    rule = ComplianceRule(**values)
    db.session.add(rule)
    db.session.flush()
    return rule


def shanghai(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


@pytest.fixture
def institution(app_ctx):
    return make_institution()


# Calendar-year windows


def test_calendar_year_met_once_achieved(institution):
    person = make_person(institution, "c1")
    rule = make_rule()
    add_hours(person, 10, date(2026, 2, 1))
    add_hours(person, 6, date(2026, 3, 1))

    verdict = evaluate(person, rule, date(2026, 3, 1))

    assert verdict.status is Status.MET
    assert verdict.achieved == Decimal(16)
    assert verdict.missing == Decimal(0)


def test_calendar_year_window_and_shortfall(institution):
    person = make_person(institution, "c1")
    rule = make_rule()
    add_hours(person, 12, date(2026, 5, 1))
    add_hours(person, 8, date(2025, 12, 30))

    verdict = evaluate(person, rule, date(2026, 6, 30))

    assert verdict.status is Status.IN_PROGRESS
    assert verdict.window_start == date(2026, 1, 1)
    assert verdict.window_end == date(2026, 12, 31)
    assert verdict.deadline == date(2026, 12, 31)
    assert verdict.required == Decimal(16)
    assert verdict.achieved == Decimal(12)
    assert verdict.missing == Decimal(4)
    assert verdict.days_left == 184


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 10, 31), Status.IN_PROGRESS),  # 61 days left
        (date(2026, 11, 1), Status.AT_RISK),  # 60 days left
        (date(2026, 12, 31), Status.AT_RISK),  # deadline day
    ],
)
def test_calendar_year_at_risk_days_boundary(institution, today, expected):
    person = make_person(institution, "c1")
    rule = make_rule(at_risk_days=60)
    add_hours(person, 12, date(2026, 5, 1))

    assert evaluate(person, rule, today).status is expected


def test_calendar_year_uses_ledger_year(institution):
    person = make_person(institution, "c1")
    rule = make_rule()
    add_hours(person, 4, date(2025, 12, 31), year=2026)

    assert evaluate(person, rule, date(2026, 6, 1)).achieved == Decimal(4)
    assert evaluate(person, rule, date(2025, 12, 31)).achieved == Decimal(0)


def test_last_local_evening_is_same_year(institution, english):
    person = make_person(institution, "c1")
    rule = make_rule()
    add_hours(person, 12, date(2026, 5, 1))
    moment = shanghai(2026, 12, 31, 23, 30)
    assert moment.astimezone(timezone.utc).hour == 15

    verdict = evaluate(person, rule, moment)
    from_utc = evaluate(person, rule, moment.astimezone(timezone.utc))

    assert verdict.today == date(2026, 12, 31)
    assert from_utc.today == date(2026, 12, 31)
    assert verdict.window.year == 2026
    assert verdict.status is Status.AT_RISK
    assert verdict.message == (
        "12 of 16 school-level hours in 2026; 4 missing by 2026-12-31."
    )


def test_first_local_hour_starts_new_year(institution, english):
    person = make_person(institution, "c1")
    rule = make_rule()
    add_hours(person, 12, date(2026, 5, 1))
    moment = shanghai(2027, 1, 1, 0, 30)
    assert moment.astimezone(timezone.utc) == datetime(
        2026, 12, 31, 16, 30, tzinfo=timezone.utc
    )

    current = evaluate(person, rule, moment)
    from_utc = evaluate(person, rule, moment.astimezone(timezone.utc))
    past = evaluate(person, rule, moment, year=2026)

    assert current.window.year == 2027
    assert from_utc.window.year == 2027
    assert current.achieved == Decimal(0)
    assert current.status is Status.IN_PROGRESS
    assert past.status is Status.MISSED
    assert past.achieved == Decimal(12)
    assert past.message == (
        "12 of 16 school-level hours in 2026; 4 were still missing when the year ended."
    )


def test_past_year_met_stays_met(institution):
    person = make_person(institution, "c1")
    rule = make_rule()
    add_hours(person, 16, date(2026, 12, 31))

    verdict = evaluate(person, rule, date(2027, 1, 1), year=2026)

    assert verdict.status is Status.MET


def test_zone_comes_from_institution(app_ctx):
    utc_school = make_institution("uni-utc", zone="UTC")
    person = make_person(utc_school, "c1")
    rule = make_rule()
    moment = datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc)

    assert evaluate(person, rule, moment).window.year == 2026


def test_clock_read_in_institution_zone(institution, monkeypatch):
    person = make_person(institution, "c1")
    rule = make_rule()
    moment = datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc)
    monkeypatch.setattr(windows, "now_utc", lambda: moment)

    verdict = evaluate(person, rule)

    assert verdict.today == date(2027, 1, 1)
    assert verdict.window.year == 2027


def test_naive_datetime_rejected(institution):
    person = make_person(institution, "c1")
    rule = make_rule()

    with pytest.raises(ValueError, match="naive datetime"):
        evaluate(person, rule, datetime(2026, 12, 31, 23, 30))


# Tier, kind and correction handling


def test_tier_restriction(institution):
    person = make_person(institution, "c1")
    rule = make_rule(tiers=[TrainingTier.SCHOOL])
    add_hours(person, 6, date(2026, 3, 1), tier=TrainingTier.SCHOOL)
    add_hours(person, 20, date(2026, 3, 2), tier=TrainingTier.PROVINCIAL)
    add_hours(person, 20, date(2026, 3, 3), tier=TrainingTier.NATIONAL)

    assert evaluate(person, rule, date(2026, 4, 1)).achieved == Decimal(6)


def test_kind_restriction(institution):
    person = make_person(institution, "c1")
    rule = make_rule(
        tiers=[], kinds=[TrainingKind.THEMATIC, TrainingKind.DEMONSTRATION]
    )
    add_hours(person, 3, date(2026, 3, 1), kind=TrainingKind.THEMATIC)
    add_hours(person, 2.5, date(2026, 3, 2), kind=TrainingKind.DEMONSTRATION)
    add_hours(person, 9, date(2026, 3, 3), kind=TrainingKind.ONLINE)
    add_hours(person, 9, date(2026, 3, 4), kind=None)

    assert evaluate(person, rule, date(2026, 4, 1)).achieved == Decimal("5.5")


def test_no_restriction_sums_everything(institution):
    person = make_person(institution, "c1")
    rule = make_rule(tiers=[], min_hours=Decimal(32))
    add_hours(person, 3, date(2026, 3, 1), tier=TrainingTier.NATIONAL, kind=None)
    add_hours(person, 4.5, date(2026, 3, 2), kind=TrainingKind.ONLINE)

    assert evaluate(person, rule, date(2026, 4, 1)).achieved == Decimal("7.5")


def test_correction_reduces_hours(institution):
    person = make_person(institution, "c1")
    rule = make_rule()
    original = add_hours(person, 16, date(2026, 3, 1))
    add_hours(person, -6, date(2026, 3, 1), sourced=False, corrects=original)

    verdict = evaluate(person, rule, date(2026, 4, 1))

    assert verdict.achieved == Decimal(10)
    assert verdict.status is Status.IN_PROGRESS


# Count rules


def test_count_rule_counts_distinct_sources(institution):
    person = make_person(institution, "c1")
    rule = make_rule(
        min_hours=None,
        min_count=3,
        tiers=[TrainingTier.NATIONAL, TrainingTier.PROVINCIAL],
    )
    add_hours(person, 8, date(2026, 3, 1), tier=TrainingTier.PROVINCIAL)
    add_hours(person, 8, date(2026, 4, 1), tier=TrainingTier.NATIONAL)
    add_hours(person, 4, date(2026, 5, 1), tier=TrainingTier.PROVINCIAL, sourced=False)
    add_hours(person, 8, date(2026, 5, 2), tier=TrainingTier.SCHOOL)
    add_hours(person, 8, date(2025, 5, 2), tier=TrainingTier.NATIONAL)

    verdict = evaluate(person, rule, date(2026, 6, 1))

    assert verdict.achieved == Decimal(3)
    assert verdict.status is Status.MET


def test_count_rule_ignores_reversed_training(institution):
    person = make_person(institution, "c1")
    rule = make_rule(min_hours=None, min_count=2, tiers=[])
    add_hours(person, 8, date(2026, 3, 1))
    wrong = add_hours(person, 4, date(2026, 4, 1))
    add_hours(person, -4, date(2026, 4, 2), sourced=False, corrects=wrong)
    partly = add_hours(person, 4, date(2026, 4, 3))
    add_hours(person, -1, date(2026, 4, 4), sourced=False, corrects=partly)

    verdict = evaluate(person, rule, date(2026, 6, 1))

    assert verdict.achieved == Decimal(2)


def test_count_rule_restricted_to_kinds(institution):
    person = make_person(institution, "c1")
    rule = make_rule(
        min_hours=None, min_count=1, tiers=[], kinds=[TrainingKind.BACKBONE_CAMP]
    )
    add_hours(person, 8, date(2026, 3, 1), kind=TrainingKind.ONLINE)

    assert evaluate(person, rule, date(2026, 6, 1)).achieved == Decimal(0)


# Rolling windows


def _five_year_count_rule(**overrides) -> ComplianceRule:
    values = dict(
        window_kind=WindowKind.ROLLING_YEARS,
        window_years=5,
        min_hours=None,
        min_count=1,
        tiers=[TrainingTier.NATIONAL, TrainingTier.PROVINCIAL],
        at_risk_days=180,
    )
    values.update(overrides)
    return make_rule(**values)


def test_rolling_window_bounds(institution):
    person = make_person(institution, "c1", post_started_on=date(2015, 9, 1))
    rule = _five_year_count_rule()

    verdict = evaluate(person, rule, date(2026, 3, 15))

    assert verdict.window_start == date(2021, 3, 16)
    assert verdict.window_end == date(2026, 3, 15)
    assert verdict.deadline is None
    assert verdict.status is Status.MISSED


def test_rolling_short_without_start_date(institution, english):
    person = make_person(institution, "c1")
    rule = _five_year_count_rule()

    verdict = evaluate(person, rule, date(2026, 3, 15))

    assert verdict.status is Status.START_DATE_MISSING
    assert verdict.applies
    assert verdict.deadline is None
    assert verdict.message == (
        "0 of 1 national or provincial training in the 5 years to 2026-03-15. "
        "The deadline depends on the post start date, which is not recorded. "
        "HR should record the post start date on the person's profile page."
    )


def test_rolling_met_without_start_date(institution):
    person = make_person(institution, "c1")
    rule = _five_year_count_rule()
    add_hours(person, 24, date(2025, 6, 1), tier=TrainingTier.NATIONAL)

    verdict = evaluate(person, rule, date(2026, 3, 15))

    assert verdict.status is Status.MET


def test_rolling_start_date_recorded_later(institution):
    person = make_person(institution, "c1")
    rule = _five_year_count_rule()
    today = date(2026, 3, 15)
    assert evaluate(person, rule, today).status is Status.START_DATE_MISSING

    profile = db.session.get(PersonProfile, person.id)
    if profile is None:
        profile = PersonProfile(user_id=person.id)
        db.session.add(profile)
    profile.post_started_on = date(2025, 9, 1)
    db.session.flush()

    verdict = evaluate(person, rule, today)
    assert verdict.status is Status.IN_PROGRESS
    assert verdict.deadline == date(2030, 8, 31)


@pytest.mark.parametrize(
    ("trained_on", "achieved"),
    [
        (date(2021, 3, 15), 0),  # the day before the window opens
        (date(2021, 3, 16), 1),  # first day of the window
        (date(2026, 3, 15), 1),  # today
        (date(2026, 3, 16), 0),  # tomorrow, not yet happened
    ],
)
def test_rolling_window_edges(institution, trained_on, achieved):
    person = make_person(institution, "c1")
    rule = _five_year_count_rule()
    add_hours(person, 24, trained_on, tier=TrainingTier.PROVINCIAL)

    verdict = evaluate(person, rule, date(2026, 3, 15))

    assert verdict.achieved == Decimal(achieved)


def test_rolling_window_leap_day(institution):
    person = make_person(institution, "c1")
    rule = _five_year_count_rule()

    verdict = evaluate(person, rule, date(2028, 2, 29))

    assert verdict.window_start == date(2023, 3, 1)


def test_rolling_at_risk_before_lapse(institution, english):
    person = make_person(institution, "c1")
    rule = _five_year_count_rule(at_risk_days=180)
    add_hours(person, 24, date(2021, 6, 1), tier=TrainingTier.NATIONAL)

    verdict = evaluate(person, rule, date(2026, 3, 15))

    assert verdict.achieved == Decimal(1)
    assert verdict.still_counting == Decimal(0)
    assert verdict.window.horizon == date(2026, 9, 11)
    assert verdict.status is Status.AT_RISK
    assert verdict.message == (
        "1 of 1 national or provincial training in the 5 years to 2026-03-15; "
        "only 0 will still count on 2026-09-11."
    )


def test_one_year_rolling_window_singular(institution, english):
    person = make_person(institution, "c1")
    rule = _five_year_count_rule(window_years=1)
    add_hours(person, 24, date(2026, 1, 10), tier=TrainingTier.NATIONAL)

    verdict = evaluate(person, rule, date(2026, 3, 15))

    assert "in the 1 year to 2026-03-15" in verdict.message
    assert "1 years" not in verdict.message


def test_rolling_met_beyond_horizon(institution, english):
    person = make_person(institution, "c1")
    rule = _five_year_count_rule(at_risk_days=180)
    add_hours(person, 24, date(2021, 9, 12), tier=TrainingTier.NATIONAL)

    verdict = evaluate(person, rule, date(2026, 3, 15))

    assert verdict.status is Status.MET
    assert verdict.message == (
        "1 of 1 national or provincial training in the 5 years to 2026-03-15; "
        "requirement met."
    )


def test_rolling_new_post_gets_deadline(institution):
    person = make_person(institution, "c1", post_started_on=date(2025, 9, 1))
    rule = _five_year_count_rule(at_risk_days=180)

    verdict = evaluate(person, rule, date(2026, 3, 15))

    assert verdict.deadline == date(2030, 8, 31)
    assert verdict.status is Status.IN_PROGRESS


def test_rolling_hours_rule(institution):
    person = make_person(
        institution,
        "c1",
        cadre_rank=CadreRank.DIVISION_CHIEF,
        post_started_on=date(2018, 7, 1),
    )
    rule = make_rule(
        window_kind=WindowKind.ROLLING_YEARS,
        window_years=5,
        min_hours=Decimal(550),
        tiers=[],
        cadre_ranks=[CadreRank.DIVISION_CHIEF],
    )
    add_hours(person, 300, date(2021, 3, 15))
    add_hours(person, 200, date(2022, 1, 10))
    add_hours(person, 100, date(2025, 11, 1))

    verdict = evaluate(person, rule, date(2026, 3, 15))

    assert verdict.achieved == Decimal(300)
    assert verdict.missing == Decimal(250)
    assert verdict.status is Status.MISSED


# Before taking up the post


def _pre_job_rule(**overrides) -> ComplianceRule:
    values = dict(
        posts=[Post.FULL_TIME_COUNSELOR],
        full_time_only=True,
        new_to_post=True,
        new_to_post_months=12,
        window_kind=WindowKind.BEFORE_POST,
        window_months=12,
        min_hours=Decimal(40),
        tiers=[],
        kinds=[TrainingKind.PRE_JOB],
    )
    values.update(overrides)
    return make_rule(**values)


def test_before_post_window_edges(institution):
    person = make_person(institution, "c1", post_started_on=date(2026, 9, 1))
    rule = _pre_job_rule()
    pre_job = TrainingKind.PRE_JOB
    add_hours(person, 100, date(2025, 8, 31), kind=pre_job)  # before the window
    add_hours(person, 16, date(2025, 9, 1), kind=pre_job)  # first day
    add_hours(person, 8, date(2026, 9, 1), kind=pre_job)  # the day the post starts
    add_hours(person, 100, date(2026, 9, 2), kind=pre_job)  # after the start
    add_hours(person, 100, date(2026, 5, 1), kind=TrainingKind.THEMATIC)

    verdict = evaluate(person, rule, date(2026, 7, 1))

    assert verdict.window_start == date(2025, 9, 1)
    assert verdict.window_end == date(2026, 9, 1)
    assert verdict.deadline == date(2026, 9, 1)
    assert verdict.achieved == Decimal(24)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 7, 2), Status.IN_PROGRESS),  # 61 days before the start
        (date(2026, 7, 3), Status.AT_RISK),  # 60 days before
        (date(2026, 9, 1), Status.AT_RISK),  # the day the post starts
        (date(2026, 9, 2), Status.MISSED),
    ],
)
def test_before_post_status_by_day(institution, today, expected):
    person = make_person(institution, "c1", post_started_on=date(2026, 9, 1))
    rule = _pre_job_rule()
    add_hours(person, 16, date(2026, 6, 1), kind=TrainingKind.PRE_JOB)

    assert evaluate(person, rule, today).status is expected


def test_before_post_messages(institution, english):
    person = make_person(institution, "c1", post_started_on=date(2026, 9, 1))
    rule = _pre_job_rule()
    add_hours(person, 16, date(2026, 6, 1), kind=TrainingKind.PRE_JOB)

    early = evaluate(person, rule, date(2026, 8, 1))
    late = evaluate(person, rule, date(2026, 9, 2))

    assert early.message == (
        "16 of 40 hours of pre-job training so far; 24 missing by 2026-09-01, "
        "the day the post starts. " + PRE_JOB_EXAM_NOTE
    )
    assert late.message == (
        "16 of 40 hours of pre-job training before taking up the post on "
        "2026-09-01; 24 missing. " + PRE_JOB_EXAM_NOTE
    )


def test_new_to_post_ends_after_months(institution, english):
    rule = _pre_job_rule(new_to_post_months=12)
    recent = make_person(institution, "recent", post_started_on=date(2025, 6, 1))
    old = make_person(institution, "old", post_started_on=date(2025, 5, 31))
    unknown = make_person(institution, "unknown")

    today = date(2026, 6, 1)

    assert evaluate(recent, rule, today).status is Status.MISSED
    assert evaluate(old, rule, today).reason is Uncovered.NOT_NEW_TO_POST
    assert evaluate(unknown, rule, today).status is Status.START_DATE_MISSING
    assert evaluate(unknown, rule, today).reason is None
    assert evaluate(old, rule, today).message == (
        "Applies only in the first 12 months after taking up a post."
    )
    assert evaluate(unknown, rule, today).message == (
        "This rule cannot be checked because the post start date is not recorded. "
        "HR should record the post start date on the person's profile page. "
        "The rule also requires a passed pre-job exam."
    )


# Who a rule covers


@pytest.mark.parametrize(
    ("rule_values", "person_values", "reason"),
    [
        ({}, {"role": Role.HR, "post": None}, Uncovered.ROLE),
        (
            {"posts": [Post.FULL_TIME_COUNSELOR]},
            {"post": Post.PART_TIME_COUNSELOR},
            Uncovered.POST,
        ),
        (
            {"full_time_only": True},
            {"post": Post.PART_TIME_COUNSELOR},
            Uncovered.FULL_TIME,
        ),
        ({"full_time_only": True}, {"full_time": False}, Uncovered.FULL_TIME),
        ({"party_member_only": True}, {}, Uncovered.PARTY_MEMBER),
        (
            {"party_member_only": True},
            {"party_status": PartyStatus.NONE},
            Uncovered.PARTY_MEMBER,
        ),
        (
            {"party_committee_only": True},
            {"party_status": PartyStatus.MEMBER},
            Uncovered.PARTY_COMMITTEE,
        ),
        (
            {"cadre_ranks": [CadreRank.SECTION_CHIEF]},
            {"cadre_rank": CadreRank.DIVISION_CHIEF},
            Uncovered.CADRE_RANK,
        ),
        ({"cadre_ranks": [CadreRank.SECTION_CHIEF]}, {}, Uncovered.CADRE_RANK),
        ({}, {"active": False}, Uncovered.INACTIVE_ACCOUNT),
        ({"active": False}, {}, Uncovered.INACTIVE_RULE),
    ],
)
def test_rule_not_applicable(institution, rule_values, person_values, reason):
    person = make_person(institution, "p1", **person_values)
    rule = make_rule(**rule_values)
    add_hours(person, 20, date(2026, 3, 1))

    verdict = evaluate(person, rule, date(2026, 6, 1))

    assert verdict.status is Status.NOT_APPLICABLE
    assert verdict.reason is reason
    assert not verdict.applies
    assert verdict.message


@pytest.mark.parametrize(
    ("rule_values", "person_values"),
    [
        ({"full_time_only": True}, {"post": Post.PARTY_ORGANISER}),
        (
            {"full_time_only": True},
            {"post": Post.PART_TIME_COUNSELOR, "full_time": True},
        ),
        ({"party_member_only": True}, {"party_status": PartyStatus.PROBATIONARY}),
        # Only Party members hold these posts, so no recorded status is needed.
        ({"party_member_only": True}, {"post": Post.TEACHER_BRANCH_SECRETARY}),
        ({"party_member_only": True}, {"post": Post.DEPARTMENT_PARTY_SECRETARY}),
        ({"party_member_only": True}, {"post": Post.PARTY_ORGANISER}),
        (
            {"party_member_only": True},
            {"post": Post.PARTY_ORGANISER, "party_status": PartyStatus.NONE},
        ),
        (
            {"party_committee_only": True},
            {"post": Post.TEACHER_BRANCH_SECRETARY},
        ),
        (
            {"party_committee_only": True},
            {"party_committee_member": True},
        ),
        (
            {"cadre_ranks": [CadreRank.SECTION_CHIEF, CadreRank.SECTION_DEPUTY]},
            {"cadre_rank": CadreRank.SECTION_DEPUTY},
        ),
    ],
)
def test_rule_applies(institution, rule_values, person_values):
    person = make_person(institution, "p1", **person_values)
    rule = make_rule(**rule_values)

    assert evaluate(person, rule, date(2026, 6, 1)).applies


def test_secretary_post_gets_party_officer_rules(institution):
    seed_rules()
    person = make_person(
        institution, "s1", role=Role.PARTY_WORKER, post=Post.TEACHER_BRANCH_SECRETARY
    )
    add_hours(person, 20, date(2026, 3, 1), kind=TrainingKind.ONLINE)

    verdicts = {v.rule.code: v for v in evaluate_all(person, date(2026, 6, 1))}

    assert verdicts["party-member-yearly"].applies
    assert verdicts["party-officer-yearly-hours"].applies
    assert verdicts["party-officer-yearly-hours"].missing == Decimal(36)
    assert verdicts["party-officer-yearly-centralised"].applies
    assert verdicts["party-officer-yearly-centralised"].status is Status.IN_PROGRESS


def test_rule_of_other_institution_not_applicable(institution):
    other = make_institution("uni-b")
    person = make_person(institution, "c1")
    rule = make_rule(institution_id=other.id)

    assert (
        evaluate(person, rule, date(2026, 6, 1)).reason is Uncovered.OTHER_INSTITUTION
    )


def test_not_applicable_messages(institution, english):
    member_rule = make_rule(party_member_only=True)
    role_rule = make_rule(roles=[Role.PARTY_WORKER])
    rank_rule = make_rule(
        cadre_ranks=[CadreRank.SECTION_DEPUTY, CadreRank.SECTION_CHIEF]
    )
    person = make_person(institution, "c1")
    today = date(2026, 6, 1)

    assert (
        evaluate(person, member_rule, today).message == "Applies only to Party members."
    )
    assert (
        evaluate(person, role_rule, today).message
        == "Applies only to: Party-work staff."
    )
    assert evaluate(person, rank_rule, today).message == (
        "Applies only to cadres of these ranks: Deputy section level or Section level."
    )


def test_message_outside_request(institution):
    person = make_person(institution, "c1")
    rule = make_rule()
    add_hours(person, 12, date(2026, 5, 1))

    message = evaluate(person, rule, date(2026, 12, 31)).message

    assert "2026年12月31日" in message
    assert message.startswith("2026年校级学时为12（要求16）")


# Several rules per person


def test_evaluate_all_prefers_institution_rule(institution):
    person = make_person(institution, "c1", party_status=PartyStatus.MEMBER)
    make_rule(code="yearly", min_hours=Decimal(16))
    local = make_rule(
        code="yearly", institution_id=institution.id, min_hours=Decimal(20)
    )
    make_rule(code="party", party_member_only=True, tiers=[], min_hours=Decimal(32))
    make_rule(code="off", active=False)
    other = make_institution("uni-b")
    make_rule(code="elsewhere", institution_id=other.id)

    verdicts = evaluate_all(person, date(2026, 6, 1))

    assert [v.rule.code for v in verdicts] == ["party", "yearly"]
    assert verdicts[1].rule is local
    assert verdicts[1].required == Decimal(20)


def test_seeded_rules_for_one_person(institution):
    seed_rules()
    person = make_person(
        institution,
        "c1",
        party_status=PartyStatus.MEMBER,
        cadre_rank=CadreRank.SECTION_CHIEF,
    )
    add_hours(person, 16, date(2026, 3, 1), tier=TrainingTier.SCHOOL)
    add_hours(person, 20, date(2026, 4, 1), tier=TrainingTier.PROVINCIAL)

    verdicts = {v.rule.code: v for v in evaluate_all(person, date(2026, 6, 1))}

    assert verdicts["counselor-school-yearly"].status is Status.MET
    assert verdicts["counselor-national-provincial-5y"].status is Status.MET
    assert verdicts["party-member-yearly"].status is Status.MET
    assert verdicts["party-member-yearly"].achieved == Decimal(36)
    assert verdicts["cadre-section-yearly"].status is Status.IN_PROGRESS
    assert verdicts["cadre-section-yearly"].missing == Decimal(54)
    assert verdicts["counselor-pre-job"].status is Status.START_DATE_MISSING
    assert verdicts["party-officer-yearly-hours"].reason is Uncovered.PARTY_COMMITTEE
    assert verdicts["cadre-division-5y"].reason is Uncovered.CADRE_RANK


def test_seeded_rules_without_start_date(institution):
    seed_rules()
    counselor = make_person(institution, "new-hire")
    cadre = make_person(
        institution,
        "cadre",
        role=Role.PARTY_WORKER,
        post=Post.PARTY_ORGANISER,
        cadre_rank=CadreRank.DIVISION_DEPUTY,
    )
    today = date(2026, 6, 1)

    counselor_verdicts = {v.rule.code: v for v in evaluate_all(counselor, today)}
    cadre_verdicts = {v.rule.code: v for v in evaluate_all(cadre, today)}

    for code in ("counselor-national-provincial-5y", "counselor-pre-job"):
        assert counselor_verdicts[code].status is Status.START_DATE_MISSING, code
    assert counselor_verdicts["counselor-school-yearly"].status is Status.IN_PROGRESS
    assert cadre_verdicts["cadre-division-5y"].status is Status.START_DATE_MISSING


def test_seeded_centralised_count_skips_online(institution):
    seed_rules()
    person = make_person(
        institution,
        "s1",
        role=Role.PARTY_WORKER,
        post=Post.TEACHER_BRANCH_SECRETARY,
        party_status=PartyStatus.MEMBER,
    )
    add_hours(person, 56, date(2026, 3, 1), kind=TrainingKind.ONLINE)
    rule = db.session.scalar(
        sa.select(ComplianceRule).where(
            ComplianceRule.code == "party-officer-yearly-centralised"
        )
    )

    before = evaluate(person, rule, date(2026, 6, 1))
    add_hours(person, 8, date(2026, 4, 1), kind=TrainingKind.THEMATIC)
    after = evaluate(person, rule, date(2026, 6, 1))

    assert before.achieved == Decimal(0)
    assert after.status is Status.MET


# Bulk evaluation


@pytest.fixture
def staff(institution):
    """People of every kind the rules below distinguish, with varied hours."""
    people = []
    for index in range(12):
        profile = {}
        if index % 3 == 0:
            profile["post_started_on"] = (
                date(2026, 2, 1) if index % 2 else date(2026, 8, 1)
            )
        if index % 4 == 0:
            profile["party_status"] = PartyStatus.MEMBER
        post = Post.PART_TIME_COUNSELOR if index == 5 else Post.FULL_TIME_COUNSELOR
        person = make_person(institution, f"p{index:02d}", post=post, **profile)
        for step in range(index % 5):
            add_hours(
                person,
                2 * index + 4 * step + 2,
                date(2026 - step, 1 + step, 10),
                tier=[TrainingTier.SCHOOL, TrainingTier.PROVINCIAL][step % 2],
                kind=[TrainingKind.PRE_JOB, TrainingKind.THEMATIC][index % 2],
            )
        people.append(person)
    people.append(make_person(institution, "hr", role=Role.HR, post=None))
    other = make_institution("uni-b")
    stranger = make_person(other, "stranger")
    add_hours(stranger, 100, date(2026, 3, 1))
    return people


def _bulk_rules() -> list[ComplianceRule]:
    return [
        make_rule(full_time_only=True),
        make_rule(party_member_only=True, tiers=[], min_hours=Decimal(4)),
        _five_year_count_rule(at_risk_days=400),
        make_rule(window_kind=WindowKind.ROLLING_YEARS, window_years=2, tiers=[]),
        _pre_job_rule(new_to_post_months=24, min_hours=Decimal(2)),
        make_rule(min_hours=None, min_count=2, tiers=[]),
    ]


def _summary(verdict):
    return (
        verdict.person.id,
        verdict.status,
        verdict.achieved,
        verdict.window_start,
        verdict.window_end,
        verdict.deadline,
        verdict.still_counting,
        verdict.reason,
    )


def test_bulk_equals_per_person(institution, staff):
    today = date(2026, 6, 1)
    for rule in _bulk_rules():
        bulk = evaluate_institution(institution, rule, today)
        single = [evaluate(person, rule, today) for person in staff]

        assert sorted(map(_summary, bulk)) == sorted(map(_summary, single)), rule.code


def test_bulk_covers_everyone_by_name(institution, staff):
    verdicts = evaluate_institution(institution, make_rule(), date(2026, 6, 1))

    assert [v.person.username for v in verdicts] == sorted(p.username for p in staff)
    assert {v.status for v in verdicts} >= {Status.MET, Status.NOT_APPLICABLE}


def test_bulk_issues_two_queries(app, institution, staff):
    rules = _bulk_rules()
    db.session.commit()
    for rule in rules:
        db.session.refresh(rule)
    db.session.refresh(institution)

    statements = []

    def count_statement(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count_statement)
    try:
        for rule in rules:
            statements.clear()
            evaluate_institution(institution, rule, date(2026, 6, 1))
            # A rule that requires an exam reads the exam results too.
            expected = 3 if rule.exam_required else 2
            assert len(statements) == expected, (rule.window_kind, statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", count_statement)


# Splitting hours across years


@pytest.mark.parametrize(
    ("start", "end", "hours", "expected"),
    [
        (date(2026, 3, 1), date(2026, 3, 3), "24", [(2026, "24")]),
        (date(2025, 12, 31), date(2026, 1, 1), "8", [(2025, "4"), (2026, "4")]),
        (date(2025, 12, 29), date(2026, 1, 1), "10", [(2025, "7.5"), (2026, "2.5")]),
        (date(2025, 12, 30), date(2026, 1, 2), "7", [(2025, "3.5"), (2026, "3.5")]),
        (date(2025, 12, 31), date(2026, 1, 2), "1", [(2025, "0.5"), (2026, "0.5")]),
        (date(2025, 12, 31), date(2026, 1, 9), "2", [(2026, "2")]),
        (date(2025, 12, 27), date(2026, 1, 1), "0.3", [(2025, "0.3"), (2026, "0")]),
        (
            date(2024, 12, 31),
            date(2026, 1, 1),
            "367",
            [(2024, "1"), (2025, "365"), (2026, "1")],
        ),
    ],
)
def test_split_hours_by_year(start, end, hours, expected):
    parts = split_hours_by_year(start, end, Decimal(hours))

    assert parts == [(year, Decimal(value)) for year, value in expected]
    assert sum(value for _year, value in parts) == Decimal(hours)


def test_split_hours_parts_add_up_over_many_spans():
    start = date(2025, 11, 15)
    for length in range(0, 120, 7):
        end = date.fromordinal(start.toordinal() + length)
        for hours in ("1", "7.5", "16", "40.3", "550"):
            parts = split_hours_by_year(start, end, Decimal(hours))

            assert sum(value for _year, value in parts) == Decimal(hours)
            assert all(value >= 0 for _year, value in parts)
            assert parts[-1][0] == end.year


def test_split_hours_rejects_bad_input():
    with pytest.raises(ValueError, match="before start_date"):
        split_hours_by_year(date(2026, 1, 2), date(2026, 1, 1), Decimal(4))
    with pytest.raises(ValueError, match="negative"):
        split_hours_by_year(date(2026, 1, 1), date(2026, 1, 2), Decimal(-4))


# Seed


def test_seed_rules_idempotent_and_keeps_edits(app_ctx):
    added = seed_rules()
    school = next(rule for rule in added if rule.code == "counselor-school-yearly")
    school.min_hours = Decimal(20)
    db.session.flush()

    again = seed_rules()

    codes = db.session.scalars(sa.select(ComplianceRule.code)).all()
    assert len(added) == len(RULES)
    assert again == []
    assert sorted(codes) == sorted(values["code"] for values in RULES)
    assert db.session.get(ComplianceRule, school.id).min_hours == Decimal(20)


def test_seeded_values(app_ctx):
    rules = {rule.code: rule for rule in seed_rules()}

    assert rules["counselor-pre-job"].min_hours == Decimal(40)
    assert rules["counselor-pre-job"].kinds == ["pre_job"]
    assert rules["counselor-school-yearly"].tiers == ["school"]
    assert rules["counselor-national-provincial-5y"].min_count == 1
    assert rules["counselor-national-provincial-5y"].window_years == 5
    assert rules["party-member-yearly"].min_hours == Decimal(32)
    assert rules["party-officer-yearly-hours"].min_hours == Decimal(56)
    assert rules["party-officer-yearly-centralised"].min_count == 1
    assert "online" not in rules["party-officer-yearly-centralised"].kinds
    assert rules["cadre-section-yearly"].min_hours == Decimal(90)
    assert rules["cadre-division-5y"].min_hours == Decimal(550)
    assert rules["cadre-division-5y"].verified is True
    assert rules["counselor-school-yearly"].verified is False
    assert all(rule.source for rule in rules.values())


# Schema


def _insert_rule(**overrides) -> None:
    values = dict(
        code=f"raw-{next(_serial)}",
        name="规则",
        source="",
        verified=False,
        active=True,
        roles=["counselor"],
        posts=[],
        full_time_only=False,
        party_member_only=False,
        party_committee_only=False,
        cadre_ranks=[],
        new_to_post=False,
        new_to_post_months=12,
        window_kind="calendar_year",
        min_hours=Decimal(16),
        tiers=[],
        kinds=[],
        at_risk_days=60,
    )
    values.update(overrides)
    with db.session.begin_nested():
        db.session.execute(sa.insert(ComplianceRule.__table__).values(**values))


@pytest.mark.parametrize(
    "overrides",
    [
        {"window_kind": "rolling_years"},
        {"window_kind": "rolling_years", "window_years": 0},
        {"window_years": 5},
        {"window_kind": "before_post"},
        {"window_months": 6},
        {"min_hours": None},
        {"min_count": 1},
        {"min_hours": Decimal(0)},
        {"min_hours": None, "min_count": 0},
        {"roles": []},
        {"code": ""},
        {"at_risk_days": -1},
        {"new_to_post_months": 0},
    ],
)
def test_impossible_rule_rejected(app_ctx, overrides):
    with pytest.raises(IntegrityError):
        _insert_rule(**overrides)


def test_possible_rules_accepted(app_ctx):
    _insert_rule(
        window_kind="rolling_years", window_years=5, min_hours=None, min_count=1
    )
    _insert_rule(window_kind="before_post", window_months=12)


def test_rule_codes_unique_per_institution(app_ctx):
    first = make_institution("uni-a")
    second = make_institution("uni-b")
    _insert_rule(code="shared")
    _insert_rule(code="shared", institution_id=first.id)
    _insert_rule(code="shared", institution_id=second.id)

    with pytest.raises(IntegrityError):
        _insert_rule(code="shared")
    with pytest.raises(IntegrityError):
        _insert_rule(code="shared", institution_id=first.id)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("roles", ["dean"]),
        ("roles", []),
        ("posts", ["janitor"]),
        ("tiers", "school"),
        ("kinds", ["offline"]),
        ("cadre_ranks", ["general"]),
    ],
)
def test_rule_list_validation_names_field(app_ctx, field, value):
    with pytest.raises(ValueError, match=f"^{field}:"):
        ComplianceRule(**{field: value})


def test_rule_lists_store_enum_values(app_ctx):
    rule = make_rule(
        roles=[Role.COUNSELOR, "party_worker", Role.COUNSELOR],
        tiers=[TrainingTier.NATIONAL],
    )

    assert rule.roles == ["counselor", "party_worker"]
    assert rule.tiers == ["national"]


def test_exam_note_only_on_pre_job_rules(institution, english):
    person = make_person(institution, "c1", post_started_on=date(2020, 9, 1))
    pre_job = make_rule(kinds=[TrainingKind.PRE_JOB.value])
    centralised = make_rule(
        min_hours=None,
        min_count=1,
        kinds=[TrainingKind.PRE_JOB.value, TrainingKind.THEMATIC.value],
    )

    pre_job_message = evaluate(person, pre_job, date(2026, 12, 5)).message
    centralised_message = evaluate(person, centralised, date(2026, 12, 5)).message

    assert PRE_JOB_EXAM_NOTE in pre_job_message
    assert PRE_JOB_EXAM_NOTE not in centralised_message


def test_new_to_post_of_one_month_explained(institution, english):
    rule = _pre_job_rule(new_to_post_months=1)
    old = make_person(institution, "old", post_started_on=date(2025, 5, 31))

    message = evaluate(old, rule, date(2026, 6, 1)).message

    assert message == "Applies only in the first 1 month after taking up a post."
