"""Promotion writes: rules, applications, the two review steps and their effects.

Every state change is a conditional UPDATE on the expected status and
revision, so a double click or two reviewers at once change it once. Each
decision is audited and notifies the applicant; approval appends a
progression entry. Services flush and the caller commits.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from lms import audit
from lms.accounts.access import can_view_person, hr_scope
from lms.accounts.models import Role, User
from lms.compliance.engine import evaluate_all
from lms.compliance.models import CadreRank, PersonProfile
from lms.compliance.windows import local_today
from lms.db import now_utc
from lms.extensions import db
from lms.notifications import services as notifications
from lms.organisations.models import Department
from lms.promotion import engine, logger
from lms.promotion.models import (
    OPEN_STATUSES,
    ApplicationStatus,
    PromotionApplication,
    PromotionDecision,
    PromotionRule,
    PromotionTrack,
    ReviewOutcome,
    ReviewStep,
)
from lms.records.models import HoursEntry, ProgressionEntry, ProgressionKind

NOTIFICATION_KIND = "promotion_decision"

#: Progression kind appended when a promotion on each track is approved.
TRACK_KINDS = {
    PromotionTrack.COMPETENCY_LEVEL: ProgressionKind.COMPETENCY_LEVEL,
    PromotionTrack.PROFESSIONAL_TITLE: ProgressionKind.TITLE_CHANGE,
    PromotionTrack.ADMINISTRATIVE_RANK: ProgressionKind.RANK_CHANGE,
}


class PromotionError(Exception):
    """A promotion action is not allowed; ``code`` names the reason for the view."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# Rules


def save_rule(rule: PromotionRule, actor: User, *, created: bool) -> PromotionRule:
    """Check and store a new or edited rule, and audit it; flush only."""
    rule.check()
    if created:
        db.session.add(rule)
    db.session.flush()
    audit.record(
        "promotion_rule.created" if created else "promotion_rule.updated",
        "promotion_rule",
        rule.id,
        f"{rule.code}: {rule.name}",
        actor_id=actor.id,
        institution_id=rule.institution_id,
        data=rule_values(rule),
    )
    return rule


def rule_values(rule: PromotionRule) -> dict:
    return {
        "code": rule.code,
        "track": rule.track.value,
        "from": rule.from_value,
        "to": rule.to_value,
        "min_years": rule.min_years,
        "assessment_years": rule.assessment_years,
        "min_grade": rule.min_grade,
        "min_excellent": rule.min_excellent,
        "compliance_required": rule.compliance_required,
        "required_programme_id": rule.required_programme_id,
        "required_level": rule.required_level,
        "active": rule.active,
    }


def find_rule(institution_id: int, rule_id: int) -> Optional[PromotionRule]:
    rule = db.session.get(PromotionRule, rule_id)
    if rule is None or rule.institution_id != institution_id:
        return None
    return rule


# Department HR


def set_hr_scope(person: User, department_id: Optional[int], actor: User) -> bool:
    """Limit an HR account to a department (None: the whole institution); audit it.

    Returns whether the scope changed. Raises PromotionError "not_hr" for
    other roles and "other_institution" for a department of another institution.
    """
    if person.role is not Role.HR:
        raise PromotionError("not_hr")
    if department_id is not None:
        department = db.session.get(Department, department_id)
        if department is None or department.institution_id != person.institution_id:
            raise PromotionError("other_institution")
    if person.hr_department_id == department_id:
        return False
    before = person.hr_department_id
    person.hr_department_id = department_id
    db.session.flush()
    audit.record(
        "account.hr_scope_changed",
        "user",
        person.id,
        f"{person.full_name}: HR scope {before} -> {department_id}",
        actor_id=actor.id,
        institution_id=person.institution_id,
        data={"before": before, "after": department_id},
    )
    return True


# Evidence


def snapshot_evidence(
    user: User, eligibility: engine.Eligibility, today: date
) -> dict:
    """Return the record, hours, certificates, grades and verdicts as plain JSON."""
    entries = db.session.scalars(
        sa.select(ProgressionEntry)
        .where(ProgressionEntry.user_id == user.id)
        .order_by(ProgressionEntry.occurred_on, ProgressionEntry.id)
    )
    return {
        "taken_on": today.isoformat(),
        "person": {
            "name": user.full_name,
            "employee_no": user.employee_no,
            "department": user.department.name if user.department else None,
            "post": user.post.value if user.post else None,
        },
        "positions": {
            track.value: {
                "value": position.value,
                "since": position.since.isoformat() if position.since else None,
            }
            for track, position in engine.positions(user).items()
        },
        "conditions": [
            {"kind": c.kind, "met": c.met, "message": c.message}
            for c in eligibility.conditions
        ],
        "record": [
            {
                "id": entry.id,
                "kind": entry.kind.value,
                "occurred_on": entry.occurred_on.isoformat(),
                "title": entry.title,
                "corrects_id": entry.corrects_id,
            }
            for entry in entries
        ],
        "hours": hours_by_year_and_tier(user),
        "certificates": [
            {
                **cert,
                "issued_on": _iso(cert.get("issued_on")),
                "expires_on": _iso(cert.get("expires_on")),
            }
            for cert in engine.certificates_of(user, today)
        ],
        "grades": {
            str(year): grade for year, grade in engine.assessment_grades(user).items()
        },
        "compliance": [
            {
                "code": verdict.rule.code,
                "name": verdict.rule.name,
                "status": verdict.status.value,
                "message": verdict.message,
            }
            for verdict in evaluate_all(user, today)
            if verdict.applies
        ],
    }


def _iso(value) -> Optional[str]:
    return value.isoformat() if isinstance(value, date) else value


def hours_by_year_and_tier(user: User) -> dict[str, dict[str, str]]:
    """Sum the whole ledger per calendar year and tier, as strings for JSON."""
    rows = db.session.execute(
        sa.select(HoursEntry.year, HoursEntry.tier, sa.func.sum(HoursEntry.hours))
        .where(HoursEntry.user_id == user.id)
        .group_by(HoursEntry.year, HoursEntry.tier)
        .order_by(HoursEntry.year)
    )
    totals: dict[str, dict[str, str]] = {}
    for year, tier, total in rows:
        totals.setdefault(str(year), {})[tier.value] = str(Decimal(total or 0))
    return totals


# Applications


def apply(
    user: User,
    rule: PromotionRule,
    statement: str,
    *,
    today=None,
    programme_titles: Optional[dict[int, str]] = None,
) -> PromotionApplication:
    """Open an application for ``rule`` if the user meets every condition today.

    Raises PromotionError "not_learner", "other_institution", "inactive_rule",
    "not_eligible" or "already_open".
    """
    if not user.role.is_learner:
        raise PromotionError("not_learner")
    if rule.institution_id != user.institution_id:
        raise PromotionError("other_institution")
    if not rule.active:
        raise PromotionError("inactive_rule")
    today = local_today(user.institution, today)
    eligibility = engine.evaluate(rule, user, today, programme_titles=programme_titles)
    if not eligibility.eligible:
        raise PromotionError("not_eligible")
    application = PromotionApplication(
        rule_id=rule.id,
        applicant_id=user.id,
        institution_id=user.institution_id,
        department_id=user.department_id,
        track=rule.track,
        from_value=rule.from_value,
        to_value=rule.to_value,
        statement=statement,
        evidence=snapshot_evidence(user, eligibility, today),
    )
    try:
        with db.session.begin_nested():
            db.session.add(application)
    except IntegrityError:
        raise PromotionError("already_open") from None
    audit.record(
        "promotion.applied",
        "promotion_application",
        application.id,
        f"{user.full_name}: {rule.from_name} → {rule.to_name}",
        actor_id=user.id,
        institution_id=user.institution_id,
        data={"rule_id": rule.id, "revision": 1},
    )
    return application


def _transition(
    application: PromotionApplication,
    expected: tuple[ApplicationStatus, ...],
    values: dict,
) -> bool:
    """Update the application only if it is still in ``expected`` at this revision."""
    result = db.session.execute(
        sa.update(PromotionApplication)
        .where(
            PromotionApplication.id == application.id,
            PromotionApplication.status.in_(expected),
            PromotionApplication.revision == application.revision,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(application)
    return result.rowcount == 1


def resubmit(
    application: PromotionApplication,
    user: User,
    statement: str,
    *,
    today=None,
    programme_titles: Optional[dict[int, str]] = None,
) -> PromotionApplication:
    """Send a returned application back to the department step with fresh evidence.

    The conditions are checked again, because the record may have changed.
    Raises PromotionError "not_applicant", "not_returned" or "not_eligible".
    """
    if application.applicant_id != user.id:
        raise PromotionError("not_applicant")
    if application.status is not ApplicationStatus.RETURNED:
        raise PromotionError("not_returned")
    today = local_today(user.institution, today)
    eligibility = engine.evaluate(
        application.rule, user, today, programme_titles=programme_titles
    )
    if not eligibility.eligible:
        raise PromotionError("not_eligible")
    changed = _transition(
        application,
        (ApplicationStatus.RETURNED,),
        {
            "status": ApplicationStatus.DEPARTMENT_REVIEW,
            "statement": statement,
            "evidence": snapshot_evidence(user, eligibility, today),
            "revision": application.revision + 1,
            "submitted_at": now_utc(),
            "department_id": user.department_id,
        },
    )
    if not changed:
        raise PromotionError("not_returned")
    audit.record(
        "promotion.resubmitted",
        "promotion_application",
        application.id,
        f"{user.full_name}: {application.from_name} → {application.to_name}",
        actor_id=user.id,
        institution_id=application.institution_id,
        data={"revision": application.revision},
    )
    return application


def withdraw(application: PromotionApplication, user: User) -> PromotionApplication:
    """Close an open application at the applicant's request."""
    if application.applicant_id != user.id:
        raise PromotionError("not_applicant")
    changed = _transition(
        application,
        OPEN_STATUSES,
        {"status": ApplicationStatus.WITHDRAWN, "closed_at": now_utc()},
    )
    if not changed:
        raise PromotionError("not_open")
    audit.record(
        "promotion.withdrawn",
        "promotion_application",
        application.id,
        f"{user.full_name}: {application.from_name} → {application.to_name}",
        actor_id=user.id,
        institution_id=application.institution_id,
    )
    return application


# Review


def current_step(application: PromotionApplication) -> Optional[ReviewStep]:
    return {
        ApplicationStatus.DEPARTMENT_REVIEW: ReviewStep.DEPARTMENT,
        ApplicationStatus.INSTITUTION_REVIEW: ReviewStep.INSTITUTION,
    }.get(application.status)


def department_has_hr(department_id: Optional[int]) -> bool:
    """Return whether an active HR officer is limited to this department."""
    if department_id is None:
        return False
    return (
        db.session.scalar(
            sa.select(User.id).where(
                User.hr_department_id == department_id,
                User.role == Role.HR,
                User.active.is_(True),
            )
        )
        is not None
    )


def can_see(viewer: User, application: PromotionApplication) -> bool:
    """Return whether ``viewer`` may open the application."""
    if viewer.id == application.applicant_id:
        return True
    if viewer.role not in (Role.HR, Role.ADMIN):
        return False
    if viewer.institution_id != application.institution_id:
        return False
    scope = hr_scope(viewer)
    return scope is None or scope == application.department_id


def can_review(
    viewer: User, application: PromotionApplication, step: Optional[ReviewStep]
) -> bool:
    """Return whether ``viewer`` may decide ``step`` of the application.

    The department step belongs to HR of the applicant's department. When no
    HR officer is assigned to that department, institution HR and admins
    take it. The institution step belongs to institution HR and admins, and
    never to whoever decided the department step of the same submission.
    Nobody reviews their own application.
    """
    if step is None or viewer.id == application.applicant_id:
        return False
    if viewer.role not in (Role.HR, Role.ADMIN):
        return False
    if not can_see(viewer, application) or not can_view_person(
        viewer, application.applicant
    ):
        return False
    scope = hr_scope(viewer)
    if step is ReviewStep.DEPARTMENT:
        if scope is not None:
            return True
        return not department_has_hr(application.department_id)
    if scope is not None:
        return False
    return viewer.id != _department_reviewer_id(application)


def _department_reviewer_id(application: PromotionApplication) -> Optional[int]:
    return db.session.scalar(
        sa.select(PromotionDecision.reviewer_id).where(
            PromotionDecision.application_id == application.id,
            PromotionDecision.revision == application.revision,
            PromotionDecision.step == ReviewStep.DEPARTMENT,
        )
    )


@dataclass(frozen=True)
class _Effect:
    status: ApplicationStatus
    action: str
    closes: bool


def _effect(step: ReviewStep, outcome: ReviewOutcome) -> _Effect:
    if outcome is ReviewOutcome.RETURN:
        return _Effect(ApplicationStatus.RETURNED, "promotion.returned", False)
    if outcome is ReviewOutcome.REJECT:
        return _Effect(ApplicationStatus.REJECTED, "promotion.rejected", True)
    if step is ReviewStep.DEPARTMENT:
        return _Effect(
            ApplicationStatus.INSTITUTION_REVIEW, "promotion.department_approved", False
        )
    return _Effect(ApplicationStatus.APPROVED, "promotion.approved", True)


def decide(
    application: PromotionApplication,
    reviewer: User,
    outcome: ReviewOutcome,
    comment: str,
    *,
    today=None,
) -> PromotionDecision:
    """Record a reviewer's decision on the current step and apply its effect.

    Returning and rejecting need a comment. Raises PromotionError
    "not_reviewer", "comment_required" or "already_decided".
    """
    step = current_step(application)
    if not can_review(reviewer, application, step):
        raise PromotionError("not_reviewer")
    comment = comment.strip()
    if outcome is not ReviewOutcome.APPROVE and not comment:
        raise PromotionError("comment_required")
    effect = _effect(step, outcome)
    decision = PromotionDecision(
        application_id=application.id,
        revision=application.revision,
        step=step,
        outcome=outcome,
        comment=comment,
        reviewer_id=reviewer.id,
    )
    expected = (
        ApplicationStatus.DEPARTMENT_REVIEW
        if step is ReviewStep.DEPARTMENT
        else ApplicationStatus.INSTITUTION_REVIEW
    )
    try:
        with db.session.begin_nested():
            db.session.add(decision)
            db.session.flush()
            values = {"status": effect.status}
            if effect.closes:
                values["closed_at"] = now_utc()
            if not _transition(application, (expected,), values):
                raise PromotionError("already_decided")
    except IntegrityError:
        raise PromotionError("already_decided") from None

    if effect.status is ApplicationStatus.APPROVED:
        _promote(application, reviewer, today)
    _audit_decision(application, decision, reviewer, effect.action)
    _notify(application, decision)
    return decision


def _promote(application: PromotionApplication, reviewer: User, today) -> None:
    """Append the new step to the applicant's record."""
    applicant = application.applicant
    on = local_today(applicant.institution, today)
    kind = TRACK_KINDS[application.track]
    key = {"competency_level": "level", "title_change": "title", "rank_change": "rank"}[
        kind.value
    ]
    entry = ProgressionEntry(
        user_id=applicant.id,
        kind=kind,
        occurred_on=on,
        title=_entry_title(application),
        detail={key: application.to_value, "application_id": application.id},
        source_type="promotion_application",
        source_id=application.id,
        created_by_id=reviewer.id,
    )
    db.session.add(entry)
    db.session.flush()
    application.progression_entry_id = entry.id
    if application.track is PromotionTrack.ADMINISTRATIVE_RANK:
        profile = db.session.get(PersonProfile, applicant.id)
        if profile is None:
            profile = PersonProfile(user_id=applicant.id)
            db.session.add(profile)
        profile.cadre_rank = CadreRank(application.to_value)
    db.session.flush()
    logger.info(
        "Promotion %r of user %r approved by %r",
        application.id,
        applicant.id,
        reviewer.id,
    )


def _entry_title(application: PromotionApplication) -> str:
    """Return the stored Chinese headline, in the style of HR-recorded entries."""
    prefix = {
        PromotionTrack.COMPETENCY_LEVEL: "能力等级",
        PromotionTrack.PROFESSIONAL_TITLE: "专业技术职务",
        PromotionTrack.ADMINISTRATIVE_RANK: "职级",
    }[application.track]
    return f"{prefix}：{application.to_name}（晋升申请 #{application.id} 审核通过）"


def _audit_decision(application, decision, reviewer, action: str) -> None:
    applicant = application.applicant
    audit.record(
        action,
        "promotion_application",
        application.id,
        f"{applicant.full_name}: {application.from_name} → {application.to_name}, "
        f"{decision.step.value} {decision.outcome.value}",
        actor_id=reviewer.id,
        institution_id=application.institution_id,
        data={
            "decision_id": decision.id,
            "step": decision.step.value,
            "outcome": decision.outcome.value,
            "revision": decision.revision,
            "comment": decision.comment,
            "applicant_id": applicant.id,
        },
    )


def _user_locale(user: User) -> str:
    languages = current_app.config.get("LANGUAGES", ["zh_CN", "en"])
    if user.locale in languages:
        return user.locale
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")


def _notify(application: PromotionApplication, decision: PromotionDecision) -> None:
    applicant = application.applicant
    with force_locale(_user_locale(applicant)):
        title, body = _message(application, decision)
    notifications.enqueue(
        applicant,
        NOTIFICATION_KIND,
        "promotion_decision",
        decision.id,
        title,
        body,
        link=f"/promotions/applications/{application.id}",
    )


def _message(application, decision) -> tuple[str, str]:
    names = {"from": application.from_name, "to": application.to_name}
    if decision.outcome is ReviewOutcome.RETURN:
        title = _("Your promotion application was returned for changes")
        body = _(
            "Your application %(from)s → %(to)s was returned for changes: %(comment)s",
            comment=decision.comment,
            **names,
        )
    elif decision.outcome is ReviewOutcome.REJECT:
        title = _("Your promotion application was rejected")
        body = _(
            "Your application %(from)s → %(to)s was rejected: %(comment)s",
            comment=decision.comment,
            **names,
        )
    elif decision.step is ReviewStep.DEPARTMENT:
        title = _("Your promotion application passed the department review")
        body = _(
            "Your application %(from)s → %(to)s passed the department review and "
            "now waits for the institution review.",
            **names,
        )
    else:
        title = _("Your promotion was approved")
        body = _(
            "Your application %(from)s → %(to)s was approved. The new step is on "
            "your record.",
            **names,
        )
    if decision.comment and decision.outcome is ReviewOutcome.APPROVE:
        body += " " + _("Comment: %(comment)s", comment=decision.comment)
    return title, body


# Queries


def applications_of(user: User) -> list[PromotionApplication]:
    return list(
        db.session.scalars(
            sa.select(PromotionApplication)
            .where(PromotionApplication.applicant_id == user.id)
            .order_by(PromotionApplication.submitted_at.desc(), PromotionApplication.id)
        )
    )


def visible_applications(
    viewer: User, statuses: Optional[tuple[ApplicationStatus, ...]] = None
) -> list[PromotionApplication]:
    """Return the applications within the viewer's reach, newest first.

    That is the viewer's institution, or their department for department HR.
    """
    query = sa.select(PromotionApplication).where(
        PromotionApplication.institution_id == viewer.institution_id
    )
    scope = hr_scope(viewer)
    if scope is not None:
        query = query.where(PromotionApplication.department_id == scope)
    if statuses:
        query = query.where(PromotionApplication.status.in_(statuses))
    return list(
        db.session.scalars(
            query.order_by(
                PromotionApplication.submitted_at.desc(), PromotionApplication.id.desc()
            )
        )
    )


def review_queue(viewer: User) -> list[PromotionApplication]:
    """Return the applications whose current step ``viewer`` may decide.

    The oldest submission comes first.
    """
    waiting = visible_applications(
        viewer,
        (ApplicationStatus.DEPARTMENT_REVIEW, ApplicationStatus.INSTITUTION_REVIEW),
    )
    return sorted(
        (a for a in waiting if can_review(viewer, a, current_step(a))),
        key=lambda a: (a.submitted_at, a.id),
    )
