"""A yearly rule may leave out the calendar year in which the person took up the post.

Whether a counselor who starts in September owes the whole year's minimum
in that year is school policy, which the national rules do not settle. By
default the year is judged in full; an institution's rule can leave it out,
so it is judged from the first full calendar year in the post.
"""

from datetime import date

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role
from lms.compliance.engine import Status, Uncovered, evaluate, evaluate_all
from lms.compliance.models import ComplianceRule, PersonProfile
from lms.compliance.report import population_report
from lms.compliance.seed import seed_rules
from lms.extensions import db
from lms.promotion.engine import compliance_condition
from tests.compliance.test_engine import make_institution, make_person, make_rule
from tests.factories import make_user

TODAY = date(2026, 12, 5)


@pytest.fixture
def institution(app_ctx):
    return make_institution()


@pytest.fixture
def in_english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def test_start_year_left_out_by_rule(institution, in_english):
    person = make_person(institution, "c1", post_started_on=date(2026, 9, 1))
    rule = make_rule(skip_post_start_year=True)

    verdict = evaluate(person, rule, TODAY, year=2026)

    assert verdict.status is Status.NOT_APPLICABLE
    assert verdict.reason is Uncovered.POST_START_YEAR
    assert verdict.since == date(2026, 9, 1)
    assert "2026-09-01" in verdict.message
    assert "first full calendar year" in verdict.message


def test_first_full_year_still_judged(institution):
    person = make_person(institution, "c1", post_started_on=date(2026, 9, 1))
    rule = make_rule(skip_post_start_year=True)

    verdict = evaluate(person, rule, date(2027, 12, 31), year=2027)

    assert verdict.status is Status.AT_RISK


def test_post_started_on_1_january_judges_that_year(institution):
    person = make_person(institution, "c1", post_started_on=date(2026, 1, 1))
    rule = make_rule(skip_post_start_year=True)

    verdict = evaluate(person, rule, TODAY, year=2026)

    assert verdict.status is Status.AT_RISK


def test_start_year_judged_in_full_by_default(institution):
    person = make_person(institution, "c1", post_started_on=date(2026, 9, 1))
    rule = make_rule()

    verdict = evaluate(person, rule, TODAY, year=2026)

    assert verdict.status is Status.AT_RISK


def test_promotion_passes_over_a_start_year_left_out(institution):
    person = make_person(institution, "c1", post_started_on=date(2025, 9, 1))
    make_rule(skip_post_start_year=True)

    condition = compliance_condition(person, date(2026, 3, 1), years=[2025])

    assert condition.met


def test_dashboard_counts_match_the_verdicts(institution):
    make_person(institution, "newcomer", post_started_on=date(2026, 9, 1))
    make_person(institution, "veteran", post_started_on=date(2020, 9, 1))
    rule = make_rule(skip_post_start_year=True)

    report = next(
        report
        for report in population_report([institution.id], TODAY)
        if report.rule.id == rule.id
    )

    assert report.totals[Status.AT_RISK] == 1
    assert report.totals[Status.NOT_APPLICABLE] == 1


# Through the rule editor


@pytest.fixture
def world(app_ctx):
    seed_rules()
    institution = make_institution("uni-a")
    make_user(institution, "hr-a", Role.HR)
    counselor = make_user(institution, "counselor-a", Role.COUNSELOR)
    db.session.add(
        PersonProfile(user_id=counselor.id, post_started_on=date(2026, 9, 1))
    )
    db.session.commit()
    return institution.id


def _national(code: str) -> ComplianceRule:
    return db.session.scalar(
        sa.select(ComplianceRule).filter_by(code=code, institution_id=None)
    )


def _adapt_form(**overrides) -> dict:
    data = {
        "name": "本校专职辅导员每年参加校级培训不少于16学时",
        "source": "本校文件",
        "roles": ["counselor"],
        "posts": ["full_time_counselor"],
        "full_time_only": "y",
        "window_kind": "calendar_year",
        "min_hours": "16",
        "tiers": ["school"],
        "excluded_kinds": ["pre_job"],
        "skip_post_start_year": "y",
        "new_to_post_months": "12",
        "at_risk_days": "60",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_adapted_rule_skips_start_year(world, login):
    national = _national("counselor-school-yearly")

    response = login("hr-a").post(
        f"/compliance/rules/{national.id}/adapt", data=_adapt_form()
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    copy = db.session.scalar(
        sa.select(ComplianceRule).filter_by(
            code="counselor-school-yearly", institution_id=world
        )
    )
    assert copy.skip_post_start_year is True
    counselor = db.session.scalar(
        sa.select(PersonProfile).join(PersonProfile.user)
    ).user
    verdicts = {
        verdict.rule.code: verdict
        for verdict in evaluate_all(counselor, date(2026, 12, 31), year=2026)
    }
    assert verdicts["counselor-school-yearly"].status is Status.NOT_APPLICABLE
    page = login("hr-a").get("/compliance/rules").get_data(as_text=True)
    assert "不评定上岗当年" in page


def test_national_rule_still_judges_the_start_year(world):
    national = _national("counselor-school-yearly")

    assert national.skip_post_start_year is False


def test_skip_start_year_needs_calendar_year(world, login, english):
    national = _national("counselor-national-provincial-5y")

    response = login("hr-a").post(
        f"/compliance/rules/{national.id}/adapt",
        data=_adapt_form(
            window_kind="rolling_years",
            window_years="5",
            min_hours=None,
            min_count="1",
            tiers=["national", "provincial"],
            excluded_kinds=None,
        ),
    )

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Only a calendar-year window" in page
    assert db.session.scalar(
        sa.select(ComplianceRule).filter_by(institution_id=world)
    ) is None
