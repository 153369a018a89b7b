"""A quiz's results for its trainers: each learner's grade and an item analysis.

The grade follows the quiz's grading method, as ``services.quiz_grade``
computes it for the learner. The item analysis reads the submitted
attempts whose essays are graded, one question at a time:

- the facility index is the mean share of the question's points that
  learners earned, as a percentage (100 means everyone earned all points);
- the discrimination index is the Pearson correlation between the share
  earned on the question and the share earned on the rest of the attempt,
  as a percentage. Low or negative values point at a question that strong
  learners miss as often as weak ones. It needs answers from at least two
  attempts whose rest-of-attempt scores differ, and is None otherwise.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from math import sqrt
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessments import services
from assessments.models import Attempt, AttemptAnswer, Question, Quiz
from lms.accounts.models import User
from lms.extensions import db


@dataclass
class LearnerRow:
    user: User
    attempts: int
    submitted: int
    #: Percentage by the quiz's grading method; None before a graded attempt.
    grade: Optional[Decimal]
    passed: bool
    waiting_for_grading: bool
    last_submitted_at: Optional[datetime]


@dataclass
class ItemRow:
    question: Question
    #: Graded answers to the question in submitted attempts.
    answers: int
    facility: Optional[Decimal]
    discrimination: Optional[Decimal]


def _attempts(quiz: Quiz) -> list[Attempt]:
    return list(
        db.session.scalars(
            sa.select(Attempt)
            .where(Attempt.quiz_id == quiz.id)
            .options(so.joinedload(Attempt.user).joinedload(User.department))
            .order_by(Attempt.user_id, Attempt.number)
        )
    )


def learner_rows(quiz: Quiz) -> list[LearnerRow]:
    """Return one row per learner with an attempt at ``quiz``, by name."""
    by_user: dict[int, list[Attempt]] = defaultdict(list)
    for attempt in _attempts(quiz):
        by_user[attempt.user_id].append(attempt)
    rows = []
    for attempts in by_user.values():
        submitted = [a for a in attempts if a.submitted_at is not None]
        grade = services.quiz_grade(attempts[0].user, quiz, attempts)
        rows.append(
            LearnerRow(
                user=attempts[0].user,
                attempts=len(attempts),
                submitted=len(submitted),
                grade=grade,
                passed=grade is not None and grade >= quiz.pass_mark,
                waiting_for_grading=any(a.needs_grading for a in submitted),
                last_submitted_at=max((a.submitted_at for a in submitted), default=None),
            )
        )
    rows.sort(key=lambda row: (row.user.full_name, row.user.username))
    return rows


def _percent(value: float) -> Decimal:
    return Decimal(str(round(value * 100, 1)))


def _correlation(pairs: list[tuple[float, float]]) -> Optional[float]:
    if len(pairs) < 2:
        return None
    count = len(pairs)
    mean_x = sum(x for x, _y in pairs) / count
    mean_y = sum(y for _x, y in pairs) / count
    cov = sum((x - mean_x) * (y - mean_y) for x, y in pairs)
    var_x = sum((x - mean_x) ** 2 for x, _y in pairs)
    var_y = sum((y - mean_y) ** 2 for _x, y in pairs)
    if var_x == 0 or var_y == 0:
        return None
    return cov / sqrt(var_x * var_y)


def item_analysis(quiz: Quiz) -> list[ItemRow]:
    """Return the facility and discrimination of each question the quiz asked.

    Questions drawn from a bank appear once each, after the fixed questions,
    in the order they were first asked.
    """
    answers = db.session.execute(
        sa.select(AttemptAnswer.attempt_id, AttemptAnswer.question_id, AttemptAnswer.awarded)
        .join(Attempt, Attempt.id == AttemptAnswer.attempt_id)
        .where(
            Attempt.quiz_id == quiz.id,
            Attempt.submitted_at.is_not(None),
            Attempt.needs_grading.is_(False),
        )
        .order_by(AttemptAnswer.attempt_id, AttemptAnswer.id)
    ).all()
    question_ids: list[int] = [q.id for q in quiz.questions]
    for _attempt_id, question_id, _awarded in answers:
        if question_id not in question_ids:
            question_ids.append(question_id)
    questions = {
        q.id: q for q in db.session.scalars(sa.select(Question).where(Question.id.in_(question_ids)))
    }
    # Each attempt's points earned and possible, and each question's share per attempt.
    totals: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    shares: dict[int, list[tuple[int, float, float]]] = defaultdict(list)
    for attempt_id, question_id, awarded in answers:
        question = questions[question_id]
        points = float(question.points)
        earned = float(awarded or 0)
        totals[attempt_id][0] += earned
        totals[attempt_id][1] += points
        if points > 0:
            shares[question_id].append((attempt_id, earned, points))
    rows = []
    for question_id in question_ids:
        entries = shares.get(question_id, [])
        facility = None
        if entries:
            facility = _percent(sum(e / p for _a, e, p in entries) / len(entries))
        pairs = []
        for attempt_id, earned, points in entries:
            rest_earned = totals[attempt_id][0] - earned
            rest_points = totals[attempt_id][1] - points
            if rest_points > 0:
                pairs.append((earned / points, rest_earned / rest_points))
        correlation = _correlation(pairs)
        rows.append(
            ItemRow(
                question=questions[question_id],
                answers=len(entries),
                facility=facility,
                discrimination=None if correlation is None else _percent(correlation),
            )
        )
    return rows
