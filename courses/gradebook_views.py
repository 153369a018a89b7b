"""The gradebook of a course under /manage, with its CSV and XLSX downloads.

The routes register on the ``manage`` blueprint of ``courses.manage_views``.
Trainers and administrators reach them; other roles get 403, as on a quiz's
results page. A course of another institution gives 404, and a trainer who
does not teach the course gets 403 (``courses.teaching.may_grade``).
Which learners each viewer sees is decided in ``courses.gradebook``.
"""

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from assessments import scoring
from assessments.authoring import institution_zone
from courses import gradebook, teaching
from courses.manage_views import AUTHOR_ROLES, _own, bp
from courses.models import Course
from lms import exports, paging
from lms.accounts.access import roles_required


def _gradebook(course_id: int) -> tuple[Course, gradebook.Viewer]:
    """Load a course whose gradebook the current user may read, or abort 404 or 403."""
    course = _own(Course, course_id)
    if not teaching.may_grade(current_user, course):
        abort(403)
    viewer = gradebook.viewer_for(current_user, course)
    if viewer is None:
        abort(403)
    return course, viewer


def _filtered(course: Course, viewer: gradebook.Viewer):
    departments = gradebook.departments_of(course.institution_id)
    filters = gradebook.parse_filters(request.args, viewer, departments)
    return departments, filters, gradebook.learner_query(course, viewer, filters)


@bp.route("/courses/<int:course_id>/gradebook")
@roles_required(*AUTHOR_ROLES)
def gradebook_page(course_id: int):
    """Show the learners' grades, lessons, completion and hours, 50 a page."""
    course, viewer = _gradebook(course_id)
    departments, filters, query = _filtered(course, viewer)
    link_args = filters.query_args()
    total = paging.count_rows(query)
    raw_page = request.args.get("page", "")
    out_of_range = paging.redirect_if_out_of_range(
        ".gradebook_page", raw_page, total, {"course_id": course.id, **link_args}
    )
    if out_of_range is not None:
        return out_of_range
    page = paging.fetch_page(query, paging.page_number(raw_page), total)
    columns = gradebook.columns_of(course)
    return render_template(
        "courses/manage/gradebook.html",
        course=course,
        viewer=viewer,
        columns=columns,
        page=page,
        rows=gradebook.build_rows(course, columns, page.items),
        departments=departments,
        filters=filters,
        link_args={"course_id": course.id, **link_args},
        export_args=link_args,
        may_moderate=gradebook.may_moderate,
    )


def _export_table(course: Course, viewer: gradebook.Viewer, number=lambda value: value):
    """Return the headers and rows of the filtered gradebook, every learner of it.

    ``number`` formats grades, scores and hours: CSV gets text such as "85",
    XLSX keeps numbers that a spreadsheet can sum.
    """
    _departments, _filters, query = _filtered(course, viewer)
    columns = gradebook.columns_of(course)
    zone = institution_zone(course.institution_id)
    headers = [_("Name"), _("Username"), _("Employee number"), _("Department")]
    for quiz in columns.quizzes:
        headers += [
            _("%(item)s: grade (percent)", item=quiz.title),
            _("%(item)s: passed", item=quiz.title),
            _("%(item)s: attempts", item=quiz.title),
        ]
    for task in columns.tasks:
        headers += [
            _("%(item)s: score", item=task.title),
            _("%(item)s: status", item=task.title),
        ]
    headers += [
        _("Lessons done"),
        _("Lessons"),
        _("Course completed on"),
        _("Hours credited"),
    ]
    table = []
    for row in gradebook.all_rows(course, columns, query):
        user = row.user
        line = [
            user.full_name,
            user.username,
            user.employee_no or "",
            user.department.name if user.department else "",
        ]
        for cell in row.quizzes:
            if cell.grade is None:
                grade = _("Awaiting grading") if cell.awaiting_grading else ""
            else:
                grade = number(cell.grade)
            if cell.grade is None:
                passed = ""
            elif cell.passed:
                passed = _("Yes")
            else:
                passed = _("No")
            line += [grade, passed, cell.attempts]
        for cell in row.tasks:
            line += [
                number(cell.score) if cell.score is not None else "",
                _task_state(cell),
            ]
        line += [
            row.lessons_done,
            columns.lessons_total,
            row.completed_at.astimezone(zone).strftime("%Y-%m-%d") if row.completed_at else "",
            _hours_text(row, number),
        ]
        table.append(line)
    return headers, table


def _task_state(cell: gradebook.TaskCell) -> str:
    if cell.state == "not_submitted":
        return _("Not submitted")
    if cell.state == "awaiting_scoring":
        return _("Awaiting scoring")
    if cell.newer_awaiting and cell.passed:
        return _("Passed; a resubmission awaits scoring")
    if cell.newer_awaiting:
        return _("Not passed; a resubmission awaits scoring")
    if cell.passed:
        return _("Passed")
    return _("Not passed")


def _hours_text(row: gradebook.Row, number):
    if row.hours is None:
        return ""
    if row.hours_withdrawn:
        return _("%(hours)s (withdrawn)", hours=scoring.display(row.hours))
    return number(row.hours)


def _filename(course: Course, extension: str) -> str:
    return f"{course.code}-v{course.version}-gradebook.{extension}"


@bp.route("/courses/<int:course_id>/gradebook.csv")
@roles_required(*AUTHOR_ROLES)
def export_gradebook_csv(course_id: int):
    """Download the filtered gradebook as CSV with a byte order mark, so Excel reads the names."""
    course, viewer = _gradebook(course_id)
    headers, table = _export_table(course, viewer, scoring.display)
    return exports.csv_response(_filename(course, "csv"), headers, table)


@bp.route("/courses/<int:course_id>/gradebook.xlsx")
@roles_required(*AUTHOR_ROLES)
def export_gradebook_xlsx(course_id: int):
    """Download the filtered gradebook as an XLSX workbook."""
    course, viewer = _gradebook(course_id)
    headers, table = _export_table(course, viewer)
    return exports.xlsx_response(
        _filename(course, "xlsx"), headers, table, sheet_title=course.code
    )
