"""Yearly Party and cadre rules judge whole calendar years of the status."""

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from lms.compliance.engine import (
    Status,
    Uncovered,
    evaluate,
    evaluate_institution,
    first_judged_year,
)
from lms.compliance.models import CadreRank, PartyStatus
from lms.compliance.report import population_report
from lms.promotion.engine import compliance_condition
from tests.compliance.test_engine import make_institution, make_person, make_rule

TODAY = date(2027, 3, 1)


@pytest.fixture
def institution(app_ctx):
    return make_institution()


@pytest.fixture
def in_english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def _party_rule():
    return make_rule(party_member_only=True, min_hours=Decimal(32), tiers=[])


def _cadre_rule():
    return make_rule(
        cadre_ranks=[CadreRank.CLERK.value, CadreRank.SECTION_CHIEF.value],
        min_hours=Decimal(90),
        tiers=[],
    )


def _member(institution, username, probation=None, full=None):
    status = PartyStatus.MEMBER if full else PartyStatus.PROBATIONARY
    return make_person(
        institution,
        username,
        party_status=status,
        probation_started_on=probation,
        full_member_on=full,
    )


@pytest.mark.parametrize(
    "since, first",
    [(date(2025, 3, 1), 2026), (date(2025, 1, 1), 2025), (date(2025, 12, 31), 2026)],
)
def test_first_judged_year(since, first):
    assert first_judged_year(since) == first


@pytest.mark.parametrize("year", [2023, 2024, 2025])
def test_party_rule_skips_early_years(institution, year):
    person = _member(institution, "p1", probation=date(2025, 3, 1))

    verdict = evaluate(person, _party_rule(), TODAY, year=year)

    assert verdict.status is Status.NOT_APPLICABLE
    assert verdict.reason is Uncovered.NOT_YET_PARTY_MEMBER
    assert verdict.since == date(2025, 3, 1)


def test_party_rule_judges_full_year(institution):
    person = _member(institution, "p1", probation=date(2025, 3, 1))

    verdict = evaluate(person, _party_rule(), TODAY, year=2026)

    assert verdict.status is Status.MISSED


def test_party_joined_first_january_judged(institution):
    person = _member(institution, "p1", probation=date(2025, 1, 1))

    assert evaluate(person, _party_rule(), TODAY, year=2025).status is Status.MISSED


def test_party_falls_back_to_full_member(institution):
    person = _member(institution, "p1", full=date(2025, 6, 1))

    verdict = evaluate(person, _party_rule(), TODAY, year=2024)

    assert verdict.reason is Uncovered.NOT_YET_PARTY_MEMBER


def test_party_undated_judges_every_year(institution):
    person = _member(institution, "p1")

    assert evaluate(person, _party_rule(), TODAY, year=2023).status is Status.MISSED


@pytest.mark.parametrize("year", [2024, 2025])
def test_cadre_rule_skips_early_years(institution, year):
    person = make_person(
        institution, "c1", cadre_rank=CadreRank.CLERK, rank_since=date(2025, 9, 1)
    )

    verdict = evaluate(person, _cadre_rule(), TODAY, year=year)

    assert verdict.status is Status.NOT_APPLICABLE
    assert verdict.reason is Uncovered.NOT_YET_IN_RANK


def test_cadre_rule_judges_full_year(institution):
    person = make_person(
        institution, "c1", cadre_rank=CadreRank.CLERK, rank_since=date(2025, 9, 1)
    )

    assert evaluate(person, _cadre_rule(), TODAY, year=2026).status is Status.MISSED


def test_cadre_undated_judges_every_year(institution):
    person = make_person(institution, "c1", cadre_rank=CadreRank.CLERK)

    assert evaluate(person, _cadre_rule(), TODAY, year=2023).status is Status.MISSED


def test_counselor_post_year_still_judged(institution):
    person = make_person(institution, "c1", post_started_on=date(2026, 9, 1))

    assert evaluate(person, make_rule(), TODAY, year=2026).status is Status.MISSED


def test_explains_party_first_year(institution, in_english):
    person = _member(institution, "p1", probation=date(2025, 3, 1))

    message = evaluate(person, _party_rule(), TODAY, year=2025).message

    assert "first full calendar year" in message
    assert "2025-03-01" in message
    assert "not pro-rated" in message


def test_explains_cadre_first_year(institution, in_english):
    person = make_person(
        institution, "c1", cadre_rank=CadreRank.CLERK, rank_since=date(2025, 9, 1)
    )

    message = evaluate(person, _cadre_rule(), TODAY, year=2024).message

    assert "first full calendar year in the rank" in message
    assert "2025-09-01" in message


def _add_population(institution) -> None:
    """Five people with Party dates and three cadres with rank dates."""
    _member(institution, "joined-mid-year", probation=date(2025, 3, 1))
    _member(institution, "joined-new-year", probation=date(2025, 1, 1))
    _member(institution, "joined-before", probation=date(2020, 5, 1), full=date(2021, 5, 1))
    _member(institution, "full-date-only", full=date(2025, 7, 1))
    _member(institution, "undated")
    make_person(
        institution, "promoted", cadre_rank=CadreRank.CLERK, rank_since=date(2025, 9, 1)
    )
    make_person(
        institution,
        "long-rank",
        cadre_rank=CadreRank.SECTION_CHIEF,
        rank_since=date(2019, 1, 1),
    )
    make_person(institution, "rank-undated", cadre_rank=CadreRank.CLERK)


@pytest.mark.parametrize(
    "today, not_judged",
    [(date(2025, 6, 1), (2, 1)), (date(2026, 6, 1), (0, 0))],
    ids=["joining-year", "next-year"],
)
def test_report_matches_engine(institution, today, not_judged):
    """``not_judged``: people the Party rule and the cadre rule do not judge yet."""
    _add_population(institution)
    rules = [_party_rule(), _cadre_rule()]

    reports = {r.rule.id: r for r in population_report([institution.id], today)}

    for rule, waiting in zip(rules, not_judged):
        expected = Counter(v.status for v in evaluate_institution(institution, rule, today))
        assert Counter(dict(reports[rule.id].totals)) == expected, rule.code
        # Three people hold no Party status and five hold no cadre rank.
        outside = 3 if rule.party_member_only else 5
        assert expected[Status.NOT_APPLICABLE] == outside + waiting, rule.code


def test_promotion_ignores_early_years(institution):
    person = _member(institution, "p1", probation=date(2025, 3, 1))
    person_rank = make_person(
        institution, "c1", cadre_rank=CadreRank.CLERK, rank_since=date(2025, 9, 1)
    )
    _party_rule()
    _cadre_rule()

    assert compliance_condition(person, TODAY, years=[2024, 2025]).met
    assert compliance_condition(person_rank, TODAY, years=[2024, 2025]).met


def test_promotion_blocked_by_missed_year(institution):
    person = _member(institution, "p1", probation=date(2025, 3, 1))
    _party_rule()

    assert not compliance_condition(person, TODAY, years=[2026]).met
