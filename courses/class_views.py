"""Training class pages under /classes.

Trainers of a class and admins manage it; HR sees the rosters of its own
institution; learners see open classes and their own membership. A class
of another institution gives 404.
"""

from decimal import Decimal

import sqlalchemy as sa

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from assessments import services as assessment_services
from courses import class_attendance, class_import, classes, logger, services
from courses.authoring import AuthoringError, courses_of, programmes_of
from courses.class_models import (
    AttendanceStatus,
    ClassSession,
    ClassMember,
    ClassStatus,
    EnrolmentMode,
    MemberStatus,
    PendingImport,
    SessionLength,
    TrainingClass,
)
from courses.models import PublicationStatus, TargetLevel
from lms import exports, labels, tabular, uploads
from lms.accounts.access import roles_required
from lms.accounts.models import Post, Role, User
from lms.extensions import db
from lms.organisations.models import Department
from lms.records.models import TrainingKind, TrainingTier

bp = Blueprint("classes", __name__, url_prefix="/classes")

MEMBER_STATUS = {
    "pending": _l("Awaiting approval"),
    "waiting": _l("Waiting list"),
    "enrolled": _l("Enrolled"),
    "withdrawn": _l("Withdrawn"),
    "rejected": _l("Rejected"),
}
labels.register("member_status", MEMBER_STATUS)
labels.register("MemberStatus", MEMBER_STATUS)
labels.register("ClassStatus", {
    "draft": _l("Draft"),
    "open": _l("Open for enrolment"),
    "closed": _l("Enrolment closed"),
    "cancelled": _l("Cancelled"),
})
labels.register("EnrolmentMode", {
    "assigned": _l("Assigned by trainers"),
    "self": _l("Self-enrolment"),
    "approval": _l("Self-enrolment with approval"),
})
labels.register("SessionLength", {
    "half_day": _l("Half day"),
    "full_day": _l("Full day"),
})
labels.register("AttendanceStatus", {
    "present": _l("Present"),
    "late": _l("Late"),
    "excused": _l("Excused"),
    "absent": _l("Absent"),
})

MANAGER_ROLES = (Role.TRAINER, Role.ADMIN)
ROSTER_ROLES = (Role.TRAINER, Role.HR, Role.ADMIN)
IMPORT_TYPES = ("csv", "txt", "xlsx")
IMPORT_MAX_BYTES = 5 * uploads.MB


# Loading ----------------------------------------------------------------------


def _load(class_id: int) -> TrainingClass:
    training_class = db.session.get(TrainingClass, class_id)
    if training_class is None or training_class.institution_id != current_user.institution_id:
        abort(404)
    return training_class


def _managed(class_id: int) -> TrainingClass:
    training_class = _load(class_id)
    if not classes.can_manage(current_user, training_class):
        abort(403)
    return training_class


def _roster_class(class_id: int) -> TrainingClass:
    training_class = _load(class_id)
    if not classes.can_view_roster(current_user, training_class):
        abort(403)
    return training_class


def _member(training_class: TrainingClass, member_id: int) -> ClassMember:
    member = db.session.get(ClassMember, member_id)
    if member is None or member.class_id != training_class.id:
        abort(404)
    return member


def _session(training_class: TrainingClass, session_id: int) -> ClassSession:
    session = db.session.get(ClassSession, session_id)
    if session is None or session.class_id != training_class.id:
        abort(404)
    return session


def _class_error_message(error: classes.ClassError) -> str:
    messages = {
        "other_institution": _("This person belongs to another institution."),
        "not_learner": _("Only counselors and party-work staff can join a class."),
        "inactive": _("This account is disabled."),
        "cancelled": _("The class is cancelled."),
        "not_open": _("The class is not open for enrolment."),
        "ended": _("The class has ended, so it takes no more enrolments."),
        "assigned_only": _("Places in this class are assigned by its trainers."),
        "programme_closed": _("The class's programme is not open for enrolment. Publish it first."),
        "not_pending": _("This request was already decided."),
        "not_member": _("This person holds no place in the class."),
    }
    return messages.get(error.code, error.code)


# Lists and detail ---------------------------------------------------------------


@bp.route("")
@login_required
def index():
    institution_id = current_user.institution_id
    if current_user.role.is_learner:
        memberships = classes.memberships_of(current_user)
        mine = {member.class_id for member in memberships}
        others = [c for c in classes.open_classes(institution_id) if c.id not in mine]
        return render_template(
            "classes/index_learner.html", memberships=memberships, open_classes=others
        )
    return render_template(
        "classes/index.html",
        classes=classes.classes_of(institution_id),
        can_create=current_user.role in MANAGER_ROLES,
    )


@bp.route("/<int:class_id>")
@login_required
def detail(class_id: int):
    training_class = _load(class_id)
    member = None
    if current_user.role.is_learner:
        if not classes.is_visible_to_learner(current_user, training_class):
            abort(404)
        member = classes.find_member(training_class, current_user)
    return render_template(
        "classes/detail.html",
        training_class=training_class,
        member=member,
        seats_left=classes.seats_left(training_class),
        enrolled=classes.enrolled_count(training_class),
        can_manage=classes.can_manage(current_user, training_class),
        can_view_roster=classes.can_view_roster(current_user, training_class),
        hours_full=classes.hours_for(training_class, SessionLength.FULL_DAY),
        hours_half=classes.hours_for(training_class, SessionLength.HALF_DAY),
        lessons=class_attendance.offline_lessons(training_class),
        lengths=list(SessionLength),
        statuses=list(ClassStatus),
    )


# Creating and editing -------------------------------------------------------------


def _form_values(training_class=None) -> dict:
    if training_class is None:
        return {
            "enrolment_mode": EnrolmentMode.ASSIGNED.value,
            "tier": TrainingTier.SCHOOL.value,
            "trainer_ids": [str(current_user.id)],
        }
    offering = (
        f"p:{training_class.programme_id}" if training_class.programme_id
        else f"c:{training_class.course_id}"
    )
    values = {
        field: getattr(training_class, field)
        for field in ("code", "title", "summary", "capacity", "full_day_hours", "half_day_hours")
    }
    values = {key: "" if value is None else str(value) for key, value in values.items()}
    values.update(
        starts_on=training_class.starts_on.isoformat(),
        ends_on=training_class.ends_on.isoformat(),
        enrolment_mode=training_class.enrolment_mode.value,
        tier=training_class.tier.value,
        kind=training_class.kind.value if training_class.kind else "",
        offering=offering,
        trainer_ids=[str(trainer.id) for trainer in training_class.trainers],
    )
    return values


def _render_form(training_class, values: dict, errors: dict, status: int = 200):
    institution_id = current_user.institution_id
    published = PublicationStatus.PUBLISHED
    staff = [
        user for user in db.session.scalars(
            sa.select(User).where(
                User.institution_id == institution_id,
                User.role.in_(MANAGER_ROLES),
                User.active.is_(True),
            ).order_by(User.full_name)
        )
    ]
    return render_template(
        "classes/form.html",
        training_class=training_class,
        values=values,
        errors=errors,
        programmes=[p for p in programmes_of(institution_id) if p.status is published],
        courses=[c for c in courses_of(institution_id) if c.status is published],
        trainers=staff,
        modes=list(EnrolmentMode),
        tiers=list(TrainingTier),
        kinds=list(TrainingKind),
    ), status


def _submitted() -> dict:
    data = request.form.to_dict()
    data["trainer_ids"] = request.form.getlist("trainer_ids")
    return data


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGER_ROLES)
def new_class():
    if request.method == "GET":
        return _render_form(None, _form_values(), {})
    data = _submitted()
    try:
        training_class = classes.create_class(data, current_user)
    except AuthoringError as error:
        db.session.rollback()
        return _render_form(None, data, error.errors, 400)
    db.session.commit()
    flash(_("Class %(title)s created as a draft.", title=training_class.title), "success")
    return redirect(url_for("classes.detail", class_id=training_class.id))


@bp.route("/<int:class_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGER_ROLES)
def edit_class(class_id: int):
    training_class = _managed(class_id)
    if request.method == "GET":
        return _render_form(training_class, _form_values(training_class), {})
    data = _submitted()
    try:
        classes.update_class(training_class, data, current_user)
        class_attendance.resync_class(training_class)
    except AuthoringError as error:
        db.session.rollback()
        return _render_form(training_class, data, error.errors, 400)
    except classes.ClassError as error:
        db.session.rollback()
        flash(_class_error_message(error), "error")
        return redirect(url_for("classes.detail", class_id=class_id))
    db.session.commit()
    flash(_("Class saved."), "success")
    return redirect(url_for("classes.detail", class_id=class_id))


@bp.route("/<int:class_id>/status", methods=["POST"])
@roles_required(*MANAGER_ROLES)
def set_status(class_id: int):
    training_class = _managed(class_id)
    status = next((s for s in ClassStatus if s.value == request.form.get("status")), None)
    if status is None:
        flash(_("Choose one of the listed statuses."), "error")
        return redirect(url_for("classes.detail", class_id=class_id))
    try:
        classes.set_status(training_class, status, current_user)
    except classes.ClassError as error:
        db.session.rollback()
        flash(_class_error_message(error), "error")
        return redirect(url_for("classes.detail", class_id=class_id))
    db.session.commit()
    flash(_("Class status changed."), "success")
    return redirect(url_for("classes.detail", class_id=class_id))


# Learner membership -------------------------------------------------------------


@bp.route("/<int:class_id>/join", methods=["POST"])
@roles_required(Role.COUNSELOR, Role.PARTY_WORKER)
def join(class_id: int):
    training_class = _load(class_id)
    if not classes.is_visible_to_learner(current_user, training_class):
        abort(404)
    try:
        member = classes.request_place(training_class, current_user)
    except classes.ClassError as error:
        db.session.rollback()
        flash(_class_error_message(error), "error")
        return redirect(url_for("classes.detail", class_id=class_id))
    db.session.commit()
    flash(_member_status_message(member), "success")
    return redirect(url_for("classes.detail", class_id=class_id))


def _member_status_message(member: ClassMember) -> str:
    if member.status is MemberStatus.ENROLLED:
        return _("You are enrolled in this class.")
    if member.status is MemberStatus.WAITING:
        return _("The class is full. You are on the waiting list and move up when a place frees.")
    return _("Your request was sent. A trainer of the class will decide on it.")


@bp.route("/<int:class_id>/leave", methods=["POST"])
@roles_required(Role.COUNSELOR, Role.PARTY_WORKER)
def leave(class_id: int):
    training_class = _load(class_id)
    member = classes.find_member(training_class, current_user)
    if member is None:
        abort(404)
    if (
        training_class.enrolment_mode is EnrolmentMode.ASSIGNED
        and member.status is MemberStatus.ENROLLED
    ):
        flash(_("Places in this class are assigned by its trainers. Ask them to withdraw you."), "error")
        return redirect(url_for("classes.detail", class_id=class_id))
    try:
        classes.withdraw(member, current_user)
    except classes.ClassError as error:
        db.session.rollback()
        flash(_class_error_message(error), "error")
        return redirect(url_for("classes.detail", class_id=class_id))
    db.session.commit()
    flash(_("You left the class."), "success")
    return redirect(url_for("classes.detail", class_id=class_id))


# Roster -------------------------------------------------------------------------


def roster_rows(training_class: TrainingClass) -> list[dict]:
    """Return each member with lessons done, quizzes passed and class hours."""
    courses = training_class.offered_courses
    quizzes = [quiz for course in courses for quiz in assessment_services.quizzes_for_course(course)]
    session_hours = class_attendance.credited_hours_by_user(training_class)
    rows = []
    for member in training_class.members:
        user = member.user
        lessons_done = sum(
            len(services.completed_lesson_ids(user, course)) for course in courses
        )
        completions = [services.find_completion(user, course) for course in courses]
        course_hours = sum((c.hours for c in completions if c is not None), Decimal(0))
        rows.append(
            {
                "member": member,
                "user": user,
                "lessons_done": lessons_done,
                "lessons_total": sum(len(course.lessons) for course in courses),
                "quizzes_passed": sum(
                    1 for quiz in quizzes if assessment_services.has_passed(user, quiz)
                ),
                "quizzes_total": len(quizzes),
                "courses_done": sum(1 for c in completions if c is not None),
                "course_hours": course_hours,
                "session_hours": session_hours.get(user.id, Decimal(0)),
            }
        )
    return rows


@bp.route("/<int:class_id>/roster")
@roles_required(*ROSTER_ROLES)
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
        rows=roster_rows(training_class),
        can_manage=can_manage,
        candidates=candidates,
        departments=_departments(),
        roles=[Role.COUNSELOR, Role.PARTY_WORKER],
        posts=list(Post),
        levels=list(TargetLevel),
    )


def _departments() -> list[Department]:
    return list(
        db.session.scalars(
            sa.select(Department)
            .where(Department.institution_id == current_user.institution_id)
            .order_by(Department.name)
        )
    )


@bp.route("/<int:class_id>/roster.xlsx")
@roles_required(*ROSTER_ROLES)
def export_roster(class_id: int):
    training_class = _roster_class(class_id)
    headers = [
        _("Employee number"), _("Name"), _("Department"), _("Status"),
        _("Lessons done"), _("Quizzes passed"), _("Courses completed"),
        _("Course hours"), _("Session hours"), _("Total hours"),
    ]
    from lms.labels import label

    body = []
    for row in roster_rows(training_class):
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
        ])
    return exports.xlsx_response(
        f"{training_class.code}-roster.xlsx", headers, body, sheet_title=training_class.code
    )


@bp.route("/<int:class_id>/members", methods=["POST"])
@roles_required(*MANAGER_ROLES)
def add_members(class_id: int):
    training_class = _managed(class_id)
    ids = [int(raw) for raw in request.form.getlist("user_ids") if raw.isdigit()]
    people = [
        person for person in classes.people_matching(training_class.institution_id)
        if person.id in ids
    ]
    if not people:
        flash(_("Choose at least one person to add."), "error")
        return redirect(url_for("classes.roster", class_id=class_id))
    return _enrol_people(training_class, people)


def _enrol_people(training_class: TrainingClass, people: list[User]):
    try:
        counts = classes.enrol_by_rule(training_class, people, current_user)
    except classes.ClassError as error:
        db.session.rollback()
        flash(_class_error_message(error), "error")
        return redirect(url_for("classes.roster", class_id=training_class.id))
    db.session.commit()
    flash(
        _("%(enrolled)d enrolled, %(waiting)d on the waiting list, %(already)d already in the class.",
          **counts),
        "success",
    )
    return redirect(url_for("classes.roster", class_id=training_class.id))


@bp.route("/<int:class_id>/members/rule", methods=["POST"])
@roles_required(*MANAGER_ROLES)
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


@bp.route("/<int:class_id>/members/<int:member_id>/<action>", methods=["POST"])
@roles_required(*MANAGER_ROLES)
def member_action(class_id: int, member_id: int, action: str):
    training_class = _managed(class_id)
    member = _member(training_class, member_id)
    handlers = {
        "approve": classes.approve,
        "reject": classes.reject,
        "withdraw": classes.withdraw,
    }
    handler = handlers.get(action)
    if handler is None:
        abort(404)
    try:
        handler(member, current_user)
    except classes.ClassError as error:
        db.session.rollback()
        flash(_class_error_message(error), "error")
        return redirect(url_for("classes.roster", class_id=class_id))
    db.session.commit()
    flash(_("%(name)s: %(status)s.", name=member.user.full_name,
            status=_member_status_label(member.status)), "success")
    return redirect(url_for("classes.roster", class_id=class_id))


def _member_status_label(status: MemberStatus) -> str:
    from lms.labels import label

    return label(status.value, "member_status")


# Roster upload -------------------------------------------------------------------


@bp.route("/<int:class_id>/import", methods=["GET", "POST"])
@roles_required(*MANAGER_ROLES)
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
        message = _upload_error_message(error)
    except tabular.TableError as error:
        message = class_import.table_error_message(error)
    else:
        db.session.commit()
        return redirect(url_for("classes.import_preview", class_id=class_id, import_id=pending.id))
    db.session.rollback()
    return render_template(
        "classes/import.html", training_class=training_class, error=message
    ), 400


def _upload_error_message(error: uploads.UploadError) -> str:
    if error.code == "size":
        return _("The file is larger than %(mb)d MB. Split the roster into smaller files.",
                 mb=IMPORT_MAX_BYTES // uploads.MB)
    if error.code == "missing":
        return _("Choose a CSV or XLSX file to upload.")
    return _("Upload a CSV, TXT or XLSX file; this file is of another type.")


def _pending(training_class: TrainingClass, import_id: int) -> PendingImport:
    pending = db.session.get(PendingImport, import_id)
    if pending is None or pending.class_id != training_class.id:
        abort(404)
    return pending


@bp.route("/<int:class_id>/import/<int:import_id>")
@roles_required(*MANAGER_ROLES)
def import_preview(class_id: int, import_id: int):
    training_class = _managed(class_id)
    pending = _pending(training_class, import_id)
    return _render_preview(training_class, pending)


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
    ), status


@bp.route("/<int:class_id>/import/<int:import_id>/confirm", methods=["POST"])
@roles_required(*MANAGER_ROLES)
def confirm_import(class_id: int, import_id: int):
    training_class = _managed(class_id)
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
        if error.code == "expired":
            flash(_("This preview is older than a day. Upload the file again."), "error")
        else:
            flash(_("This file was imported already."), "error")
        return redirect(url_for("classes.roster", class_id=class_id))
    except classes.ClassError as error:
        db.session.rollback()
        flash(_class_error_message(error), "error")
        return redirect(url_for("classes.import_preview", class_id=class_id, import_id=import_id))
    created = [(user.full_name, user.employee_no, user.username, password)
               for user, password in result["created"]]
    db.session.commit()
    logger.info("Roster import %s confirmed for class %s", import_id, class_id)
    response = render_template(
        "classes/import_done.html", training_class=training_class, result=result, created=created
    )
    return response, 200, {"Cache-Control": "no-store"}


# Sessions and attendance ------------------------------------------------------------


@bp.route("/<int:class_id>/sessions", methods=["POST"])
@roles_required(*MANAGER_ROLES)
def new_session(class_id: int):
    training_class = _managed(class_id)
    try:
        class_attendance.add_session(training_class, request.form.to_dict(), current_user)
    except AuthoringError as error:
        db.session.rollback()
        for message in error.errors.values():
            flash(message, "error")
        return redirect(url_for("classes.detail", class_id=class_id))
    db.session.commit()
    flash(_("Session added."), "success")
    return redirect(url_for("classes.detail", class_id=class_id))


@bp.route("/<int:class_id>/sessions/<int:session_id>/delete", methods=["POST"])
@roles_required(*MANAGER_ROLES)
def delete_session(class_id: int, session_id: int):
    training_class = _managed(class_id)
    session = _session(training_class, session_id)
    try:
        class_attendance.delete_session(session, current_user)
    except AuthoringError as error:
        db.session.rollback()
        for message in error.errors.values():
            flash(message, "error")
        return redirect(url_for("classes.detail", class_id=class_id))
    db.session.commit()
    flash(_("Session deleted."), "success")
    return redirect(url_for("classes.detail", class_id=class_id))


@bp.route("/<int:class_id>/sessions/<int:session_id>/attendance", methods=["GET", "POST"])
@roles_required(*MANAGER_ROLES)
def attendance(class_id: int, session_id: int):
    training_class = _managed(class_id)
    session = _session(training_class, session_id)
    if request.method == "POST":
        marks = {}
        for key, value in request.form.items():
            if not key.startswith("mark-") or not key[5:].isdigit() or not value:
                continue
            status = next((s for s in AttendanceStatus if s.value == value), None)
            if status is None:
                flash(_("Choose present, late, excused or absent for each person."), "error")
                return redirect(request.url)
            marks[int(key[5:])] = status
        changed = class_attendance.mark_sheet(session, marks, current_user)
        db.session.commit()
        flash(_("Attendance saved for %(count)d people.", count=changed), "success")
        return redirect(url_for("classes.attendance", class_id=class_id, session_id=session_id))
    return render_template(
        "classes/attendance.html",
        training_class=training_class,
        session=session,
        sheet=class_attendance.sheet(session),
        statuses=list(AttendanceStatus),
        hours=classes.hours_for(training_class, session.length),
    )
