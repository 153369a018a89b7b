"""Pre-job training counted from before the post start to the end of the first year."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from courses.models import Programme
from lms.accounts.models import Post, User
from lms.compliance import seed
from lms.compliance.engine import Status, Uncovered, evaluate, evaluate_institution
from lms.compliance.explain import WINDOW_KIND
from lms.compliance.models import ComplianceRule, PersonProfile, WindowKind
from lms.compliance.report import population_report
from lms.compliance.windows import add_months
from lms.extensions import db
from lms.records.models import TrainingKind
from tests.compliance.test_engine import PRE_JOB_EXAM_NOTE, add_hours, make_institution, make_person, make_rule
from tests.conftest import demo_row
from tests.test_main_path import PROGRAMME_CODE, _work_through

POST_START = date(2026, 9, 1)
PRE_JOB = TrainingKind.PRE_JOB


def _rule() -> ComplianceRule:
    return make_rule(
        posts=[Post.FULL_TIME_COUNSELOR],
        full_time_only=True,
        new_to_post=True,
        new_to_post_months=12,
        window_kind=WindowKind.AROUND_POST_START,
        window_months=12,
        min_hours=Decimal(40),
        tiers=[],
        kinds=[PRE_JOB],
    )


@pytest.fixture
def institution(app_ctx):
    return make_institution()


@pytest.fixture
def person(institution):
    return make_person(institution, "c1", post_started_on=POST_START)


@pytest.fixture
def in_english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def _first_sentence(message: str) -> str:
    """The progress sentence of a Chinese explanation, without the rule notes."""
    return message.split("。")[0] + "。"


def _chinese(verdict) -> str:
    with force_locale("zh_Hans_CN"):
        return verdict.message


# Window and status


def test_window_runs_to_end_of_first_year(person):
    rule = _rule()

    verdict = evaluate(person, rule, date(2026, 12, 5))

    assert verdict.window_start == date(2025, 9, 1)
    assert verdict.window_end == date(2027, 8, 31)
    assert verdict.deadline == date(2027, 8, 31)


def test_training_after_start_counts_in_first_year(person):
    rule = _rule()
    add_hours(person, 100, date(2025, 8, 31), kind=PRE_JOB)  # 12 months and a day before
    add_hours(person, 4, date(2025, 9, 1), kind=PRE_JOB)  # first day of the window
    add_hours(person, 8, date(2026, 12, 1), kind=PRE_JOB)  # 3 months after the start
    add_hours(person, 2, date(2027, 8, 31), kind=PRE_JOB)  # last day of the first year
    add_hours(person, 100, date(2027, 10, 1), kind=PRE_JOB)  # 13 months after
    add_hours(person, 100, date(2026, 12, 1), kind=TrainingKind.THEMATIC)

    verdict = evaluate(person, rule, date(2027, 8, 31))

    assert verdict.achieved == Decimal(14)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 8, 1), Status.IN_PROGRESS),  # before the post starts
        (date(2027, 7, 1), Status.IN_PROGRESS),  # 61 days before the deadline
        (date(2027, 7, 2), Status.AT_RISK),  # 60 days before the deadline
        (date(2027, 8, 31), Status.AT_RISK),
        (date(2027, 9, 1), Status.MISSED),
    ],
)
def test_status_by_day(person, today, expected):
    add_hours(person, 16, date(2026, 10, 1), kind=PRE_JOB)

    assert evaluate(person, _rule(), today).status is expected


def test_rule_ends_a_year_after_the_first_year(person):
    # A shortfall at the end of the first year stays shown as missed for a year.
    assert evaluate(person, _rule(), date(2027, 9, 2)).status is Status.MISSED
    assert evaluate(person, _rule(), date(2028, 9, 1)).status is Status.MISSED

    verdict = evaluate(person, _rule(), date(2028, 9, 2))

    assert verdict.reason is Uncovered.NOT_NEW_TO_POST


def test_met_by_training_in_first_year(person):
    add_hours(person, 40, date(2027, 3, 1), kind=PRE_JOB, exam_passed=True)

    assert evaluate(person, _rule(), date(2027, 3, 2)).status is Status.MET


def test_institution_and_report_match_engine(institution, person):
    rule = _rule()
    other = make_person(institution, "c2", post_started_on=date(2026, 3, 1))
    add_hours(person, 40, date(2026, 11, 1), kind=PRE_JOB, exam_passed=True)
    add_hours(other, 10, date(2026, 11, 1), kind=PRE_JOB)
    today = date(2026, 12, 5)

    verdicts = {v.person.id: v for v in evaluate_institution(institution, rule, today)}
    [report] = [
        each for each in population_report([institution.id], today) if each.rule.id == rule.id
    ]

    assert verdicts[person.id].status is Status.MET
    assert verdicts[other.id].status is Status.IN_PROGRESS
    assert verdicts[other.id].deadline == date(2027, 2, 28)
    assert report.totals[Status.MET] == 1
    assert report.totals[Status.IN_PROGRESS] == 1


# Explanations


def test_messages_in_english(person, in_english):
    rule = _rule()
    add_hours(person, 16, date(2026, 6, 1), kind=PRE_JOB)

    before = evaluate(person, rule, date(2026, 8, 1)).message
    during = evaluate(person, rule, date(2026, 12, 5)).message
    after = evaluate(person, rule, date(2027, 9, 1)).message
    add_hours(person, 24, date(2026, 12, 1), kind=PRE_JOB, exam_passed=True)
    met = evaluate(person, rule, date(2026, 12, 5)).message

    assert before == (
        "16 of 40 hours of pre-job training so far; the post starts on "
        "2026-09-01, and 24 are missing by 2027-08-31, the end of "
        "the first 12 months in the post. " + PRE_JOB_EXAM_NOTE
    )
    assert during == (
        "16 of 40 hours of pre-job training so far; 24 missing by 2027-08-31, "
        "the end of the first 12 months in the post. " + PRE_JOB_EXAM_NOTE
    )
    assert after == (
        "16 of 40 hours of pre-job training by 2027-08-31, the end of the "
        "first 12 months in the post; 24 missing. " + PRE_JOB_EXAM_NOTE
    )
    assert met == (
        "40 of 40 hours of pre-job training before and in the first 12 months "
        "after taking up the post on 2026-09-01; requirement met. "
        "The pre-job exam is passed."
    )


def test_messages_in_chinese(person):
    rule = _rule()
    add_hours(person, 16, date(2026, 6, 1), kind=PRE_JOB)

    before = _first_sentence(_chinese(evaluate(person, rule, date(2026, 8, 1))))
    during = _first_sentence(_chinese(evaluate(person, rule, date(2026, 12, 5))))
    after = _first_sentence(_chinese(evaluate(person, rule, date(2027, 9, 1))))
    add_hours(person, 24, date(2026, 12, 1), kind=PRE_JOB, exam_passed=True)
    met = _first_sentence(_chinese(evaluate(person, rule, date(2026, 12, 5))))

    assert before == (
        "目前岗前培训学时为16（要求40）；2026年9月1日上岗，"
        "须在2027年8月31日（上岗后前12个月期满）前补足24。"
    )
    assert during == (
        "目前岗前培训学时为16（要求40），须在2027年8月31日（上岗后前12个月期满）前补足24。"
    )
    assert after == (
        "截至2027年8月31日（上岗后前12个月期满），岗前培训学时为16（要求40），尚差24。"
    )
    assert met == (
        "2026年9月1日上岗前及上岗后的前12个月内，岗前培训学时为40（要求40），已达标。"
    )


def test_window_kind_label_translated(app_ctx):
    label = WINDOW_KIND[WindowKind.AROUND_POST_START.value]

    with force_locale("zh_Hans_CN"):
        assert str(label) == "上岗前及上岗后的最初几个月"
    with force_locale("en"):
        assert str(label) == "Before and in the first months after taking up the post"


# Seeded rule


def _shared_pre_job() -> ComplianceRule:
    return db.session.scalar(
        sa.select(ComplianceRule).filter_by(code="counselor-pre-job", institution_id=None)
    )


def test_seed_uses_new_window(app_ctx):
    seed.seed_rules()

    rule = _shared_pre_job()

    assert rule.window_kind is WindowKind.AROUND_POST_START
    assert rule.window_months == 12
    assert rule.new_to_post_months == 12


def test_seed_updates_stored_old_rule(app_ctx):
    seed.seed_rules()
    rule = _shared_pre_job()
    rule.window_kind = WindowKind.BEFORE_POST
    rule.verified = True
    db.session.flush()

    seed.seed_rules()
    db.session.expire_all()

    assert _shared_pre_job().window_kind is WindowKind.AROUND_POST_START
    assert _shared_pre_job().verified is True


@pytest.mark.parametrize(
    "edit",
    [{"window_months": 6}, {"new_to_post_months": 24}],
)
def test_seed_keeps_edited_old_rule(app_ctx, edit):
    seed.seed_rules()
    rule = _shared_pre_job()
    rule.window_kind = WindowKind.BEFORE_POST
    for name, value in edit.items():
        setattr(rule, name, value)
    db.session.flush()

    seed.seed_rules()
    db.session.expire_all()

    assert _shared_pre_job().window_kind is WindowKind.BEFORE_POST


def test_seed_keeps_institution_rule(app_ctx):
    institution = make_institution()
    seed.seed_rules()
    own = ComplianceRule(
        institution_id=institution.id,
        **{**seed.RULES[0], "window_kind": WindowKind.BEFORE_POST},
    )
    db.session.add(own)
    db.session.flush()

    seed.seed_rules()
    db.session.expire_all()

    assert db.session.get(ComplianceRule, own.id).window_kind is WindowKind.BEFORE_POST


# Seeded demo


def test_demo_pre_job_programme_counts(app_ctx, seeded, login):
    counselor = login("counselor1")
    holder = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    post_started_on = db.session.get(PersonProfile, holder.id).post_started_on
    deadline = add_months(post_started_on, 12) - timedelta(days=1)
    programme = demo_row(Programme, code=PROGRAMME_CODE)

    assert counselor.post(f"/programmes/{programme.id}/enrol").status_code == 302
    _work_through(counselor, programme)
    page = counselor.get("/learning").get_data(as_text=True)
    due = f"{deadline.year}年{deadline.month}月{deadline.day}日"

    assert post_started_on.month == 9
    assert f"目前岗前培训学时为28（要求40），须在{due}（上岗后前12个月期满）前补足12。" in page
    assert "上岗前，岗前培训学时为0" not in page


def test_one_month_messages_in_english(person, in_english):
    rule = _rule()
    rule.new_to_post_months = 1
    add_hours(person, 16, date(2026, 6, 1), kind=PRE_JOB)

    before = evaluate(person, rule, date(2026, 8, 1)).message
    during = evaluate(person, rule, date(2026, 9, 15)).message
    after = evaluate(person, rule, date(2026, 11, 1)).message
    add_hours(person, 24, date(2026, 9, 10), kind=PRE_JOB, exam_passed=True)
    met = evaluate(person, rule, date(2026, 9, 15)).message

    assert "the end of the first 1 month in the post. " in before
    assert "the end of the first 1 month in the post. " in during
    assert "the end of the first 1 month in the post; 24 missing." in after
    assert "before and in the first 1 month after taking up the post" in met
