"""Promotion writes: rules, the department scope of HR, and applications.

Every state change of an application is a conditional UPDATE on the expected
status and revision (``transition``), so a double click or two reviewers at
once change it once. The review steps are in ``review``. Services flush and
the caller commits.
"""

from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError

from lms import audit
from lms.accounts.access import hr_scope
from lms.accounts.models import Role, User
from lms.compliance.windows import local_today
from lms.db import now_utc
from lms.extensions import db
from lms.organisations.models import Department
from lms.promotion import engine
from lms.promotion.evidence import snapshot_evidence
from lms.records.people_search import contains_text
from lms.promotion.models import (
    OPEN_STATUSES,
    ApplicationStatus,
    PromotionApplication,
    PromotionRule,
)


class PromotionError(Exception):
    """A promotion action is not allowed; ``code`` names the reason for the view."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# Rules


def save_rule(
    rule: PromotionRule,
    actor: User,
    *,
    created: bool,
    before: Optional[dict] = None,
) -> list[str]:
    """Check and store a new or edited rule, and audit it; flush only.

    ``before`` is ``rule_values`` of an edited rule before the form changed
    it. An edit is audited with each changed value before and after, and
    not at all when nothing changed. Returns the names of the changed
    values, every name for a new rule.
    Raises PromotionError "code_taken" when another request stored a rule
    of the code after the form checked it. The session then needs a rollback.
    """
    rule.check()
    if created:
        db.session.add(rule)
    try:
        db.session.flush()
    except IntegrityError:
        raise PromotionError("code_taken") from None
    after = rule_values(rule)
    if created:
        data = after
        changed = list(after)
    else:
        before = before or {}
        changed = [name for name in after if before.get(name) != after[name]]
        data = {
            "track": after["track"],
            "changes": {
                name: {"from": before.get(name), "to": after[name]} for name in changed
            },
        }
    if changed:
        audit.record(
            "promotion_rule.created" if created else "promotion_rule.updated",
            "promotion_rule",
            rule.id,
            f"{rule.code}: {rule.name}",
            actor_id=actor.id,
            institution_id=rule.institution_id,
            data=data,
        )
    return changed


def rule_values(rule: PromotionRule) -> dict:
    return {
        "code": rule.code,
        "name": rule.name,
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
        "source": rule.source,
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
        evidence=snapshot_evidence(user, rule, today, programme_titles),
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
    from lms.promotion.review import notify_reviewers

    notify_reviewers(application)
    return application


def transition(
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

    The conditions are checked again, because the record may have changed,
    and the rule must still be active: HR turns a rule off to stop promotions
    under it. Raises PromotionError "not_applicant", "not_returned",
    "rule_off_resubmit" or "not_eligible".
    """
    if application.applicant_id != user.id:
        raise PromotionError("not_applicant")
    if application.status is not ApplicationStatus.RETURNED:
        raise PromotionError("not_returned")
    if not application.rule.active:
        raise PromotionError("rule_off_resubmit")
    today = local_today(user.institution, today)
    eligibility = engine.evaluate(
        application.rule, user, today, programme_titles=programme_titles
    )
    if not eligibility.eligible:
        raise PromotionError("not_eligible")
    changed = transition(
        application,
        (ApplicationStatus.RETURNED,),
        {
            "status": ApplicationStatus.DEPARTMENT_REVIEW,
            "statement": statement,
            "evidence": snapshot_evidence(
                user, application.rule, today, programme_titles
            ),
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
    from lms.promotion.review import notify_reviewers

    notify_reviewers(application)
    return application


def withdraw(application: PromotionApplication, user: User) -> PromotionApplication:
    """Close an open application at the applicant's request."""
    if application.applicant_id != user.id:
        raise PromotionError("not_applicant")
    changed = transition(
        application,
        OPEN_STATUSES,
        {"status": ApplicationStatus.WITHDRAWN, "closed_at": now_utc()},
    )
    if not changed:
        raise PromotionError("not_open")
    from lms.notifications import services as notifications
    from lms.promotion.review import REVIEW_DUE_KIND

    notifications.settle(REVIEW_DUE_KIND, "promotion_application", application.id)
    audit.record(
        "promotion.withdrawn",
        "promotion_application",
        application.id,
        f"{user.full_name}: {application.from_name} → {application.to_name}",
        actor_id=user.id,
        institution_id=application.institution_id,
    )
    return application


# Queries


def applications_of(user: User) -> list[PromotionApplication]:
    return list(
        db.session.scalars(
            sa.select(PromotionApplication)
            .where(PromotionApplication.applicant_id == user.id)
            .order_by(PromotionApplication.submitted_at.desc(), PromotionApplication.id)
        )
    )


def applications_query(
    viewer: User,
    statuses: Optional[tuple[ApplicationStatus, ...]] = None,
    *,
    search: str = "",
    department_id: Optional[int] = None,
) -> sa.Select:
    """Return the select of the applications within the viewer's reach, newest first.

    That is the viewer's institution, or their department for department HR.
    Applicants, departments and decisions are loaded with the rows.

    ``search`` matches part of the applicant's full name, username or
    employee number, ignoring case. ``department_id`` keeps the applications
    filed from one department.
    """
    query = sa.select(PromotionApplication).where(
        PromotionApplication.institution_id == viewer.institution_id
    )
    scope = hr_scope(viewer)
    if scope is not None:
        query = query.where(PromotionApplication.department_id == scope)
    if statuses:
        query = query.where(PromotionApplication.status.in_(statuses))
    if department_id is not None:
        query = query.where(PromotionApplication.department_id == department_id)
    if search:
        query = query.join(User, PromotionApplication.applicant_id == User.id).where(
            sa.or_(
                contains_text(User.full_name, search),
                contains_text(User.username, search),
                contains_text(User.employee_no, search),
            )
        )
    return query.options(
        so.selectinload(PromotionApplication.applicant),
        so.selectinload(PromotionApplication.department),
        so.selectinload(PromotionApplication.decisions),
    ).order_by(
        PromotionApplication.submitted_at.desc(), PromotionApplication.id.desc()
    )
