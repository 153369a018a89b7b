"""The two review steps of a promotion application: who may decide them, and
what each decision does.

The department step belongs to HR of the applicant's department, the
institution step to institution HR and admins. Every decision is audited
and notifies the applicant, and approval at the institution step appends
the new step to the applicant's progression record.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from lms import audit, labels
from lms.accounts.access import can_view_person, hr_scope, reviewers_among
from lms.accounts.models import Role, User
from lms.compliance.models import CadreRank
from lms.compliance.windows import local_today
from lms.db import now_utc
from lms.extensions import db
from lms.i18n import join_names
from lms.notifications import services as notifications
from lms.promotion import engine, logger
from lms.promotion.models import (
    ApplicationStatus,
    PromotionApplication,
    PromotionDecision,
    PromotionTrack,
    ReviewOutcome,
    ReviewStep,
)
from lms.promotion.services import PromotionError, transition
from lms.records import events
from lms.records.models import ProgressionEntry
from lms.records.people_search import contains_text
from lms.stored_text import (
    StoredText,
    Text,
    in_each_language,
    split_text,
    stored_gettext,
    stored_join,
)

NOTIFICATION_KIND = "promotion_decision"


#: The review step that waits in each status of an application.
STATUS_STEPS = {
    ApplicationStatus.DEPARTMENT_REVIEW: ReviewStep.DEPARTMENT,
    ApplicationStatus.INSTITUTION_REVIEW: ReviewStep.INSTITUTION,
}


def current_step(application: PromotionApplication) -> Optional[ReviewStep]:
    return STATUS_STEPS.get(application.status)


def staffed_departments(institution_id: int) -> set[int]:
    """Return the departments of an institution that have an active HR officer."""
    return set(
        db.session.scalars(
            sa.select(User.hr_department_id).where(
                User.institution_id == institution_id,
                User.hr_department_id.is_not(None),
                User.role == Role.HR,
                User.active.is_(True),
            )
        )
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
    viewer: User,
    application: PromotionApplication,
    step: Optional[ReviewStep],
    *,
    staffed: Optional[set[int]] = None,
) -> bool:
    """Return whether ``viewer`` may decide ``step`` of the application.

    The department step belongs to HR of the applicant's department. When no
    HR officer is assigned to that department, institution HR and admins
    take it. The institution step belongs to institution HR and admins, and
    never to the reviewer who decided the department step of the same
    submission. Nobody reviews their own application. ``staffed`` is the
    result of ``staffed_departments``, for callers that check many applications.
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
        if staffed is None:
            staffed = staffed_departments(application.institution_id)
        return application.department_id not in staffed
    if scope is not None:
        return False
    return viewer.id != department_reviewer_id(application)


def department_reviewer_id(application: PromotionApplication) -> Optional[int]:
    """Return who decided the department step of the current submission, if anyone."""
    return next(
        (
            decision.reviewer_id
            for decision in application.decisions
            if decision.revision == application.revision
            and decision.step is ReviewStep.DEPARTMENT
        ),
        None,
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


@dataclass
class DecisionCheck:
    """The application's rule evaluated again on the day a reviewer decides."""

    eligibility: engine.Eligibility
    today: date
    #: Reasons why approving needs an override, as stored text (see
    #: ``lms.stored_text``) that renders in the reader's language. The list
    #: is empty while the applicant is at the starting step and meets every
    #: condition.
    problems: list[Text] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def check_at_decision(
    application: PromotionApplication,
    today=None,
    programme_titles: Optional[dict[int, str]] = None,
) -> DecisionCheck:
    """Evaluate the application's rule for the applicant as of ``today``.

    The applicant's step is read from the record now, so a title or rank
    change HR recorded after the application was filed shows up here.
    """
    applicant = application.applicant
    today = local_today(applicant.institution, today)
    eligibility = engine.evaluate(
        application.rule, applicant, today, programme_titles=programme_titles
    )
    check = DecisionCheck(eligibility, today)
    position = eligibility.position
    track = in_each_language(
        lambda: labels.label(application.track.value, "promotion_track")
    )
    step = in_each_language(lambda: application.from_label)
    if position is None:
        check.problems.append(
            stored_gettext(
                "%(track)s: none is on the applicant's record, so the step this "
                "application starts from (%(step)s) cannot be confirmed.",
                track=track,
                step=step,
            )
        )
    elif position.value != application.from_value:
        check.problems.append(
            stored_gettext(
                "%(track)s: the applicant's record now shows %(current)s, not "
                "%(step)s, the step this application starts from.",
                track=track,
                current=in_each_language(lambda: position.label),
                step=step,
            )
        )
    elif application.rule.from_value != application.from_value:
        check.problems.append(
            stored_gettext(
                "The rule now starts from %(rule_step)s, not from %(step)s as when "
                "the application was filed.",
                rule_step=in_each_language(lambda: application.rule.from_label),
                step=step,
            )
        )
    else:
        check.problems += [condition.text for condition in eligibility.unmet]
    return check


def decide(
    application: PromotionApplication,
    reviewer: User,
    outcome: ReviewOutcome,
    comment: str,
    *,
    override_reason: str = "",
    today=None,
    programme_titles: Optional[dict[int, str]] = None,
) -> PromotionDecision:
    """Record a reviewer's decision on the current step and apply its effect.

    Returning and rejecting need a comment. Approving needs an active rule,
    and no override replaces it, because HR turns a rule off to stop
    promotions under it. Approving also checks the rule again
    (``check_at_decision``). When that check fails, approval needs an
    ``override_reason``, which is stored with the failed checks and audited.
    Raises PromotionError "not_reviewer",
    "comment_required", "rule_off_approve", "override_required" or
    "already_decided".
    """
    step = current_step(application)
    if not can_review(reviewer, application, step):
        raise PromotionError("not_reviewer")
    comment = comment.strip()
    if outcome is not ReviewOutcome.APPROVE and not comment:
        raise PromotionError("comment_required")
    if outcome is ReviewOutcome.APPROVE and not application.rule.active:
        raise PromotionError("rule_off_approve")
    override_reason = override_reason.strip()
    overridden: list = []
    if outcome is ReviewOutcome.APPROVE:
        check = check_at_decision(application, today, programme_titles)
        if check.passed:
            override_reason = ""
        elif not override_reason:
            raise PromotionError("override_required")
        else:
            overridden = [_stored_problem(problem) for problem in check.problems]
    else:
        override_reason = ""
    effect = _effect(step, outcome)
    decision = PromotionDecision(
        application_id=application.id,
        revision=application.revision,
        step=step,
        outcome=outcome,
        comment=comment,
        override_reason=override_reason,
        overridden_problems=overridden,
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
            if not transition(application, (expected,), values):
                raise PromotionError("already_decided")
    except IntegrityError:
        raise PromotionError("already_decided") from None

    # The decision was inserted apart from the collection, so reload it on access.
    db.session.expire(application, ["decisions"])
    if effect.status is ApplicationStatus.APPROVED:
        _promote(application, reviewer, today)
    _audit_decision(application, decision, reviewer, effect.action)
    if decision.override_reason:
        _audit_override(application, decision, reviewer)
    _notify(application, decision)
    # The step is decided, so the other reviewers' requests for it are settled.
    notifications.settle(REVIEW_DUE_KIND, "promotion_application", application.id)
    notify_reviewers(application)
    return decision


def _stored_problem(problem: Text):
    """Return a failed check as stored-text JSON, or as plain text when it is plain."""
    text, data = split_text(problem, None)
    return data if data is not None else text


def _promote(application: PromotionApplication, reviewer: User, today) -> None:
    """Append the new step to the applicant's record.

    An administrative rank also becomes the profile's cadre rank, which
    decides the cadre training rules that apply.
    """
    applicant = application.applicant
    kind, key = engine.TRACK_ENTRIES[application.track]
    entry = ProgressionEntry(
        user_id=applicant.id,
        kind=kind,
        occurred_on=local_today(applicant.institution, today),
        title=_entry_title(application),
        title_data=_entry_title_text(application).to_json(),
        detail={key: application.to_value, "application_id": application.id},
        source_type="promotion_application",
        source_id=application.id,
        created_by_id=reviewer.id,
    )
    db.session.add(entry)
    db.session.flush()
    application.progression_entry_id = entry.id

    if application.track is PromotionTrack.ADMINISTRATIVE_RANK:
        # The rank takes effect on the day of the approval, the date of the
        # rank change on the record.
        events.set_cadre_rank(
            applicant, reviewer, CadreRank(application.to_value), entry.occurred_on
        )
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


def _entry_title_text(application: PromotionApplication) -> StoredText:
    """Return the headline that ``_entry_title`` stores, shown in the reader's language."""
    step = in_each_language(lambda: application.to_label)
    if application.track is PromotionTrack.COMPETENCY_LEVEL:
        return stored_gettext(
            "Competency level: %(step)s (promotion application #%(number)s approved)",
            step=step,
            number=application.id,
        )
    if application.track is PromotionTrack.PROFESSIONAL_TITLE:
        return stored_gettext(
            "Professional title: %(step)s (promotion application #%(number)s approved)",
            step=step,
            number=application.id,
        )
    return stored_gettext(
        "Administrative rank: %(step)s (promotion application #%(number)s approved)",
        step=step,
        number=application.id,
    )


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
            "override_reason": decision.override_reason,
            "applicant_id": applicant.id,
            "rule_active": application.rule.active,
        },
    )


def _audit_override(application, decision, reviewer) -> None:
    applicant = application.applicant
    audit.record(
        "promotion.override",
        "promotion_application",
        application.id,
        f"{applicant.full_name}: {application.from_name} → {application.to_name}, "
        f"{decision.step.value} approved despite a failed check",
        actor_id=reviewer.id,
        institution_id=application.institution_id,
        data={
            "decision_id": decision.id,
            "step": decision.step.value,
            "revision": decision.revision,
            "reason": decision.override_reason,
            "problems": decision.overridden_problems,
            "applicant_id": applicant.id,
        },
    )


#: Notification kind of "an application waits for your review".
REVIEW_DUE_KIND = "promotion_review_due"


def reviewers(application: PromotionApplication) -> list[User]:
    """Return who may decide the application's current step: HR first, else admins."""
    step = current_step(application)
    if step is None:
        return []
    staffed = staffed_departments(application.institution_id)
    return reviewers_among(
        application.institution_id,
        lambda user: can_review(user, application, step, staffed=staffed),
    )


def review_note(viewer: User, application: PromotionApplication) -> Optional[str]:
    """Describe the current review step and who decides it, for a viewer who cannot.

    Returns None when the application awaits no review or ``viewer`` may
    decide the step.
    """
    step = current_step(application)
    if step is None or can_review(viewer, application, step):
        return None
    staffed = staffed_departments(application.institution_id)
    if step is ReviewStep.DEPARTMENT:
        if application.department_id in staffed:
            note = _(
                "Next step: department review, decided by HR of the applicant's "
                "department."
            )
        else:
            note = _(
                "Next step: department review. The applicant's department has no HR "
                "officer, so institution-wide HR or an administrator decides it."
            )
    else:
        note = _(
            "Next step: institution review, decided by institution-wide HR or an "
            "administrator who did not decide the department review."
        )
        if viewer.id == department_reviewer_id(application):
            note += " " + _(
                "You decided the department review of this submission, so another "
                "reviewer decides the institution review."
            )
    names = [
        user.full_name or user.username
        for user in reviewers_among(
            application.institution_id,
            lambda user: can_review(user, application, step, staffed=staffed),
        )
    ]
    if names:
        note += " " + _("Reviewers: %(names)s.", names=join_names(names))
    else:
        note += " " + _(
            "Nobody can decide this step yet. Ask an administrator to assign an HR "
            "officer."
        )
    return note


def notify_reviewers(application: PromotionApplication) -> int:
    """Notify each reviewer of the current step that the application waits for them.

    Stores one notification per reviewer, submission and step, however
    often this runs. Returns the number of reviewers notified.
    """
    step = current_step(application)
    if step is None:
        return 0
    title = stored_gettext("A promotion application waits for your review")
    body = stored_gettext(
        "%(name)s applied for %(from)s → %(to)s. Review it on the promotions page.",
        name=application.applicant.full_name,
        **_step_names(application),
    )
    people = reviewers(application)
    for reviewer in people:
        notifications.enqueue(
            reviewer,
            REVIEW_DUE_KIND,
            "promotion_application",
            application.id,
            title,
            body,
            link=f"/promotions/applications/{application.id}",
            key_suffix=f"{application.revision}-{step.value}",
        )
    if not people:
        logger.warning(
            "Promotion application %s waits at the %s step; no reviewer to notify",
            application.id,
            step.value,
        )
    return len(people)


def _step_names(application: PromotionApplication) -> dict:
    """Return the application's steps as "from" and "to" in every language."""
    return {
        "from": in_each_language(lambda: application.from_label),
        "to": in_each_language(lambda: application.to_label),
    }


def _notify(application: PromotionApplication, decision: PromotionDecision) -> None:
    title, body = _message(application, decision)
    notifications.enqueue(
        application.applicant,
        NOTIFICATION_KIND,
        "promotion_decision",
        decision.id,
        title,
        body,
        link=f"/promotions/applications/{application.id}",
    )


def _message(application, decision) -> tuple[StoredText, StoredText]:
    names = _step_names(application)
    if decision.outcome is ReviewOutcome.RETURN:
        title = stored_gettext("Your promotion application was returned for changes")
        body = stored_gettext(
            "Your application %(from)s → %(to)s was returned for changes: %(comment)s",
            comment=decision.comment,
            **names,
        )
    elif decision.outcome is ReviewOutcome.REJECT:
        title = stored_gettext("Your promotion application was rejected")
        body = stored_gettext(
            "Your application %(from)s → %(to)s was rejected: %(comment)s",
            comment=decision.comment,
            **names,
        )
    elif decision.step is ReviewStep.DEPARTMENT:
        title = stored_gettext("Your promotion application passed the department review")
        body = stored_gettext(
            "Your application %(from)s → %(to)s passed the department review and "
            "now waits for the institution review.",
            **names,
        )
    else:
        title = stored_gettext("Your promotion was approved")
        body = stored_gettext(
            "Your application %(from)s → %(to)s was approved. The new step is on "
            "your record.",
            **names,
        )
    if decision.comment and decision.outcome is ReviewOutcome.APPROVE:
        comment = stored_gettext("Comment: %(comment)s", comment=decision.comment)
        body = stored_join([body, comment], " ")
    return title, body


def review_queue_query(
    viewer: User,
    *,
    search: str = "",
    department_id: Optional[int] = None,
    step: Optional[ReviewStep] = None,
) -> sa.Select:
    """Return the select of the applications whose current step ``viewer`` may decide.

    The conditions are those of ``can_review``, written in SQL so that the
    database returns only the decidable applications and pages them. The
    oldest submission comes first. ``search`` matches part of the
    applicant's full name, username or employee number, ignoring case.
    ``department_id`` keeps the applications filed from one department, and
    ``step`` those waiting at one review step.
    """
    application = PromotionApplication
    applicant = so.aliased(User)
    query = (
        sa.select(application)
        .join(applicant, application.applicant_id == applicant.id)
        .where(
            application.institution_id == viewer.institution_id,
            applicant.institution_id == viewer.institution_id,
            application.applicant_id != viewer.id,
        )
    )
    if viewer.role not in (Role.HR, Role.ADMIN):
        query = query.where(sa.false())
    steps = {
        ReviewStep.DEPARTMENT: application.status == ApplicationStatus.DEPARTMENT_REVIEW,
        ReviewStep.INSTITUTION: application.status
        == ApplicationStatus.INSTITUTION_REVIEW,
    }
    scope = hr_scope(viewer)
    if scope is not None:
        # Department HR decide the department step of their own department's
        # applicants, and never the institution step.
        query = query.where(
            application.department_id == scope,
            applicant.department_id == scope,
            steps[ReviewStep.DEPARTMENT],
        )
    else:
        staffed = sa.select(User.hr_department_id).where(
            User.institution_id == viewer.institution_id,
            User.hr_department_id.is_not(None),
            User.role == Role.HR,
            User.active.is_(True),
        )
        decided_by_viewer = (
            sa.select(PromotionDecision.id)
            .where(
                PromotionDecision.application_id == application.id,
                PromotionDecision.revision == application.revision,
                PromotionDecision.step == ReviewStep.DEPARTMENT,
                PromotionDecision.reviewer_id == viewer.id,
            )
            .exists()
        )
        query = query.where(
            sa.or_(
                sa.and_(
                    steps[ReviewStep.DEPARTMENT],
                    sa.or_(
                        application.department_id.is_(None),
                        application.department_id.not_in(staffed),
                    ),
                ),
                sa.and_(steps[ReviewStep.INSTITUTION], ~decided_by_viewer),
            )
        )
    if step is not None:
        query = query.where(steps[step])
    if department_id is not None:
        query = query.where(application.department_id == department_id)
    if search:
        query = query.where(
            sa.or_(
                contains_text(applicant.full_name, search),
                contains_text(applicant.username, search),
                contains_text(applicant.employee_no, search),
            )
        )
    return query.options(
        so.selectinload(application.applicant),
        so.selectinload(application.department),
    ).order_by(application.submitted_at, application.id)


def review_queue(viewer: User, **filters) -> list[PromotionApplication]:
    """Return every application whose current step ``viewer`` may decide.

    The oldest submission comes first. ``filters`` are those of
    ``review_queue_query``; the review page loads one page of that select.
    """
    return list(db.session.scalars(review_queue_query(viewer, **filters)))
