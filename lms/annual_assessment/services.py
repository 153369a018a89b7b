"""Writes and rules of the yearly assessment: schemes, filing, scoring, finalising.

Functions flush and leave the commit to the caller. A rule that a value
breaks raises ``AssessmentError`` with the form field it concerns and a
message that names the fix.
"""

from datetime import date
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.exc import IntegrityError

from lms import audit, uploads
from lms.accounts.access import hr_scope, in_hr_scope
from lms.accounts.models import Role, User
from lms.annual_assessment import correction, scoring
from lms.annual_assessment.models import (
    DUTIES,
    AnnualAssessment,
    AssessmentComponent,
    AssessmentScheme,
    AssessmentStatus,
    ComponentKind,
    ComponentScore,
    EvaluationDimension,
    GradeBand,
    StudentEvaluation,
    WorkAchievement,
)
from lms.compliance.windows import local_today
from lms.db import now_utc
from lms.extensions import db
from lms.i18n import format_date, join_names
from lms.input_ranges import typed_decimal
from lms.records.events import assessment_title
from lms.records.models import ProgressionEntry, ProgressionKind

#: Upload area of achievement evidence, and what it accepts.
EVIDENCE_AREA = "achievements"
EVIDENCE_TYPES = ("pdf", "jpg", "jpeg", "png", "docx")
EVIDENCE_MAX_BYTES = 10 * uploads.MB
uploads.register_field("achievement_evidence", lambda: {"*": EVIDENCE_MAX_BYTES})

#: Progression entries written by finalising carry this source type.
SOURCE_TYPE = "annual_assessment"

MAX_DESCRIPTION = 2000
MAX_SELF_REPORT = 10000

#: The scheme seeded for a new year: 院系 25 + 学工部 25 + 学生评议 50, a bonus
#: of up to 10 points, and the four usual grades. Institutions change them.
DEFAULT_COMPONENTS = (
    scoring.ComponentSpec("院系考核", ComponentKind.DEPARTMENT, Decimal(25)),
    scoring.ComponentSpec("学工部考核", ComponentKind.INSTITUTION, Decimal(25)),
    scoring.ComponentSpec("学生评议", ComponentKind.STUDENTS, Decimal(50)),
    scoring.ComponentSpec("加分", ComponentKind.BONUS, Decimal(0), Decimal(10)),
)
# NOTE: only 优秀 >= 90 and 不合格 below 60 come from a published scheme;
# the bound between 合格 and 基本合格 is a default for HR to set.
DEFAULT_BANDS = (
    scoring.BandSpec("优秀", Decimal(90), "excellent"),
    scoring.BandSpec("合格", Decimal(70), "competent"),
    scoring.BandSpec("基本合格", Decimal(60), "basically_competent"),
    scoring.BandSpec("不合格", Decimal(0), "incompetent"),
)
DEFAULT_SAMPLE_SHARE = Decimal("0.300")
#: The dimensions students score by default: 德 (political and moral
#: conduct), 能 (ability), 勤 (diligence), 绩 (results), 廉 (integrity).
DEFAULT_DIMENSIONS = tuple(
    scoring.DimensionSpec(name, 0, 100) for name in ("德", "能", "勤", "绩", "廉")
)


class AssessmentError(ValueError):
    """A value or action breaks a rule; ``field`` names the form field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


# Schemes


def scheme_of(institution_id: int, year: int) -> Optional[AssessmentScheme]:
    return db.session.scalar(
        sa.select(AssessmentScheme).where(
            AssessmentScheme.institution_id == institution_id,
            AssessmentScheme.year == year,
        )
    )


def schemes_of(institution_id: int) -> list[AssessmentScheme]:
    return list(
        db.session.scalars(
            sa.select(AssessmentScheme)
            .where(AssessmentScheme.institution_id == institution_id)
            .order_by(AssessmentScheme.year.desc())
        )
    )


def component_specs(scheme: AssessmentScheme) -> list[scoring.ComponentSpec]:
    return [
        scoring.ComponentSpec(c.name, c.kind, Decimal(c.weight), c.bonus_cap)
        for c in scheme.components
    ]


def band_specs(scheme: AssessmentScheme) -> list[scoring.BandSpec]:
    return [scoring.BandSpec(b.name, Decimal(b.min_score), b.grade) for b in scheme.bands]


def dimension_specs(scheme: AssessmentScheme) -> list[scoring.DimensionSpec]:
    return [
        scoring.DimensionSpec(d.name, d.min_score, d.max_score) for d in scheme.dimensions
    ]


def _held_by_scheme(scheme: AssessmentScheme, model) -> bool:
    """Return whether a row of ``model`` belongs to an assessment under ``scheme``."""
    if scheme.id is None:
        return False
    return (
        db.session.scalar(
            sa.select(model.id)
            .join(AnnualAssessment, AnnualAssessment.id == model.assessment_id)
            .where(AnnualAssessment.scheme_id == scheme.id)
            .limit(1)
        )
        is not None
    )


def has_evaluations(scheme: AssessmentScheme) -> bool:
    """Return whether an online student evaluation was opened under ``scheme``."""
    return _held_by_scheme(scheme, StudentEvaluation)


def is_locked(scheme: AssessmentScheme) -> bool:
    """Return whether scores exist, after which components and bands stay fixed."""
    return _held_by_scheme(scheme, ComponentScore)


def changes_scoring(
    scheme: AssessmentScheme,
    components: list[scoring.ComponentSpec],
    bands: list[scoring.BandSpec],
    min_sample_share: Decimal,
) -> bool:
    """Return whether the settings differ from the scheme's in what totals and grades depend on."""
    return (
        component_specs(scheme) != list(components)
        or band_specs(scheme) != list(bands)
        or Decimal(scheme.min_sample_share) != min_sample_share
    )


def save_scheme(
    institution_id: int,
    year: int,
    actor: User,
    *,
    title: str,
    min_sample_share: Decimal,
    components: list[scoring.ComponentSpec],
    bands: list[scoring.BandSpec],
    dimensions: Optional[list[scoring.DimensionSpec]] = None,
    scheme: Optional[AssessmentScheme] = None,
    correction_reason: str = "",
) -> tuple[Optional[AssessmentScheme], list[scoring.Problem]]:
    """Create or replace a scheme's settings; return it, or the problems found.

    Components and bands are replaced as a whole. Once any score was entered
    under the scheme, only an admin may change them or the sample share, with
    ``correction_reason``, and only while no assessment under it is finalised
    (see ``correction``). Evaluation dimensions are replaced as a whole too,
    which is rejected once a student evaluation was opened under the scheme;
    None keeps them, or gives a new scheme the defaults.
    """
    problems = scoring.check_components(components) + scoring.check_bands(bands)
    if dimensions is None:
        dimensions = (
            dimension_specs(scheme) if scheme is not None else list(DEFAULT_DIMENSIONS)
        )
    dimensions_changed = scheme is None or dimension_specs(scheme) != list(dimensions)
    problems += scoring.check_dimensions(dimensions)
    if dimensions_changed and scheme is not None and has_evaluations(scheme):
        problems.append(
            scoring.Problem(
                "dimensions",
                _(
                    "Online student evaluations were already opened under this scheme, "
                    "so its evaluation dimensions can no longer change."
                ),
            )
        )
    if not Decimal(0) < min_sample_share <= 1:
        problems.append(
            scoring.Problem(
                "min_sample_share",
                _("Minimum student sample: enter a share from 1 to 100 percent."),
            )
        )
    if scheme is None and scheme_of(institution_id, year) is not None:
        problems.append(_year_taken(year))
    if scheme is not None:
        # Held until commit, so no score is entered between the check below
        # and the change of the components (see ``record_score``).
        db.session.refresh(scheme, with_for_update=True)
    corrected = (
        scheme is not None
        and changes_scoring(scheme, components, bands, min_sample_share)
        and is_locked(scheme)
    )
    if corrected and not problems:
        problems += correction.check(
            scheme, actor, correction_reason, components, min_sample_share
        )
    if problems:
        return None, problems
    before = _scheme_data(scheme) if corrected else None

    created = scheme is None
    if created:
        scheme = AssessmentScheme(
            institution_id=institution_id,
            year=year,
            title=title,
            min_sample_share=min_sample_share,
        )
        try:
            with db.session.begin_nested():
                db.session.add(scheme)
        except IntegrityError:
            # Another request added the year's scheme after the check above,
            # as when the form is sent twice, and committed it.
            return None, [_year_taken(year)]
    scheme.title = title
    scheme.min_sample_share = min_sample_share
    correction.apply_components(scheme, components)
    scheme.bands.clear()
    db.session.flush()
    for spec in bands:
        scheme.bands.append(
            GradeBand(name=spec.name, min_score=spec.min_score, grade=spec.grade)
        )
    if dimensions_changed:
        _replace_dimensions(scheme, dimensions)
    db.session.flush()
    data = _scheme_data(scheme)
    action = "annual_assessment_scheme.created" if created else "annual_assessment_scheme.updated"
    if corrected:
        action = "annual_assessment_scheme.corrected"
        data.update(reason=correction_reason.strip(), before=before)
    audit.record(
        action,
        "annual_assessment_scheme",
        scheme.id,
        f"{year} {title}",
        actor_id=actor.id,
        institution_id=institution_id,
        data=data,
    )
    return scheme, []


def _scheme_data(scheme: AssessmentScheme) -> dict:
    """Return a scheme's settings as the audit log stores them."""
    return {
        "components": [
            [
                c.name,
                c.kind.value,
                scoring.plain_number(c.weight),
                scoring.plain_number(c.bonus_cap) if c.bonus_cap is not None else "",
            ]
            for c in scheme.components
        ],
        "bands": [[b.name, scoring.plain_number(b.min_score), b.grade] for b in scheme.bands],
        "dimensions": [[d.name, d.min_score, d.max_score] for d in scheme.dimensions],
        "min_sample_share": str(scheme.min_sample_share),
    }


def _replace_dimensions(
    scheme: AssessmentScheme, dimensions: list[scoring.DimensionSpec]
) -> None:
    scheme.dimensions.clear()
    db.session.flush()
    for position, spec in enumerate(dimensions, start=1):
        scheme.dimensions.append(
            EvaluationDimension(
                position=position,
                name=spec.name,
                min_score=spec.min_score,
                max_score=spec.max_score,
            )
        )


def _year_taken(year: int) -> scoring.Problem:
    return scoring.Problem(
        "year",
        _("Year: %(year)s already has a scheme; edit that scheme instead.", year=year),
    )


def seed_default_scheme(institution_id: int, year: int) -> Optional[AssessmentScheme]:
    """Add the default scheme for ``year`` unless one exists; flush only, not audited."""
    if scheme_of(institution_id, year) is not None:
        return None
    scheme = AssessmentScheme(
        institution_id=institution_id,
        year=year,
        title=f"{year}年度辅导员考核",
        min_sample_share=DEFAULT_SAMPLE_SHARE,
    )
    for position, spec in enumerate(DEFAULT_COMPONENTS, start=1):
        scheme.components.append(
            AssessmentComponent(
                position=position,
                name=spec.name,
                kind=spec.kind,
                weight=spec.weight,
                bonus_cap=spec.bonus_cap,
            )
        )
    for spec in DEFAULT_BANDS:
        scheme.bands.append(GradeBand(name=spec.name, min_score=spec.min_score, grade=spec.grade))
    for position, spec in enumerate(DEFAULT_DIMENSIONS, start=1):
        scheme.dimensions.append(
            EvaluationDimension(
                position=position,
                name=spec.name,
                min_score=spec.min_score,
                max_score=spec.max_score,
            )
        )
    db.session.add(scheme)
    db.session.flush()
    return scheme


# Assessments and filing


def counselors_of(institution_id: int, department_id: Optional[int] = None) -> list[User]:
    """Return the active counselors of an institution or one department, by name."""
    query = sa.select(User).where(
        User.institution_id == institution_id,
        User.role == Role.COUNSELOR,
        User.active.is_(True),
    )
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    return list(db.session.scalars(query.order_by(User.full_name, User.id)))


def find_assessment(scheme: AssessmentScheme, person: User) -> Optional[AnnualAssessment]:
    return db.session.scalar(
        sa.select(AnnualAssessment).where(
            AnnualAssessment.scheme_id == scheme.id,
            AnnualAssessment.user_id == person.id,
        )
    )


def assessment_for(scheme: AssessmentScheme, person: User) -> AnnualAssessment:
    """Return ``person``'s assessment under ``scheme``, creating it when missing."""
    if person.institution_id != scheme.institution_id or person.role is not Role.COUNSELOR:
        raise ValueError(f"user {person.id} is not a counselor of scheme {scheme.id}")
    found = find_assessment(scheme, person)
    if found is not None:
        return found
    assessment = AnnualAssessment(scheme_id=scheme.id, user_id=person.id, self_report="")
    try:
        with db.session.begin_nested():
            db.session.add(assessment)
    except IntegrityError:
        # Another request added the assessment after the lookup above and
        # committed it, so the unique key on scheme and user rejected this one.
        return find_assessment(scheme, person)
    return assessment


def _check_owner_may_edit(assessment: AnnualAssessment, actor: User) -> None:
    if actor.id != assessment.user_id:
        raise AssessmentError("", _("Only the counselor whose assessment this is can change its filing."))
    lock(assessment)
    if assessment.status is AssessmentStatus.FINALISED:
        # HR may finalise a filing the counselor never submitted.
        raise AssessmentError(
            "",
            _(
                "This assessment is finalised, so its achievements and self-report "
                "can no longer change."
            ),
        )
    if assessment.status is not AssessmentStatus.OPEN:
        raise AssessmentError(
            "",
            _("This assessment was submitted, so its achievements and self-report can no longer change."),
        )


def add_achievement(
    assessment: AnnualAssessment,
    actor: User,
    *,
    occurred_on: date,
    duty: str,
    description: str,
    evidence: Optional[uploads.StoredFile] = None,
) -> WorkAchievement:
    """File a work achievement; the caller stores the evidence file first."""
    _check_owner_may_edit(assessment, actor)

    year = assessment.scheme.year
    if occurred_on.year != year:
        raise AssessmentError(
            "occurred_on",
            _("Date: enter a date in %(year)s, the year being assessed.", year=year),
        )
    today = local_today(assessment.user.institution)
    if occurred_on > today:
        raise AssessmentError(
            "occurred_on",
            _(
                "Date: %(date)s has not come yet. File an achievement once it has taken "
                "place, on or before %(today)s.",
                date=format_date(occurred_on),
                today=format_date(today),
            ),
        )

    if duty not in DUTIES:
        raise AssessmentError("duty", _("Duty: choose one of the nine duties."))
    description = description.strip()
    if not description or len(description) > MAX_DESCRIPTION:
        raise AssessmentError(
            "description",
            _("Description: describe the work in 1 to %(max)s characters.", max=MAX_DESCRIPTION),
        )

    achievement = WorkAchievement(
        assessment_id=assessment.id,
        occurred_on=occurred_on,
        duty=duty,
        description=description,
        evidence_path=evidence.name if evidence else None,
        evidence_name=evidence.original_name if evidence else None,
    )
    db.session.add(achievement)
    db.session.flush()
    return achievement


def delete_achievement(achievement: WorkAchievement, actor: User) -> None:
    _check_owner_may_edit(achievement.assessment, actor)
    if achievement.evidence_path:
        uploads.remove(EVIDENCE_AREA, achievement.evidence_path)
    db.session.delete(achievement)
    db.session.flush()


def save_self_report(assessment: AnnualAssessment, actor: User, text: str) -> None:
    _check_owner_may_edit(assessment, actor)
    text = text.strip()
    if len(text) > MAX_SELF_REPORT:
        raise AssessmentError(
            "self_report",
            _("Self-report: shorten it to at most %(max)s characters.", max=MAX_SELF_REPORT),
        )
    assessment.self_report = text
    db.session.flush()


def submit(assessment: AnnualAssessment, actor: User) -> None:
    """Close the counselor's filing, so reviewers score what they see."""
    _check_owner_may_edit(assessment, actor)
    assessment.status = AssessmentStatus.SUBMITTED
    assessment.submitted_at = now_utc()
    db.session.flush()
    audit.record(
        "annual_assessment.submitted",
        "annual_assessment",
        assessment.id,
        f"{assessment.user.full_name}: {assessment.scheme.year}",
        actor_id=actor.id,
        institution_id=assessment.user.institution_id,
        data={"achievements": len(assessment.achievements)},
    )


# Access


def may_read(viewer: User, person: User) -> bool:
    """Return whether ``viewer`` may read ``person``'s assessment and achievements."""
    if viewer.id == person.id:
        return True
    return (
        viewer.role in (Role.HR, Role.ADMIN)
        and viewer.institution_id == person.institution_id
        and in_hr_scope(viewer, person)
    )


def is_institution_reviewer(viewer: User, institution_id: int) -> bool:
    """Return whether ``viewer`` is HR or admin of the whole institution."""
    return (
        viewer.role in (Role.HR, Role.ADMIN)
        and viewer.institution_id == institution_id
        and hr_scope(viewer) is None
    )


def may_score(viewer: User, component: AssessmentComponent, person: User) -> bool:
    """Return whether ``viewer`` enters ``component`` for ``person``.

    Department HR enters the department components of their own department's
    counselors; institution HR and admins enter every component.
    """
    if not may_read(viewer, person) or viewer.id == person.id:
        return False
    if is_institution_reviewer(viewer, person.institution_id):
        return True
    return component.kind is ComponentKind.DEPARTMENT


# Scoring


#: Bound on the magnitude of a typed score before it is rounded. Rounding
#: 9e30 to one decimal place needs more digits than Decimal's default
#: precision of 28 and raises InvalidOperation, so larger values are
#: reported as out of range before rounding.
MAX_SCORE_MAGNITUDE = Decimal(10) ** 6


def _decimal(raw, field: str, label: str) -> Decimal:
    if raw is None or not str(raw).strip():
        raise AssessmentError(field, _("%(label)s: enter a number, such as 85.5.", label=label))
    value = typed_decimal(str(raw))
    if value is None or not value.is_finite():
        raise AssessmentError(field, _("%(label)s: “%(value)s” is not a number.", label=label, value=str(raw)[:20]))
    return value


def _count(raw, field: str, label: str) -> int:
    text = str(raw if raw is not None else "").strip()
    if text.endswith(".0"):
        text = text[:-2]
    # str.isdigit() accepts characters such as "²" that int() rejects.
    try:
        count = int(text) if text.isdigit() else None
    except ValueError:
        count = None
    if count is None or count > 100000:
        raise AssessmentError(
            field,
            _("%(label)s: enter a whole number of students, such as 40.", label=label),
        )
    return count


def check_score(
    scheme: AssessmentScheme,
    component: AssessmentComponent,
    score,
    sample_size=None,
    student_count=None,
) -> tuple[Decimal, Optional[int], Optional[int]]:
    """Return the score, sample size and student count to store, or raise AssessmentError.

    A scored component takes 0 to 100 and a bonus 0 to its cap, rounded
    half-up to one decimal place. A student evaluation also takes the
    sample size and the number of the counselor's students, and the sample
    must reach the scheme's minimum share. Other components store no counts.
    """
    value = _decimal(score, "score", _("Score"))
    top = component.bonus_cap if component.kind is ComponentKind.BONUS else scoring.HUNDRED
    if abs(value) <= MAX_SCORE_MAGNITUDE:
        value = scoring.round_half_up(value)
    if not Decimal(0) <= value <= top:
        raise AssessmentError(
            "score",
            _(
                "Score of “%(name)s”: enter a score from 0 to %(max)s.",
                name=component.name,
                max=scoring.plain_number(top),
            ),
        )
    if component.kind is not ComponentKind.STUDENTS:
        return value, None, None
    students = _count(student_count, "student_count", _("Number of students"))
    sample = _count(sample_size, "sample_size", _("Sampled students"))
    if students < 1:
        raise AssessmentError(
            "student_count", _("Number of students: enter at least 1 student.")
        )
    if sample > students:
        raise AssessmentError(
            "sample_size",
            ngettext(
                "Sampled students: %(sample)s is more than the %(students)s student "
                "of the counselor; enter at most %(students)s.",
                "Sampled students: %(sample)s is more than the %(students)s students "
                "of the counselor; enter at most %(students)s.",
                students,
                sample=sample,
                students=students,
            ),
        )
    try:
        scoring.check_sample(sample, students, scheme.min_sample_share)
    except scoring.SampleTooSmall as error:
        raise AssessmentError("sample_size", scoring.sample_message(error)) from None
    return value, sample, students


def lock(assessment: AnnualAssessment) -> None:
    """Reload ``assessment`` and hold its row until commit, so status checks see the latest.

    On PostgreSQL this is SELECT ... FOR UPDATE, so two requests that score,
    finalise or reopen one assessment take turns. SQLite ignores it, because
    its writing requests already start with BEGIN IMMEDIATE.
    """
    db.session.refresh(assessment, with_for_update=True)


def record_score(
    assessment: AnnualAssessment,
    component: AssessmentComponent,
    actor: User,
    score,
    sample_size=None,
    student_count=None,
    *,
    evaluation: Optional[StudentEvaluation] = None,
) -> ComponentScore:
    """Enter or replace one component's score (see ``check_score``) and audit it.

    Once an online student evaluation exists for the assessment, the student
    component takes its score only from that ``evaluation``.
    """
    if component.scheme_id != assessment.scheme_id:
        raise ValueError("component of another scheme")
    # A shared lock on the scheme makes a scheme edit wait for this score,
    # and this score wait for an edit that already holds the scheme.
    db.session.execute(
        sa.select(AssessmentScheme.id)
        .where(AssessmentScheme.id == assessment.scheme_id)
        .with_for_update(read=True)
    )
    component_exists = db.session.scalar(
        sa.select(AssessmentComponent.id).where(AssessmentComponent.id == component.id)
    )
    if component_exists is None:
        raise AssessmentError(
            "",
            _(
                "The assessment scheme changed while this score was entered. "
                "Reload the page and enter the score again."
            ),
        )
    lock(assessment)
    if assessment.is_finalised:
        raise AssessmentError(
            "score", _("This assessment is finalised; reopen it before changing a score.")
        )
    if (
        component.kind is ComponentKind.STUDENTS
        and evaluation is None
        and evaluation_of(assessment) is not None
    ):
        raise AssessmentError("", online_evaluation_message(assessment.user))
    value, sample, students = check_score(
        assessment.scheme, component, score, sample_size, student_count
    )

    row = db.session.scalar(
        sa.select(ComponentScore).where(
            ComponentScore.assessment_id == assessment.id,
            ComponentScore.component_id == component.id,
        )
    )
    before = str(row.score) if row is not None else None
    sample_before = row.sample_size if row is not None else None
    students_before = row.student_count if row is not None else None
    if row is None:
        row = ComponentScore(assessment_id=assessment.id, component_id=component.id)
        db.session.add(row)
    row.score = value
    row.sample_size = sample
    row.student_count = students
    row.entered_by_id = actor.id
    row.entered_at = now_utc()
    db.session.flush()
    audit.record(
        "annual_assessment.scored",
        "annual_assessment",
        assessment.id,
        f"{assessment.user.full_name}: {component.name} {value}",
        actor_id=actor.id,
        institution_id=assessment.user.institution_id,
        data={
            "component": component.name,
            "score": [before, str(value)],
            "sample_size": sample,
            "student_count": students,
            "sample_size_before": sample_before,
            "student_count_before": students_before,
            "source": "online_evaluation" if evaluation is not None else "entered",
            "evaluation_id": evaluation.id if evaluation is not None else None,
        },
    )
    return row


def evaluation_of(assessment: AnnualAssessment) -> Optional[StudentEvaluation]:
    """Return the online student evaluation of ``assessment``, if one was opened."""
    return db.session.scalar(
        sa.select(StudentEvaluation).where(StudentEvaluation.assessment_id == assessment.id)
    )


def online_evaluation_message(person: User) -> str:
    return _(
        "The student evaluation of %(name)s runs online on this platform, so its "
        "score comes from that evaluation and cannot be entered by hand.",
        name=person.full_name,
    )


def scores_by_component(assessment: AnnualAssessment) -> dict[int, ComponentScore]:
    rows = db.session.scalars(
        sa.select(ComponentScore).where(ComponentScore.assessment_id == assessment.id)
    )
    return {score.component_id: score for score in rows}


def missing_components(assessment: AnnualAssessment) -> list[AssessmentComponent]:
    scored = scores_by_component(assessment)
    return [c for c in assessment.scheme.components if c.id not in scored]


# Finalising


def _effective_grade_entry(person: User, year: int) -> Optional[ProgressionEntry]:
    """Return the uncorrected annual grade entry of ``year``, the latest if several."""
    corrected = sa.select(ProgressionEntry.corrects_id).where(
        ProgressionEntry.corrects_id.is_not(None)
    )
    entries = db.session.scalars(
        sa.select(ProgressionEntry)
        .where(
            ProgressionEntry.user_id == person.id,
            ProgressionEntry.kind == ProgressionKind.ASSESSMENT_GRADE,
            ProgressionEntry.id.not_in(corrected),
        )
        .order_by(ProgressionEntry.occurred_on, ProgressionEntry.id)
    )
    found = [entry for entry in entries if (entry.detail or {}).get("year") == year]
    return found[-1] if found else None


def finalise(
    assessment: AnnualAssessment, actor: User, today: date, unsubmitted_reason: str = ""
) -> ProgressionEntry:
    """Compute and store the total and grade, and put the grade on the record.

    The progression entry is the year's annual grade, which promotion rules
    read. When the record already has a grade for the year (typed by hand,
    or from an earlier finalisation before a reopen), the new entry corrects
    it, so the record keeps one effective grade per year. An assessment whose
    filing the counselor never submitted needs ``unsubmitted_reason``, which
    is audited.
    """
    person = assessment.user
    if not is_institution_reviewer(actor, person.institution_id):
        raise AssessmentError("", _("Only HR of the whole institution can finalise an assessment."))
    lock(assessment)
    if assessment.is_finalised:
        raise AssessmentError(
            "",
            _(
                "This assessment is already finalised, with the total %(total)s "
                "(%(band)s). To change it, reopen it with a reason.",
                total=assessment.total,
                band=assessment.band_name,
            ),
        )
    missing = missing_components(assessment)
    if missing:
        raise AssessmentError(
            "",
            _(
                "Enter every component before finalising; missing: %(names)s.",
                names=join_names(component.name for component in missing),
            ),
        )
    unsubmitted_reason = unsubmitted_reason.strip()
    if assessment.status is AssessmentStatus.OPEN and not 1 <= len(unsubmitted_reason) <= 500:
        raise AssessmentError(
            "unsubmitted_reason",
            _(
                "%(name)s has not submitted the filing, so achievements and the "
                "self-report may be missing. To finalise anyway, say in 1 to 500 "
                "characters why.",
                name=person.full_name,
            ),
        )
    scheme = assessment.scheme
    scored = scores_by_component(assessment)
    total = scoring.weighted_total(
        component_specs(scheme),
        {c.name: Decimal(scored[c.id].score) for c in scheme.components},
    )
    band = scoring.band_for(band_specs(scheme), total)
    assessment.total = total
    assessment.band_name = band.name
    assessment.grade = band.grade
    assessment.status = AssessmentStatus.FINALISED
    assessment.finalised_at = now_utc()
    assessment.finalised_by_id = actor.id

    previous = _effective_grade_entry(person, scheme.year)
    entry = ProgressionEntry(
        user_id=person.id,
        kind=ProgressionKind.ASSESSMENT_GRADE,
        occurred_on=today,
        title=f"{scheme.year}年度考核：{band.name}",
        title_data=assessment_title(scheme.year, band.name).to_json(),
        detail={
            "grade": band.grade,
            "year": scheme.year,
            "note": "",
            "total": str(total),
            "band": band.name,
            "assessment_id": assessment.id,
        },
        # The source id stays empty: a reopened and finalised-again
        # assessment writes a second entry, which the unique source key of
        # progression entries would reject.
        source_type=SOURCE_TYPE,
        corrects_id=previous.id if previous is not None else None,
        created_by_id=actor.id,
    )
    db.session.add(entry)
    db.session.flush()
    audit.record(
        "annual_assessment.finalised",
        "annual_assessment",
        assessment.id,
        f"{person.full_name}: {scheme.year} {total} {band.name}",
        actor_id=actor.id,
        institution_id=person.institution_id,
        data={
            "total": str(total),
            "band": band.name,
            "grade": band.grade,
            "scores": {c.name: str(scored[c.id].score) for c in scheme.components},
            "progression_entry_id": entry.id,
            "corrects_id": entry.corrects_id,
            "submitted": assessment.submitted_at is not None,
            "unsubmitted_reason": unsubmitted_reason or None,
        },
    )
    return entry


def reopen(assessment: AnnualAssessment, actor: User, reason: str) -> None:
    """Return a finalised assessment to scoring; the reason is audited.

    The grade entry on the record stays until the assessment is finalised
    again, whose entry then corrects it.
    """
    if not is_institution_reviewer(actor, assessment.user.institution_id):
        raise AssessmentError("", _("Only HR of the whole institution can reopen an assessment."))
    lock(assessment)
    if not assessment.is_finalised:
        raise AssessmentError("", _("Only a finalised assessment can be reopened."))
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise AssessmentError(
            "reason", _("Reason: say in 1 to 500 characters why the assessment is reopened.")
        )
    before = {"total": str(assessment.total), "band": assessment.band_name}
    assessment.status = (
        AssessmentStatus.SUBMITTED if assessment.submitted_at else AssessmentStatus.OPEN
    )
    assessment.total = None
    assessment.band_name = None
    assessment.grade = None
    assessment.finalised_at = None
    assessment.finalised_by_id = None
    db.session.flush()
    audit.record(
        "annual_assessment.reopened",
        "annual_assessment",
        assessment.id,
        f"{assessment.user.full_name}: {assessment.scheme.year} ({reason[:200]})",
        actor_id=actor.id,
        institution_id=assessment.user.institution_id,
        data={"reason": reason, "was": before},
    )


def finalised_for_year(person: User, year: int) -> Optional[AnnualAssessment]:
    """Return ``person``'s finalised assessment of ``year``, if any."""
    return db.session.scalar(
        sa.select(AnnualAssessment)
        .join(AssessmentScheme, AssessmentScheme.id == AnnualAssessment.scheme_id)
        .where(
            AnnualAssessment.user_id == person.id,
            AnnualAssessment.status == AssessmentStatus.FINALISED,
            AssessmentScheme.year == year,
        )
    )


def achievement_counts(scheme: AssessmentScheme, user_ids: list[int]) -> dict[int, int]:
    """Return the number of filed achievements per counselor, in one query."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        sa.select(AnnualAssessment.user_id, sa.func.count(WorkAchievement.id))
        .join(WorkAchievement, WorkAchievement.assessment_id == AnnualAssessment.id)
        .where(AnnualAssessment.scheme_id == scheme.id, AnnualAssessment.user_id.in_(user_ids))
        .group_by(AnnualAssessment.user_id)
    )
    return {user_id: count for user_id, count in rows}


def assessments_by_user(scheme: AssessmentScheme, user_ids: list[int]) -> dict[int, AnnualAssessment]:
    if not user_ids:
        return {}
    rows = db.session.scalars(
        sa.select(AnnualAssessment)
        .where(AnnualAssessment.scheme_id == scheme.id, AnnualAssessment.user_id.in_(user_ids))
        .options(so.selectinload(AnnualAssessment.scores))
    )
    return {row.user_id: row for row in rows}
