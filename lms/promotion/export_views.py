"""Exports for HR: a person's dossier as PDF, and people and promotion
applications as XLSX."""

from datetime import datetime
from typing import Optional
from zoneinfo import ZoneInfo

from flask import make_response, request
from flask_babel import gettext as _
from flask_login import current_user

from lms import exports
from lms.accounts.access import (
    LEARNER_ROLES,
    get_person_or_404,
    person_roles_required,
    roles_required,
)
from lms.compliance.engine import Status, evaluate_institution, rules_for
from lms.compliance.explain import STATUS
from lms.compliance.windows import local_today
from lms.extensions import db
from lms.labels import label
from lms.promotion import application_search, dossier, services
from lms.promotion.forms import DECISION_LABELS, TRACK_LABELS
from lms.promotion.views import APPLICATION_STATUS_LABELS, HR_ROLES, bp
from lms.records import people_search
from lms.records import services as records
from lms.records.models import TrainingTier
from lms.records.views import department_filter


def _no_store(response):
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/people/<int:person_id>/dossier.pdf")
@person_roles_required(*HR_ROLES, *LEARNER_ROLES)
def dossier_pdf(person_id: int):
    """HR downloads the dossier of anyone in reach; a learner only their own."""
    person = get_person_or_404(person_id)
    today = local_today(person.institution)
    response = make_response(dossier.render_pdf(person, today))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = exports._disposition(
        f"dossier-{person.employee_no or person.id}-{today.isoformat()}.pdf"
    )
    return _no_store(response)


def _statuses(institution, compliance_rules, people) -> dict[int, dict[int, Status]]:
    """Return each person's verdict status per rule id, two queries per rule."""
    statuses: dict[int, dict[int, Status]] = {person.id: {} for person in people}
    for rule in compliance_rules:
        for verdict in evaluate_institution(institution, rule):
            if verdict.person.id in statuses:
                statuses[verdict.person.id][rule.id] = verdict.status
    return statuses


@bp.route("/promotions/exports/people.xlsx")
@roles_required(*HR_ROLES)
def export_people():
    """Export the people in the viewer's reach with this year's hours by tier
    and the status of every rule.

    ``?department=``, ``?q=``, ``?role=`` and ``?status=`` narrow the list
    as on the people page, and a rejected value is ignored the same way.
    """
    institution = current_user.institution
    department, _filter_error = department_filter(request.args.get("department", ""))
    filters = people_search.parse_filters(request.args)
    query = people_search.people_query(
        institution.id, department.id if department is not None else None, filters
    )
    people = list(db.session.scalars(query))
    compliance_rules = rules_for(institution.id)
    statuses = _statuses(institution, compliance_rules, people)
    year = records.current_year(current_user)
    hours = records.hours_by_tier_for([person.id for person in people], year)
    tiers = list(TrainingTier)

    headers = (
        [_("Name"), _("Employee number"), _("Department"), _("Role"), _("Post")]
        + [
            _("%(tier)s hours in %(year)d", tier=label(tier), year=year)
            for tier in tiers
        ]
        + [_("Total hours in %(year)d", year=year)]
        + [_("Rules missed"), _("Rules at risk")]
        + [rule.display_name for rule in compliance_rules]
    )

    rows = []
    for person in people:
        by_rule = statuses[person.id]
        by_tier = hours[person.id]
        rows.append(
            [
                person.full_name,
                person.employee_no or "",
                person.department.name if person.department else "",
                label(person.role),
                label(person.post),
            ]
            + [by_tier[tier] for tier in tiers]
            + [sum(by_tier.values())]
            + [
                sum(1 for s in by_rule.values() if s is Status.MISSED),
                sum(1 for s in by_rule.values() if s is Status.AT_RISK),
            ]
            + [str(STATUS[by_rule[rule.id].value]) for rule in compliance_rules]
        )

    today = local_today(institution)
    response = exports.xlsx_response(
        f"people-compliance-{today.isoformat()}.xlsx",
        headers,
        rows,
        sheet_title=_("People"),
    )
    return _no_store(response)


def _local(moment: Optional[datetime], zone: str):
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


@bp.route("/promotions/exports/applications.xlsx")
@roles_required(*HR_ROLES)
def export_applications():
    """Export the applications in the viewer's reach.

    ``?q=``, ``?department=`` and ``?status=`` narrow the list as on the review
    page, and a rejected value is ignored the same way.
    """
    zone = current_user.institution.timezone
    department, _filter_error = department_filter(request.args.get("department", ""))
    filters = application_search.parse_filters(request.args)
    query = services.applications_query(
        current_user,
        (filters.status,) if filters.status is not None else None,
        search=filters.search,
        department_id=department.id if department is not None else None,
    )
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
    for application in db.session.scalars(query):
        last = application.decisions[-1] if application.decisions else None
        rows.append(
            [
                application.id,
                application.applicant.full_name,
                application.applicant.employee_no or "",
                application.department.name if application.department else "",
                str(TRACK_LABELS[application.track.value]),
                application.from_label,
                application.to_label,
                str(APPLICATION_STATUS_LABELS[application.status]),
                application.revision,
                _local(application.submitted_at, zone),
                _local(application.closed_at, zone),
                str(DECISION_LABELS[last.outcome.value]) if last else "",
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
