"""A yearly rule does not judge the years before the person took up the post."""

from datetime import date

import pytest

from lms.compliance.engine import Status, Uncovered, evaluate, evaluate_institution
from lms.promotion.engine import compliance_condition
from tests.compliance.test_engine import make_institution, make_person, make_rule

TODAY = date(2026, 12, 5)


@pytest.fixture
def institution(app_ctx):
    return make_institution()


@pytest.fixture
def in_english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def test_year_before_post_not_applicable(institution, in_english):
    person = make_person(institution, "c1", post_started_on=date(2026, 9, 1))
    rule = make_rule()

    verdict = evaluate(person, rule, TODAY, year=2025)

    assert verdict.status is Status.NOT_APPLICABLE
    assert verdict.reason is Uncovered.NOT_YET_IN_POST
    assert "before" in verdict.message


def test_year_of_post_start_still_judged(institution):
    person = make_person(institution, "c1", post_started_on=date(2025, 9, 1))
    rule = make_rule()

    verdict = evaluate(person, rule, TODAY, year=2025)

    assert verdict.status is Status.MISSED


def test_institution_matches_person_verdict(institution):
    newcomer = make_person(institution, "c1", post_started_on=date(2026, 9, 1))
    veteran = make_person(institution, "c2", post_started_on=date(2020, 9, 1))
    rule = make_rule()

    verdicts = {
        verdict.person.id: verdict.status
        for verdict in evaluate_institution(institution, rule, TODAY, year=2025)
    }

    assert verdicts[newcomer.id] is Status.NOT_APPLICABLE
    assert verdicts[veteran.id] is Status.MISSED


def test_promotion_ignores_year_before_post(institution):
    person = make_person(institution, "c1", post_started_on=date(2026, 9, 1))
    make_rule()

    condition = compliance_condition(person, TODAY)

    assert condition.met
