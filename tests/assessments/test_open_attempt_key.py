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


def test_racing_start_resumes_first_attempt(world, monkeypatch):
    """The second of two simultaneous starts read "no open attempt" before the first committed.

    It then counts one attempt and inserts number 2; the key rejects it and
    the learner gets the first attempt back, not a second open one.
    """
    user = db.session.get(User, world.counselor)
    quiz = db.session.get(Quiz, world.quiz)
    first = services.start_attempt(user, quiz)
    db.session.commit()

    real_open_attempt = services.open_attempt
    calls = []

    def stale_then_real(*args):
        calls.append(args)
        return None if len(calls) == 1 else real_open_attempt(*args)

    monkeypatch.setattr(services, "open_attempt", stale_then_real)
    second = services.start_attempt(user, quiz)
    db.session.commit()
    assert second.id == first.id
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(Attempt).filter_by(user_id=user.id, quiz_id=quiz.id)
    ) == 1
