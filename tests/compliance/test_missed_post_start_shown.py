"""A training missed in a window counted from the post start stays shown as missed.

The pre-job rule covers a new counselor's first year in the post, and the
rule for new Party secretaries their first 6 months. Someone who let the
window pass without the training is shown as missed for 12 months after
the deadline, as the Party-date rules do, and not as "not applicable" from
the day after it.
"""

from datetime import date

import pytest
import sqlalchemy as sa

from lms.accounts.models import Post, Role
from lms.compliance.engine import Status, Uncovered, evaluate
from lms.compliance.models import ComplianceRule, PersonProfile
from lms.compliance.report import population_report
from lms.compliance.seed import seed_rules
from lms.extensions import db
from lms.promotion.engine import compliance_condition
from tests.compliance.test_engine import make_institution, make_person
from tests.factories import make_user


@pytest.fixture
def institution(app_ctx):
    seed_rules()
    return make_institution()


def _rule(code: str) -> ComplianceRule:
    return db.session.scalar(
        sa.select(ComplianceRule).filter_by(code=code, institution_id=None)
    )


@pytest.mark.parametrize(
    "today",
    [date(2026, 9, 1), date(2026, 9, 2), date(2026, 12, 5), date(2027, 8, 31)],
)
def test_missed_pre_job_training_stays_missed(institution, today):
    person = make_person(institution, "c1", post_started_on=date(2025, 9, 1))

    verdict = evaluate(person, _rule("counselor-pre-job"), today)

    assert verdict.status is Status.MISSED
    assert verdict.missing == 40


def test_pre_job_rule_ends_year_after_deadline(institution, english):
    person = make_person(institution, "c1", post_started_on=date(2025, 9, 1))

    verdict = evaluate(person, _rule("counselor-pre-job"), date(2027, 9, 2))

    assert verdict.reason is Uncovered.NOT_NEW_TO_POST
    assert verdict.message == (
        "Applies in the first 12 months after taking up a post, and shows a "
        "shortfall for 12 months after that."
    )


def test_missed_training_of_new_secretary_stays_missed(institution):
    person = make_person(
        institution,
        "s1",
        role=Role.PARTY_WORKER,
        post=Post.DEPARTMENT_PARTY_SECRETARY,
        post_started_on=date(2026, 3, 1),
    )

    verdict = evaluate(person, _rule("party-secretary-new-post"), date(2026, 9, 2))

    assert verdict.status is Status.MISSED


def test_dashboard_counts_the_missed_pre_job_training(institution):
    make_person(institution, "c1", post_started_on=date(2025, 9, 1))
    rule = _rule("counselor-pre-job")

    report = next(
        report
        for report in population_report([institution.id], date(2026, 12, 5))
        if report.rule.id == rule.id
    )

    assert report.totals[Status.MISSED] == 1


def test_promotion_check_names_the_missed_pre_job_training(institution, english):
    person = make_person(institution, "c1", post_started_on=date(2025, 9, 1))

    condition = compliance_condition(person, date(2026, 12, 5))

    assert not condition.met
    assert "0 of 40 hours of pre-job training" in condition.message


def test_hr_sees_the_missed_pre_job_training(app_ctx, login):
    seed_rules()
    institution = make_institution("uni-a")
    make_user(institution, "hr-a", Role.HR)
    counselor = make_user(institution, "counselor-a", Role.COUNSELOR, full_name="林晓雯")
    # The pre-job window closed on 31 August 2026, a few months before the
    # day the suite runs (the page uses the real date).
    db.session.add(
        PersonProfile(user_id=counselor.id, post_started_on=date(2025, 9, 1))
    )
    db.session.commit()
    rule_id = _rule("counselor-pre-job").id

    page = login("hr-a").get(f"/compliance/rules/{rule_id}?status=missed")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "林晓雯" in html
    assert "未达标" in html
