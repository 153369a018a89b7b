import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from lms.accounts.models import User
from lms.db import UTCDateTime, enum_column, now_utc
from lms.extensions import db
from lms.stored_text import render_stored


class TrainingTier(enum.Enum):
    """Organiser level of a training: the school, the province or the ministry."""

    SCHOOL = "school"
    PROVINCIAL = "provincial"
    NATIONAL = "national"


class TrainingKind(enum.Enum):
    PRE_JOB = "pre_job"  # 岗前培训
    DEMONSTRATION = "demonstration"  # 示范培训
    THEMATIC = "thematic"  # 专题培训
    FULL_COVERAGE = "full_coverage"  # 全覆盖培训
    BACKBONE_CAMP = "backbone_camp"  # 骨干训练营
    ONLINE = "online"  # 网络培训


#: Source type of the ledger row of 0 学时 that a completed programme gets
#: when none of its courses credited 学时 through it, because a course shared
#: with another programme credited its 学时 there. The row carries the
#: programme as its training, with the programme's tier and kind, so that
#: rules that count trainings count the programme. Its ``source_id`` is the
#: programme's id, as a learner enrols in a programme once.
PROGRAMME_COMPLETION_SOURCE_TYPE = "programme_completion"


class HoursEntry(db.Model):
    """One credited block of training hours (学时); never edited in place.

    A correction is a new row with ``corrects_id`` set and signed hours. An
    automatic entry carries its source, and (user, source_type, source_id,
    year) is unique so that replaying a completion credits the hours once.
    The year is part of the key because a training that spans New Year is
    credited as one row per calendar year, all with the same source.
    """

    __tablename__ = "hours_entry"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "source_type", "source_id", "year"),
        sa.Index("ix_hours_entry_user_year", "user_id", "year"),
        # Rules that need a passed exam look up each exam row's corrections,
        # which are few; a partial index keeps that lookup off a ledger scan.
        sa.Index(
            "ix_hours_entry_corrects",
            "corrects_id",
            sqlite_where=sa.text("corrects_id IS NOT NULL"),
            postgresql_where=sa.text("corrects_id IS NOT NULL"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    source_type: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    source_id: so.Mapped[Optional[int]]
    #: The training that the source is part of, which rules that count
    #: trainings count once. It is ("programme", id) for a course completed
    #: through a programme and for a session of a class that offers one.
    #: It is ("training_class", id) for a session of a single-course class.
    #: None means the source itself is the training.
    training_type: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    training_id: so.Mapped[Optional[int]]
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    occurred_on: so.Mapped[date]
    #: Calendar year in the institution's zone that the hours count toward.
    year: so.Mapped[int]
    tier: so.Mapped[TrainingTier] = so.mapped_column(enum_column(TrainingTier))
    kind: so.Mapped[Optional[TrainingKind]] = so.mapped_column(enum_column(TrainingKind))
    hours: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(7, 1))
    #: Training days the hours were earned on, for trainings that record
    #: days: an external training's dates, a class's sessions. None for
    #: trainings recorded in hours only, such as courses. Signed like ``hours``.
    days: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(5, 1))
    #: Result of the training's exam: True passed, False failed, None when
    #: no exam result is recorded. A course completed through its quizzes
    #: records a pass.
    exam_passed: so.Mapped[Optional[bool]]
    corrects_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("hours_entry.id")
    )
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    user: so.Mapped[User] = so.relationship()


class ProgressionKind(enum.Enum):
    APPOINTMENT = "appointment"
    TRAINING = "training"
    CERTIFICATE = "certificate"
    COMPETENCY_LEVEL = "competency_level"
    ASSESSMENT_GRADE = "assessment_grade"
    HONOUR = "honour"
    ACHIEVEMENT = "achievement"
    TITLE_CHANGE = "title_change"
    RANK_CHANGE = "rank_change"


class ProgressionEntry(db.Model):
    """An event in a person's career timeline; append-only.

    A correction is a new entry whose ``corrects_id`` names the entry it
    replaces, so the history of what was believed and when stays readable.
    An entry the platform words keeps its headline as stored text
    (``title_data``, see ``lms.stored_text``), shown in the reader's
    language; ``title`` holds it in the default language.
    """

    __tablename__ = "progression_entry"
    __table_args__ = (sa.UniqueConstraint("user_id", "kind", "source_type", "source_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    kind: so.Mapped[ProgressionKind] = so.mapped_column(enum_column(ProgressionKind))
    occurred_on: so.Mapped[date]
    title: so.Mapped[str] = so.mapped_column(sa.String(300))
    #: The headline as stored text (JSON), or None when ``title`` is all there is.
    title_data: so.Mapped[Optional[dict]] = so.mapped_column(sa.JSON)
    detail: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    source_type: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    source_id: so.Mapped[Optional[int]]
    corrects_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("progression_entry.id")
    )
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])

    @property
    def display_title(self) -> str:
        """The headline in the current language."""
        return render_stored(self.title_data, self.title)


class ExternalTrainingStatus(enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ExternalTraining(db.Model):
    """A training taken outside the platform, submitted with evidence for HR review.

    Its hours count only once HR of the person's institution approves it.
    Approval writes one HoursEntry per calendar year the training spans and
    one progression entry, all with source ("external_training", id).
    """

    __tablename__ = "external_training"
    __table_args__ = (
        sa.CheckConstraint("end_date >= start_date", name="dates_in_order"),
        sa.CheckConstraint("hours > 0", name="hours_positive"),
        sa.Index("ix_external_training_status", "status"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    organiser: so.Mapped[str] = so.mapped_column(sa.String(200))
    tier: so.Mapped[TrainingTier] = so.mapped_column(enum_column(TrainingTier))
    kind: so.Mapped[TrainingKind] = so.mapped_column(enum_column(TrainingKind))
    start_date: so.Mapped[date]
    end_date: so.Mapped[date]
    hours: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(7, 1))
    #: Result of the training's exam as submitted with the evidence: True
    #: passed, False failed, None when there was no exam or it is not stated.
    exam_passed: so.Mapped[Optional[bool]]
    #: Generated name of the evidence file inside the evidence folder.
    evidence_path: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    #: File name as uploaded, offered again as the download name.
    evidence_name: so.Mapped[str] = so.mapped_column(sa.String(200))
    evidence_type: so.Mapped[str] = so.mapped_column(sa.String(64))
    status: so.Mapped[ExternalTrainingStatus] = so.mapped_column(
        enum_column(ExternalTrainingStatus), default=ExternalTrainingStatus.PENDING
    )
    submitted_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    reviewed_by_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("user.id")
    )
    reviewed_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    review_reason: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])
    reviewed_by: so.Mapped[Optional[User]] = so.relationship(
        foreign_keys=[reviewed_by_id]
    )
