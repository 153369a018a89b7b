"""Promotion pages: eligibility and applications for learners, and the review
queue and decisions for HR. Rule editing is in ``rule_views`` and the exports
in ``export_views``; both register their routes on ``bp``."""

from typing import Optional

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from lms import labels, paging
from lms.accounts.access import (
    LEARNER_ROLES,
    get_person_or_404,
    hr_scope,
    person_roles_required,
    roles_required,
)
from lms.accounts.models import Role
from lms.compliance.windows import local_today
from lms.extensions import db
from lms.i18n import format_datetime
from lms.promotion import application_search, engine, evidence, logger, services
from lms.promotion import review as review_steps
from lms.promotion.forms import (
    DECISION_LABELS,
    TRACK_LABELS,
    ApplicationForm,
    DecisionForm,
    WithdrawForm,
)
from lms.promotion.models import (
    ApplicationStatus,
    PromotionApplication,
    PromotionRule,
    ReviewOutcome,
    ReviewStep,
)
from lms.records.views import department_filter, visible_departments
from lms.routing import MAX_ID

bp = Blueprint("promotion", __name__)

CERTIFICATE_DISPLAY_STATUS = {
    "valid": _l("Valid"),
    "expiring_soon": _l("Expiring soon"),
    "expired": _l("Expired"),
    "revoked": _l("Revoked"),
    "superseded": _l("Superseded"),
}
labels.register("certificate_display_status", CERTIFICATE_DISPLAY_STATUS)

HR_ROLES = (Role.HR, Role.ADMIN)

APPLICATION_STATUS_LABELS = {
    ApplicationStatus.DEPARTMENT_REVIEW: _l("Waiting for the department review"),
    ApplicationStatus.INSTITUTION_REVIEW: _l("Waiting for the institution review"),
    ApplicationStatus.RETURNED: _l("Returned for changes"),
    ApplicationStatus.APPROVED: _l("Approved"),
    ApplicationStatus.REJECTED: _l("Rejected"),
    ApplicationStatus.WITHDRAWN: _l("Withdrawn"),
}

#: Why an application under a rule HR turned off cannot go on, for the
#: reviewer who decides it, the applicant of a returned one, and everyone else.
RULE_OFF_NOTES = {
    "review": _l(
        "HR has turned off the rule of this application, so it cannot be "
        "approved. Return or reject it, and tell the applicant why in the comment."
    ),
    "resubmit": _l(
        "HR has turned off the rule of this application, so it cannot be "
        "resubmitted. You can withdraw it."
    ),
    "pending": _l(
        "HR has turned off the rule of this application, so it cannot be "
        "approved. HR can still return or reject it."
    ),
}

#: Message for each ``services.PromotionError`` code.
ERRORS = {
    "rule_off_approve": RULE_OFF_NOTES["review"],
    "rule_off_resubmit": RULE_OFF_NOTES["resubmit"],
    "not_learner": _l("Only counselors and party-work staff apply for promotions."),
    "other_institution": _l("This rule belongs to another institution."),
    "inactive_rule": _l("This rule is no longer active."),
    "not_eligible": _l(
        "You do not meet every condition of this rule yet. "
        "The list below says what is missing."
    ),
    "already_open": _l(
        "You already have an open application for this promotion. "
        "Open it from your list."
    ),
    "not_applicant": _l("Only the applicant can do this."),
    "not_returned": _l(
        "Only an application returned for changes can be resubmitted."
    ),
    "not_open": _l("This application is already closed."),
    "not_reviewer": _l("You cannot decide the current step of this application."),
    "comment_required": _l(
        "Comment: say what to change, or why the application is rejected."
    ),
    "override_required": _l(
        "The applicant no longer meets this rule, as the check at decision time "
        "shows. To approve anyway, write the reason here. Otherwise return or "
        "reject the application."
    ),
    "not_hr": _l("Only HR accounts can be limited to a department."),
    "already_decided": _l(
        "Someone decided this step already. The page shows the current state."
    ),
}


def flash_error(error: services.PromotionError) -> None:
    flash(str(ERRORS[error.code]), "error")


@bp.app_context_processor
def _promotion_helpers():
    return {
        "application_status_label": lambda status: str(
            APPLICATION_STATUS_LABELS[status]
        ),
        "track_labels": TRACK_LABELS,
        "decision_labels": DECISION_LABELS,
    }


def programmes_of(institution_id: int) -> list:
    """Return the institution's programmes for the rule form and the messages."""
    from courses.models import Programme

    return list(
        db.session.scalars(
            sa.select(Programme)
            .where(Programme.institution_id == institution_id)
            .order_by(Programme.title)
        )
    )


def programme_titles(institution_id: int) -> dict[int, str]:
    programmes = programmes_of(institution_id)
    return {programme.id: programme.title for programme in programmes}


def load_application(application_id: int) -> PromotionApplication:
    """Load an application the current user may see; 404 otherwise."""
    application = None
    if application_id <= MAX_ID:
        application = db.session.get(PromotionApplication, application_id)
    if application is None or not review_steps.can_see(current_user, application):
        abort(404)
    return application


# Learners


def _render_promotions(person):
    """Render a person's steps, the promotions open to them and their applications."""
    from courses.learning import person_level

    today = local_today(person.institution)
    titles = programme_titles(person.institution_id)
    applications = services.applications_of(person)
    return render_template(
        "promotion/mine.html",
        person=person,
        is_self=person.id == current_user.id,
        positions={
            track.value: position
            for track, position in engine.positions(person).items()
        },
        results=engine.evaluate_for(person, today, titles),
        applications=applications,
        open_rules={a.rule_id: a for a in applications if a.is_open},
        today=today,
        service_level=person_level(person, today),
    )


@bp.route("/promotions")
@roles_required(*LEARNER_ROLES)
def mine():
    return _render_promotions(current_user)


@bp.route("/people/<int:person_id>/promotions")
@person_roles_required(*HR_ROLES)
def person_promotions(person_id: int):
    return _render_promotions(get_person_or_404(person_id))


def _load_rule_for_learner(rule_id: int) -> PromotionRule:
    rule = None
    if rule_id <= MAX_ID:
        rule = services.find_rule(current_user.institution_id, rule_id)
    if rule is None or not rule.active:
        abort(404)
    return rule


@bp.route("/promotions/apply/<int:rule_id>", methods=["GET", "POST"])
@roles_required(*LEARNER_ROLES)
def apply(rule_id: int):
    rule = _load_rule_for_learner(rule_id)
    titles = programme_titles(current_user.institution_id)
    result = engine.evaluate(rule, current_user, programme_titles=titles)
    form = ApplicationForm()
    status = 200
    if form.validate_on_submit():
        try:
            application = services.apply(
                current_user,
                rule,
                (form.statement.data or "").strip(),
                programme_titles=titles,
            )
        except services.PromotionError as error:
            flash_error(error)
            status = 409 if error.code == "already_open" else 400
        else:
            db.session.commit()
            flash(
                _("Application submitted. HR of your department reviews it first."),
                "success",
            )
            return redirect(url_for(".application", application_id=application.id))
    elif form.is_submitted():
        status = 400
    return (
        render_template("promotion/apply.html", rule=rule, result=result, form=form),
        status,
    )


def _render_application(
    application,
    *,
    decision_form=None,
    resubmit_form=None,
    withdraw_form=None,
    status=200,
):
    step = review_steps.current_step(application)
    can_decide = review_steps.can_review(current_user, application, step)
    review_note = None if can_decide else review_steps.review_note(current_user, application)
    is_applicant = application.applicant_id == current_user.id
    if can_decide and decision_form is None:
        decision_form = DecisionForm(
            formdata=None,
            step=step.value,
            revision=str(application.revision),
            rule_active=application.rule.active,
        )
    decision_check = None
    if can_decide:
        decision_check = review_steps.check_at_decision(
            application,
            programme_titles=programme_titles(application.institution_id),
        )
    rule_off_note = _rule_off_note(application, is_applicant, can_decide)
    if not application.rule.active:
        resubmit_form = None
    elif (
        is_applicant
        and application.status is ApplicationStatus.RETURNED
        and resubmit_form is None
    ):
        resubmit_form = ApplicationForm(formdata=None, statement=application.statement)
    return (
        render_template(
            "promotion/application.html",
            application=application,
            evidence=evidence.for_display(application.evidence or {}),
            step=step,
            can_decide=can_decide,
            review_note=review_note,
            decision_form=decision_form if can_decide else None,
            decision_check=decision_check,
            rule_off_note=rule_off_note,
            resubmit_form=resubmit_form,
            is_applicant=is_applicant,
            withdraw_form=withdraw_form or WithdrawForm(formdata=None),
        ),
        status,
    )


def _rule_off_note(
    application: PromotionApplication, is_applicant: bool, can_decide: bool
) -> Optional[str]:
    """Say why an open application under a rule HR turned off cannot go on."""
    if application.rule.active or not application.is_open:
        return None
    if can_decide:
        return str(RULE_OFF_NOTES["review"])
    if is_applicant and application.status is ApplicationStatus.RETURNED:
        return str(RULE_OFF_NOTES["resubmit"])
    return str(RULE_OFF_NOTES["pending"])


@bp.route("/promotions/applications/<int:application_id>")
@login_required
def application(application_id: int):
    return _render_application(load_application(application_id))


@bp.route("/promotions/applications/<int:application_id>/decide", methods=["POST"])
@roles_required(*HR_ROLES)
def decide(application_id: int):
    application = load_application(application_id)
    if _reject_if_decided(application):
        return redirect(url_for(".application", application_id=application_id))
    step = review_steps.current_step(application)
    posted_step = _posted_step()
    if step is not None and posted_step is not None and posted_step is not step:
        return _reject_out_of_turn(application, step, posted_step)
    if not review_steps.can_review(current_user, application, step):
        # The page names the step and its reviewers instead of a bare 403.
        return _render_application(application, status=403)
    form = DecisionForm(rule_active=application.rule.active)
    if not form.validate_on_submit():
        return _render_application(application, decision_form=form, status=400)
    try:
        review_steps.decide(
            application,
            current_user,
            ReviewOutcome(form.outcome.data),
            form.comment.data or "",
            override_reason=form.override_reason.data or "",
            programme_titles=programme_titles(application.institution_id),
        )
    except services.PromotionError as error:
        db.session.rollback()
        if error.code == "override_required":
            form.override_reason.errors = [str(ERRORS[error.code])]
            application = load_application(application_id)
            return _render_application(application, decision_form=form, status=400)
        if error.code == "rule_off_approve":
            # The page explains it beside the form.
            application = load_application(application_id)
            return _render_application(application, status=400)
        if error.code != "already_decided" or not _reject_if_decided(
            load_application(application_id)
        ):
            flash_error(error)
        return redirect(url_for(".application", application_id=application_id))
    db.session.commit()
    flash(_("Decision recorded and the applicant notified."), "success")
    return redirect(url_for(".application", application_id=application_id))


def _posted_step() -> Optional[ReviewStep]:
    """Return the review step named in the posted decision form, or None."""
    try:
        return ReviewStep(request.form.get("step", ""))
    except ValueError:
        return None


def _reject_out_of_turn(
    application: PromotionApplication,
    step: Optional[ReviewStep],
    posted_step: ReviewStep,
):
    """Reject a decision posted for a step other than the current one.

    Nothing is recorded. A stale page or a second tab can post the institution form while the
    department step is still open. A reviewer who may decide the posted step
    is told which step comes first. A user who may not decide it gets the
    same 403 page as for the current step.
    """
    if not review_steps.can_review(current_user, application, posted_step):
        return _render_application(application, status=403)
    logger.info(
        "Decision by %r on %s of application %s rejected: current step is %s",
        current_user,
        posted_step.value,
        application.id,
        step.value if step is not None else None,
    )
    if step is ReviewStep.DEPARTMENT:
        message = _(
            "The department review comes first and is not decided yet, so the "
            "institution review cannot be recorded. Your decision was not saved."
        )
    else:
        message = _(
            "This review step is not open any more. Your decision was not saved. "
            "The page shows the current state."
        )
    flash(message, "error")
    return redirect(url_for(".application", application_id=application.id))


def _decision_on_posted_step(application: PromotionApplication):
    """Return the decision already recorded on the step the posted form was shown for."""
    step = request.form.get("step")
    revision = request.form.get("revision")
    return next(
        (
            decision
            for decision in application.decisions
            if decision.step.value == step and str(decision.revision) == revision
        ),
        None,
    )


def _reject_if_decided(application: PromotionApplication) -> bool:
    """Flash who decided the posted step and when, and return True, if it was decided."""
    decision = _decision_on_posted_step(application)
    if decision is None:
        return False
    logger.info(
        "Decision by %r on %s of application %s rejected: decided by user %s",
        current_user, decision.step.value, application.id, decision.reviewer_id,
    )
    step = labels.label(decision.step.value, "audit_review_step")
    when = format_datetime(decision.decided_at, "short")
    outcome = labels.label(decision.outcome.value, "audit_review_outcome")
    if decision.reviewer_id == current_user.id:
        # A second press, or the form sent again from the browser history.
        flash(
            _(
                "%(step)s: you already decided on %(when)s (%(outcome)s). That "
                "decision stands; the form was not saved again.",
                step=step, when=when, outcome=outcome,
            ),
            "success",
        )
        return True
    flash(
        _(
            "%(step)s: already decided by %(name)s on %(when)s (%(outcome)s). "
            "Your decision was not saved. The page shows the current state.",
            step=step, name=decision.reviewer.full_name, when=when, outcome=outcome,
        ),
        "error",
    )
    return True


@bp.route("/promotions/applications/<int:application_id>/resubmit", methods=["POST"])
@roles_required(*LEARNER_ROLES)
def resubmit(application_id: int):
    application = load_application(application_id)
    if application.applicant_id != current_user.id:
        abort(404)
    form = ApplicationForm()
    if not form.validate_on_submit():
        return _render_application(application, resubmit_form=form, status=400)
    try:
        services.resubmit(
            application,
            current_user,
            (form.statement.data or "").strip(),
            programme_titles=programme_titles(current_user.institution_id),
        )
    except services.PromotionError as error:
        db.session.rollback()
        if error.code != "rule_off_resubmit":
            # The page explains a turned-off rule in place of the form.
            flash_error(error)
        application = load_application(application_id)
        return _render_application(application, resubmit_form=form, status=400)
    db.session.commit()
    flash(_("Application resubmitted with fresh evidence."), "success")
    return redirect(url_for(".application", application_id=application_id))


@bp.route("/promotions/applications/<int:application_id>/withdraw", methods=["POST"])
@roles_required(*LEARNER_ROLES)
def withdraw(application_id: int):
    application = load_application(application_id)
    if application.applicant_id != current_user.id:
        abort(404)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _render_application(application, withdraw_form=form, status=400)
    try:
        services.withdraw(application, current_user)
    except services.PromotionError as error:
        db.session.rollback()
        flash_error(error)
    else:
        db.session.commit()
        flash(_("Application withdrawn."), "success")
    return redirect(url_for(".application", application_id=application_id))


# HR


@bp.route("/promotions/review")
@roles_required(*HR_ROLES)
def review():
    """Show the applications waiting for the viewer, then all applications.

    Both lists are searched, filtered and paged in SQL. The queue's query
    arguments start with ``queue_``, so that each list keeps its own
    filters and page while the other is paged.
    """
    prefix = application_search.QUEUE_PREFIX
    scoped = hr_scope(current_user) is not None
    department, department_error = department_filter(
        request.args.get("department", "")
    )
    filters = application_search.parse_filters(request.args)
    link_args = filters.query_args()
    if department is not None and not scoped:
        link_args["department"] = str(department.id)

    queue_department, queue_department_error = department_filter(
        request.args.get(prefix + "department", "")
    )
    queue_filters = application_search.parse_filters(
        request.args, prefix, application_search.WAITING_STATUSES
    )
    queue_args = queue_filters.query_args()
    if queue_department is not None and not scoped:
        queue_args[prefix + "department"] = str(queue_department.id)

    raw_page = request.args.get("page", "")
    raw_queue_page = request.args.get(prefix + "page", "")
    # Each list's page links keep the other list's filters and page.
    queue_link_args = {**link_args, **queue_args}
    all_link_args = {**link_args, **queue_args}
    if paging.page_number(raw_page) not in (None, 1):
        queue_link_args["page"] = raw_page.strip()
    if paging.page_number(raw_queue_page) not in (None, 1):
        all_link_args[prefix + "page"] = raw_queue_page.strip()

    query = services.applications_query(
        current_user,
        (filters.status,) if filters.status is not None else None,
        search=filters.search,
        department_id=department.id if department is not None else None,
    )
    total = paging.count_rows(query)
    out_of_range = paging.redirect_if_out_of_range(
        ".review", raw_page, total, all_link_args
    )
    if out_of_range is not None:
        return out_of_range

    queue_query = review_steps.review_queue_query(
        current_user,
        search=queue_filters.search,
        department_id=queue_department.id if queue_department is not None else None,
        step=review_steps.STATUS_STEPS.get(queue_filters.status),
    )
    queue_total = paging.count_rows(queue_query)
    out_of_range = paging.redirect_if_out_of_range(
        ".review",
        raw_queue_page,
        queue_total,
        queue_link_args,
        param=prefix + "page",
        anchor="queue-heading",
    )
    if out_of_range is not None:
        return out_of_range

    errors = [department_error] if department_error else []
    queue_errors = [queue_department_error] if queue_department_error else []
    statuses = [
        (status.value, status_label)
        for status, status_label in APPLICATION_STATUS_LABELS.items()
    ]
    waiting = {status.value for status in application_search.WAITING_STATUSES}
    return render_template(
        "promotion/review.html",
        queue=paging.fetch_page(
            queue_query, paging.page_number(raw_queue_page), queue_total
        ),
        queue_filters=queue_filters,
        queue_filter_errors=queue_errors + queue_filters.errors,
        queue_link_args=queue_link_args,
        queue_args=queue_args,
        selected_queue_department=queue_department,
        queue_statuses=[choice for choice in statuses if choice[0] in waiting],
        # Each list's search form keeps the other list's filters and page.
        queue_form_keep={
            name: value
            for name, value in queue_link_args.items()
            if name not in queue_args
        },
        all_form_keep={
            name: value
            for name, value in all_link_args.items()
            if name not in link_args
        },
        page=paging.fetch_page(query, paging.page_number(raw_page), total),
        filters=filters,
        filter_errors=errors + filters.errors,
        link_args=link_args,
        all_link_args=all_link_args,
        departments=visible_departments(current_user),
        selected_department=department,
        statuses=statuses,
    )


from lms.promotion import export_views, rule_views  # noqa: E402, F401  (routes on bp)
