"""The pre-job rule requires a passed exam on the pre-job training, not only its hours."""

import io
from datetime import date

import pytest
import sqlalchemy as sa

from lms.accounts.models import Post
from lms.compliance.engine import Status, evaluate, evaluate_institution
from lms.compliance.models import WindowKind
from lms.compliance.report import population_report
from lms.extensions import db
from lms.records.models import HoursEntry, TrainingKind
from tests.compliance.test_engine import add_hours, make_person, make_rule
from tests.compliance.test_post_start_window import (
    POST_START,
    PRE_JOB,
    _rule,
    in_english,  # noqa: F401 (fixture)
    institution,  # noqa: F401 (fixture)
    person,  # noqa: F401 (fixture)
)
from tests.factories import build_learning_world
from tests.records.test_record_views import _complete_course1

DURING = date(2026, 12, 5)
AFTER = date(2027, 9, 1)


# Engine ---------------------------------------------------------------------------


def test_hours_without_exam_are_not_met(person, in_english):
    add_hours(person, 40, date(2026, 11, 1), kind=PRE_JOB)

    verdict = evaluate(person, _rule(), DURING)

    assert verdict.status is Status.IN_PROGRESS
    assert verdict.exam is None
    assert verdict.message == (
        "40 of 40 hours of pre-job training; a passed pre-job exam is still "
        "required by 2027-08-31. No pre-job exam result is recorded, and the "
        "rule requires a passed exam."
    )


def test_failed_exam_is_not_met(person, in_english):
    add_hours(person, 40, date(2026, 11, 1), kind=PRE_JOB, exam_passed=False)

    verdict = evaluate(person, _rule(), AFTER)

    assert verdict.status is Status.MISSED
    assert verdict.exam is False
    assert verdict.message == (
        "40 of 40 hours of pre-job training, but no passed pre-job exam was "
        "recorded by 2027-08-31; requirement missed. The pre-job exam is "
        "recorded as failed, and the rule requires a passed one."
    )


def test_passed_retake_meets_rule(person, in_english):
    add_hours(person, 40, date(2026, 11, 1), kind=PRE_JOB, exam_passed=False)
    add_hours(person, 2, date(2027, 1, 10), kind=PRE_JOB, exam_passed=True)

    verdict = evaluate(person, _rule(), AFTER)

    assert verdict.status is Status.MET
    assert verdict.exam is True
    assert verdict.message.endswith("requirement met. The pre-job exam is passed.")


def test_passed_exam_without_hours_is_short(person):
    add_hours(person, 10, date(2026, 11, 1), kind=PRE_JOB, exam_passed=True)

    verdict = evaluate(person, _rule(), DURING)

    assert verdict.status is Status.IN_PROGRESS
    assert verdict.exam is True


def test_exam_outside_window_does_not_count(person):
    add_hours(person, 40, date(2026, 11, 1), kind=PRE_JOB)
    add_hours(person, 2, date(2024, 11, 1), kind=PRE_JOB, exam_passed=True)
    add_hours(person, 2, date(2026, 11, 1), kind=TrainingKind.THEMATIC, exam_passed=True)

    verdict = evaluate(person, _rule(), DURING)

    assert verdict.status is Status.IN_PROGRESS
    assert verdict.exam is None


def test_other_rules_ignore_exam(person):
    rule = make_rule(kinds=[PRE_JOB, TrainingKind.THEMATIC])
    add_hours(person, 16, date(2026, 3, 1), kind=PRE_JOB, exam_passed=False)

    verdict = evaluate(person, rule, DURING)

    assert not rule.exam_required
    assert verdict.status is Status.MET


# Engine and SQL report agree ----------------------------------------------------------


def _report(institution, rule, today):
    [report] = [
        each
        for each in population_report([institution.id], today)
        if each.rule.id == rule.id
    ]
    return report


@pytest.mark.parametrize("today", [DURING, AFTER])
def test_report_matches_engine_on_exams(institution, person, today):
    rule = _rule()
    results = {"failed": False, "none": None, "passed": True, "short": True}
    for username, exam in results.items():
        other = make_person(institution, username, post_started_on=POST_START)
        hours = 10 if username == "short" else 40
        add_hours(other, hours, date(2026, 11, 1), kind=PRE_JOB, exam_passed=exam)
    add_hours(person, 40, date(2026, 11, 1), kind=PRE_JOB, exam_passed=True)

    engine = [v.status for v in evaluate_institution(institution, rule, today)]
    report = _report(institution, rule, today)

    for status in Status:
        assert report.totals[status] == engine.count(status), status
    assert engine.count(Status.MET) == 2


def test_shared_window_report_checks_exam(institution):
    """A calendar-year rule of pre-job training goes through the grouped SQL query."""
    rule = make_rule(
        kinds=[PRE_JOB],
        window_kind=WindowKind.CALENDAR_YEAR,
        posts=[Post.FULL_TIME_COUNSELOR],
        tiers=[],
    )
    for username, exam in {"a": True, "b": False, "c": None}.items():
        person = make_person(institution, username, post_started_on=date(2020, 9, 1))
        add_hours(person, 16, date(2026, 3, 1), kind=PRE_JOB, exam_passed=exam)

    engine = [v.status for v in evaluate_institution(institution, rule, DURING)]
    report = _report(institution, rule, DURING)

    assert rule.exam_required
    assert engine.count(Status.MET) == 1
    for status in Status:
        assert report.totals[status] == engine.count(status), status


# Where exam results come from -------------------------------------------------------


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def _ledger_rows(user_id: int) -> list[HoursEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(HoursEntry).filter_by(user_id=user_id).order_by(HoursEntry.id)
        )
    )


def test_course_with_quiz_records_passed_exam(world, login):
    _complete_course1(login, world)

    [row] = _ledger_rows(world.counselor)

    assert row.source_type == "course_completion"
    assert row.exam_passed is True


def _external_form(exam: str) -> dict:
    return {
        "title": "岗前培训（外校）",
        "organiser": "省辅导员培训基地",
        "tier": "provincial",
        "kind": "pre_job",
        "start_date": "2026-07-01",
        "end_date": "2026-07-05",
        "hours": "40",
        "exam": exam,
        "evidence": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "证明.pdf"),
    }


@pytest.mark.parametrize("exam, stored", [("passed", True), ("failed", False), ("", None)])
def test_external_training_carries_exam(world, login, english, exam, stored):
    hr = login("hr")

    response = hr.client.post(
        f"/people/{world.counselor}/external/new",
        data={"csrf_token": hr.csrf, **_external_form(exam)},
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    [row] = _ledger_rows(world.counselor)
    assert row.kind is TrainingKind.PRE_JOB
    assert row.exam_passed is stored
    review = hr.get(response.headers["Location"]).get_data(as_text=True)
    shown = {True: "Passed", False: "Failed", None: "No exam, or no result stated"}
    assert f"<dt>Exam result</dt><dd>{shown[stored]}</dd>" in review


def test_external_training_rejects_unknown_exam(world, login):
    counselor = login("counselor1")

    response = counselor.client.post(
        "/records/external",
        data={"csrf_token": counselor.csrf, **_external_form("maybe")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert _ledger_rows(world.counselor) == []
