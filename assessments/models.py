import enum
from datetime import datetime
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from courses.models import Course
from lms.accounts.models import User
from lms.db import UTCDateTime, enum_column, now_utc
from lms.extensions import db


class QuestionKind(enum.Enum):
    SINGLE = "single"  # exactly one correct choice
    MULTIPLE = "multiple"  # one or more correct choices, all-or-nothing
    TRUE_FALSE = "true_false"  # two choices, 正确 / 错误


class Quiz(db.Model):
    """A graded quiz that gates completion of its course."""

    __tablename__ = "quiz"
    __table_args__ = (
        sa.CheckConstraint("pass_mark >= 0 AND pass_mark <= 100", name="pass_mark_range"),
        sa.CheckConstraint("max_attempts IS NULL OR max_attempts > 0", name="max_attempts_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True
    )
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    instructions: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    #: Percentage of the maximum score needed to pass.
    pass_mark: so.Mapped[int] = so.mapped_column(default=60)
    #: None allows unlimited attempts.
    max_attempts: so.Mapped[Optional[int]] = so.mapped_column(default=3)
    #: None means untimed; otherwise enforced on the server at submission.
    time_limit_minutes: so.Mapped[Optional[int]]

    course: so.Mapped[Course] = so.relationship()
    questions: so.Mapped[list["Question"]] = so.relationship(
        back_populates="quiz", order_by="Question.position", cascade="all, delete-orphan"
    )

    @property
    def max_score(self) -> Decimal:
        return sum((q.points for q in self.questions), Decimal(0))


class Question(db.Model):
    __tablename__ = "question"
    __table_args__ = (
        sa.UniqueConstraint("quiz_id", "position"),
        sa.CheckConstraint("points > 0", name="points_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    quiz_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("quiz.id", ondelete="CASCADE"), index=True
    )
    position: so.Mapped[int]
    kind: so.Mapped[QuestionKind] = so.mapped_column(enum_column(QuestionKind))
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    points: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(5, 1), default=Decimal(1))
    #: Shown after the attempt is submitted, never before.
    explanation: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    quiz: so.Mapped[Quiz] = so.relationship(back_populates="questions")
    choices: so.Mapped[list["Choice"]] = so.relationship(
        back_populates="question", order_by="Choice.position", cascade="all, delete-orphan"
    )


class Choice(db.Model):
    __tablename__ = "choice"
    __table_args__ = (sa.UniqueConstraint("question_id", "position"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("question.id", ondelete="CASCADE"), index=True
    )
    position: so.Mapped[int]
    text: so.Mapped[str] = so.mapped_column(sa.String(500))
    is_correct: so.Mapped[bool] = so.mapped_column(default=False)

    question: so.Mapped[Question] = so.relationship(back_populates="choices")


class Attempt(db.Model):
    """One try at a quiz. Submitted once: ``submitted_at`` is set exactly once."""

    __tablename__ = "attempt"
    __table_args__ = (
        sa.UniqueConstraint("quiz_id", "user_id", "number"),
        sa.CheckConstraint(
            "(submitted_at IS NULL) = (score IS NULL)", name="score_iff_submitted"
        ),
        # At most one open attempt per learner and quiz. Two starts at once
        # (a double click) could otherwise both count the attempts after the
        # other committed and insert different numbers; with this key the
        # second insert fails and start_attempt resumes the first attempt.
        sa.Index(
            "uq_attempt_open_quiz_id_user_id",
            "quiz_id",
            "user_id",
            unique=True,
            postgresql_where=sa.text("submitted_at IS NULL"),
            sqlite_where=sa.text("submitted_at IS NULL"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    quiz_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("quiz.id", ondelete="CASCADE"), index=True
    )
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    number: so.Mapped[int]
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    submitted_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    score: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(6, 1))
    max_score: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(6, 1))
    passed: so.Mapped[bool] = so.mapped_column(default=False)

    quiz: so.Mapped[Quiz] = so.relationship()
    user: so.Mapped[User] = so.relationship()
    answers: so.Mapped[list["AttemptAnswer"]] = so.relationship(
        back_populates="attempt", cascade="all, delete-orphan"
    )

    @property
    def percent(self) -> Optional[Decimal]:
        if self.score is None or not self.max_score:
            return None
        return (self.score * 100 / self.max_score).quantize(Decimal("0.1"))


class AttemptAnswer(db.Model):
    __tablename__ = "attempt_answer"
    __table_args__ = (sa.UniqueConstraint("attempt_id", "question_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    attempt_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("attempt.id", ondelete="CASCADE"), index=True
    )
    question_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("question.id"))
    #: Sorted ids of the choices the learner selected.
    selected_choice_ids: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    awarded: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(5, 1))

    attempt: so.Mapped[Attempt] = so.relationship(back_populates="answers")
    question: so.Mapped[Question] = so.relationship()
