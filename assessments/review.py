"""Review visibility: which parts of a submitted attempt a learner sees, and from when."""

from datetime import datetime
from typing import Optional

from assessments import services
from assessments.models import Attempt, ReviewTiming
from lms.db import now_utc

#: The parts of a review, each with its own timing on the quiz.
PARTS = ("score", "responses", "correct", "feedback")


def _final(attempt: Attempt, now: datetime) -> bool:
    quiz = attempt.quiz
    if quiz.closes_at is not None and now >= quiz.closes_at:
        return True
    user = attempt.user
    return services.has_passed(user, quiz) or services.attempts_left(user, quiz) == 0


def visible(attempt: Attempt, part: str, now: Optional[datetime] = None) -> bool:
    """Return whether the learner may see ``part`` of the attempt's review now."""
    if attempt.submitted_at is None:
        return False
    now = now or now_utc()
    quiz = attempt.quiz
    timing: ReviewTiming = getattr(quiz, f"review_{part}")
    if timing is ReviewTiming.NEVER:
        return False
    if timing is ReviewTiming.IMMEDIATELY:
        return True
    if timing is ReviewTiming.AFTER_CLOSE:
        return quiz.closes_at is not None and now >= quiz.closes_at
    return _final(attempt, now)


def options(attempt: Attempt, now: Optional[datetime] = None) -> dict[str, bool]:
    """Return ``visible`` for every part of the review."""
    return {part: visible(attempt, part, now) for part in PARTS}
