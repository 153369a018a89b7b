"""HR compliance pages: counts per rule and department, the people behind a
count, and the same list as CSV."""

from datetime import date
from typing import Optional

from flask import Blueprint, abort, make_response, render_template, request
from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_login import current_user

import sqlalchemy as sa

from lms import charts, hr_charts, paging
from lms.accounts.access import hr_scope, roles_required
from lms.accounts.models import Role, User
from lms.competencies.evidence import DEFAULT_FRAMEWORK_CODE, population_attainment
from lms.competencies.models import Framework, FrameworkStatus
from lms.compliance import dashboard, snapshots
from lms.compliance.engine import Status, evaluate_institution, local_today
from lms.compliance.explain import MEASURE, STATUS, closest_label
from lms.compliance.models import ComplianceRule, WindowKind
from lms.extensions import db
from lms.labels import label
from lms.records import people_search
from lms.records.views import department_filter, visible_departments

bp = Blueprint("compliance", __name__)

#: Statuses stacked in the compliance-by-department chart, in segment order.
CHART_STATUSES = (Status.MET, Status.AT_RISK, Status.MISSED)

#: CSS class of each status badge (static/css/app.css).
STATUS_CLASSES = {
    Status.MET: "badge-ok",
    Status.IN_PROGRESS: "",
    Status.AT_RISK: "badge-warn",
    Status.MISSED: "badge-bad",
    Status.START_DATE_MISSING: "badge-warn",
    Status.NOT_APPLICABLE: "muted",
}


@bp.app_context_processor
def _status_helpers():
    return {
        "status_labels": {status: STATUS[status.value] for status in Status},
        "status_order": dashboard.STATUS_ORDER,
        "compliance_status_classes": STATUS_CLASSES,
        "closest_label": closest_label,
    }


@bp.route("/compliance")
@roles_required(Role.HR, Role.ADMIN)
def overview():
    institution = current_user.institution
    scope = hr_scope(current_user)
    today = local_today(institution)
    summaries = dashboard.summarise(institution, department_id=scope)
    departments = visible_departments(current_user)
    monthly = dashboard.hours_by_month(institution, today.year, scope)
    return render_template(
        "lms/compliance/overview.html",
        summaries=summaries,
        departments=departments,
        scope_department=next(iter(departments), None) if scope else None,
        today=today,
        monthly_hours=monthly,
        month_names=month_names(today.year),
        hours_chart=_hours_chart(monthly, today.year),
        department_chart=_department_chart(summaries, departments, scope),
        trends=snapshots.trend(institution, today, department_id=scope),
        attainment_chart=_attainment_chart(institution, scope),
    )


def _attainment_chart(institution, department_id):
    """Radar of the counselors' mean attainment per functional area, or None."""
    framework = db.session.scalar(
        sa.select(Framework)
        .filter_by(code=DEFAULT_FRAMEWORK_CODE, status=FrameworkStatus.PUBLISHED)
        .where(Framework.institution_id.is_(None))
        .order_by(Framework.version_number.desc())
        .limit(1)
    )
    if framework is None:
        return None
    people = sa.select(User.id).where(
        User.institution_id == institution.id,
        User.role == Role.COUNSELOR,
        User.active.is_(True),
    )
    if department_id is not None:
        people = people.where(User.department_id == department_id)
    values = population_attainment(people, framework)
    if len(values) < 3:
        return None  # A radar needs three axes; the tables still show the numbers.
    return charts.radar_svg(
        [area.name for area, _value in values],
        [value for _area, value in values],
        title=_("Counselors' mean competency attainment by functional area"),
    )


def month_names(year: int) -> list[str]:
    """Return the abbreviated month names of the locale, January first."""
    return [format_date(date(year, month, 1), "MMM") for month in range(1, 13)]


def _hours_chart(monthly: list, year: int):
    months = month_names(year)
    return hr_charts.bar_chart(
        _("Hours credited per month in %(year)s", year=year), months, monthly
    )


def _department_chart(summaries, departments, scope):
    """Stack met, at risk and missed verdicts of every rule per department."""
    totals = dashboard.department_totals(summaries)
    names = [(department.id, department.name) for department in departments]
    if scope is None:
        names.append((None, _("No department")))
    rows = []
    for department_id, name in names:
        counts = totals.get(department_id)
        if counts is None:
            continue
        rows.append(
            (
                name,
                [
                    hr_charts.Segment(str(STATUS[status.value]), counts[status])
                    for status in CHART_STATUSES
                ],
            )
        )
    return hr_charts.stacked_bar_chart(
        _("Compliance by department: met, at risk and missed"), rows
    )


def _status_filter(raw: str) -> tuple[Optional[Status], Optional[str]]:
    raw = raw.strip()
    if not raw:
        return None, None
    try:
        return Status(raw), None
    except ValueError:
        return None, _(
            "Status filter: %(value)s is not a status. Showing every status.",
            value=raw[:40],
        )


#: Past calendar years the per-rule list offers besides the current one.
PAST_YEARS_SHOWN = 5
#: Earliest year the year filter accepts.
FIRST_YEAR = 2000


def _year_filter(
    raw: str, rule: ComplianceRule, today: date
) -> tuple[int, Optional[str]]:
    """Resolve the ``year`` query value of a calendar-year rule.

    Returns the year to show (today's year when the value is empty or
    invalid) and an error message for an invalid value.
    """
    raw = raw.strip()
    if not raw:
        return today.year, None
    if rule.window_kind is not WindowKind.CALENDAR_YEAR:
        return today.year, _(
            "Year filter: this rule does not count hours per calendar year, "
            "so its status as of today is shown."
        )
    year = int(raw) if raw.isdecimal() and len(raw) <= 4 else None
    if year is None or not FIRST_YEAR <= year <= today.year:
        return today.year, _(
            "Year filter: %(value)s is not a year from %(first)s to %(last)s. "
            "Showing %(last)s.",
            value=raw[:40],
            first=FIRST_YEAR,
            last=today.year,
        )
    return year, None


def _drill_down(rule_id: int):
    """Load the rule and the filtered verdicts shared by the page and the CSV.

    The search text and the department narrow the accounts evaluated in SQL.
    The status is known only once the rule is evaluated, so it filters the
    verdicts.
    """
    institution = current_user.institution
    rule = dashboard.find_rule(institution, rule_id)
    if rule is None:
        abort(404)
    today = local_today(institution)
    search, search_error = people_search.parse_search(request.args.get("q", ""))
    department, department_error = department_filter(request.args.get("department", ""))
    status, status_error = _status_filter(request.args.get("status", ""))
    year, year_error = _year_filter(request.args.get("year", ""), rule, today)
    people = []
    if department is not None:
        people.append(User.department_id == department.id)
    if search:
        people.append(
            sa.or_(
                people_search.contains_text(User.full_name, search),
                people_search.contains_text(User.username, search),
                people_search.contains_text(User.employee_no, search),
            )
        )
    verdicts = dashboard.filter_verdicts(
        evaluate_institution(
            institution,
            rule,
            today,
            year=year if year != today.year else None,
            people=sa.and_(*people) if people else None,
        ),
        status=status,
    )
    calendar_year = rule.window_kind is WindowKind.CALENDAR_YEAR
    link_args = {}
    if search:
        link_args["q"] = search
    if department is not None:
        link_args["department"] = str(department.id)
    if status is not None:
        link_args["status"] = status.value
    if calendar_year:
        link_args["year"] = str(year)
    return {
        "rule": rule,
        "verdicts": verdicts,
        "departments": {d.id: d for d in institution.departments},
        "search": search,
        "selected_department": department,
        "selected_status": status,
        "selected_year": year,
        "years": (
            list(range(today.year, today.year - PAST_YEARS_SHOWN - 1, -1))
            if calendar_year
            else []
        ),
        "link_args": link_args,
        "filter_errors": [
            e for e in (search_error, department_error, status_error, year_error) if e
        ],
    }


@bp.route("/compliance/rules/<int:rule_id>")
@roles_required(Role.HR, Role.ADMIN)
def rule_people(rule_id: int):
    """List the people a rule covers, 50 a page, searched and filtered."""
    context = _drill_down(rule_id)
    verdicts = context.pop("verdicts")
    link_args = context["link_args"]
    raw_page = request.args.get("page", "")
    out_of_range = paging.redirect_if_out_of_range(
        ".rule_people", raw_page, len(verdicts), {**link_args, "rule_id": rule_id}
    )
    if out_of_range is not None:
        return out_of_range
    number = paging.page_number(raw_page)
    start = (number - 1) * paging.PAGE_SIZE
    page = paging.Page(
        items=verdicts[start : start + paging.PAGE_SIZE],
        number=number,
        total=len(verdicts),
    )
    return render_template(
        "lms/compliance/rule.html",
        page=page,
        pager_args={**link_args, "rule_id": rule_id},
        visible_departments=visible_departments(current_user),
        status_choices=[(status.value, STATUS[status.value]) for status in Status],
        **context,
    )


@bp.route("/compliance/rules/<int:rule_id>/export.csv")
@roles_required(Role.HR, Role.ADMIN)
def export_rule_people(rule_id: int):
    context = _drill_down(rule_id)
    departments = context["departments"]
    header = [
        _("Name"),
        _("Employee number"),
        _("Department"),
        _("Role"),
        _("Post"),
        _("Status"),
        _("Achieved"),
        _("Required"),
        _("Missing"),
        _("Deadline"),
        _("Explanation"),
    ]
    rule = context["rule"]
    if rule.counts_days:
        header[-2:-2] = [
            _("Training days"),
            _("Days required"),
            _("Days missing"),
            _("Closest to the minimum"),
        ]
    rows = []
    for verdict in context["verdicts"]:
        person = verdict.person
        department = departments.get(person.department_id)
        applies = verdict.applies
        row = [
            person.full_name,
            person.employee_no or "",
            department.name if department else "",
            label(person.role),
            label(person.post),
            str(STATUS[verdict.status.value]),
            format_decimal(verdict.achieved) if applies else "",
            format_decimal(verdict.required) if applies else "",
            format_decimal(verdict.missing) if applies else "",
            verdict.deadline.isoformat() if verdict.deadline else "",
            verdict.message,
        ]
        if rule.counts_days:
            row[-2:-2] = _days_columns(verdict)
        rows.append(row)
    response = make_response(dashboard.csv_text(header, rows))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers.set(
        "Content-Disposition",
        "attachment",
        filename=_csv_name(rule, context),
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _days_columns(verdict) -> list[str]:
    """Return the CSV cells of a days rule: days, minimum, missing, closer measure."""
    if verdict.achieved_days is None:
        return ["", "", "", ""]
    measure = verdict.closest_measure
    return [
        format_decimal(verdict.achieved_days),
        format_decimal(verdict.days_required),
        format_decimal(verdict.missing_days),
        str(MEASURE[measure.value]),
    ]


def _csv_name(rule, context) -> str:
    """Name the file after the rule and the day, or the year for a past year."""
    today = local_today(current_user.institution)
    if context["years"] and context["selected_year"] != today.year:
        return f"compliance-{rule.id}-{context['selected_year']}.csv"
    return f"compliance-{rule.id}-{today}.csv"


from lms.compliance import rule_views  # noqa: E402, F401  (routes on bp)
