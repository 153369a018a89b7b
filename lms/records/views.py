"""HR pages: the people list and each person's training record."""

from typing import Optional

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.accounts.access import get_person_or_404, roles_required
from lms.accounts.models import Role
from lms.extensions import db
from lms.organisations.models import Department
from lms.records import services
from lms.records.models import TrainingTier
from lms.routing import MAX_ID

bp = Blueprint("records", __name__)


def _department_filter(raw: str) -> tuple[Optional[Department], Optional[str]]:
    """Resolve the ``department`` query value to one of the viewer's departments.

    Returns the department (None for "all") and an error message when the
    value is not the id of one of the viewer's departments.
    """
    raw = raw.strip()
    if not raw:
        return None, None
    try:
        department_id = int(raw)
    except ValueError:
        department_id = None
    department = None
    if department_id is not None and 0 < department_id <= MAX_ID:
        department = db.session.get(Department, department_id)
    if department is None or department.institution_id != current_user.institution_id:
        message = _(
            "Department filter: %(value)s is not a department of your institution. "
            "Showing everyone.",
            value=raw[:40],
        )
        return None, message
    return department, None


@bp.route("/people")
@roles_required(Role.HR, Role.ADMIN)
def people():
    department, filter_error = _department_filter(request.args.get("department", ""))
    institution = current_user.institution
    year = services.current_year(current_user)
    people = services.people_of(
        institution.id, department.id if department is not None else None
    )
    hours = services.hours_by_tier_for([person.id for person in people], year)
    return render_template(
        "lms/records/people.html",
        people=people,
        hours=hours,
        year=year,
        tiers=list(TrainingTier),
        departments=institution.departments,
        selected_department=department,
        filter_error=filter_error,
    )


@bp.route("/people/<int:person_id>/record")
@login_required
def person_record(person_id: int):
    person = get_person_or_404(person_id)
    entries = services.timeline(person)
    year = services.current_year(person)
    return render_template(
        "lms/records/person_record.html",
        person=person,
        timeline=entries,
        ledger=services.ledger(person),
        summary=services.yearly_summary(person, year),
        is_self=person.id == current_user.id,
    )
