import enum
from datetime import datetime
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from lms.accounts.models import User
from lms.competencies.models import CompetencyItem
from lms.db import UTCDateTime, enum_column, now_utc
from lms.extensions import db
from lms.records.models import TrainingKind, TrainingTier


class PublicationStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class TargetLevel(enum.Enum):
    JUNIOR = "junior"  # 初级
    INTERMEDIATE = "intermediate"  # 中级
    SENIOR = "senior"  # 高级


class LessonKind(enum.Enum):
    TEXT = "text"
    VIDEO = "video"
    FILE = "file"
    OFFLINE = "offline"


course_competency = sa.Table(
    "course_competency",
    db.metadata,
    sa.Column("course_id", sa.ForeignKey("course.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "item_id", sa.ForeignKey("competency_item.id", ondelete="CASCADE"), primary_key=True
    ),
)


class Programme(db.Model):
    """A tiered training programme, e.g. 初级辅导员岗位培训, made of courses."""

    __tablename__ = "programme"
    __table_args__ = (sa.UniqueConstraint("institution_id", "code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id"), index=True
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    summary: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    tier: so.Mapped[TrainingTier] = so.mapped_column(enum_column(TrainingTier))
    kind: so.Mapped[TrainingKind] = so.mapped_column(enum_column(TrainingKind))
    level: so.Mapped[TargetLevel] = so.mapped_column(enum_column(TargetLevel))
    #: Free-text audience, e.g. "专职辅导员、兼职辅导员".
    audience: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    status: so.Mapped[PublicationStatus] = so.mapped_column(
        enum_column(PublicationStatus), default=PublicationStatus.DRAFT
    )
    #: Months a certificate for this programme stays valid; None never expires.
    certificate_validity_months: so.Mapped[Optional[int]]

    courses: so.Mapped[list["ProgrammeCourse"]] = so.relationship(
        back_populates="programme",
        order_by="ProgrammeCourse.position",
        cascade="all, delete-orphan",
    )

    @property
    def total_hours(self) -> Decimal:
        return sum((pc.course.credit_hours for pc in self.courses), Decimal(0))

    def __repr__(self) -> str:
        return f"<Programme {self.id} {self.code}>"


class ProgrammeCourse(db.Model):
    __tablename__ = "programme_course"
    __table_args__ = (sa.UniqueConstraint("programme_id", "course_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    programme_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programme.id", ondelete="CASCADE")
    )
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id"), index=True)
    position: so.Mapped[int]
    required: so.Mapped[bool] = so.mapped_column(default=True)

    programme: so.Mapped[Programme] = so.relationship(back_populates="courses")
    course: so.Mapped["Course"] = so.relationship()


class Course(db.Model):
    __tablename__ = "course"
    __table_args__ = (
        sa.UniqueConstraint("institution_id", "code"),
        sa.CheckConstraint("credit_hours > 0", name="credit_hours_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id"), index=True
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    summary: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    #: 学时 credited on completion.
    credit_hours: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(5, 1))
    status: so.Mapped[PublicationStatus] = so.mapped_column(
        enum_column(PublicationStatus), default=PublicationStatus.DRAFT
    )

    lessons: so.Mapped[list["Lesson"]] = so.relationship(
        back_populates="course", order_by="Lesson.position", cascade="all, delete-orphan"
    )
    competencies: so.Mapped[list[CompetencyItem]] = so.relationship(
        secondary=course_competency, order_by=CompetencyItem.code
    )

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.code}>"


class Lesson(db.Model):
    __tablename__ = "lesson"
    __table_args__ = (sa.UniqueConstraint("course_id", "position"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True
    )
    position: so.Mapped[int]
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    kind: so.Mapped[LessonKind] = so.mapped_column(
        enum_column(LessonKind), default=LessonKind.TEXT
    )
    #: Sanitised HTML (nh3) for text lessons; never rendered unsanitised.
    body_html: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    #: Expected study time, shown to the learner.
    duration_minutes: so.Mapped[int] = so.mapped_column(default=45)
    #: External https address of a video lesson; videos are not uploaded.
    video_url: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
    #: Start of an offline session (面授), stored in UTC.
    session_starts_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    #: Where an offline session takes place, e.g. a building and room.
    session_place: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))

    course: so.Mapped[Course] = so.relationship(back_populates="lessons")


class Enrolment(db.Model):
    """A learner's place in a programme; completion is set once, by the service."""

    __tablename__ = "enrolment"
    __table_args__ = (sa.UniqueConstraint("user_id", "programme_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    programme_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programme.id"), index=True
    )
    enrolled_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    completed_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    user: so.Mapped[User] = so.relationship()
    programme: so.Mapped[Programme] = so.relationship()


class LessonProgress(db.Model):
    __tablename__ = "lesson_progress"
    __table_args__ = (sa.UniqueConstraint("user_id", "lesson_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    lesson_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("lesson.id", ondelete="CASCADE"), index=True
    )
    completed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)


class CourseCompletion(db.Model):
    """A learner completed a course; unique per learner and course."""

    __tablename__ = "course_completion"
    __table_args__ = (sa.UniqueConstraint("user_id", "course_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id"), index=True)
    #: The enrolment through which the course was taken; gives tier and kind.
    enrolment_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("enrolment.id"))
    completed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    hours: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(5, 1))

    course: so.Mapped[Course] = so.relationship()
