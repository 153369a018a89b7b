"""Training classes (培训班): cohorts that take a programme or a course together."""

import enum
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from courses.models import Course, Enrolment, Lesson, Programme
from lms.accounts.models import User
from lms.db import UTCDateTime, enum_column, now_utc
from lms.extensions import db
from lms.revisions import Versioned
from lms.records.models import TrainingKind, TrainingTier


class ClassStatus(enum.Enum):
    DRAFT = "draft"
    #: Visible to learners of the institution, who may enrol themselves.
    OPEN = "open"
    #: Enrolment has ended, but sessions and attendance go on.
    CLOSED = "closed"
    CANCELLED = "cancelled"


class EnrolmentMode(enum.Enum):
    ASSIGNED = "assigned"
    SELF = "self"
    APPROVAL = "approval"


class MemberStatus(enum.Enum):
    #: Requested a place in a class that needs approval, not yet decided.
    PENDING = "pending"
    #: On the waiting list because the class was full.
    WAITING = "waiting"
    ENROLLED = "enrolled"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"


class WithdrawalReason(enum.Enum):
    """Reason a member was withdrawn from a class."""

    #: The member left the class themselves.
    SELF = "self"
    #: A trainer or administrator took the member off the roster.
    TRAINER = "trainer"
    #: The member missed more of the class's time than its leave limit allows.
    LEAVE_LIMIT = "leave_limit"


class SessionLength(enum.Enum):
    HALF_DAY = "half_day"
    FULL_DAY = "full_day"


class AttendanceStatus(enum.Enum):
    PRESENT = "present"
    LATE = "late"
    EXCUSED = "excused"
    ABSENT = "absent"

    @property
    def earns_hours(self) -> bool:
        return self in (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


class_trainer = sa.Table(
    "class_trainer",
    db.metadata,
    sa.Column(
        "class_id", sa.ForeignKey("training_class.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class TrainingClass(Versioned, db.Model):
    """A class offering one programme or one course to a cohort over a period."""

    __tablename__ = "training_class"
    __table_args__ = (
        sa.UniqueConstraint("institution_id", "code"),
        sa.CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        sa.CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        sa.CheckConstraint(
            "(programme_id IS NULL) <> (course_id IS NULL)", name="offers_one_thing"
        ),
        sa.CheckConstraint(
            "full_day_hours IS NULL OR full_day_hours > 0", name="full_day_hours_positive"
        ),
        sa.CheckConstraint(
            "half_day_hours IS NULL OR half_day_hours > 0", name="half_day_hours_positive"
        ),
        sa.CheckConstraint(
            "(leave_limit_num IS NULL AND leave_limit_den IS NULL)"
            " OR (leave_limit_num > 0 AND leave_limit_den > leave_limit_num)",
            name="leave_limit_fraction",
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id")
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    summary: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    programme_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("programme.id"), index=True
    )
    course_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("course.id"), index=True
    )
    starts_on: so.Mapped[date]
    ends_on: so.Mapped[date]
    #: Maximum number of enrolled learners; None means no limit.
    capacity: so.Mapped[Optional[int]]
    enrolment_mode: so.Mapped[EnrolmentMode] = so.mapped_column(
        enum_column(EnrolmentMode), default=EnrolmentMode.ASSIGNED
    )
    status: so.Mapped[ClassStatus] = so.mapped_column(
        enum_column(ClassStatus), default=ClassStatus.DRAFT
    )
    #: Tier and kind of the 学时 that attended sessions earn.
    tier: so.Mapped[TrainingTier] = so.mapped_column(
        enum_column(TrainingTier), default=TrainingTier.SCHOOL
    )
    kind: so.Mapped[Optional[TrainingKind]] = so.mapped_column(enum_column(TrainingKind))
    #: 学时 for an attended full-day or half-day session. None uses the
    #: institution-wide default (CLASS_FULL_DAY_HOURS, CLASS_HALF_DAY_HOURS).
    full_day_hours: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(4, 1))
    half_day_hours: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(4, 1))
    #: Off-the-job training (脱产培训): the members leave their posts for the
    #: class, so the cadre-training rule on leave applies to it.
    off_the_job: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    #: Largest share of the scheduled session time a member may miss
    #: (excused or absent), as the fraction num/den below 1. None means no
    #: limit. Beyond it the member is withdrawn (``courses.class_leave``).
    leave_limit_num: so.Mapped[Optional[int]]
    leave_limit_den: so.Mapped[Optional[int]]
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    programme: so.Mapped[Optional[Programme]] = so.relationship()
    course: so.Mapped[Optional[Course]] = so.relationship()
    trainers: so.Mapped[list[User]] = so.relationship(
        secondary=class_trainer, order_by=User.full_name
    )
    members: so.Mapped[list["ClassMember"]] = so.relationship(
        back_populates="training_class", order_by="ClassMember.requested_at"
    )
    sessions: so.Mapped[list["ClassSession"]] = so.relationship(
        back_populates="training_class",
        order_by="(ClassSession.held_on, ClassSession.id)",
        cascade="all, delete-orphan",
    )

    @property
    def leave_limit(self) -> Optional[Fraction]:
        """Return the share of scheduled time a member may miss, or None for no limit."""
        if self.leave_limit_num is None or self.leave_limit_den is None:
            return None
        return Fraction(self.leave_limit_num, self.leave_limit_den)

    @property
    def offered_courses(self) -> list[Course]:
        if self.programme is not None:
            return [link.course for link in self.programme.courses]
        return [self.course] if self.course is not None else []

    def __repr__(self) -> str:
        return f"<TrainingClass {self.id} {self.code}>"


class ClassMember(db.Model):
    """A person's place in a class, from request to enrolment or withdrawal."""

    __tablename__ = "class_member"
    __table_args__ = (sa.UniqueConstraint("class_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    class_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("training_class.id", ondelete="CASCADE")
    )
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    status: so.Mapped[MemberStatus] = so.mapped_column(enum_column(MemberStatus))
    #: When the person asked or was added; orders the waiting list.
    requested_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    enrolled_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    decided_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    decided_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id"))
    #: How the person came in: "hand", "rule", "import" or "self".
    source: so.Mapped[str] = so.mapped_column(sa.String(16), default="hand")
    #: The programme enrolment made for a class that offers a programme.
    enrolment_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("enrolment.id"))
    #: Reason the member was withdrawn. None for other states and for
    #: withdrawals recorded before reasons were kept.
    withdrawal_reason: so.Mapped[Optional[WithdrawalReason]] = so.mapped_column(
        enum_column(WithdrawalReason)
    )

    training_class: so.Mapped[TrainingClass] = so.relationship(back_populates="members")
    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])
    enrolment: so.Mapped[Optional[Enrolment]] = so.relationship()


class ClassSession(Versioned, db.Model):
    """An offline session (面授) of a class on one day."""

    __tablename__ = "class_session"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    class_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("training_class.id", ondelete="CASCADE"), index=True
    )
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    held_on: so.Mapped[date]
    length: so.Mapped[SessionLength] = so.mapped_column(enum_column(SessionLength))
    place: so.Mapped[str] = so.mapped_column(sa.String(200), default="")
    #: The offline lesson this session delivers, if the course has one.
    lesson_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("lesson.id", ondelete="SET NULL")
    )

    training_class: so.Mapped[TrainingClass] = so.relationship(back_populates="sessions")
    lesson: so.Mapped[Optional[Lesson]] = so.relationship()
    attendance: so.Mapped[list["Attendance"]] = so.relationship(
        back_populates="session", cascade="all, delete-orphan"
    )


class Attendance(db.Model):
    """One learner's mark on a session's attendance sheet.

    ``credited_hours`` is the net 学时 the hours ledger contains for this
    mark. Re-marking writes only the difference, and a conditional update on
    this column makes sure one request writes it.
    """

    __tablename__ = "class_attendance"
    __table_args__ = (sa.UniqueConstraint("session_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    session_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("class_session.id", ondelete="CASCADE")
    )
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    status: so.Mapped[AttendanceStatus] = so.mapped_column(enum_column(AttendanceStatus))
    credited_hours: so.Mapped[Decimal] = so.mapped_column(
        sa.Numeric(5, 1), default=Decimal(0)
    )
    marked_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id"))
    marked_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    session: so.Mapped[ClassSession] = so.relationship(back_populates="attendance")
    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])


class PendingImport(db.Model):
    """A parsed roster upload kept between its preview and its confirmation."""

    __tablename__ = "class_pending_import"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    class_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("training_class.id", ondelete="CASCADE"), index=True
    )
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    filename: so.Mapped[str] = so.mapped_column(sa.String(200))
    encoding: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    #: Normalised rows: [{"row": 2, "employee_no": ..., "full_name": ..., ...}].
    rows: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    #: Problems found at upload: [{"row": 3, "column": "工号", "code": ...}].
    problems: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    confirmed_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
