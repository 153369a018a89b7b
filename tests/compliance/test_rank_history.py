"""Yearly cadre rules count from the first day in any rank they cover."""

from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lms.compliance.engine import Status, Uncovered, evaluate, evaluate_institution
from lms.compliance.models import CadreRank, CadreRankPeriod, PersonProfile
from lms.compliance.report import population_report
from lms.extensions import db
from tests.compliance.test_engine import make_institution, make_person, make_rule

TODAY = date(2027, 3, 1)
SECTION_RANKS = [CadreRank.CLERK, CadreRank.SECTION_DEPUTY, CadreRank.SECTION_CHIEF]


@pytest.fixture
def institution(app_ctx):
    return make_institution()


def _section_rule(ranks=SECTION_RANKS):
    return make_rule(
        cadre_ranks=[rank.value for rank in ranks], min_hours=Decimal(90), tiers=[]
    )


def _promote(person, rank: CadreRank, since: date) -> None:
    profile = db.session.get(PersonProfile, person.id)
    profile.cadre_rank = rank
    profile.rank_since = since
    db.session.flush()


def _promoted_clerk(institution, username="c1"):
    person = make_person(
        institution, username, cadre_rank=CadreRank.CLERK, rank_since=date(2023, 3, 1)
    )
    _promote(person, CadreRank.SECTION_DEPUTY, date(2025, 9, 1))
    return person


def _periods(person) -> list[tuple]:
    return [
        (period.rank, period.since)
        for period in db.session.scalars(
            sa.select(CadreRankPeriod)
            .filter_by(user_id=person.id)
            .order_by(CadreRankPeriod.since)
        )
    ]


def test_rank_change_keeps_history(institution):
    person = _promoted_clerk(institution)

    assert _periods(person) == [
        (CadreRank.CLERK, date(2023, 3, 1)),
        (CadreRank.SECTION_DEPUTY, date(2025, 9, 1)),
    ]


def test_corrected_rank_date_moves_period(institution):
    person = _promoted_clerk(institution)

    _promote(person, CadreRank.SECTION_DEPUTY, date(2025, 10, 1))

    assert _periods(person) == [
        (CadreRank.CLERK, date(2023, 3, 1)),
        (CadreRank.SECTION_DEPUTY, date(2025, 10, 1)),
    ]


def test_promotion_year_between_covered_ranks_judged(institution):
    person = _promoted_clerk(institution)

    verdict = evaluate(person, _section_rule(), TODAY, year=2025)

    assert verdict.status is Status.MISSED


def test_year_before_first_covered_rank_not_judged(institution):
    person = _promoted_clerk(institution)

    verdict = evaluate(person, _section_rule(), TODAY, year=2023)

    assert verdict.status is Status.NOT_APPLICABLE
    assert verdict.reason is Uncovered.NOT_YET_IN_RANK
    assert verdict.since == date(2023, 3, 1)


def test_promotion_from_uncovered_rank_not_judged(institution):
    person = _promoted_clerk(institution)
    rule = _section_rule([CadreRank.SECTION_DEPUTY, CadreRank.SECTION_CHIEF])

    verdict = evaluate(person, rule, TODAY, year=2025)

    assert verdict.status is Status.NOT_APPLICABLE
    assert verdict.since == date(2025, 9, 1)


@pytest.mark.parametrize("today", [date(2025, 12, 1), date(2026, 6, 1)])
def test_report_counts_covered_run(institution, today):
    _promoted_clerk(institution, "promoted")
    make_person(
        institution, "new-clerk", cadre_rank=CadreRank.CLERK, rank_since=date(2025, 5, 1)
    )
    make_person(institution, "undated", cadre_rank=CadreRank.CLERK)
    rule = _section_rule()

    [report] = [r for r in population_report([institution.id], today) if r.rule.id == rule.id]

    expected = Counter(v.status for v in evaluate_institution(institution, rule, today))
    assert Counter(dict(report.totals)) == expected
