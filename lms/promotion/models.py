"""Promotion rules, applications and the reviewers' decisions."""

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from lms.accounts.models import User
from lms.db import UTCDateTime, enum_column, now_utc
from lms.extensions import db
from lms.revisions import Versioned
from lms.stored_text import render_item
from lms.organisations.models import Department, Institution
from lms.records.events import (
    ADMINISTRATIVE_RANKS,
    ASSESSMENT_GRADES,
    COMPETENCY_LEVELS,
    PROFESSIONAL_TITLES,
)


class PromotionTrack(enum.Enum):
    """A ladder a person climbs one step at a time."""

    COMPETENCY_LEVEL = "competency_level"  # 初级 → 中级 → 高级
    PROFESSIONAL_TITLE = "professional_title"  # 助教 → 讲师 → 副教授 → 教授
    ADMINISTRATIVE_RANK = "administrative_rank"  # 科员 → … → 正处级


#: Steps of each track, lowest first.
TRACK_STEPS: dict[PromotionTrack, tuple[str, ...]] = {
    PromotionTrack.COMPETENCY_LEVEL: tuple(COMPETENCY_LEVELS),
    PromotionTrack.PROFESSIONAL_TITLE: tuple(PROFESSIONAL_TITLES),
    PromotionTrack.ADMINISTRATIVE_RANK: tuple(ADMINISTRATIVE_RANKS),
}

#: Chinese name of each step, by track, as stored in records and audit summaries.
STEP_NAMES: dict[PromotionTrack, dict[str, str]] = {
    PromotionTrack.COMPETENCY_LEVEL: COMPETENCY_LEVELS,
    PromotionTrack.PROFESSIONAL_TITLE: PROFESSIONAL_TITLES,
    PromotionTrack.ADMINISTRATIVE_RANK: ADMINISTRATIVE_RANKS,
}

#: Label table (``lms.labels``) of each track's steps, in the reader's language.
_STEP_LABELS = {
    PromotionTrack.COMPETENCY_LEVEL: "level",
    PromotionTrack.PROFESSIONAL_TITLE: "professional_title",
    PromotionTrack.ADMINISTRATIVE_RANK: "cadre_rank",
}


def step_label(track: PromotionTrack, value: str) -> str:
    """Return a step's name in the current language; the Chinese labels equal ``STEP_NAMES``."""
    from lms.labels import label

    return label(value, _STEP_LABELS[track])

#: Annual assessment grades, best first (index 0 is the best).
GRADE_ORDER = tuple(ASSESSMENT_GRADES)


class PromotionRule(Versioned, db.Model):
    """What a person of an institution needs to move one step up a track.

    Every requirement is optional except the step itself. ``assessment_years``
    is the number of calendar years before the current one whose annual
    assessment grades are checked. It is set exactly when ``min_grade`` or
    ``min_excellent`` sets a requirement.
    """

    __tablename__ = "promotion_rule"
    __table_args__ = (
        sa.UniqueConstraint("institution_id", "code"),
        sa.CheckConstraint("code <> ''", name="code_not_empty"),
        sa.CheckConstraint("from_value <> to_value", name="steps_differ"),
        sa.CheckConstraint("min_years >= 0", name="min_years_not_negative"),
        sa.CheckConstraint("min_excellent >= 0", name="min_excellent_not_negative"),
        sa.CheckConstraint(
            "(assessment_years IS NOT NULL)"
            " = (min_grade IS NOT NULL OR min_excellent > 0)"
            " AND (assessment_years IS NULL OR assessment_years > 0)",
            name="assessment_years_iff_grade_requirement",
        ),
        sa.CheckConstraint(
            "assessment_years IS NULL OR min_excellent <= assessment_years",
            name="excellent_fits_years",
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id", ondelete="CASCADE")
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    track: so.Mapped[PromotionTrack] = so.mapped_column(enum_column(PromotionTrack))
    from_value: so.Mapped[str] = so.mapped_column(sa.String(32))
    to_value: so.Mapped[str] = so.mapped_column(sa.String(32))
    #: Whole years the person must have held ``from_value``.
    min_years: so.Mapped[int] = so.mapped_column(default=0)
    assessment_years: so.Mapped[Optional[int]]
    #: Worst grade accepted in each checked year (a key of ASSESSMENT_GRADES).
    min_grade: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    #: Number of 优秀 grades needed within the checked years.
    min_excellent: so.Mapped[int] = so.mapped_column(default=0)
    #: No applicable training-hour rule may be missed (see ``engine``).
    compliance_required: so.Mapped[bool] = so.mapped_column(default=False)
    #: A valid certificate of this programme is needed.
    required_programme_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("programme.id")
    )
    #: Lowest competency level needed (a key of COMPETENCY_LEVELS).
    required_level: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    #: Where the institution's rule comes from, e.g. its title-evaluation rules.
    source: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc
    )

    institution: so.Mapped[Institution] = so.relationship()

    def check(self) -> None:
        """Raise ValueError unless the values name one upward step of a track."""
        steps = TRACK_STEPS[self.track]
        if self.from_value not in steps or self.to_value not in steps:
            raise ValueError(
                f"{self.track.value}: steps must be among {list(steps)}, "
                f"got {self.from_value!r} -> {self.to_value!r}"
            )
        if steps.index(self.to_value) != steps.index(self.from_value) + 1:
            raise ValueError(
                f"{self.to_value!r} is not the step right after {self.from_value!r}"
            )
        if self.min_grade is not None and self.min_grade not in GRADE_ORDER:
            raise ValueError(f"unknown grade {self.min_grade!r}")
        if self.required_level is not None and self.required_level not in (
            COMPETENCY_LEVELS
        ):
            raise ValueError(f"unknown competency level {self.required_level!r}")

    @property
    def from_name(self) -> str:
        return STEP_NAMES[self.track][self.from_value]

    @property
    def to_name(self) -> str:
        return STEP_NAMES[self.track][self.to_value]

    @property
    def from_label(self) -> str:
        return step_label(self.track, self.from_value)

    @property
    def to_label(self) -> str:
        return step_label(self.track, self.to_value)

    def __repr__(self) -> str:
        return (
            f"<PromotionRule {self.id} {self.code} institution={self.institution_id}>"
        )


class ApplicationStatus(enum.Enum):
    DEPARTMENT_REVIEW = "department_review"
    INSTITUTION_REVIEW = "institution_review"
    #: Sent back to the applicant, who edits and resubmits it.
    RETURNED = "returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


#: Statuses in which an application still waits for someone.
OPEN_STATUSES = (
    ApplicationStatus.DEPARTMENT_REVIEW,
    ApplicationStatus.INSTITUTION_REVIEW,
    ApplicationStatus.RETURNED,
)


class ReviewStep(enum.Enum):
    DEPARTMENT = "department"
    INSTITUTION = "institution"


class ReviewOutcome(enum.Enum):
    APPROVE = "approve"
    RETURN = "return"
    REJECT = "reject"


class PromotionApplication(db.Model):
    """A person's request to move up one step, with the evidence it was based on.

    ``evidence`` is a snapshot taken at each (re)submission, so reviewers see
    what the applicant saw even if the record changes afterwards.
    ``revision`` counts submissions and starts at 1.
    """

    __tablename__ = "promotion_application"
    __table_args__ = (
        # One open application per person and rule.
        sa.Index(
            "uq_promotion_application_open",
            "applicant_id",
            "rule_id",
            unique=True,
            sqlite_where=sa.text(
                "status IN ('department_review', 'institution_review', 'returned')"
            ),
            postgresql_where=sa.text(
                "status IN ('department_review', 'institution_review', 'returned')"
            ),
        ),
        sa.CheckConstraint(
            "(status IN ('approved', 'rejected', 'withdrawn'))"
            " = (closed_at IS NOT NULL)",
            name="closed_iff_closed_at",
        ),
        sa.CheckConstraint("revision >= 1", name="revision_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    rule_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("promotion_rule.id"), index=True
    )
    applicant_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id"), index=True
    )
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id"), index=True
    )
    #: The applicant's department when they applied; decides the department step.
    department_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("department.id"), index=True
    )
    track: so.Mapped[PromotionTrack] = so.mapped_column(enum_column(PromotionTrack))
    from_value: so.Mapped[str] = so.mapped_column(sa.String(32))
    to_value: so.Mapped[str] = so.mapped_column(sa.String(32))
    status: so.Mapped[ApplicationStatus] = so.mapped_column(
        enum_column(ApplicationStatus), default=ApplicationStatus.DEPARTMENT_REVIEW
    )
    #: The applicant's own account of the case, as plain text.
    statement: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    evidence: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    revision: so.Mapped[int] = so.mapped_column(default=1)
    submitted_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    closed_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    #: Progression entry appended on approval.
    progression_entry_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("progression_entry.id")
    )

    rule: so.Mapped[PromotionRule] = so.relationship()
    applicant: so.Mapped[User] = so.relationship(foreign_keys=[applicant_id])
    department: so.Mapped[Optional[Department]] = so.relationship()
    decisions: so.Mapped[list["PromotionDecision"]] = so.relationship(
        back_populates="application",
        order_by="PromotionDecision.decided_at, PromotionDecision.id",
    )

    @property
    def from_name(self) -> str:
        return STEP_NAMES[self.track][self.from_value]

    @property
    def to_name(self) -> str:
        return STEP_NAMES[self.track][self.to_value]

    @property
    def from_label(self) -> str:
        return step_label(self.track, self.from_value)

    @property
    def to_label(self) -> str:
        return step_label(self.track, self.to_value)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def __repr__(self) -> str:
        return f"<PromotionApplication {self.id} {self.status.value}>"


class PromotionDecision(db.Model):
    """One reviewer's decision on one step of one submission of an application.

    (application, revision, step) is unique, so a double click or two
    reviewers at once record one decision.
    """

    __tablename__ = "promotion_decision"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "revision", "step"),
        sa.CheckConstraint(
            "outcome = 'approve' OR comment <> ''", name="comment_unless_approved"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    application_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("promotion_application.id", ondelete="CASCADE")
    )
    revision: so.Mapped[int]
    step: so.Mapped[ReviewStep] = so.mapped_column(enum_column(ReviewStep))
    outcome: so.Mapped[ReviewOutcome] = so.mapped_column(enum_column(ReviewOutcome))
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    reviewer_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    #: Why the reviewer approved although the check at decision time failed.
    #: Empty when no override was needed.
    override_reason: so.Mapped[str] = so.mapped_column(
        sa.Text, default="", server_default=""
    )
    #: The failed checks the override set aside, each as stored-text JSON
    #: (see ``lms.stored_text``). Rows written before hold plain strings in
    #: the platform's default language. ``overridden_messages`` shows both.
    overridden_problems: so.Mapped[list] = so.mapped_column(
        sa.JSON, default=list, server_default="[]"
    )
    decided_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    application: so.Mapped[PromotionApplication] = so.relationship(
        back_populates="decisions"
    )
    reviewer: so.Mapped[User] = so.relationship()

    @property
    def overridden_messages(self) -> list[str]:
        """The failed checks the override set aside, in the current language."""
        return [render_item(problem) for problem in self.overridden_problems or []]
