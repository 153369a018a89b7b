"""Class rosters under /classes: progress, XLSX export, enrolment by hand, rule or upload.

The routes register on the ``classes`` blueprint of ``courses.class_views``.
"""

from decimal import Decimal

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from assessments import services as assessment_services
from assessments.models import Attempt
from courses import class_attendance, class_import, class_leave, classes, logger
from courses.class_models import MemberStatus, PendingImport, TrainingClass
from courses.class_views import (
    MANAGER_ROLES,
    ROSTER_ROLES,
    class_error_message,
    _managed,
    _member,
    _roster_class,
    bp,
    class_roles_required,
)
from courses.models import CourseCompletion, LessonProgress, TargetLevel
from lms import exports, tabular, uploads
from lms.accounts.access import hr_scope
from lms.accounts.models import Post, Role, User
from lms.extensions import db
from lms.i18n import join_names
from lms.labels import label, person_label
from lms.organisations.models import Department

IMPORT_TYPES = ("csv", "txt", "xlsx")
IMPORT_MAX_BYTES = 5 * uploads.MB
uploads.register_field("class_roster", lambda: {"*": IMPORT_MAX_BYTES})

# Roster -------------------------------------------------------------------------


def _count_by_user(query) -> dict[int, int]:
    return {user_id: total for user_id, total in db.session.execute(query)}


def roster_rows(training_class: TrainingClass) -> list[dict]:
    """Return each member with lessons done, quizzes passed and class hours.

    Each figure is one grouped query over every member, whatever the class size.
    """
    courses = training_class.offered_courses
    course_ids = [course.id for course in courses]
    lesson_ids = [lesson.id for course in courses for lesson in course.lessons]
    quiz_ids = [
        quiz.id for course in courses for quiz in assessment_services.quizzes_for_course(course)
    ]
    user_ids = [member.user_id for member in training_class.members]
    # One query for every member's account, in place of one per roster row.
    users = {
        user.id: user
        for user in db.session.scalars(sa.select(User).where(User.id.in_(user_ids)))
    }

    lessons_done = _count_by_user(
        sa.select(LessonProgress.user_id, sa.func.count())
        .where(LessonProgress.user_id.in_(user_ids), LessonProgress.lesson_id.in_(lesson_ids))
        .group_by(LessonProgress.user_id)
    )
    quizzes_passed = _count_by_user(
        sa.select(Attempt.user_id, sa.func.count(sa.distinct(Attempt.quiz_id)))
        .where(Attempt.user_id.in_(user_ids), Attempt.quiz_id.in_(quiz_ids), Attempt.passed.is_(True))
        .group_by(Attempt.user_id)
    )
    completions: dict[int, tuple[int, Decimal]] = {
        user_id: (total, Decimal(hours or 0))
        for user_id, total, hours in db.session.execute(
            sa.select(
                CourseCompletion.user_id, sa.func.count(), sa.func.sum(CourseCompletion.hours)
            )
            .where(
                CourseCompletion.user_id.in_(user_ids),
                CourseCompletion.course_id.in_(course_ids),
            )
            .group_by(CourseCompletion.user_id)
        )
    }
    session_hours = class_attendance.credited_hours_by_user(training_class)
    leave = class_leave.standings(training_class, user_ids)

    rows = []
    for member in training_class.members:
        courses_done, course_hours = completions.get(member.user_id, (0, Decimal(0)))
        rows.append(
            {
                "member": member,
                "user": users[member.user_id],
                "lessons_done": lessons_done.get(member.user_id, 0),
                "lessons_total": len(lesson_ids),
                "quizzes_passed": quizzes_passed.get(member.user_id, 0),
                "quizzes_total": len(quiz_ids),
                "courses_done": courses_done,
                "course_hours": course_hours,
                "session_hours": session_hours.get(member.user_id, Decimal(0)),
                "leave": leave[member.user_id],
            }
        )
    return rows


@bp.route("/<int:class_id>/roster")
@class_roles_required(*ROSTER_ROLES)
def roster(class_id: int):
    training_class = _roster_class(class_id)
    can_manage = classes.can_manage(current_user, training_class)
    candidates = []
    if can_manage:
        placed = {
            member.user_id for member in training_class.members
            if member.status in classes.ACTIVE_STATES
        }
        candidates = [
            person for person in classes.people_matching(training_class.institution_id)
            if person.id not in placed
        ]
    return render_template(
        "classes/roster.html",
        training_class=training_class,
        rows=_visible_rows(training_class),
        can_manage=can_manage,
        candidates=candidates,
        departments=_departments(),
        roles=[Role.COUNSELOR, Role.PARTY_WORKER],
        posts=list(Post),
        levels=list(TargetLevel),
        scheduled_hours=class_leave.scheduled_hours(training_class),
        floor_hours=class_leave.floor_hours,
        percent_text=class_leave.percent_text,
        limit_text=class_leave.limit_text,
        can_reinstate=class_leave.can_reinstate,
    )


def _visible_rows(training_class: TrainingClass) -> list[dict]:
    """Return the roster rows the current user may read.

    An HR officer limited to one department sees only that department's
    members; managers and institution HR see everyone.
    """
    rows = roster_rows(training_class)
    scope = hr_scope(current_user)
    if scope is None or classes.can_manage(current_user, training_class):
        return rows
    return [row for row in rows if row["user"].department_id == scope]


def _departments() -> list[Department]:
    return list(
        db.session.scalars(
            sa.select(Department)
            .where(Department.institution_id == current_user.institution_id)
            .order_by(Department.name)
        )
    )


@bp.route("/<int:class_id>/roster.xlsx")
@class_roles_required(*ROSTER_ROLES)
def export_roster(class_id: int):
    training_class = _roster_class(class_id)
    headers = [
        _("Employee number"), _("Name"), _("Department"), _("Status"),
        _("Lessons done"), _("Quizzes passed"), _("Courses completed"),
        _("Course hours"), _("Session hours"), _("Total hours"),
        # Appended last, so the earlier columns keep their positions.
        _("Gender"), _("Mobile phone"), _("Missed hours"), _("Share missed"),
    ]
    body = []
    for row in _visible_rows(training_class):
        user = row["user"]
        body.append([
            user.employee_no or "",
            user.full_name,
            user.department.name if user.department else "",
            label(row["member"].status.value, "member_status"),
            row["lessons_done"],
            row["quizzes_passed"],
            row["courses_done"],
            row["course_hours"],
            row["session_hours"],
            row["course_hours"] + row["session_hours"],
            label(user.gender),
            user.phone or "",
            row["leave"].missed_hours,
            class_leave.percent_text(row["leave"].share) if row["leave"].share is not None else "",
        ])
    return exports.xlsx_response(
        f"{training_class.code}-roster.xlsx", headers, body, sheet_title=training_class.code
    )


@bp.route("/<int:class_id>/members", methods=["POST"])
@class_roles_required(*MANAGER_ROLES)
def add_members(class_id: int):
    training_class = _managed(class_id)
    ids = [int(raw) for raw in request.form.getlist("user_ids") if raw.isdigit()]
    if not ids:
        flash(_("Choose at least one person to add."), "error")
        return redirect(url_for("classes.roster", class_id=class_id))
    people = [
        person for person in classes.people_matching(training_class.institution_id)
        if person.id in ids
    ]
    found = {person.id for person in people}
    for user_id in ids:
        if user_id not in found:
            flash(_not_addable_message(training_class, user_id), "error")
    if not people:
        return redirect(url_for("classes.roster", class_id=class_id))
    return _enrol_people(training_class, people)


def _not_addable_message(training_class: TrainingClass, user_id: int) -> str:
    """Return why the person with ``user_id`` is not among the class's candidates."""
    person = db.session.get(User, user_id)
    if person is None:
        return _("No person has the ID %(id)d, so nobody was added for it.", id=user_id)
    if person.institution_id != training_class.institution_id:
        return _(
            "The person with the ID %(id)d belongs to another institution, so they "
            "cannot join this class.",
            id=user_id,
        )
    if not person.active:
        return _(
            "%(name)s was not added: the account is disabled. Ask an administrator "
            "to enable it.",
            name=person.full_name,
        )
    return _(
        "%(name)s was not added: only counselors and party workers can join a class.",
        name=person.full_name,
    )


def _enrol_people(training_class: TrainingClass, people: list[User]):
    try:
        counts = classes.enrol_by_rule(training_class, people, current_user)
    except classes.ClassError as error:
        db.session.rollback()
        flash(class_error_message(error), "error")
        return redirect(url_for("classes.roster", class_id=training_class.id))
    db.session.commit()
    flash(
        _("%(enrolled)d enrolled, %(waiting)d on the waiting list, %(already)d already in the class.",
          **counts),
        "success",
    )
    _warn_outside_audience(training_class, people)
    _warn_outside_level(training_class, people)
    return redirect(url_for("classes.roster", class_id=training_class.id))


#: People named one by one in the audience warning; the rest are counted.
AUDIENCE_NAMES_SHOWN = 10


def _warn_outside_audience(training_class: TrainingClass, people: list[User]) -> None:
    """Warn about people added to the class whom its programme is not meant for."""
    outside = classes.outside_audience(training_class, people)
    if not outside:
        return
    names = join_names(person.full_name for person in outside[:AUDIENCE_NAMES_SHOWN])
    if len(outside) > AUDIENCE_NAMES_SHOWN:
        names = _("%(names)s and %(count)d more", names=names,
                  count=len(outside) - AUDIENCE_NAMES_SHOWN)
    programme = training_class.programme
    flash(
        ngettext(
            "%(names)s is not in the audience of the programme %(programme)s (%(audience)s)."
            " The person was added: remove them from the roster if that was a mistake.",
            "%(names)s are not in the audience of the programme %(programme)s (%(audience)s)."
            " They were added: remove from the roster those who should not take it.",
            len(outside),
            names=names,
            programme=programme.title,
            audience=_audience_text(programme),
        ),
        "warning",
    )


def _warn_outside_level(training_class: TrainingClass, people: list[User]) -> None:
    """Warn about people added to the class whose level differs from its programme's."""
    outside = classes.outside_level(training_class, people)
    if not outside:
        return
    names = join_names(
        _("%(name)s (%(level)s)", name=person_label(person), level=label(level))
        for person, level in outside[:AUDIENCE_NAMES_SHOWN]
    )
    if len(outside) > AUDIENCE_NAMES_SHOWN:
        names = _("%(names)s and %(count)d more", names=names,
                  count=len(outside) - AUDIENCE_NAMES_SHOWN)
    programme = training_class.programme
    flash(
        ngettext(
            "By years in post, %(names)s is not at the level of the programme "
            "%(programme)s (%(level)s). The person was added: remove them from the "
            "roster if that was a mistake.",
            "By years in post, %(names)s are not at the level of the programme "
            "%(programme)s (%(level)s). They were added: remove from the roster "
            "those who should not take it.",
            len(outside),
            names=names,
            programme=programme.title,
            level=label(programme.level),
        ),
        "warning",
    )


def _audience_text(programme) -> str:
    """Name the posts a programme is meant for, or quote its audience note."""
    if programme.audience_posts:
        return join_names(label(Post(value)) for value in programme.audience_posts)
    return programme.audience


@bp.route("/<int:class_id>/members/rule", methods=["POST"])
@class_roles_required(*MANAGER_ROLES)
def enrol_rule(class_id: int):
    training_class = _managed(class_id)
    form = request.form
    role = next((r for r in (Role.COUNSELOR, Role.PARTY_WORKER) if r.value == form.get("role")), None)
    post = next((p for p in Post if p.value == form.get("post")), None)
    level = next((lv for lv in TargetLevel if lv.value == form.get("level")), None)
    department = next(
        (d for d in _departments() if str(d.id) == form.get("department_id")), None
    )
    if role is None and post is None and level is None and department is None:
        flash(_("Choose a role, post, level or department for the rule."), "error")
        return redirect(url_for("classes.roster", class_id=class_id))
    people = classes.people_matching(
        training_class.institution_id,
        role=role,
        post=post,
        department_id=department.id if department else None,
        level=level,
    )
    if not people:
        flash(_("Nobody matches the rule."), "info")
        return redirect(url_for("classes.roster", class_id=class_id))
    return _enrol_people(training_class, people)


# Actions that take a person off the roster, so their GET shows a confirmation page.
_CONFIRMED_ACTIONS = ("withdraw", "reject")


@bp.route("/<int:class_id>/members/<int:member_id>/<action>", methods=["GET", "POST"])
@class_roles_required(*MANAGER_ROLES)
def member_action(class_id: int, member_id: int, action: str):
    """Decide on a member of the roster. A GET shows the confirmation page of a removal."""
    training_class = _managed(class_id)
    member = _member(training_class, member_id)
    if request.method == "GET":
        if action not in _CONFIRMED_ACTIONS:
            abort(404)
        return render_template(
            "classes/member_remove.html",
            training_class=training_class,
            member=member,
            action=action,
            waiting_position=classes.waiting_position(member),
        )
    handlers = {
        "approve": classes.approve,
        "reject": classes.reject,
        "withdraw": classes.withdraw,
        "reinstate": class_leave.reinstate,
    }
    handler = handlers.get(action)
    if handler is None:
        abort(404)
    try:
        handler(member, current_user)
    except classes.ClassError as error:
        db.session.rollback()
        flash(class_error_message(error), "error")
        return redirect(url_for("classes.roster", class_id=class_id))
    db.session.commit()
    flash(_("%(name)s: %(status)s.", name=member.user.full_name,
            status=_member_status_label(member.status)), "success")
    return redirect(url_for("classes.roster", class_id=class_id))


def _member_status_label(status: MemberStatus) -> str:
    return label(status.value, "member_status")


# Roster upload -------------------------------------------------------------------


@bp.route("/<int:class_id>/import", methods=["GET", "POST"])
@class_roles_required(*MANAGER_ROLES)
def upload_roster(class_id: int):
    training_class = _managed(class_id)
    if request.method == "GET":
        return render_template("classes/import.html", training_class=training_class, error=None)
    upload = request.files.get("file")
    try:
        _type, content = uploads.check(
            upload.filename if upload else "",
            upload.stream if upload else None,
            allowed=IMPORT_TYPES,
            max_bytes=IMPORT_MAX_BYTES,
        )
        pending = class_import.preview(training_class, upload.filename, content, current_user)
    except uploads.UploadError as error:
        message = _upload_error_message(error, upload.filename if upload else "")
    except tabular.TableError as error:
        message = class_import.table_error_message(error)
    else:
        db.session.commit()
        return redirect(url_for("classes.import_preview", class_id=class_id, import_id=pending.id))
    db.session.rollback()
    return render_template(
        "classes/import.html", training_class=training_class, error=message
    ), 400


def _upload_error_message(error: uploads.UploadError, filename: str) -> str:
    if error.code == "size":
        return _("The file is larger than %(mb)d MB. Split the roster into smaller files.",
                 mb=IMPORT_MAX_BYTES // uploads.MB)
    # check() raises "missing" for an empty file too, which then has a file name.
    if error.code == "missing" and filename:
        return _(
            "The file %(name)s is empty. Choose the CSV or XLSX file that contains the roster.",
            name=filename,
        )
    if error.code == "missing":
        return _("Choose a CSV or XLSX file to upload.")
    if error.code == "content":
        return _(
            "The content of %(name)s does not match its extension: it is not a "
            "text (CSV, TXT) file or an XLSX workbook. Save the roster from the "
            "spreadsheet as CSV or XLSX and upload that file.",
            name=filename,
        )
    return uploads.old_excel_message(filename) or _(
        "Upload a CSV, TXT or XLSX file; this file is of another type."
    )


def _pending(training_class: TrainingClass, import_id: int) -> PendingImport:
    pending = db.session.get(PendingImport, import_id)
    if pending is None or pending.class_id != training_class.id:
        abort(404)
    return pending


def _preview_gone(training_class: TrainingClass):
    """Redirect to the upload form, saying that the preview no longer exists.

    The cleanup job deletes previews left unconfirmed, so a missing preview
    is most likely one of those.
    """
    flash(
        _(
            "This preview no longer exists, because previews not confirmed in time "
            "are deleted. Upload the file again."
        ),
        "error",
    )
    return redirect(url_for("classes.upload_roster", class_id=training_class.id))


@bp.route("/<int:class_id>/import/<int:import_id>")
@class_roles_required(*MANAGER_ROLES)
def import_preview(class_id: int, import_id: int):
    training_class = _managed(class_id)
    if db.session.get(PendingImport, import_id) is None:
        return _preview_gone(training_class)
    pending = _pending(training_class, import_id)
    return _render_preview(training_class, pending)


def _post_shown(row: dict) -> str:
    """Return the post cell of a preview row: the post a new account gets, else the file's."""
    if row.get("action") == "new":
        return label(class_import.new_account_post(row))
    if row.get("post") in class_import.POST_VALUES:
        return label(Post(row["post"]))
    return row.get("post") or ""


def _render_preview(training_class, pending, status: int = 200):
    problems_by_row: dict[int, list[dict]] = {}
    for problem in pending.problems:
        problems_by_row.setdefault(problem["row"], []).append(problem)
    return render_template(
        "classes/import_preview.html",
        training_class=training_class,
        pending=pending,
        problems_by_row=problems_by_row,
        message=class_import.problem_message,
        note_message=class_import.note_message,
        post_shown=_post_shown,
        filled_rows=class_import.filled_rows(pending.rows),
        encoding_name=tabular.encoding_name,
    ), status


@bp.route("/<int:class_id>/import/<int:import_id>/confirm", methods=["POST"])
@class_roles_required(*MANAGER_ROLES)
def confirm_import(class_id: int, import_id: int):
    training_class = _managed(class_id)
    if db.session.get(PendingImport, import_id) is None:
        return _preview_gone(training_class)
    pending = _pending(training_class, import_id)
    try:
        result = class_import.confirm(pending, current_user)
    except class_import.ImportRejected as error:
        problems = list(pending.problems)
        db.session.rollback()
        if error.code == "problems":
            pending = _pending(training_class, import_id)
            pending.problems = problems
            db.session.commit()
            flash(_("Nothing was imported: fix the rows listed below and upload the file again."), "error")
            return _render_preview(training_class, pending, 400)
        if error.code == "deleted":
            return _preview_gone(training_class)
        if error.code == "expired":
            flash(_("This preview is older than a day. Upload the file again."), "error")
        else:
            flash(_("This file was imported already."), "error")
        return redirect(url_for("classes.roster", class_id=class_id))
    except classes.ClassError as error:
        db.session.rollback()
        flash(class_error_message(error), "error")
        return redirect(url_for("classes.import_preview", class_id=class_id, import_id=import_id))
    created = [(user.full_name, user.employee_no, user.username, password)
               for user, password in result["created"]]
    db.session.commit()
    logger.info("Roster import %s confirmed for class %s", import_id, class_id)
    _warn_outside_audience(training_class, result["people"])
    _warn_outside_level(training_class, result["people"])
    response = render_template(
        "classes/import_done.html", training_class=training_class, result=result, created=created
    )
    return response, 200, {"Cache-Control": "no-store"}
