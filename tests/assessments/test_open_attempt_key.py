"""At most one open attempt per learner and quiz, even when two starts race."""

from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from assessments import services
from assessments.models import Attempt, Quiz
from lms.accounts.models import User
from lms.extensions import db


def test_second_open_attempt_rejected(world):
    common = dict(quiz_id=world.quiz, user_id=world.counselor, max_score=Decimal(2))
    db.session.add(Attempt(number=1, **common))
    db.session.flush()
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(Attempt(number=2, **common))


def test_submitted_attempt_allows_next(world):
    common = dict(quiz_id=world.quiz, user_id=world.counselor, max_score=Decimal(2))
    db.session.add(Attempt(number=1, submitted_at=sa.func.now(), score=Decimal(0), **common))
    db.session.add(Attempt(number=2, **common))
    db.session.flush()
    assert services.open_attempt(db.session.get(User, world.counselor),
                                 db.session.get(Quiz, world.quiz)).number == 2


def test_racing_start_resumes_first_attempt(world):
    """The second of two simultaneous starts read "no attempt" before the first committed.

    It then inserts attempt number 1 again; the keys reject the row, the
    transaction stays usable and the learner gets the first attempt back.
    """
    user = db.session.get(User, world.counselor)
    quiz = db.session.get(Quiz, world.quiz)
    stale = services.load_start_context(user, quiz.id)
    first = services.start_attempt(user, quiz)
    db.session.commit()

    second = services.start_attempt(user, quiz, context=stale)
    db.session.commit()

    assert stale.attempts == []
    assert second.id == first.id
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(Attempt).filter_by(user_id=user.id, quiz_id=quiz.id)
    ) == 1


def test_racing_start_after_submit_gets_submitted_attempt(world):
    """A start that read no attempts conflicts with a first attempt already submitted."""
    user = db.session.get(User, world.counselor)
    quiz = db.session.get(Quiz, world.quiz)
    stale = services.load_start_context(user, quiz.id)
    first = services.start_attempt(user, quiz)
    services.submit_attempt(first, {})
    db.session.commit()

    second = services.start_attempt(user, quiz, context=stale)

    assert second.id == first.id
    assert second.submitted_at is not None
