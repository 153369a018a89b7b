"""Windows counted from the Party dates and the cadre rank date on the profile."""

from datetime import date
from decimal import Decimal

import pytest
from flask_babel import force_locale

from lms.accounts.models import Role
from lms.compliance import seed
from lms.compliance.engine import Status, Uncovered, evaluate, evaluate_institution
from lms.compliance.models import CadreRank, ComplianceRule, PartyStatus, WindowKind
from lms.compliance.report import population_report
from lms.compliance.windows import first_member_year, probation_window
from lms.extensions import db
from lms.records.models import TrainingKind
from tests.compliance.test_engine import add_hours, make_institution, make_person, make_rule

CENTRALISED = [kind for kind in TrainingKind if kind is not TrainingKind.ONLINE]
DIVISION = CadreRank.DIVISION_DEPUTY


def _probation_rule() -> ComplianceRule:
    return make_rule(
        roles=[Role.COUNSELOR],
        party_member_only=True,
        window_kind=WindowKind.PROBATION,
        min_hours=None,
        min_count=1,
        tiers=[],
        kinds=CENTRALISED,
    )


def _first_year_rule() -> ComplianceRule:
    return make_rule(
        roles=[Role.COUNSELOR],
        party_member_only=True,
        window_kind=WindowKind.FIRST_MEMBER_YEAR,
        min_hours=None,
        min_count=1,
        tiers=[],
        kinds=CENTRALISED,
    )


def _division_rule() -> ComplianceRule:
    return make_rule(
        roles=[Role.COUNSELOR],
        cadre_ranks=[DIVISION],
        window_kind=WindowKind.ROLLING_YEARS_AFTER_RANK,
        window_years=5,
        window_months=12,
        min_hours=Decimal(550),
        tiers=[],
        at_risk_days=60,
    )


@pytest.fixture
def institution(app_ctx):
    return make_institution()


@pytest.fixture
def english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def _probationary(institution, name="p1", started=date(2025, 7, 1)):
    return make_person(
        institution,
        name,
        party_status=PartyStatus.PROBATIONARY,
        probation_started_on=started,
    )


def _member(institution, name="m1", probation=date(2024, 7, 1), full=date(2025, 7, 1)):
    return make_person(
        institution,
        name,
        party_status=PartyStatus.MEMBER,
        probation_started_on=probation,
        full_member_on=full,
    )


def _cadre(institution, name="d1", since=date(2026, 3, 10)):
    return make_person(institution, name, cadre_rank=DIVISION, rank_since=since)


# Window edges


@pytest.mark.parametrize(
    ("started", "full", "today", "end", "extended"),
    [
        # A one-year probation ends the day before its anniversary.
        (date(2025, 7, 1), None, date(2026, 6, 30), date(2026, 6, 30), False),
        # Still probationary the day after: the probation was extended.
        (date(2025, 7, 1), None, date(2026, 7, 1), date(2027, 6, 30), True),
        # Full membership on the anniversary closes a probation of one year.
        (date(2025, 7, 1), date(2026, 7, 1), date(2026, 9, 1), date(2026, 6, 30), False),
        # A probation from 29 February lasts until 28 February.
        (date(2024, 2, 29), None, date(2024, 12, 1), date(2025, 2, 28), False),
        (date(2024, 2, 29), None, date(2025, 3, 1), date(2026, 2, 28), True),
    ],
)
def test_probation_window(started, full, today, end, extended):
    window = probation_window(started, full, today)

    assert window.start == started
    assert window.end == end
    assert window.deadline == end
    assert window.probation_extended is extended


@pytest.mark.parametrize(
    ("full", "end"),
    [
        (date(2025, 7, 1), date(2026, 6, 30)),
        (date(2024, 2, 29), date(2025, 2, 28)),
        (date(2025, 12, 31), date(2026, 12, 30)),
    ],
)
def test_first_member_year_window(full, end):
    window = first_member_year(full)

    assert (window.start, window.end, window.deadline) == (full, end, end)


@pytest.mark.parametrize(
    ("since", "today", "status", "deadline"),
    [
        # Promotion on 29 February: the year ends on 28 February.
        (date(2024, 2, 29), date(2025, 2, 28), Status.AT_RISK, date(2025, 2, 28)),
        (date(2024, 2, 29), date(2025, 3, 1), Status.MISSED, date(2025, 2, 28)),
        # Exactly one year after the promotion, the time is over.
        (date(2025, 12, 5), date(2026, 12, 4), Status.AT_RISK, date(2026, 12, 4)),
        (date(2025, 12, 5), date(2026, 12, 5), Status.MISSED, date(2026, 12, 4)),
        (date(2026, 3, 10), date(2026, 5, 1), Status.IN_PROGRESS, date(2027, 3, 9)),
        # A rank reached before the five years gives no time to make up.
        (date(2019, 5, 1), date(2026, 5, 1), Status.MISSED, None),
    ],
)
def test_year_after_promotion(institution, since, today, status, deadline):
    person = _cadre(institution, since=since)
    add_hours(person, 100, date(2024, 1, 10))

    verdict = evaluate(person, _division_rule(), today)

    assert verdict.status is status
    assert verdict.deadline == deadline
    assert verdict.achieved == Decimal(100)


def test_promoted_cadre_meeting_minimum_is_met(institution):
    person = _cadre(institution)
    add_hours(person, 550, date(2025, 6, 1))

    verdict = evaluate(person, _division_rule(), date(2026, 5, 1))

    assert verdict.status is Status.MET


def test_cadre_without_rank_date_short(institution):
    person = make_person(institution, "d1", cadre_rank=DIVISION)
    add_hours(person, 100, date(2025, 6, 1))

    verdict = evaluate(person, _division_rule(), date(2026, 5, 1))

    assert verdict.status is Status.START_DATE_MISSING
    assert verdict.missing_date == "rank_since"


def test_cadre_without_rank_date_met(institution):
    person = make_person(institution, "d1", cadre_rank=DIVISION)
    add_hours(person, 600, date(2025, 6, 1))

    assert evaluate(person, _division_rule(), date(2026, 5, 1)).status is Status.MET


# Probation and first year as a full member


def test_probation_counts_centralised_training_inside(institution):
    person = _probationary(institution)
    rule = _probation_rule()
    add_hours(person, 8, date(2025, 6, 30))
    add_hours(person, 8, date(2025, 9, 1), kind=TrainingKind.ONLINE)

    assert evaluate(person, rule, date(2026, 3, 1)).status is Status.IN_PROGRESS

    add_hours(person, 8, date(2026, 6, 30))
    verdict = evaluate(person, rule, date(2026, 6, 30))

    assert verdict.status is Status.MET
    assert verdict.achieved == 1


def test_probation_at_risk_before_deadline(institution):
    person = _probationary(institution)

    verdict = evaluate(person, _probation_rule(), date(2026, 6, 1))

    assert verdict.status is Status.AT_RISK
    assert verdict.deadline == date(2026, 6, 30)


def test_probation_ends_before_full_membership(institution):
    person = _member(institution)
    add_hours(person, 8, date(2025, 7, 1))

    probation = evaluate(person, _probation_rule(), date(2025, 9, 1))
    first_year = evaluate(person, _first_year_rule(), date(2025, 9, 1))

    assert probation.status is Status.MISSED
    assert probation.window_end == date(2025, 6, 30)
    assert first_year.status is Status.MET
    assert first_year.window_end == date(2026, 6, 30)


def test_first_year_missed_after_deadline(institution):
    person = _member(institution)

    verdict = evaluate(person, _first_year_rule(), date(2026, 7, 1))

    assert verdict.status is Status.MISSED
    assert verdict.deadline == date(2026, 6, 30)


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (date(2027, 6, 30), Status.MISSED),
        (date(2027, 7, 1), Status.NOT_APPLICABLE),
    ],
)
def test_first_year_shown_for_a_year_after(institution, today, status):
    person = _member(institution)

    verdict = evaluate(person, _first_year_rule(), today)

    assert verdict.status is status
    if status is Status.NOT_APPLICABLE:
        assert verdict.reason is Uncovered.NOT_NEW_PARTY_MEMBER


def test_probation_shown_for_a_year_after(institution):
    person = _member(institution)
    rule = _probation_rule()

    assert evaluate(person, rule, date(2026, 6, 30)).status is Status.MISSED
    verdict = evaluate(person, rule, date(2026, 7, 1))
    assert verdict.reason is Uncovered.NOT_NEW_PARTY_MEMBER


def test_first_year_skips_probationary(institution):
    person = _probationary(institution)

    verdict = evaluate(person, _first_year_rule(), date(2026, 3, 1))

    assert verdict.reason is Uncovered.NOT_YET_FULL_MEMBER


@pytest.mark.parametrize(
    ("profile", "missing"),
    [
        (dict(party_status=PartyStatus.PROBATIONARY), "probation_started_on"),
        (dict(party_status=PartyStatus.MEMBER), "full_member_on"),
        (
            dict(party_status=PartyStatus.MEMBER, full_member_on=date(2026, 1, 5)),
            "probation_started_on",
        ),
    ],
)
def test_probation_date_missing(institution, profile, missing):
    person = make_person(institution, "p1", **profile)

    verdict = evaluate(person, _probation_rule(), date(2026, 3, 1))

    assert verdict.status is Status.START_DATE_MISSING
    assert verdict.missing_date == missing


def test_old_member_without_probation_date(institution):
    person = make_person(
        institution,
        "m1",
        party_status=PartyStatus.MEMBER,
        full_member_on=date(2001, 7, 1),
    )

    verdict = evaluate(person, _probation_rule(), date(2026, 3, 1))

    assert verdict.reason is Uncovered.NOT_NEW_PARTY_MEMBER


def test_non_member_not_covered(institution):
    person = make_person(institution, "n1", party_status=PartyStatus.NONE)

    verdict = evaluate(person, _first_year_rule(), date(2026, 3, 1))

    assert verdict.reason is Uncovered.PARTY_MEMBER


# Engine and report agree


def test_report_matches_engine_on_dates(institution):
    people = [
        _probationary(institution, "p1"),
        _probationary(institution, "p2", started=date(2024, 2, 29)),
        make_person(institution, "p3", party_status=PartyStatus.PROBATIONARY),
        _member(institution, "m1"),
        _member(institution, "m2", probation=date(2020, 1, 1), full=date(2021, 1, 1)),
        make_person(institution, "m3", party_status=PartyStatus.MEMBER),
        _cadre(institution, "d1", since=date(2024, 2, 29)),
        _cadre(institution, "d2", since=date(2025, 12, 5)),
        _cadre(institution, "d3", since=date(2019, 5, 1)),
        make_person(institution, "d4", cadre_rank=DIVISION),
    ]
    for person in people:
        add_hours(person, 8, date(2025, 8, 1))
    rules = [_probation_rule(), _first_year_rule(), _division_rule()]
    db.session.commit()

    for today in (date(2025, 2, 28), date(2025, 3, 1), date(2026, 12, 4), date(2026, 12, 5)):
        reports = {r.rule.id: r for r in population_report([institution.id], today)}
        for rule in rules:
            expected = {}
            for verdict in evaluate_institution(institution, rule, today):
                expected[verdict.status] = expected.get(verdict.status, 0) + 1
            assert dict(reports[rule.id].totals) == expected, (rule.window_kind, today)


# Explanations


def test_explains_probation_deadline(institution, english):
    person = _probationary(institution)

    message = evaluate(person, _probation_rule(), date(2026, 3, 1)).message

    assert "in the probation that began on 2025-07-01" in message
    assert "1 missing by 2026-06-30, the end of the one-year probation." in message


def test_explains_extended_probation(institution, english):
    person = _probationary(institution)

    message = evaluate(person, _probation_rule(), date(2026, 7, 1)).message

    assert "missing by 2027-06-30" in message
    assert "the probation counts as extended, by at most one year." in message


def test_explains_first_year(institution, english):
    person = _member(institution)

    message = evaluate(person, _first_year_rule(), date(2026, 7, 1)).message

    assert message.startswith("0 of 1 training (")
    assert "in the first year as a full Party member, from 2025-07-01 to" in message
    assert "2026-06-30; 1 missing." in message


def test_explains_year_after_promotion(institution, english):
    person = _cadre(institution, since=date(2026, 3, 10))
    add_hours(person, 100, date(2025, 6, 1))

    message = evaluate(person, _division_rule(), date(2026, 5, 1)).message

    assert (
        "450 missing by 2027-03-09, 12 months after reaching the rank on"
        " 2026-03-10." in message
    )


def test_explains_promotion_time_over(institution, english):
    person = _cadre(institution, since=date(2025, 3, 10))

    message = evaluate(person, _division_rule(), date(2026, 5, 1)).message

    assert "The 12 months after reaching the rank on 2025-03-10" in message
    assert "ended on 2026-03-09." in message


def test_explains_missing_rank_date(institution, english):
    person = make_person(institution, "d1", cadre_rank=DIVISION)

    message = evaluate(person, _division_rule(), date(2026, 5, 1)).message

    assert "that date is not recorded" in message
    assert "HR should record the date of reaching the current rank" in message


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        (
            dict(party_status=PartyStatus.PROBATIONARY),
            "the date of becoming a probationary Party member, which starts the"
            " probation, is not recorded.",
        ),
        (
            dict(party_status=PartyStatus.MEMBER),
            "the date of becoming a full Party member is not recorded.",
        ),
    ],
)
def test_explains_missing_party_date(institution, english, profile, expected):
    person = make_person(institution, "p1", **profile)

    message = evaluate(person, _probation_rule(), date(2026, 3, 1)).message

    assert expected in message
    assert "HR should record the date of becoming" in message


def test_explains_not_new_member(institution, english):
    person = _member(institution)

    message = evaluate(person, _first_year_rule(), date(2028, 1, 1)).message

    assert message.startswith("Applies to full Party members in their first year")


def test_explanation_renders_in_chinese_locale(institution, app):
    person = _probationary(institution)
    verdict = evaluate(person, _probation_rule(), date(2026, 3, 1))

    with app.test_request_context(), force_locale("zh_Hans_CN"):
        message = verdict.message

    assert "2026" in message


# Seed


def test_seed_adds_party_date_rules(app_ctx):
    seed.seed_rules()

    rules = {
        rule.code: rule
        for rule in db.session.scalars(db.select(ComplianceRule))
    }
    assert rules["party-probationary-training"].window_kind is WindowKind.PROBATION
    assert rules["party-new-member-training"].window_kind is WindowKind.FIRST_MEMBER_YEAR
    assert rules["party-new-member-training"].kinds == [k.value for k in CENTRALISED]
    division = rules["cadre-division-5y"]
    assert division.window_kind is WindowKind.ROLLING_YEARS_AFTER_RANK
    assert division.window_months == 12


def test_seed_moves_old_division_rule(app_ctx):
    """The rule first seeded, on 学时 only and without the year after a promotion."""
    old = dict(next(values for values in seed.RULES if values["code"] == "cadre-division-5y"))
    old.update(
        name=seed._OLD_DIVISION_CADRE_NAME,
        source=seed._OLD_DIVISION_CADRE_SOURCE,
        window_kind=WindowKind.ROLLING_YEARS,
        window_months=None,
        min_days=None,
        hours_per_day=None,
    )
    db.session.add(ComplianceRule(institution_id=None, active=True, **old))
    db.session.flush()

    seed.seed_rules()

    rule = db.session.scalar(db.select(ComplianceRule).filter_by(code="cadre-division-5y"))
    assert rule.window_kind is WindowKind.ROLLING_YEARS_AFTER_RANK
    assert rule.window_months == 12
    assert rule.source == seed.DIVISION_CADRE_SOURCE
    assert rule.name == seed.DIVISION_CADRE_NAME
    assert (rule.min_days, rule.hours_per_day) == (Decimal(90), Decimal(8))



def _one_month_rule() -> ComplianceRule:
    rule = _division_rule()
    rule.window_months = 1
    db.session.flush()
    return rule


def test_explains_one_month_after_promotion(institution, english):
    person = _cadre(institution, since=date(2026, 4, 10))

    message = evaluate(person, _one_month_rule(), date(2026, 4, 20)).message

    assert ", 1 month after reaching the rank on 2026-04-10." in message


def test_explains_one_month_over(institution, english):
    person = _cadre(institution, since=date(2026, 3, 10))

    message = evaluate(person, _one_month_rule(), date(2026, 5, 1)).message

    assert "The 1 month after reaching the rank on 2026-03-10" in message


def test_explains_one_month_without_rank_date(institution, english):
    person = make_person(institution, "d1", cadre_rank=DIVISION)

    message = evaluate(person, _one_month_rule(), date(2026, 5, 1)).message

    assert "has 1 month from the rank date to make it up" in message
