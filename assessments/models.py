"""Question banks, quizzes, attempts and their answers."""

import enum
from datetime import datetime
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from courses.models import Course
from lms import labels
from lms.accounts.models import User
from lms.db import UTCDateTime, enum_column, now_utc
from lms.extensions import db
from lms.revisions import Versioned

#: Scale of stored awarded points and attempt scores. Partial credit such as
#: 1/3 of a point is rounded half up to this many places, once, per question.
SCORE_PLACES = Decimal("0.0001")


class QuestionKind(enum.Enum):
    SINGLE = "single"  # exactly one correct choice
    MULTIPLE = "multiple"  # one or more correct choices, scored by ``ChoiceScoring``
    TRUE_FALSE = "true_false"  # two choices, stored as "true" / "false"
    FILL_BLANK = "fill_blank"  # one or more blanks, each with accepted answers
    MATCHING = "matching"  # each choice's text pairs with its ``match_text``
    ORDERING = "ordering"  # choices in their correct order by position
    SHORT_ANSWER = "short_answer"  # free text compared with accepted answers
    ESSAY = "essay"  # graded by hand against scoring points


#: Stored texts of a true/false question's choices, shown through ``Choice.label``.
TRUE_VALUE = "true"
FALSE_VALUE = "false"

#: Kinds whose answer is one or more choice ids.
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE, QuestionKind.TRUE_FALSE)


class ChoiceScoring(enum.Enum):
    """How a multiple-choice or ordering question turns an answer into points."""

    ALL_OR_NOTHING = "all_or_nothing"
    #: Points in proportion to the correct choices picked (or items in place).
    PARTIAL = "partial"
    #: As PARTIAL, minus a share for each wrong choice picked; never below 0.
    PARTIAL_PENALTY = "partial_penalty"


class GradingMethod(enum.Enum):
    """Which attempts make the learner's grade for the quiz."""

    HIGHEST = "highest"
    LAST = "last"
    AVERAGE = "average"


class ReviewTiming(enum.Enum):
    """When a learner may see one part of the review of a submitted attempt."""

    NEVER = "never"
    IMMEDIATELY = "immediately"
    #: After the learner passed or used every attempt, or once the quiz closed.
    AFTER_FINAL = "after_final"
    AFTER_CLOSE = "after_close"


class TagKind(enum.Enum):
    FUNCTIONAL_AREA = "functional_area"
    LEVEL = "level"
    TOPIC = "topic"


labels.register(
    "ChoiceScoring",
    {
        "all_or_nothing": _l("All or nothing"),
        "partial": _l("Partial credit"),
        "partial_penalty": _l("Partial credit with penalties for wrong choices"),
    },
)
labels.register(
    "GradingMethod",
    {
        "highest": _l("Highest attempt"),
        "last": _l("Last attempt"),
        "average": _l("Average of attempts"),
    },
)
labels.register(
    "ReviewTiming",
    {
        "never": _l("Never"),
        "immediately": _l("Immediately after the attempt"),
        "after_final": _l("After a pass or the last attempt"),
        "after_close": _l("Only after the quiz closes"),
    },
)
labels.register(
    "TagKind",
    {
        "functional_area": _l("Functional area"),
        "level": _l("Level"),
        "topic": _l("Topic"),
    },
)


class QuestionBank(db.Model):
    """An institution's shared store of questions, organised in categories."""

    __tablename__ = "question_bank"
    __table_args__ = (sa.UniqueConstraint("institution_id", "name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id")
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    categories: so.Mapped[list["QuestionCategory"]] = so.relationship(
        back_populates="bank",
        order_by="QuestionCategory.name",
        cascade="all, delete-orphan",
    )


class QuestionCategory(Versioned, db.Model):
    """A folder of questions in a bank; categories nest through ``parent_id``."""

    __tablename__ = "question_category"
    __table_args__ = (sa.UniqueConstraint("bank_id", "parent_id", "name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    bank_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("question_bank.id", ondelete="CASCADE")
    )
    parent_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("question_category.id", ondelete="CASCADE"), index=True
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(200))

    bank: so.Mapped[QuestionBank] = so.relationship(back_populates="categories")
    parent: so.Mapped[Optional["QuestionCategory"]] = so.relationship(
        remote_side="QuestionCategory.id", back_populates="children"
    )
    children: so.Mapped[list["QuestionCategory"]] = so.relationship(
        back_populates="parent", order_by="QuestionCategory.name"
    )
    questions: so.Mapped[list["Question"]] = so.relationship(
        back_populates="category", order_by="Question.position"
    )

    @property
    def path(self) -> str:
        """Names from the top category down to this one, joined by " / "."""
        names = []
        node: Optional[QuestionCategory] = self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names))

    def subtree_ids(self) -> list[int]:
        """Return this category's id and those of every category below it."""
        ids = [self.id]
        for child in self.children:
            ids.extend(child.subtree_ids())
        return ids


class Quiz(Versioned, db.Model):
    """A graded quiz that gates completion of its course."""

    __tablename__ = "quiz"
    __table_args__ = (
        sa.CheckConstraint("pass_mark >= 0 AND pass_mark <= 100", name="pass_mark_range"),
        sa.CheckConstraint("max_attempts IS NULL OR max_attempts > 0", name="max_attempts_positive"),
        sa.CheckConstraint(
            "opens_at IS NULL OR closes_at IS NULL OR closes_at > opens_at",
            name="closes_after_opens",
        ),
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
    #: None means untimed; otherwise enforced on the server for every save.
    time_limit_minutes: so.Mapped[Optional[int]]
    #: No attempt starts before ``opens_at`` or at or after ``closes_at``; an
    #: open attempt ends at ``closes_at`` at the latest.
    opens_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    closes_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    grading_method: so.Mapped[GradingMethod] = so.mapped_column(
        enum_column(GradingMethod), default=GradingMethod.HIGHEST
    )
    shuffle_questions: so.Mapped[bool] = so.mapped_column(default=False)
    shuffle_choices: so.Mapped[bool] = so.mapped_column(default=False)
    review_score: so.Mapped[ReviewTiming] = so.mapped_column(
        enum_column(ReviewTiming, name="review_score_timing"),
        default=ReviewTiming.IMMEDIATELY,
    )
    review_responses: so.Mapped[ReviewTiming] = so.mapped_column(
        enum_column(ReviewTiming, name="review_responses_timing"),
        default=ReviewTiming.IMMEDIATELY,
    )
    review_correct: so.Mapped[ReviewTiming] = so.mapped_column(
        enum_column(ReviewTiming, name="review_correct_timing"),
        default=ReviewTiming.AFTER_FINAL,
    )
    review_feedback: so.Mapped[ReviewTiming] = so.mapped_column(
        enum_column(ReviewTiming, name="review_feedback_timing"),
        default=ReviewTiming.AFTER_FINAL,
    )

    course: so.Mapped[Course] = so.relationship()
    #: The quiz's fixed questions, asked in every attempt.
    questions: so.Mapped[list["Question"]] = so.relationship(
        back_populates="quiz", order_by="Question.position", cascade="all, delete-orphan"
    )
    draws: so.Mapped[list["QuizDraw"]] = so.relationship(
        back_populates="quiz", order_by="QuizDraw.id", cascade="all, delete-orphan"
    )

    @property
    def max_score(self) -> Decimal:
        """Points of the fixed questions; drawn questions add their own at start."""
        return sum((q.points for q in self.questions), Decimal(0))

    @property
    def question_count(self) -> int:
        return len(self.questions) + sum(draw.count for draw in self.draws)


class Question(Versioned, db.Model):
    """A question owned by one quiz (``quiz_id``) or kept in a bank category.

    ``answer_key`` holds the key of kinds that have no choices: accepted
    answers per blank (``{"blanks": [[...], ...]}``), accepted short answers
    (``{"answers": [{"text": ..., "score": "100"}]}``) and an essay's scoring
    points (``{"points": [{"text": ..., "max": "2"}]}``).
    """

    __tablename__ = "question"
    __table_args__ = (
        sa.UniqueConstraint("quiz_id", "position"),
        sa.CheckConstraint("points > 0", name="points_positive"),
        sa.CheckConstraint(
            "(quiz_id IS NULL) <> (category_id IS NULL)", name="one_owner"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    quiz_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("quiz.id", ondelete="CASCADE")
    )
    category_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("question_category.id", ondelete="CASCADE"), index=True
    )
    position: so.Mapped[int]
    kind: so.Mapped[QuestionKind] = so.mapped_column(enum_column(QuestionKind))
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    points: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(5, 1), default=Decimal(1))
    scoring: so.Mapped[ChoiceScoring] = so.mapped_column(
        enum_column(ChoiceScoring), default=ChoiceScoring.ALL_OR_NOTHING
    )
    answer_key: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    #: Feedback shown in the review, never before the review allows it.
    explanation: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    quiz: so.Mapped[Optional[Quiz]] = so.relationship(back_populates="questions")
    category: so.Mapped[Optional[QuestionCategory]] = so.relationship(
        back_populates="questions"
    )
    choices: so.Mapped[list["Choice"]] = so.relationship(
        back_populates="question", order_by="Choice.position", cascade="all, delete-orphan"
    )
    tags: so.Mapped[list["QuestionTag"]] = so.relationship(
        back_populates="question",
        order_by="QuestionTag.id",
        cascade="all, delete-orphan",
    )

    def tags_of(self, kind: TagKind) -> list[str]:
        return [tag.value for tag in self.tags if tag.kind is kind]


class QuestionTag(db.Model):
    __tablename__ = "question_tag"
    __table_args__ = (sa.UniqueConstraint("question_id", "kind", "value"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("question.id", ondelete="CASCADE")
    )
    kind: so.Mapped[TagKind] = so.mapped_column(enum_column(TagKind))
    value: so.Mapped[str] = so.mapped_column(sa.String(100), index=True)

    question: so.Mapped[Question] = so.relationship(back_populates="tags")


class Choice(db.Model):
    """An option of a choice question, an item to order, or a matching pair."""

    __tablename__ = "choice"
    __table_args__ = (sa.UniqueConstraint("question_id", "position"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("question.id", ondelete="CASCADE")
    )
    #: For ordering questions, the item's place in the correct order.
    position: so.Mapped[int]
    text: so.Mapped[str] = so.mapped_column(sa.String(500))
    is_correct: so.Mapped[bool] = so.mapped_column(default=False)
    #: Matching questions: the answer that ``text`` pairs with.
    match_text: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
    #: Shown in the review to a learner who picked this choice.
    feedback: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")

    question: so.Mapped[Question] = so.relationship(back_populates="choices")

    @property
    def label(self) -> str:
        """The text shown to learners: true/false choices in the reader's language."""
        if self.question.kind is QuestionKind.TRUE_FALSE:
            if self.text == TRUE_VALUE:
                return gettext("True")
            if self.text == FALSE_VALUE:
                return gettext("False")
        return self.text


class QuizDraw(db.Model):
    """``count`` questions picked at random from a bank category for each attempt."""

    __tablename__ = "quiz_draw"
    __table_args__ = (
        sa.UniqueConstraint("quiz_id", "category_id"),
        sa.CheckConstraint("count > 0", name="count_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    quiz_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("quiz.id", ondelete="CASCADE")
    )
    category_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("question_category.id", ondelete="CASCADE"), index=True
    )
    count: so.Mapped[int]
    include_subcategories: so.Mapped[bool] = so.mapped_column(default=True)

    quiz: so.Mapped[Quiz] = so.relationship(back_populates="draws")
    category: so.Mapped[QuestionCategory] = so.relationship()


class QuizGrant(db.Model):
    """Extra time and attempts that a trainer gave one learner on one quiz."""

    __tablename__ = "quiz_grant"
    __table_args__ = (
        sa.UniqueConstraint("quiz_id", "user_id"),
        sa.CheckConstraint("extra_minutes >= 0", name="extra_minutes_nonnegative"),
        sa.CheckConstraint("extra_attempts >= 0", name="extra_attempts_nonnegative"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    quiz_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("quiz.id", ondelete="CASCADE")
    )
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    extra_minutes: so.Mapped[int] = so.mapped_column(default=0)
    extra_attempts: so.Mapped[int] = so.mapped_column(default=0)
    reason: so.Mapped[str] = so.mapped_column(sa.String(500), default="")
    granted_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id"))
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])


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
        sa.ForeignKey("quiz.id", ondelete="CASCADE")
    )
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    number: so.Mapped[int]
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    submitted_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    score: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(12, 4))
    max_score: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(12, 4))
    passed: so.Mapped[bool] = so.mapped_column(default=False)
    #: True while essays of a submitted attempt wait for a trainer's grade.
    needs_grading: so.Mapped[bool] = so.mapped_column(default=False)
    #: True when the time ran out and the server closed the attempt at its deadline.
    closed_at_deadline: so.Mapped[bool] = so.mapped_column(default=False)

    quiz: so.Mapped[Quiz] = so.relationship()
    user: so.Mapped[User] = so.relationship()
    questions: so.Mapped[list["AttemptQuestion"]] = so.relationship(
        back_populates="attempt",
        order_by="AttemptQuestion.position",
        cascade="all, delete-orphan",
    )
    answers: so.Mapped[list["AttemptAnswer"]] = so.relationship(
        back_populates="attempt", cascade="all, delete-orphan"
    )

    @property
    def percent(self) -> Optional[Decimal]:
        if self.score is None or not self.max_score:
            return None
        return (self.score * 100 / self.max_score).quantize(Decimal("0.1"))


class AttemptQuestion(db.Model):
    """A question as one attempt asks it: its place and the order of its options.

    Fixed at the start, so a reload, a resume or a second tab shows the same
    draw and the same shuffle.
    """

    __tablename__ = "attempt_question"
    __table_args__ = (
        sa.UniqueConstraint("attempt_id", "position"),
        sa.UniqueConstraint("attempt_id", "question_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    attempt_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("attempt.id", ondelete="CASCADE")
    )
    question_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("question.id"), index=True
    )
    position: so.Mapped[int]
    #: Choice ids in the order shown (matching: the left-hand items).
    choice_order: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    #: Matching only: the right-hand answers in the order the list offers them.
    match_options: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)

    attempt: so.Mapped[Attempt] = so.relationship(back_populates="questions")
    question: so.Mapped[Question] = so.relationship()


class AttemptAnswer(db.Model):
    """A learner's answer to one question of an attempt, saved as they go."""

    __tablename__ = "attempt_answer"
    __table_args__ = (sa.UniqueConstraint("attempt_id", "question_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    attempt_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("attempt.id", ondelete="CASCADE")
    )
    question_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("question.id"))
    #: The answer in the shape its question kind reads; None when unanswered.
    response: so.Mapped[Optional[object]] = so.mapped_column(sa.JSON)
    #: When the response last changed. A response changed after the
    #: deadline and its grace does not count.
    saved_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    #: None until graded; essays stay None until a trainer grades them.
    awarded: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(12, 4))
    #: Essays: points per scoring point as decimal strings, in the key's order.
    point_scores: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    graded_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id"))
    graded_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    #: Number of grades saved, raised by ``lms.revisions.advance``. It is not a
    #: ``Versioned`` lock, because that would also reject a learner's
    #: concurrent autosaves of the answer.
    grade_version: so.Mapped[int] = so.mapped_column(default=0, server_default=sa.text("0"))

    attempt: so.Mapped[Attempt] = so.relationship(back_populates="answers")
    question: so.Mapped[Question] = so.relationship()


class PendingQuestionImport(db.Model):
    """An uploaded question file kept between its preview and its confirmation."""

    __tablename__ = "question_pending_import"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    bank_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("question_bank.id", ondelete="CASCADE"), index=True
    )
    category_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("question_category.id", ondelete="CASCADE")
    )
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    #: One of ``transfer.IMPORT_FORMATS``.
    format: so.Mapped[str] = so.mapped_column(sa.String(16))
    #: Name of the file in the ``question_imports`` upload area.
    stored_name: so.Mapped[str] = so.mapped_column(sa.String(200))
    #: The name the file had on the trainer's computer, shown in messages.
    filename: so.Mapped[str] = so.mapped_column(sa.String(200))
    imported_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
