"""Tables of rubric-scored performance tasks, their score sheets and contests."""

import enum
from datetime import datetime
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from assessments.models import Quiz
from courses.models import Course
from lms.accounts.models import User
from lms.competencies.models import CompetencyItem
from lms.db import UTCDateTime, enum_column, now_utc
from lms.extensions import db
from lms.revisions import Versioned


class TaskKind(enum.Enum):
    """The assessment formats of the counselor competency competition."""

    CASE_ANALYSIS = "case_analysis"  # 案例分析, written
    CASE_DISCUSSION = "case_discussion"  # 案例研讨, pairs with A/B roles
    HEART_TALK = "heart_talk"  # 谈心谈话 role-play, counselor and student role
    CLASS_MEETING = "class_meeting"  # 主题班会, submitted as a video
    SPEECH = "speech"  # 主题演讲 / 理论宣讲
    PORTFOLIO = "portfolio"  # 工作实绩 with evidence files


class Aggregation(enum.Enum):
    """Method that combines the totals of a panel's score sheets into one score."""

    MEAN = "mean"
    TRIMMED_MEAN = "trimmed_mean"  # drop one highest and one lowest
    MEDIAN = "median"


class PairRole(enum.Enum):
    """The slot a candidate drew in a paired case discussion."""

    A = "a"
    B = "b"


class Rubric(Versioned, db.Model):
    """A reusable scoring guide: weighted criteria, each with scored levels."""

    __tablename__ = "rubric"
    __table_args__ = (sa.UniqueConstraint("institution_id", "code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id")
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    description: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    copied_from_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("rubric.id", ondelete="SET NULL")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    criteria: so.Mapped[list["RubricCriterion"]] = so.relationship(
        back_populates="rubric",
        order_by="RubricCriterion.position",
        cascade="all, delete-orphan",
    )

    @property
    def max_points(self) -> Decimal:
        """The total of a sheet that gives every criterion its top level."""
        return sum((c.max_points for c in self.criteria), Decimal(0))

    def __repr__(self) -> str:
        return f"<Rubric {self.id} {self.code}>"


class RubricCriterion(db.Model):
    """One criterion; its score is ``weight`` times the points of the chosen level."""

    __tablename__ = "rubric_criterion"
    __table_args__ = (
        sa.UniqueConstraint("rubric_id", "position"),
        sa.CheckConstraint("weight > 0", name="weight_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    rubric_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("rubric.id", ondelete="CASCADE")
    )
    position: so.Mapped[int]
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    weight: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(8, 4), default=Decimal(1))

    rubric: so.Mapped[Rubric] = so.relationship(back_populates="criteria")
    levels: so.Mapped[list["RubricLevel"]] = so.relationship(
        back_populates="criterion",
        order_by="RubricLevel.position",
        cascade="all, delete-orphan",
    )

    @property
    def max_points(self) -> Decimal:
        top = max((level.points for level in self.levels), default=Decimal(0))
        return self.weight * top


class RubricLevel(db.Model):
    """A level of a criterion: its descriptor and the points it gives."""

    __tablename__ = "rubric_level"
    __table_args__ = (
        sa.UniqueConstraint("criterion_id", "position"),
        sa.CheckConstraint("points >= 0", name="points_not_negative"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    criterion_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("rubric_criterion.id", ondelete="CASCADE")
    )
    position: so.Mapped[int]
    title: so.Mapped[str] = so.mapped_column(sa.String(100))
    descriptor: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    points: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(8, 4))

    criterion: so.Mapped[RubricCriterion] = so.relationship(back_populates="levels")


task_competency = sa.Table(
    "task_competency",
    db.metadata,
    sa.Column(
        "task_id",
        sa.ForeignKey("performance_task.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "item_id",
        sa.ForeignKey("competency_item.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class PerformanceTask(Versioned, db.Model):
    """A rubric-scored task of a course, e.g. a heart-to-heart talk role-play."""

    __tablename__ = "performance_task"
    __table_args__ = (
        sa.CheckConstraint(
            "divergence_margin IS NULL OR divergence_margin >= 0",
            name="divergence_margin_not_negative",
        ),
        sa.CheckConstraint(
            "pass_mark >= 0 AND pass_mark <= 100", name="pass_mark_range"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id"), index=True
    )
    course_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True
    )
    kind: so.Mapped[TaskKind] = so.mapped_column(enum_column(TaskKind))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    instructions: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    rubric_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("rubric.id"))
    #: Rubric of the student role in a heart-to-heart talk; the sheet total
    #: is then the mean of the two role totals.
    student_rubric_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("rubric.id")
    )
    due_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    allow_resubmission: so.Mapped[bool] = so.mapped_column(default=False)
    #: Assessors see an anonymous code instead of the candidate's name.
    blind_candidates: so.Mapped[bool] = so.mapped_column(default=True)
    aggregation: so.Mapped[Aggregation] = so.mapped_column(
        enum_column(Aggregation), default=Aggregation.MEAN
    )
    #: Sheets whose totals differ by more than this many points are flagged.
    divergence_margin: so.Mapped[Optional[Decimal]] = so.mapped_column(
        sa.Numeric(8, 2), default=Decimal(10)
    )
    #: Percentage of the rubric maximum a released score needs to count as passed.
    pass_mark: so.Mapped[int] = so.mapped_column(default=60)
    published: so.Mapped[bool] = so.mapped_column(default=False)
    moderator_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    course: so.Mapped[Course] = so.relationship()
    rubric: so.Mapped[Rubric] = so.relationship(foreign_keys=[rubric_id])
    student_rubric: so.Mapped[Optional[Rubric]] = so.relationship(
        foreign_keys=[student_rubric_id]
    )
    moderator: so.Mapped[User] = so.relationship(foreign_keys=[moderator_id])
    competencies: so.Mapped[list[CompetencyItem]] = so.relationship(
        secondary=task_competency, order_by=CompetencyItem.code
    )
    assessors: so.Mapped[list["TaskAssessor"]] = so.relationship(
        back_populates="task", cascade="all, delete-orphan"
    )

    @property
    def rubrics(self) -> list[Rubric]:
        return [self.rubric] + ([self.student_rubric] if self.student_rubric else [])

    @property
    def max_points(self) -> Decimal:
        """Maximum of a sheet total; role rubrics share one scale."""
        return self.rubric.max_points

    def __repr__(self) -> str:
        return f"<PerformanceTask {self.id} {self.kind.value}>"


class TaskAssessor(db.Model):
    """A member of a task's assessor panel."""

    __tablename__ = "task_assessor"
    __table_args__ = (sa.UniqueConstraint("task_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    task_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("performance_task.id", ondelete="CASCADE")
    )
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)

    task: so.Mapped[PerformanceTask] = so.relationship(back_populates="assessors")
    user: so.Mapped[User] = so.relationship()


class TaskSubmission(db.Model):
    """One submission of a learner; a resubmission is the next ``number``.

    The moderator's decision (``final_score`` and its reason) and the release
    to the learner (``released_at``) live here; released implies a final score.
    """

    __tablename__ = "task_submission"
    __table_args__ = (
        sa.UniqueConstraint("task_id", "user_id", "number"),
        sa.UniqueConstraint("anonymous_code"),
        sa.CheckConstraint(
            "released_at IS NULL OR final_score IS NOT NULL", name="released_has_score"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    task_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("performance_task.id", ondelete="CASCADE")
    )
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    number: so.Mapped[int] = so.mapped_column(default=1)
    #: Shown to assessors of a blind task instead of the name.
    anonymous_code: so.Mapped[str] = so.mapped_column(sa.String(16))
    submitted_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    text: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    video_url: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
    pair_role: so.Mapped[Optional[PairRole]] = so.mapped_column(enum_column(PairRole))
    pair_group: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))

    final_score: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(10, 4))
    final_reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    feedback: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    moderated_by_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("user.id")
    )
    moderated_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    #: Number of final scores saved, raised by ``lms.revisions.advance``.
    grade_version: so.Mapped[int] = so.mapped_column(default=0, server_default=sa.text("0"))
    released_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    task: so.Mapped[PerformanceTask] = so.relationship()
    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])
    files: so.Mapped[list["SubmissionFile"]] = so.relationship(
        back_populates="submission", cascade="all, delete-orphan"
    )
    sheets: so.Mapped[list["ScoreSheet"]] = so.relationship(
        back_populates="submission", cascade="all, delete-orphan"
    )


class PairDraw(db.Model):
    """The group and A/B role a candidate of a paired case discussion was drawn.

    In the competition's 案例研讨 the organisers draw the pairs and their
    roles; candidates do not choose them. A group contains at most one A and
    one B.
    """

    __tablename__ = "task_pair_draw"
    __table_args__ = (
        sa.UniqueConstraint("task_id", "user_id"),
        sa.UniqueConstraint("task_id", "pair_group", "pair_role"),
        sa.CheckConstraint("pair_group > 0", name="pair_group_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    task_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("performance_task.id", ondelete="CASCADE"), index=True
    )
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    pair_group: so.Mapped[int]
    pair_role: so.Mapped[PairRole] = so.mapped_column(enum_column(PairRole))
    drawn_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    drawn_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))

    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])


class SubmissionFile(db.Model):
    """An evidence or video file stored through ``lms.uploads``."""

    __tablename__ = "task_submission_file"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    submission_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("task_submission.id", ondelete="CASCADE"), index=True
    )
    stored_name: so.Mapped[str] = so.mapped_column(sa.String(64))
    original_name: so.Mapped[str] = so.mapped_column(sa.String(255))
    media_type: so.Mapped[str] = so.mapped_column(sa.String(100))
    size: so.Mapped[int]

    submission: so.Mapped[TaskSubmission] = so.relationship(back_populates="files")


class ScoreSheet(db.Model):
    """One assessor's scoring of one submission, created unscored on assignment."""

    __tablename__ = "score_sheet"
    __table_args__ = (sa.UniqueConstraint("submission_id", "assessor_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    submission_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("task_submission.id", ondelete="CASCADE")
    )
    assessor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    #: Set when the assessor saves a complete sheet; None means still to score.
    scored_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    submission: so.Mapped[TaskSubmission] = so.relationship(back_populates="sheets")
    assessor: so.Mapped[User] = so.relationship()
    marks: so.Mapped[list["CriterionMark"]] = so.relationship(
        back_populates="sheet", cascade="all, delete-orphan"
    )


class CriterionMark(db.Model):
    """The level an assessor chose for one criterion."""

    __tablename__ = "criterion_mark"
    __table_args__ = (sa.UniqueConstraint("sheet_id", "criterion_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    sheet_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("score_sheet.id", ondelete="CASCADE")
    )
    criterion_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("rubric_criterion.id"), index=True
    )
    level_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("rubric_level.id"))

    sheet: so.Mapped[ScoreSheet] = so.relationship(back_populates="marks")
    criterion: so.Mapped[RubricCriterion] = so.relationship()
    level: so.Mapped[RubricLevel] = so.relationship()


class AwardMode(enum.Enum):
    """How a contest turns totals into 一/二/三等奖."""

    RANK_SHARE = "rank_share"  # a percentage of the entrants per tier, by rank
    THRESHOLD = "threshold"  # a minimum weighted total per tier
    RANK_COUNT = "rank_count"  # a number of places per tier, by rank


class Contest(Versioned, db.Model):
    """A competency competition (素质能力大赛): weighted events and award tiers.

    Tier values are percentages of the entrants in ``RANK_SHARE`` mode,
    minimum weighted totals (out of 100) in ``THRESHOLD`` mode, and numbers
    of places in ``RANK_COUNT`` mode.
    """

    __tablename__ = "contest"
    __table_args__ = (
        sa.CheckConstraint(
            "first_tier >= 0 AND second_tier >= 0 AND third_tier >= 0",
            name="tiers_not_negative",
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id"), index=True
    )
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    award_mode: so.Mapped[AwardMode] = so.mapped_column(
        enum_column(AwardMode), default=AwardMode.RANK_SHARE
    )
    first_tier: so.Mapped[Decimal] = so.mapped_column(
        sa.Numeric(6, 2), default=Decimal(10)
    )
    second_tier: so.Mapped[Decimal] = so.mapped_column(
        sa.Numeric(6, 2), default=Decimal(20)
    )
    third_tier: so.Mapped[Decimal] = so.mapped_column(
        sa.Numeric(6, 2), default=Decimal(30)
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    #: The user who created the contest. The owner and the administrators of
    #: its institution manage it, and without an owner only administrators do.
    owner_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )

    owner: so.Mapped[Optional[User]] = so.relationship(foreign_keys=[owner_id])
    events: so.Mapped[list["ContestEvent"]] = so.relationship(
        back_populates="contest",
        order_by="ContestEvent.position",
        cascade="all, delete-orphan",
    )
    entrants: so.Mapped[list["ContestEntrant"]] = so.relationship(
        back_populates="contest", cascade="all, delete-orphan"
    )


class ContestEvent(db.Model):
    """One event of a contest: a performance task or a quiz, with its weight."""

    __tablename__ = "contest_event"
    __table_args__ = (
        sa.UniqueConstraint("contest_id", "position"),
        sa.CheckConstraint("weight > 0", name="weight_positive"),
        sa.CheckConstraint(
            "(task_id IS NULL) != (quiz_id IS NULL)", name="task_xor_quiz"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    contest_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("contest.id", ondelete="CASCADE")
    )
    position: so.Mapped[int]
    weight: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(6, 2))
    task_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("performance_task.id", ondelete="CASCADE")
    )
    quiz_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("quiz.id", ondelete="CASCADE")
    )

    contest: so.Mapped[Contest] = so.relationship(back_populates="events")
    task: so.Mapped[Optional[PerformanceTask]] = so.relationship()
    quiz: so.Mapped[Optional[Quiz]] = so.relationship()

    @property
    def title(self) -> str:
        return self.task.title if self.task is not None else self.quiz.title


class ContestEntrant(db.Model):
    __tablename__ = "contest_entrant"
    __table_args__ = (sa.UniqueConstraint("contest_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    contest_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("contest.id", ondelete="CASCADE")
    )
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)

    contest: so.Mapped[Contest] = so.relationship(back_populates="entrants")
    user: so.Mapped[User] = so.relationship()
