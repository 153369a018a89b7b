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
from lms.revisions import Versioned
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


#: Courses of a programme that must be completed before another can be started.
programme_course_prerequisite = sa.Table(
    "programme_course_prerequisite",
    db.metadata,
    sa.Column(
        "link_id",
        sa.ForeignKey("programme_course.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "prerequisite_id",
        sa.ForeignKey("programme_course.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.CheckConstraint("link_id <> prerequisite_id", name="not_self"),
)

course_competency = sa.Table(
    "course_competency",
    db.metadata,
    sa.Column("course_id", sa.ForeignKey("course.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "item_id", sa.ForeignKey("competency_item.id", ondelete="CASCADE"), primary_key=True
    ),
)


class Programme(Versioned, db.Model):
    """A tiered training programme, e.g. 初级辅导员岗位培训, made of courses."""

    __tablename__ = "programme"
    __table_args__ = (
        sa.UniqueConstraint("institution_id", "code"),
        sa.CheckConstraint("min_elective_hours >= 0", name="min_elective_hours_valid"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id")
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    summary: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    tier: so.Mapped[TrainingTier] = so.mapped_column(enum_column(TrainingTier))
    kind: so.Mapped[TrainingKind] = so.mapped_column(enum_column(TrainingKind))
    level: so.Mapped[TargetLevel] = so.mapped_column(enum_column(TargetLevel))
    #: Free-text note on the audience, e.g. "入职三年以上的专职辅导员".
    audience: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    #: The posts the programme is meant for, as ``Post`` values.
    audience_posts: so.Mapped[list[str]] = so.mapped_column(
        sa.JSON, default=list, server_default="[]"
    )
    #: 学时 of elective courses a learner must complete on top of every required one.
    min_elective_hours: so.Mapped[Decimal] = so.mapped_column(
        sa.Numeric(5, 1), default=Decimal(0), server_default="0"
    )
    status: so.Mapped[PublicationStatus] = so.mapped_column(
        enum_column(PublicationStatus), default=PublicationStatus.DRAFT
    )
    #: Months a certificate for this programme stays valid; None never expires.
    certificate_validity_months: so.Mapped[Optional[int]]
    #: The user who created the programme or copied it from another. The
    #: author and the administrators of its institution change and publish
    #: it, and without an author only administrators do.
    author_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )

    author: so.Mapped[Optional[User]] = so.relationship(foreign_keys=[author_id])
    courses: so.Mapped[list["ProgrammeCourse"]] = so.relationship(
        back_populates="programme",
        order_by="ProgrammeCourse.position",
        cascade="all, delete-orphan",
    )

    @property
    def total_hours(self) -> Decimal:
        """学时 of the required courses plus the minimum of elective hours."""
        required = sum(
            (pc.course.credit_hours for pc in self.courses if pc.required), Decimal(0)
        )
        return required + (self.min_elective_hours or Decimal(0))

    @property
    def elective_hours_offered(self) -> Decimal:
        return sum(
            (pc.course.credit_hours for pc in self.courses if not pc.required),
            Decimal(0),
        )

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
    #: Courses of the same programme to complete before this one can be started.
    prerequisites: so.Mapped[list["ProgrammeCourse"]] = so.relationship(
        secondary=programme_course_prerequisite,
        primaryjoin=lambda: ProgrammeCourse.id
        == programme_course_prerequisite.c.link_id,
        secondaryjoin=lambda: ProgrammeCourse.id
        == programme_course_prerequisite.c.prerequisite_id,
        order_by="ProgrammeCourse.position",
    )


class Course(Versioned, db.Model):
    """A course version. Versions of one course share its code.

    A published version is never edited: a change is made on a new draft
    version that names its predecessor in ``previous_version_id``.
    """

    __tablename__ = "course"
    __table_args__ = (
        sa.UniqueConstraint("institution_id", "code", "version"),
        sa.CheckConstraint("credit_hours > 0", name="credit_hours_positive"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id")
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    summary: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    #: 学时 credited on completion.
    credit_hours: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(5, 1))
    status: so.Mapped[PublicationStatus] = so.mapped_column(
        enum_column(PublicationStatus), default=PublicationStatus.DRAFT
    )
    version: so.Mapped[int] = so.mapped_column(default=1, server_default="1")
    previous_version_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("course.id"), index=True
    )
    #: The user who created this version: the course's first author, the
    #: drafter of a new version, or the user who copied another course.
    #: Authors of any version teach the course (see ``courses.teaching``).
    #: An administrator can change it on the course's Teachers page.
    author_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL"), index=True
    )

    lessons: so.Mapped[list["Lesson"]] = so.relationship(
        back_populates="course", order_by="Lesson.position", cascade="all, delete-orphan"
    )
    modules: so.Mapped[list["CourseModule"]] = so.relationship(
        back_populates="course",
        order_by="CourseModule.position",
        cascade="all, delete-orphan",
    )
    previous_version: so.Mapped[Optional["Course"]] = so.relationship(
        remote_side=lambda: Course.id
    )
    competencies: so.Mapped[list[CompetencyItem]] = so.relationship(
        secondary=course_competency, order_by=CompetencyItem.code
    )

    def __repr__(self) -> str:
        return f"<Course {self.id} {self.code}>"


class CourseTeacher(db.Model):
    """A trainer who teaches a course beside its author, added on its Teachers page.

    The row names one version, and its trainer teaches every version of the
    course, as an author does (see ``courses.teaching``).
    """

    __tablename__ = "course_teacher"
    __table_args__ = (sa.UniqueConstraint("course_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE")
    )
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    added_by_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="SET NULL")
    )
    added_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<CourseTeacher {self.id} course={self.course_id} user={self.user_id}>"


class CourseModule(Versioned, db.Model):
    """A section of a course that groups consecutive lessons under a title."""

    __tablename__ = "course_module"
    __table_args__ = (sa.UniqueConstraint("course_id", "position"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE")
    )
    position: so.Mapped[int]
    title: so.Mapped[str] = so.mapped_column(sa.String(200))

    course: so.Mapped[Course] = so.relationship(back_populates="modules")

    def __repr__(self) -> str:
        return f"<CourseModule {self.id} {self.title!r}>"


class Lesson(Versioned, db.Model):
    """A lesson. Lessons of a module are consecutive in ``position`` order."""

    __tablename__ = "lesson"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "position"),
        sa.CheckConstraint(
            "(file_name IS NULL) = (file_media_type IS NULL)", name="file_complete"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    course_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE")
    )
    position: so.Mapped[int]
    module_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("course_module.id", ondelete="SET NULL"), index=True
    )
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    kind: so.Mapped[LessonKind] = so.mapped_column(
        enum_column(LessonKind), default=LessonKind.TEXT
    )
    #: Sanitised HTML (nh3) for text lessons; never rendered unsanitised.
    body_html: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    #: Expected study time, shown to the learner.
    duration_minutes: so.Mapped[int] = so.mapped_column(default=45)
    #: External https address of a video lesson without an uploaded file.
    video_url: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
    #: Generated name of the uploaded video or attachment in the "lessons" area.
    file_name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    #: Name of the file on the trainer's computer, used as the download name.
    file_original_name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    file_media_type: so.Mapped[Optional[str]] = so.mapped_column(sa.String(120))
    file_size: so.Mapped[Optional[int]]
    #: Start of an offline session (面授), stored in UTC.
    session_starts_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    #: Where an offline session takes place, e.g. a building and room.
    session_place: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))

    course: so.Mapped[Course] = so.relationship(back_populates="lessons")
    module: so.Mapped[Optional[CourseModule]] = so.relationship()


class Enrolment(db.Model):
    """A learner's place in a programme; completion is set once, by the service."""

    __tablename__ = "enrolment"
    __table_args__ = (sa.UniqueConstraint("user_id", "programme_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    programme_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programme.id"), index=True
    )
    enrolled_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    completed_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    user: so.Mapped[User] = so.relationship()
    programme: so.Mapped[Programme] = so.relationship()
    pins: so.Mapped[list["EnrolmentCourse"]] = so.relationship(
        back_populates="enrolment", cascade="all, delete-orphan"
    )


class EnrolmentCourse(db.Model):
    """The course version an enrolment follows for one course of its programme.

    Set when the learner enrols (and, for enrolments without one, before a
    programme moves to a newer course version), so a learner keeps the
    content and hours of the version they started.
    """

    __tablename__ = "enrolment_course"
    __table_args__ = (sa.UniqueConstraint("enrolment_id", "programme_course_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    enrolment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("enrolment.id", ondelete="CASCADE")
    )
    programme_course_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programme_course.id", ondelete="CASCADE"), index=True
    )
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id"), index=True)

    enrolment: so.Mapped[Enrolment] = so.relationship(back_populates="pins")
    course: so.Mapped[Course] = so.relationship()


class CourseVisit(db.Model):
    """A learner's last place in a course: the lesson and the position in it."""

    __tablename__ = "course_visit"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "course_id"),
        sa.CheckConstraint(
            "position_permille >= 0 AND position_permille <= 1000",
            name="position_valid",
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE")
    )
    course_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("course.id", ondelete="CASCADE"), index=True
    )
    lesson_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("lesson.id", ondelete="CASCADE")
    )
    #: Position in the lesson in thousandths: of the page height for text,
    #: of the running time for an uploaded video.
    position_permille: so.Mapped[int] = so.mapped_column(default=0)
    visited_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    lesson: so.Mapped["Lesson"] = so.relationship()


class LessonView(db.Model):
    """When a learner first opened a lesson, which starts their time on it."""

    __tablename__ = "lesson_view"
    __table_args__ = (sa.UniqueConstraint("user_id", "lesson_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE")
    )
    lesson_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("lesson.id", ondelete="CASCADE"), index=True
    )
    first_viewed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)


class LessonProgress(db.Model):
    __tablename__ = "lesson_progress"
    __table_args__ = (sa.UniqueConstraint("user_id", "lesson_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    lesson_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("lesson.id", ondelete="CASCADE"), index=True
    )
    completed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)


class CourseCompletion(db.Model):
    """A learner completed a course; unique per learner and course."""

    __tablename__ = "course_completion"
    __table_args__ = (sa.UniqueConstraint("user_id", "course_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    course_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("course.id"), index=True)
    #: The enrolment through which the course was taken; gives tier and kind.
    enrolment_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("enrolment.id"))
    completed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    hours: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(5, 1))

    course: so.Mapped[Course] = so.relationship()
