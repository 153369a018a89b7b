"""Promotion pages: eligibility and applications for learners, the review
queue and decisions for HR, rule editing, and the dossier and XLSX exports."""

from datetime import datetime
from typing import Optional
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, abort, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from lms import exports, labels
from lms.accounts.access import (
    LEARNER_ROLES,
    get_person_or_404,
    hr_scope,
    roles_required,
)
from lms.accounts.models import Role
from lms.compliance.engine import Status, evaluate_institution, rules_for
from lms.compliance.explain import STATUS
from lms.compliance.windows import local_today
from lms.extensions import db
from lms.labels import label
from lms.promotion import dossier, engine, services
from lms.promotion.forms import (
    OUTCOME_LABELS,
    TRACK_LABELS,
    ApplicationForm,
    DecisionForm,
    HrScopeForm,
    RuleForm,
    WithdrawForm,
)
from lms.promotion.models import (
    ApplicationStatus,
    PromotionApplication,
    PromotionRule,
    ReviewOutcome,
)
from lms.records import services as records
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
    ApplicationStatus.DEPARTMENT_REVIEW: lambda: _("Waiting for the department review"),
    ApplicationStatus.INSTITUTION_REVIEW: lambda: _("Waiting for the institution review"),
    ApplicationStatus.RETURNED: lambda: _("Returned for changes"),
    ApplicationStatus.APPROVED: lambda: _("Approved"),
    ApplicationStatus.REJECTED: lambda: _("Rejected"),
    ApplicationStatus.WITHDRAWN: lambda: _("Withdrawn"),
}

_ERRORS = {
    "not_learner": lambda: _("Only counselors and party-work staff apply for promotions."),
    "other_institution": lambda: _("This rule belongs to another institution."),
    "inactive_rule": lambda: _("This rule is no longer active."),
    "not_eligible": lambda: _(
        "You do not meet every condition of this rule yet. The list below says what is missing."
    ),
    "already_open": lambda: _(
        "You already have an open application for this promotion. Open it from your list."
    ),
    "not_applicant": lambda: _("Only the applicant can do this."),
    "not_returned": lambda: _("Only an application returned for changes can be resubmitted."),
    "not_open": lambda: _("This application is already closed."),
    "not_reviewer": lambda: _("You cannot decide the current step of this application."),
    "comment_required": lambda: _(
        "Comment: say what to change, or why the application is rejected."
    ),
    "not_hr": lambda: _("Only HR accounts can be limited to a department."),
    "already_decided": lambda: _(
        "Someone decided this step already. The page shows the current state."
    ),
}


@bp.app_context_processor
def _promotion_helpers():
    return {
        "application_status_label": lambda status: APPLICATION_STATUS_LABELS[status](),
        "track_labels": TRACK_LABELS,
        "outcome_labels": OUTCOME_LABELS,
    }


def _programmes(institution_id: int) -> list:
    """Return the institution's programmes for the rule form and the messages."""
    from courses.models import Programme

    return list(
        db.session.scalars(
            sa.select(Programme)
            .where(Programme.institution_id == institution_id)
            .order_by(Programme.title)
        )
    )


def _programme_titles(institution_id: int) -> dict[int, str]:
    return {programme.id: programme.title for programme in _programmes(institution_id)}


def _load_application(application_id: int) -> PromotionApplication:
    """Load an application the current user may see; 404 otherwise."""
    application = None
    if application_id <= MAX_ID:
        application = db.session.get(PromotionApplication, application_id)
    if application is None or not services.can_see(current_user, application):
        abort(404)
    return application


# Learners


@bp.route("/promotions")
@roles_required(*LEARNER_ROLES)
def mine():
    """List the promotions open to the user's current steps, and their applications."""
    today = local_today(current_user.institution)
    titles = _programme_titles(current_user.institution_id)
    applications = services.applications_of(current_user)
    open_rules = {a.rule_id: a for a in applications if a.is_open}
    return render_template(
        "promotion/mine.html",
        positions={
            track.value: position
            for track, position in engine.positions(current_user).items()
        },
        results=engine.evaluate_for(current_user, today, titles),
        applications=applications,
        open_rules=open_rules,
        today=today,
    )


def _load_rule_for_learner(rule_id: int) -> PromotionRule:
    rule = services.find_rule(current_user.institution_id, rule_id) if rule_id <= MAX_ID else None
    if rule is None or not rule.active:
        abort(404)
    return rule


@bp.route("/promotions/apply/<int:rule_id>", methods=["GET", "POST"])
@roles_required(*LEARNER_ROLES)
def apply(rule_id: int):
    rule = _load_rule_for_learner(rule_id)
    titles = _programme_titles(current_user.institution_id)
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
            flash(_ERRORS[error.code](), "error")
            status = 409 if error.code == "already_open" else 400
        else:
            db.session.commit()
            flash(_("Application submitted. HR of your department reviews it first."), "success")
            return redirect(url_for(".application", application_id=application.id))
    elif form.is_submitted():
        status = 400
    return (
        render_template("promotion/apply.html", rule=rule, result=result, form=form),
        status,
    )


def _render_application(
    application, *, decision_form=None, resubmit_form=None, withdraw_form=None, status=200
):
    step = services.current_step(application)
    can_decide = services.can_review(current_user, application, step)
    is_applicant = application.applicant_id == current_user.id
    if can_decide and decision_form is None:
        decision_form = DecisionForm(formdata=None)
    if (
        is_applicant
        and application.status is ApplicationStatus.RETURNED
        and resubmit_form is None
    ):
        resubmit_form = ApplicationForm(formdata=None, statement=application.statement)
    return (
        render_template(
            "promotion/application.html",
            application=application,
            evidence=application.evidence or {},
            step=step,
            can_decide=can_decide,
            decision_form=decision_form if can_decide else None,
            resubmit_form=resubmit_form,
            is_applicant=is_applicant,
            withdraw_form=withdraw_form or WithdrawForm(formdata=None),
        ),
        status,
    )


@bp.route("/promotions/applications/<int:application_id>")
@login_required
def application(application_id: int):
    return _render_application(_load_application(application_id))


@bp.route("/promotions/applications/<int:application_id>/decide", methods=["POST"])
@roles_required(*HR_ROLES)
def decide(application_id: int):
    application = _load_application(application_id)
    if not services.can_review(current_user, application, services.current_step(application)):
        abort(403)
    form = DecisionForm()
    if not form.validate_on_submit():
        return _render_application(application, decision_form=form, status=400)
    try:
        services.decide(
            application, current_user, ReviewOutcome(form.outcome.data), form.comment.data or ""
        )
    except services.PromotionError as error:
        db.session.rollback()
        flash(_ERRORS[error.code](), "error")
        return redirect(url_for(".application", application_id=application_id))
    db.session.commit()
    flash(_("Decision recorded and the applicant notified."), "success")
    return redirect(url_for(".application", application_id=application_id))


@bp.route("/promotions/applications/<int:application_id>/resubmit", methods=["POST"])
@roles_required(*LEARNER_ROLES)
def resubmit(application_id: int):
    application = _load_application(application_id)
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
            programme_titles=_programme_titles(current_user.institution_id),
        )
    except services.PromotionError as error:
        db.session.rollback()
        flash(_ERRORS[error.code](), "error")
        return _render_application(_load_application(application_id), resubmit_form=form, status=400)
    db.session.commit()
    flash(_("Application resubmitted with fresh evidence."), "success")
    return redirect(url_for(".application", application_id=application_id))


@bp.route("/promotions/applications/<int:application_id>/withdraw", methods=["POST"])
@roles_required(*LEARNER_ROLES)
def withdraw(application_id: int):
    application = _load_application(application_id)
    if application.applicant_id != current_user.id:
        abort(404)
    form = WithdrawForm()
    if not form.validate_on_submit():
        return _render_application(application, withdraw_form=form, status=400)
    try:
        services.withdraw(application, current_user)
    except services.PromotionError as error:
        db.session.rollback()
        flash(_ERRORS[error.code](), "error")
    else:
        db.session.commit()
        flash(_("Application withdrawn."), "success")
    return redirect(url_for(".application", application_id=application_id))


# HR


@bp.route("/promotions/review")
@roles_required(*HR_ROLES)
def review():
    return render_template(
        "promotion/review.html",
        queue=services.review_queue(current_user),
        applications=services.visible_applications(current_user),
    )


def _can_edit_rules() -> bool:
    return current_user.role is Role.ADMIN or (
        current_user.role is Role.HR and hr_scope(current_user) is None
    )


@bp.route("/promotions/rules")
@roles_required(*HR_ROLES)
def rules():
    return render_template(
        "promotion/rules.html",
        rules=engine.rules_of(current_user.institution_id, active_only=False),
        programmes=_programme_titles(current_user.institution_id),
        can_edit=_can_edit_rules(),
    )


def _edit_rule(rule: Optional[PromotionRule]):
    if not _can_edit_rules():
        abort(403)
    institution_id = current_user.institution_id
    programmes = _programmes(institution_id)
    form = RuleForm(institution_id=institution_id, rule=rule, programmes=programmes)
    if rule is not None and not form.is_submitted():
        form.fill(rule)
    if form.validate_on_submit():
        created = rule is None
        target = rule or PromotionRule(institution_id=institution_id)
        form.apply_to(target)
        services.save_rule(target, current_user, created=created)
        db.session.commit()
        flash(_("Promotion rule saved: %(name)s", name=target.name), "success")
        return redirect(url_for(".rules"))
    status = 400 if form.is_submitted() else 200
    return render_template("promotion/rule_form.html", form=form, rule=rule), status


@bp.route("/promotions/rules/new", methods=["GET", "POST"])
@roles_required(*HR_ROLES)
def new_rule():
    return _edit_rule(None)


@bp.route("/promotions/rules/<int:rule_id>", methods=["GET", "POST"])
@roles_required(*HR_ROLES)
def edit_rule(rule_id: int):
    rule = services.find_rule(current_user.institution_id, rule_id) if rule_id <= MAX_ID else None
    if rule is None:
        abort(404)
    return _edit_rule(rule)


@bp.route("/people/<int:person_id>/hr-scope", methods=["POST"])
@roles_required(Role.ADMIN)
def set_hr_scope(person_id: int):
    """Limit an HR account to one department, or give it the whole institution."""
    person = get_person_or_404(person_id)
    form = HrScopeForm(departments=person.institution.departments)
    if not form.validate_on_submit():
        for error in form.department.errors:
            flash(error, "error")
        return redirect(url_for("accounts.manage_account", person_id=person.id)), 400
    choice = form.department.data
    try:
        changed = services.set_hr_scope(
            person, None if choice == "all" else int(choice), current_user
        )
    except services.PromotionError as error:
        flash(_ERRORS[error.code](), "error")
        return redirect(url_for("accounts.manage_account", person_id=person.id))
    db.session.commit()
    if changed:
        flash(_("HR scope of %(name)s saved.", name=person.full_name), "success")
    else:
        flash(_("Nothing changed."), "info")
    return redirect(url_for("accounts.manage_account", person_id=person.id))


# Exports


def _no_store(response):
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/people/<int:person_id>/dossier.pdf")
@roles_required(*HR_ROLES)
def dossier_pdf(person_id: int):
    person = get_person_or_404(person_id)
    today = local_today(person.institution)
    response = make_response(dossier.render_pdf(person, today))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = exports._disposition(
        f"dossier-{person.employee_no or person.id}-{today.isoformat()}.pdf"
    )
    return _no_store(response)


@bp.route("/promotions/exports/people.xlsx")
@roles_required(*HR_ROLES)
def export_people():
    """People of the viewer's reach with the status of every training-hour rule."""
    institution = current_user.institution
    scope = hr_scope(current_user)
    people = records.people_of(institution.id, scope)
    compliance_rules = rules_for(institution.id)
    statuses: dict[int, dict[int, Status]] = {person.id: {} for person in people}
    for rule in compliance_rules:
        for verdict in evaluate_institution(institution, rule):
            if verdict.person.id in statuses:
                statuses[verdict.person.id][rule.id] = verdict.status
    headers = [
        _("Name"),
        _("Employee number"),
        _("Department"),
        _("Role"),
        _("Post"),
        _("Rules missed"),
        _("Rules at risk"),
    ] + [rule.name for rule in compliance_rules]
    rows = []
    for person in people:
        by_rule = statuses[person.id]
        rows.append(
            [
                person.full_name,
                person.employee_no or "",
                person.department.name if person.department else "",
                label(person.role),
                label(person.post),
                sum(1 for s in by_rule.values() if s is Status.MISSED),
                sum(1 for s in by_rule.values() if s is Status.AT_RISK),
            ]
            + [str(STATUS[by_rule[rule.id].value]) for rule in compliance_rules]
        )
    today = local_today(institution)
    response = exports.xlsx_response(
        f"people-compliance-{today.isoformat()}.xlsx", headers, rows, sheet_title=_("People")
    )
    return _no_store(response)


def _local(moment: Optional[datetime], zone: str):
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


@bp.route("/promotions/exports/applications.xlsx")
@roles_required(*HR_ROLES)
def export_applications():
    zone = current_user.institution.timezone
    headers = [
        _("Application"),
        _("Name"),
        _("Employee number"),
        _("Department"),
        _("Track"),
        _("From"),
        _("To"),
        _("Status"),
        _("Submission"),
        _("Submitted at"),
        _("Closed at"),
        _("Last decision"),
        _("Comment"),
    ]
    rows = []
    for application in services.visible_applications(current_user):
        last = application.decisions[-1] if application.decisions else None
        rows.append(
            [
                application.id,
                application.applicant.full_name,
                application.applicant.employee_no or "",
                application.department.name if application.department else "",
                str(TRACK_LABELS[application.track.value]),
                application.from_name,
                application.to_name,
                APPLICATION_STATUS_LABELS[application.status](),
                application.revision,
                _local(application.submitted_at, zone),
                _local(application.closed_at, zone),
                str(OUTCOME_LABELS[last.outcome.value]) if last else "",
                last.comment if last else "",
            ]
        )
    today = local_today(current_user.institution)
    response = exports.xlsx_response(
        f"promotion-applications-{today.isoformat()}.xlsx",
        headers,
        rows,
        sheet_title=_("Applications"),
    )
    return _no_store(response)
