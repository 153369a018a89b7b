"""Deadlines at the edges of windows counted from the post start date."""

from datetime import date
from decimal import Decimal

import pytest

from lms.accounts.models import Post
from lms.compliance.engine import Status, evaluate
from lms.compliance.models import WindowKind
from lms.compliance.report import population_report
from lms.compliance.windows import anniversary
from lms.records.models import TrainingKind, TrainingTier
from tests.compliance.test_engine import make_institution, make_person, make_rule


def _five_year_rule():
    return make_rule(
        posts=[Post.FULL_TIME_COUNSELOR],
        window_kind=WindowKind.ROLLING_YEARS,
        window_years=5,
        min_hours=None,
        min_count=1,
        tiers=[TrainingTier.NATIONAL, TrainingTier.PROVINCIAL],
        at_risk_days=180,
    )


def _pre_job_rule():
    return make_rule(
        posts=[Post.FULL_TIME_COUNSELOR],
        new_to_post=True,
        new_to_post_months=12,
        window_kind=WindowKind.AROUND_POST_START,
        window_months=12,
        min_hours=Decimal(40),
        tiers=[],
        kinds=[TrainingKind.PRE_JOB],
    )


@pytest.fixture
def institution(app_ctx):
    return make_institution()


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2022, 9, 1), 60, date(2027, 9, 1)),
        (date(2024, 2, 29), 12, date(2025, 3, 1)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2026, 3, 31), 1, date(2026, 5, 1)),
        (date(2026, 1, 31), 1, date(2026, 3, 1)),
    ],
)
def test_anniversary(day, months, expected):
    assert anniversary(day, months) == expected


@pytest.mark.parametrize(
    ("today", "status", "deadline"),
    [
        (date(2027, 8, 30), Status.AT_RISK, date(2027, 8, 31)),
        (date(2027, 8, 31), Status.AT_RISK, date(2027, 8, 31)),
        (date(2027, 9, 1), Status.MISSED, None),
    ],
)
def test_five_years_end_on_deadline(institution, today, status, deadline):
    person = make_person(institution, "c1", post_started_on=date(2022, 9, 1))

    verdict = evaluate(person, _five_year_rule(), today)

    assert verdict.status is status
    assert verdict.deadline == deadline


@pytest.mark.parametrize(
    ("today", "status", "deadline"),
    [
        (date(2029, 2, 27), Status.AT_RISK, date(2029, 2, 28)),
        (date(2029, 2, 28), Status.AT_RISK, date(2029, 2, 28)),
        (date(2029, 3, 1), Status.MISSED, None),
    ],
)
def test_five_years_from_leap_day(institution, today, status, deadline):
    person = make_person(institution, "c1", post_started_on=date(2024, 2, 29))

    verdict = evaluate(person, _five_year_rule(), today)

    assert verdict.status is status
    assert verdict.deadline == deadline


def test_report_on_deadline_day(institution):
    make_person(institution, "c1", post_started_on=date(2022, 9, 1))
    make_person(institution, "c2", post_started_on=date(2022, 8, 31))
    rule = _five_year_rule()

    [report] = [
        report
        for report in population_report([institution.id], date(2027, 8, 31))
        if report.rule.id == rule.id
    ]

    assert report.totals[Status.AT_RISK] == 1
    assert report.totals[Status.MISSED] == 1


@pytest.mark.parametrize(
    ("post_start", "end"),
    [
        (date(2025, 9, 1), date(2026, 8, 31)),
        (date(2024, 2, 29), date(2025, 2, 28)),
        (date(2027, 3, 1), date(2028, 2, 29)),
    ],
)
def test_first_year_ends(institution, post_start, end):
    person = make_person(institution, "c1", post_started_on=post_start)

    verdict = evaluate(person, _pre_job_rule(), end)

    assert verdict.window_end == end
    assert verdict.deadline == end
    assert verdict.status is Status.AT_RISK
