"""Builders of rubrics, tasks and scored submissions for the performance-task tests."""

from decimal import Decimal
from typing import Optional

import sqlalchemy as sa

from assessments import moderation, rubrics, tasks
from assessments.tasks_models import (
    Aggregation,
    PerformanceTask,
    Rubric,
    ScoreSheet,
    TaskKind,
    TaskSubmission,
)
from courses import services as course_services
from courses.models import Programme
from lms.accounts.models import User
from lms.extensions import db

#: Weights 0.5, 0.25, 0.25 over levels worth 1 to 4 points, so a sheet of
#: levels 4, 3, 4 totals 2 + 0.75 + 1 = 3.75.
WEIGHTED_DEFINITION = """\
内容 | 0.5
- 优秀 | 4 | 全面
- 良好 | 3
- 合格 | 2
- 不足 | 1
表达 | 0.25
- 优秀 | 4
- 良好 | 3
- 合格 | 2
- 不足 | 1
仪态 | 0.25
- 优秀 | 4
- 良好 | 3
- 合格 | 2
- 不足 | 1
"""


def user(username: str) -> User:
    return db.session.scalar(sa.select(User).filter_by(username=username))


def make_rubric(
    institution_id: int, code: str = "weighted", definition: str = WEIGHTED_DEFINITION
) -> Rubric:
    trainer = db.session.scalar(
        sa.select(User).filter_by(institution_id=institution_id, username="trainer")
    )
    return rubrics.save_rubric(
        institution_id,
        {"code": code, "title": f"评分标准 {code}", "definition": definition},
        trainer,
    )


def make_task(
    world,
    *,
    kind: TaskKind = TaskKind.CASE_ANALYSIS,
    rubric: Optional[Rubric] = None,
    student_rubric: Optional[Rubric] = None,
    aggregation: Aggregation = Aggregation.MEAN,
    margin: Optional[str] = "1",
    blind: bool = True,
    resubmission: bool = False,
    assessors: tuple[str, ...] = ("trainer", "hr", "counselor2"),
    moderator: str = "admin",
    due_at: str = "",
    candidates: tuple[str, ...] = ("counselor1", "counselor2", "organiser"),
) -> PerformanceTask:
    """Add a published task on course 1 and enrol ``candidates`` in its programme."""
    programme = db.session.get(Programme, world.programme)
    for username in candidates:
        course_services.enrol(user(username), programme)
    rubric = rubric or make_rubric(world.uni_a)
    trainer = db.session.get(User, world.trainer)
    data = {
        "course_id": str(world.course1),
        "kind": kind.value,
        "title": "案例分析任务",
        "rubric_id": str(rubric.id),
        "student_rubric_id": str(student_rubric.id) if student_rubric else "",
        "aggregation": aggregation.value,
        "divergence_margin": margin or "",
        "pass_mark": "60",
        "moderator_id": str(user(moderator).id),
        "blind_candidates": "y" if blind else "",
        "allow_resubmission": "y" if resubmission else "",
        "published": "y",
        "due_at": due_at,
    }
    task = tasks.save_task(world.uni_a, data, trainer)
    for username in assessors:
        tasks.add_assessor(task, user(username), trainer)
    return task


def levels_for(sheet: ScoreSheet, positions: list[int]) -> dict[int, str]:
    """Choose for each criterion of the task's rubrics the level at ``positions``."""
    criteria = [c for r in sheet.submission.task.rubrics for c in r.criteria]
    return {
        criterion.id: str(criterion.levels[position - 1].id)
        for criterion, position in zip(criteria, positions)
    }


def score(submission: TaskSubmission, username: str, positions: list[int]) -> Decimal:
    """Score ``submission`` as ``username`` with levels at ``positions`` (1 = top)."""
    sheet = next(s for s in submission.sheets if s.assessor.username == username)
    chosen = levels_for(sheet, positions)
    return moderation.save_sheet(sheet, chosen, "", sheet.assessor)
