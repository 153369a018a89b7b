"""Seeded rules for new Party secretaries, section-level cadres and in-service hours.

Covers excluded training kinds, a minimum in training days as an
alternative to 学时, the six-month job training of newly appointed Party
secretaries, the seed's update of rules in an existing database, and the
rules on a person's record page.
"""

import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lms.accounts.models import Post, Role, User
from lms.compliance import seed
from lms.compliance.engine import Status, Uncovered, evaluate, evaluate_institution
from lms.compliance.models import CadreRank, ComplianceRule
from lms.compliance.report import population_report
from lms.compliance.windows import local_today
from lms.extensions import db
from lms.records.models import TrainingKind, TrainingTier
from tests.compliance.test_engine import add_hours, make_institution, make_person, make_rule

PRE_JOB = TrainingKind.PRE_JOB
SECRETARY_START = date(2026, 3, 1)


@pytest.fixture
def institution(app_ctx):
    return make_institution()


@pytest.fixture
def in_english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def _seeded(code: str) -> ComplianceRule:
    seed.seed_rules()
    return db.session.scalar(
        sa.select(ComplianceRule).filter_by(code=code, institution_id=None)
    )


def _report_counts(institution, rule, today) -> Counter:
    (report,) = [r for r in population_report([institution.id], today) if r.rule is rule]
    return Counter(dict(report.totals))


def _engine_counts(institution, rule, today) -> Counter:
    return Counter(v.status for v in evaluate_institution(institution, rule, today))


# Excluded kinds


def test_excluded_kind_not_counted(institution):
    person = make_person(institution, "c1")
    rule = make_rule(excluded_kinds=[PRE_JOB])
    add_hours(person, 40, date(2026, 3, 1), kind=PRE_JOB)
    add_hours(person, 6, date(2026, 4, 1), kind=TrainingKind.THEMATIC)
    add_hours(person, 4, date(2026, 5, 1), kind=None)

    verdict = evaluate(person, rule, date(2026, 6, 1))

    assert verdict.achieved == Decimal(10)
    assert verdict.status is Status.IN_PROGRESS


def test_entries_without_kind_still_count(institution):
    person = make_person(institution, "c1")
    rule = make_rule(excluded_kinds=[PRE_JOB])
    add_hours(person, 16, date(2026, 5, 1), kind=None)

    assert evaluate(person, rule, date(2026, 6, 1)).status is Status.MET


def test_excluded_kinds_reject_unknown_value(app_ctx):
    with pytest.raises(ValueError, match="excluded_kinds: unknown value 'lecture'"):
        ComplianceRule(excluded_kinds=["lecture"])


def test_seeded_school_rule_excludes_pre_job(institution, in_english):
    rule = _seeded("counselor-school-yearly")
    person = make_person(institution, "c1")
    add_hours(person, 40, date(2026, 9, 10), kind=PRE_JOB)
    add_hours(person, 8, date(2026, 10, 10), kind=None)

    verdict = evaluate(person, rule, date(2026, 11, 1))

    assert rule.excluded_kinds == [PRE_JOB.value]
    assert verdict.achieved == Decimal(8)
    assert verdict.message == (
        "8 of 16 school-level hours (not counting pre-job training) in 2026; "
        "8 missing by 2026-12-31."
    )


def test_report_matches_engine_with_exclusions(institution):
    rule = make_rule(excluded_kinds=[PRE_JOB, TrainingKind.ONLINE])
    rng = random.Random(5)
    for number in range(30):
        person = make_person(institution, f"c{number}")
        for _ in range(rng.randint(0, 4)):
            add_hours(
                person,
                rng.choice([2, 4, 8, 16]),
                date(2026, rng.randint(1, 12), 1),
                kind=rng.choice([None, *TrainingKind]),
            )
    today = date(2026, 12, 15)

    assert _report_counts(institution, rule, today) == _engine_counts(
        institution, rule, today
    )


# Days or hours


def _days_rule(**overrides) -> ComplianceRule:
    values = dict(
        roles=[Role.COUNSELOR],
        tiers=[],
        cadre_ranks=[CadreRank.CLERK],
        min_hours=Decimal(90),
        min_days=Decimal(12),
        hours_per_day=Decimal(8),
    )
    values.update(overrides)
    return make_rule(**values)


def test_hours_below_days_minimum_meet_rule(institution):
    person = make_person(institution, "c1", cadre_rank=CadreRank.CLERK)
    rule = _days_rule()
    add_hours(person, 90, date(2026, 5, 1))

    verdict = evaluate(person, rule, date(2026, 6, 1))

    # 90 学时 meet the hours minimum, though without days they make 11.3 days.
    assert verdict.required == Decimal(90)
    assert verdict.status is Status.MET


def test_days_meet_rule_below_hours_minimum(institution):
    person = make_person(institution, "c1", cadre_rank=CadreRank.CLERK)
    rule = _days_rule(hours_per_day=Decimal(7))
    add_hours(person, 84, date(2026, 5, 1))

    verdict = evaluate(person, rule, date(2026, 6, 1))

    # Hours recorded without days count one day per 7 hours: 12 days.
    assert verdict.required == Decimal(90)
    assert verdict.achieved_days == Decimal(12)
    assert verdict.missing == Decimal(0)
    assert verdict.status is Status.MET


def test_one_hour_short_of_days_is_not_met(institution):
    person = make_person(institution, "c1", cadre_rank=CadreRank.CLERK)
    rule = _days_rule(hours_per_day=Decimal(7))
    add_hours(person, "83.5", date(2026, 5, 1))

    verdict = evaluate(person, rule, date(2026, 12, 31))

    assert verdict.achieved_days == Decimal("11.9")
    assert verdict.missing == Decimal("6.5")
    assert verdict.status is Status.AT_RISK


def test_days_need_hours_per_day(institution):
    with pytest.raises(sa.exc.IntegrityError):
        _days_rule(hours_per_day=None)


def test_days_message_names_both_minimums(institution, in_english):
    person = make_person(institution, "c1", cadre_rank=CadreRank.CLERK)
    rule = _days_rule()
    add_hours(person, 40, date(2026, 5, 1))

    message = evaluate(person, rule, date(2026, 6, 1)).message

    assert message == (
        "40 of 90 hours in 2026; 50 hours or 7 training days missing by 2026-12-31. "
        "Either 90 hours or 12 days of training meet this rule. Hours recorded "
        "without days count one day for every 8 hours. Training days: 5 of 12. "
        "The hours are closer to the minimum: 44% of it, against 41% for the "
        "training days."
    )


def test_report_matches_engine_with_days(institution):
    rule = _days_rule(hours_per_day=Decimal(7))
    for number, hours in enumerate([0, 83, 84, 90, 100]):
        person = make_person(institution, f"c{number}", cadre_rank=CadreRank.CLERK)
        if hours:
            add_hours(person, hours, date(2026, 5, 1))
    today = date(2026, 6, 1)

    counts = _report_counts(institution, rule, today)

    assert counts == _engine_counts(institution, rule, today)
    assert counts[Status.MET] == 3


def test_seeded_section_rule_covers_clerks(institution):
    rule = _seeded("cadre-section-yearly")
    clerk = make_person(institution, "c1", cadre_rank=CadreRank.CLERK)
    division = make_person(institution, "c2", cadre_rank=CadreRank.DIVISION_DEPUTY)
    add_hours(clerk, 90, date(2026, 4, 1))

    assert rule.min_days == Decimal(12)
    assert rule.hours_per_day == Decimal(8)
    assert evaluate(clerk, rule, date(2026, 6, 1)).status is Status.MET
    assert evaluate(division, rule, date(2026, 6, 1)).reason is Uncovered.CADRE_RANK


# Newly appointed Party secretaries


def _secretary(institution, username="s1", **profile) -> User:
    values = dict(post_started_on=SECRETARY_START)
    values.update(profile)
    return make_person(
        institution,
        username,
        Role.PARTY_WORKER,
        Post.DEPARTMENT_PARTY_SECRETARY,
        **values,
    )


def test_secretary_window_ends_after_six_months(institution):
    rule = _seeded("party-secretary-new-post")
    person = _secretary(institution)

    verdict = evaluate(person, rule, date(2026, 4, 1))

    assert verdict.window_start == date(2026, 2, 1)
    assert verdict.deadline == date(2026, 8, 31)


@pytest.mark.parametrize(
    ("trained_on", "expected"),
    [
        (date(2026, 1, 31), Status.MISSED),  # before the month ahead of the post
        (date(2026, 2, 1), Status.MET),
        (date(2026, 8, 31), Status.MET),  # last day of the first 6 months
        (date(2026, 9, 1), Status.MISSED),  # one day late
    ],
)
def test_secretary_training_six_month_edge(institution, trained_on, expected):
    rule = _seeded("party-secretary-new-post")
    person = _secretary(institution)
    add_hours(person, 8, trained_on)

    assert evaluate(person, rule, date(2026, 9, 1)).status is expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 7, 1), Status.IN_PROGRESS),  # 61 days before the deadline
        (date(2026, 7, 2), Status.AT_RISK),
        (date(2026, 8, 31), Status.AT_RISK),
        (date(2026, 9, 1), Status.MISSED),
    ],
)
def test_secretary_status_by_day(institution, today, expected):
    rule = _seeded("party-secretary-new-post")
    person = _secretary(institution)

    assert evaluate(person, rule, today).status is expected


def test_secretary_rule_covers_branch_secretaries_only(institution):
    rule = _seeded("party-secretary-new-post")
    branch = make_person(
        institution,
        "b1",
        Role.PARTY_WORKER,
        Post.TEACHER_BRANCH_SECRETARY,
        post_started_on=SECRETARY_START,
    )
    organiser = make_person(
        institution,
        "o1",
        Role.PARTY_WORKER,
        Post.PARTY_ORGANISER,
        post_started_on=SECRETARY_START,
    )

    assert evaluate(branch, rule, date(2026, 4, 1)).applies
    assert evaluate(organiser, rule, date(2026, 4, 1)).reason is Uncovered.POST


def test_secretary_message(institution, in_english):
    rule = _seeded("party-secretary-new-post")
    person = _secretary(institution)

    message = evaluate(person, rule, date(2026, 4, 1)).message

    assert message == (
        "0 of 1 training so far; 1 missing by 2026-08-31, the end of the first "
        "6 months in the post."
    )


def test_secretary_report_matches_engine(institution):
    rule = _seeded("party-secretary-new-post")
    _secretary(institution, "s1")
    trained = _secretary(institution, "s2", post_started_on=date(2026, 1, 15))
    add_hours(trained, 4, date(2026, 2, 1))
    _secretary(institution, "s3", post_started_on=date(2025, 1, 1))
    make_person(institution, "s4", Role.PARTY_WORKER, Post.DEPARTMENT_PARTY_SECRETARY)
    today = date(2026, 7, 15)

    counts = _report_counts(institution, rule, today)

    assert counts == _engine_counts(institution, rule, today)
    assert counts[Status.MET] == 1
    assert counts[Status.START_DATE_MISSING] == 1


# Existing databases


def _store_old_rules() -> None:
    """Store the two rules as the previous seed wrote them."""
    old = {
        "counselor-school-yearly": dict(
            source=seed._COUNSELOR_SOURCE, excluded_kinds=[]
        ),
        "cadre-section-yearly": dict(
            name=seed._OLD_SECTION_CADRE_NAME,
            source=seed._OLD_SECTION_CADRE_SOURCE,
            cadre_ranks=[CadreRank.SECTION_DEPUTY, CadreRank.SECTION_CHIEF],
            min_days=None,
            hours_per_day=None,
        ),
    }
    for values in seed.RULES:
        if values["code"] in old:
            db.session.add(
                ComplianceRule(
                    institution_id=None, active=True, **{**values, **old[values["code"]]}
                )
            )
    db.session.flush()


def test_seed_updates_rules_of_earlier_seed(app_ctx):
    _store_old_rules()

    seed.seed_rules()

    school = _seeded("counselor-school-yearly")
    section = _seeded("cadre-section-yearly")
    assert school.excluded_kinds == [PRE_JOB.value]
    assert section.cadre_ranks == ["clerk", "section_deputy", "section_chief"]
    assert section.min_days == Decimal(12)
    assert section.name == seed.SECTION_CADRE_NAME
    assert _seeded("party-secretary-new-post") is not None


def test_seed_keeps_edited_rules(app_ctx):
    _store_old_rules()
    section = db.session.scalar(sa.select(ComplianceRule).filter_by(code="cadre-section-yearly"))
    section.name = "本校科级干部年度培训"
    db.session.flush()

    seed.seed_rules()

    assert section.cadre_ranks == ["section_deputy", "section_chief"]
    assert section.min_days is None


def _store_section_rule(source: str) -> ComplianceRule:
    values = next(v for v in seed.RULES if v["code"] == "cadre-section-yearly")
    rule = ComplianceRule(institution_id=None, active=True, **{**values, "source": source})
    db.session.add(rule)
    db.session.flush()
    return rule


def test_seed_drops_promise_to_edit_national_rule(app_ctx):
    section = _store_section_rule(seed._EDITABLE_SECTION_CADRE_SOURCE)

    seed.seed_rules()

    assert section.source == seed.SECTION_CADRE_SOURCE
    assert "可在本规则中修改" not in section.source
    assert "改编" in section.source


def test_seed_takes_oldest_rule_to_current_source(app_ctx):
    _store_old_rules()

    seed.seed_rules()

    assert _seeded("cadre-section-yearly").source == seed.SECTION_CADRE_SOURCE


def test_seed_keeps_edited_source(app_ctx):
    section = _store_section_rule("本校核对后的出处")

    seed.seed_rules()

    assert section.source == "本校核对后的出处"


# Person record page


def _demo_person(username: str, post: Post, role: Role = Role.PARTY_WORKER, **profile):
    from lms.organisations.models import Institution

    institution = db.session.scalar(sa.select(Institution).filter_by(code="demo-univ"))
    person = make_person(institution, username, role, post, **profile)
    db.session.commit()
    return person


def test_record_shows_new_secretary_rule(app_ctx, seeded, login, english):
    from lms.organisations.models import Institution

    institution = db.session.scalar(sa.select(Institution).filter_by(code="demo-univ"))
    started = local_today(institution) - timedelta(days=30)
    person = _demo_person(
        "new_secretary", Post.DEPARTMENT_PARTY_SECRETARY, post_started_on=started
    )

    page = login("hr").get(f"/people/{person.id}/record").get_data(as_text=True)

    assert (
        "Newly appointed department Party secretaries and branch secretaries:"
        " job training within 6 months of taking up the post"
    ) in page
    assert "0 of 1 training so far; 1 missing by" in page
    assert "the end of the first 6 months in the post." in page


def test_record_shows_section_rule_for_clerk(app_ctx, seeded, login, english):
    person = _demo_person(
        "clerk_counselor",
        Post.FULL_TIME_COUNSELOR,
        Role.COUNSELOR,
        cadre_rank=CadreRank.CLERK,
    )

    page = login("hr").get(f"/people/{person.id}/record").get_data(as_text=True)

    assert (
        "Cadres at section level and below: at least 12 days or 90 hours of"
        " centralised training a year"
    ) in page
    assert "Either 90 hours or 12 days of training meet this rule." in page


def test_record_leaves_pre_job_out_of_school_hours(app_ctx, seeded, login, english):
    from lms.organisations.models import Institution

    institution = db.session.scalar(sa.select(Institution).filter_by(code="demo-univ"))
    today = local_today(institution)
    person = _demo_person(
        "new_counselor",
        Post.FULL_TIME_COUNSELOR,
        Role.COUNSELOR,
        post_started_on=today - timedelta(days=10),
    )
    add_hours(
        person, 40, today, kind=PRE_JOB, tier=TrainingTier.SCHOOL, exam_passed=True
    )
    db.session.commit()

    page = login("hr").get(f"/people/{person.id}/record").get_data(as_text=True)

    assert (
        f"0 of 16 school-level hours (not counting pre-job training) in {today.year};"
        " 16 missing by"
    ) in page
    assert "requirement met. The pre-job exam is passed." in page
