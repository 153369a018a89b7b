"""Yearly counselor assessment (年度考核): schemes, achievements, scores, results.

An institution's HR sets one scheme per calendar year: weighted components
(院系, 学工部, student evaluation, a capped bonus), grade bands and the
minimum share of a counselor's students who must take part in the student
evaluation. Each counselor has one assessment per scheme, holding the work
achievements (工作实绩) they file, their self-report (reference only), the
component scores reviewers enter and, once finalised, the total and grade.

The online student evaluation gives sampled students single-use access
codes. A response is stored apart from the code that allowed it, so no
stored row links a student's scores to a code.
"""

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from lms.accounts.models import User
from lms.db import UTCDateTime, enum_column, now_utc
from lms.extensions import db
from lms.revisions import Versioned
from lms.organisations.models import Institution
from lms.seed_content.duties_2017 import AREAS as DUTY_AREAS

#: The nine counselor duties of article 5 of the 2017 regulation
#: (教育部令第43号), by the area codes of the seeded duty framework.
DUTIES = {area.code: area.name for area in DUTY_AREAS}


class ComponentKind(enum.Enum):
    """Who scores a component, which also decides how its score is entered."""

    DEPARTMENT = "department"  # 院系 reviewer: department HR or institution HR
    INSTITUTION = "institution"  # 党委学工部: institution HR
    STUDENTS = "students"  # 学生评议: aggregate of an anonymous sample
    BONUS = "bonus"  # 加分: points added on top, up to a cap


class AssessmentStatus(enum.Enum):
    OPEN = "open"  # the counselor files achievements
    SUBMITTED = "submitted"  # the counselor's filing is closed
    FINALISED = "finalised"  # total and grade are stored and on the record


class AssessmentScheme(Versioned, db.Model):
    """An institution's rules for one year's assessment."""

    __tablename__ = "annual_assessment_scheme"
    __table_args__ = (
        sa.UniqueConstraint("institution_id", "year"),
        sa.CheckConstraint(
            "min_sample_share > 0 AND min_sample_share <= 1",
            name="sample_share_in_range",
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("institution.id"))
    year: so.Mapped[int]
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    #: Smallest share of a counselor's students drawn for the evaluation,
    #: as a fraction (0.300 for 30 %).
    min_sample_share: so.Mapped[Decimal] = so.mapped_column(
        sa.Numeric(4, 3), default=Decimal("0.300")
    )
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc
    )

    institution: so.Mapped[Institution] = so.relationship()
    components: so.Mapped[list["AssessmentComponent"]] = so.relationship(
        back_populates="scheme",
        order_by="AssessmentComponent.position",
        cascade="all, delete-orphan",
    )
    bands: so.Mapped[list["GradeBand"]] = so.relationship(
        back_populates="scheme",
        order_by="GradeBand.min_score.desc()",
        cascade="all, delete-orphan",
    )
    dimensions: so.Mapped[list["EvaluationDimension"]] = so.relationship(
        back_populates="scheme",
        order_by="EvaluationDimension.position",
        cascade="all, delete-orphan",
    )


class AssessmentComponent(db.Model):
    """One weighted part of a scheme's total.

    A scored component takes a score of 0 to 100 and adds score × weight /
    100 to the total. A bonus adds its points as they are, up to ``bonus_cap``.
    """

    __tablename__ = "annual_assessment_component"
    __table_args__ = (
        sa.UniqueConstraint("scheme_id", "position"),
        sa.CheckConstraint("weight >= 0 AND weight <= 100", name="weight_in_range"),
        sa.CheckConstraint(
            "(kind = 'bonus') = (bonus_cap IS NOT NULL)", name="cap_only_for_bonus"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    scheme_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("annual_assessment_scheme.id", ondelete="CASCADE")
    )
    position: so.Mapped[int]
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    kind: so.Mapped[ComponentKind] = so.mapped_column(enum_column(ComponentKind))
    #: Percentage points of the total; 0 for a bonus.
    weight: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(5, 1))
    #: Most points a bonus adds; None for a scored component.
    bonus_cap: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(5, 1))

    scheme: so.Mapped[AssessmentScheme] = so.relationship(back_populates="components")


class GradeBand(db.Model):
    """A grade of a scheme: totals from ``min_score`` up to the next band's bound.

    ``grade`` is the annual grade written to the progression record, one of
    the keys of ``lms.records.events.ASSESSMENT_GRADES``, so that a school's
    own band names (优, 良 ...) still count for promotion rules.
    """

    __tablename__ = "annual_assessment_band"
    __table_args__ = (
        sa.UniqueConstraint("scheme_id", "min_score"),
        sa.CheckConstraint("min_score >= 0 AND min_score <= 100", name="bound_in_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    scheme_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("annual_assessment_scheme.id", ondelete="CASCADE")
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(32))
    min_score: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(4, 1))
    grade: so.Mapped[str] = so.mapped_column(sa.String(32))

    scheme: so.Mapped[AssessmentScheme] = so.relationship(back_populates="bands")


class AnnualAssessment(db.Model):
    """One counselor's assessment under one scheme."""

    __tablename__ = "annual_assessment"
    __table_args__ = (sa.UniqueConstraint("scheme_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    scheme_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("annual_assessment_scheme.id"))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    status: so.Mapped[AssessmentStatus] = so.mapped_column(
        enum_column(AssessmentStatus), default=AssessmentStatus.OPEN
    )
    #: The counselor's own account of the year; shown to reviewers as
    #: reference and never scored.
    self_report: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    submitted_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    total: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(5, 1))
    band_name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    grade: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    finalised_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    finalised_by_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("user.id")
    )

    scheme: so.Mapped[AssessmentScheme] = so.relationship()
    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])
    scores: so.Mapped[list["ComponentScore"]] = so.relationship(
        back_populates="assessment", cascade="all, delete-orphan"
    )
    achievements: so.Mapped[list["WorkAchievement"]] = so.relationship(
        back_populates="assessment",
        order_by="(WorkAchievement.occurred_on, WorkAchievement.id)",
        cascade="all, delete-orphan",
    )

    @property
    def is_finalised(self) -> bool:
        return self.status is AssessmentStatus.FINALISED


class ComponentScore(db.Model):
    """A reviewer's score of one component of one assessment.

    A student-evaluation score is the mean of the sampled students' scores,
    stored with the sample size and the number of the counselor's students.
    No individual student's score is stored.
    """

    __tablename__ = "annual_assessment_score"
    __table_args__ = (
        sa.UniqueConstraint("assessment_id", "component_id"),
        sa.CheckConstraint("score >= 0 AND score <= 100", name="score_in_range"),
        sa.CheckConstraint(
            "sample_size IS NULL OR (sample_size > 0 AND sample_size <= student_count)",
            name="sample_within_students",
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    assessment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("annual_assessment.id", ondelete="CASCADE")
    )
    component_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("annual_assessment_component.id", ondelete="CASCADE")
    )
    score: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(5, 1))
    sample_size: so.Mapped[Optional[int]]
    student_count: so.Mapped[Optional[int]]
    entered_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id"))
    entered_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc
    )

    assessment: so.Mapped[AnnualAssessment] = so.relationship(back_populates="scores")
    component: so.Mapped[AssessmentComponent] = so.relationship()


class WorkAchievement(db.Model):
    """A dated piece of the year's work (工作实绩), tagged with one of the nine duties."""

    __tablename__ = "work_achievement"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    assessment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("annual_assessment.id", ondelete="CASCADE"), index=True
    )
    occurred_on: so.Mapped[date]
    #: Area code of one of ``DUTIES``.
    duty: so.Mapped[str] = so.mapped_column(sa.String(32))
    description: so.Mapped[str] = so.mapped_column(sa.Text)
    #: Generated name of the evidence file in the "achievements" upload area.
    evidence_path: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64), unique=True)
    evidence_name: so.Mapped[Optional[str]] = so.mapped_column(sa.String(255))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    assessment: so.Mapped[AnnualAssessment] = so.relationship(back_populates="achievements")


class EvaluationDimension(db.Model):
    """A dimension students score in the online evaluation, such as 德 or a duty.

    Students enter a whole number from ``min_score`` to ``max_score``, which
    is scaled to 0 to 100 for the evaluation's mean score.
    """

    __tablename__ = "student_evaluation_dimension"
    __table_args__ = (
        sa.UniqueConstraint("scheme_id", "position"),
        sa.CheckConstraint(
            "min_score >= 0 AND min_score < max_score AND max_score <= 100",
            name="range_valid",
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    scheme_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("annual_assessment_scheme.id", ondelete="CASCADE")
    )
    position: so.Mapped[int]
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    min_score: so.Mapped[int]
    max_score: so.Mapped[int]

    scheme: so.Mapped[AssessmentScheme] = so.relationship(back_populates="dimensions")


class StudentEvaluation(db.Model):
    """The online anonymous student evaluation of one counselor's assessment."""

    __tablename__ = "student_evaluation"
    __table_args__ = (
        sa.UniqueConstraint("assessment_id"),
        sa.CheckConstraint("student_count > 0", name="students_positive"),
        sa.CheckConstraint(
            "(closed_at IS NULL) = (closed_by_id IS NULL)", name="closed_with_actor"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    assessment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("annual_assessment.id", ondelete="CASCADE")
    )
    #: Number of students the counselor serves, from which the sample is sized.
    student_count: so.Mapped[int]
    opened_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    opened_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    closed_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    closed_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id"))

    assessment: so.Mapped[AnnualAssessment] = so.relationship()

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class EvaluationCode(db.Model):
    """A single-use access code of an evaluation; only its SHA-256 digest is stored.

    No time of use is stored, so the order in which codes were used cannot
    be matched with the order of the responses. A code's number in the
    download is its position by ``id`` among the evaluation's codes, so codes
    are voided and never deleted while the evaluation exists.
    """

    __tablename__ = "student_evaluation_code"
    __table_args__ = (
        sa.CheckConstraint(
            "(voided_at IS NULL) = (voided_by_id IS NULL)", name="voided_with_actor"
        ),
        sa.CheckConstraint("NOT (used AND voided_at IS NOT NULL)", name="used_or_void"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    evaluation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("student_evaluation.id", ondelete="CASCADE"), index=True
    )
    #: Hex SHA-256 digest of the normalised code.
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    used: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    #: When HR withdrew the unused code, which students can then no longer use.
    voided_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    voided_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id"))

    evaluation: so.Mapped[StudentEvaluation] = so.relationship()

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None


class EvaluationResponse(db.Model):
    """One student's scores, stored without the code that allowed them.

    Only the calendar day of the submission is kept, never a finer time.
    """

    __tablename__ = "student_evaluation_response"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    evaluation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("student_evaluation.id", ondelete="CASCADE"), index=True
    )
    submitted_on: so.Mapped[date]

    answers: so.Mapped[list["EvaluationAnswer"]] = so.relationship(
        back_populates="response", cascade="all, delete-orphan"
    )


class EvaluationAnswer(db.Model):
    """The score one response gives one dimension."""

    __tablename__ = "student_evaluation_answer"
    __table_args__ = (sa.UniqueConstraint("response_id", "dimension_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    response_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("student_evaluation_response.id", ondelete="CASCADE")
    )
    dimension_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("student_evaluation_dimension.id"), index=True
    )
    score: so.Mapped[int]

    response: so.Mapped[EvaluationResponse] = so.relationship(back_populates="answers")


class EvaluationComment(db.Model):
    """A student's optional comment, stored apart from both the code and the scores."""

    __tablename__ = "student_evaluation_comment"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    evaluation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("student_evaluation.id", ondelete="CASCADE"), index=True
    )
    body: so.Mapped[str] = so.mapped_column(sa.Text)
