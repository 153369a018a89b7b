"""Scores typed in a Chinese input method's full-width mode (“１．５”) are read as numbers."""

from decimal import Decimal

import pytest

from assessments import tasks
from assessments.models import AttemptAnswer
from assessments.tasks_models import TaskSubmission
from lms.extensions import db
from lms.input_ranges import finite_decimal, typed_decimal
from tests.assessments.task_builders import make_task, user
from tests.assessments.test_grade_conflicts import _submitted_essay

pytestmark = pytest.mark.usefixtures("english")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("１．５", Decimal("1.5")),
        ("８５", Decimal("85")),
        (" 3.25 ", Decimal("3.25")),
        ("－１", Decimal("-1")),
        ("", None),
        ("abc", None),
        ("1。5", None),
    ],
)
def test_typed_decimal_cases(typed, expected):
    assert typed_decimal(typed) == expected


def test_full_width_essay_score_saved(world, login):
    _attempt_id, answer_id = _submitted_essay(world, login)

    response = login("trainer").post(
        f"/manage/grading/{answer_id}", data={"point_1": "３．５", "comment": "很好"}
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(AttemptAnswer, answer_id).awarded == Decimal("3.5")


def test_full_width_final_score_saved(world, login):
    task = make_task(world, assessors=("hr",), moderator="trainer")
    submission = tasks.submit(task, user("counselor1"), text="我的分析")
    db.session.commit()

    response = login("trainer").post(
        f"/manage/submissions/{submission.id}",
        data={"final_score": "２．５", "reason": "复核后给分"},
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(TaskSubmission, submission.id).final_score == Decimal("2.5")


def test_finite_decimal_reads_full_width():
    assert finite_decimal(["３．５"], "invalid") == Decimal("3.5")
    assert finite_decimal(["　"], "invalid") is None
    with pytest.raises(ValueError):
        finite_decimal(["ｎａｎ"], "invalid")
