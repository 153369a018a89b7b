"""Offline sessions of a class and their attendance sheets under /classes.

The routes register on the ``classes`` blueprint of ``courses.class_views``.
"""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from courses import class_attendance, class_leave, classes
from courses.authoring import AuthoringError
from courses.class_models import (
    AttendanceStatus,
    ClassSession,
    ClassStatus,
    SessionLength,
)
from courses.class_views import (
    MANAGER_ROLES,
    _managed,
    _session,
    bp,
    class_roles_required,
    detail_page,
    flash_leave_withdrawals,
)
from lms import labels, revisions
from lms.accounts.models import User
from lms.compliance.windows import local_today
from lms.extensions import db
from lms.i18n import format_date, join_names
from lms.organisations.models import Institution

# Sessions and attendance ------------------------------------------------------------


def _session_labels() -> dict[str, str]:
    """Return the labels of the "Add a session" form's fields."""
    return {
        "title": _("Title"),
        "held_on": _("Date"),
        "length": _("Length"),
        "place": _("Place"),
        "lesson_id": _("Offline lesson"),
    }


@bp.route("/<int:class_id>/sessions", methods=["POST"])
@class_roles_required(*MANAGER_ROLES)
def new_session(class_id: int):
    training_class = _managed(class_id)
    try:
        class_attendance.add_session(training_class, request.form.to_dict(), current_user)
    except AuthoringError as error:
        db.session.rollback()
        errors = error.labelled(_session_labels())
        for message in errors.values():
            flash(message, "error")
        return detail_page(
            _managed(class_id),
            session_values=request.form.to_dict(),
            session_errors=errors,
            status=400,
        )
    db.session.commit()
    flash(_("Session added."), "success")
    return redirect(url_for("classes.detail", class_id=class_id))


@bp.route("/<int:class_id>/sessions/<int:session_id>/delete", methods=["GET", "POST"])
@class_roles_required(*MANAGER_ROLES)
def delete_session(class_id: int, session_id: int):
    """Confirm and delete a session without attendance marks."""
    training_class = _managed(class_id)
    session = _session(training_class, session_id)
    if request.method == "GET":
        return render_template(
            "classes/session_delete.html",
            training_class=training_class,
            session=session,
            held_on=format_date(session.held_on),
        )
    try:
        class_attendance.delete_session(session, current_user)
        withdrawn = class_leave.enforce(training_class, current_user)
    except AuthoringError as error:
        db.session.rollback()
        for message in error.errors.values():
            flash(message, "error")
        return redirect(url_for("classes.detail", class_id=class_id))
    db.session.commit()
    flash(_("Session deleted."), "success")
    flash_leave_withdrawals(training_class, withdrawn)
    return redirect(url_for("classes.detail", class_id=class_id))


@bp.route("/<int:class_id>/sessions/<int:session_id>/attendance", methods=["GET", "POST"])
@class_roles_required(*MANAGER_ROLES)
def attendance(class_id: int, session_id: int):
    training_class = _managed(class_id)
    session = _session(training_class, session_id)
    if request.method == "POST":
        entered = {
            int(key[5:]): value
            for key, value in request.form.items()
            if key.startswith("mark-") and key[5:].isdigit() and value
        }
        marks = {}
        for user_id, value in entered.items():
            status = next((s for s in AttendanceStatus if s.value == value), None)
            if status is None:
                error = _("Choose present, late, excused or absent for each person.")
                return _attendance_page(training_class, session, entered, error)
            marks[user_id] = status
        if not marks:
            error = _("Choose a mark for at least one person; nothing was saved.")
            return _attendance_page(training_class, session, entered, error)
        try:
            result = class_attendance.mark_sheet(session, marks, current_user)
        except class_attendance.ClassNotRunning:
            flash(_not_running_message(training_class), "error")
            return redirect(request.url)
        except class_attendance.SessionNotHeldYet:
            flash(_not_held_message(session), "error")
            return redirect(request.url)
        db.session.commit()
        _flash_sheet_result(result)
        flash_leave_withdrawals(training_class, result.withdrawn)
        _flash_reinstatable(result.reinstatable)
        return redirect(url_for("classes.attendance", class_id=class_id, session_id=session_id))
    return _attendance_page(training_class, session)


def _attendance_page(training_class, session, entered=None, error=None):
    """Render the attendance sheet, with 400 and the marks as entered for a rejected form.

    ``entered`` maps user ids to the submitted mark values, valid or not.
    """
    sheet = class_attendance.sheet(session)
    page = render_template(
        "classes/attendance.html",
        training_class=training_class,
        session=session,
        sheet=sheet,
        entered=entered,
        error=error,
        leave=class_leave.standings(training_class, [person.id for person, _mark in sheet]),
        floor_hours=class_leave.floor_hours,
        percent_text=class_leave.percent_text,
        limit_text=class_leave.limit_text,
        statuses=list(AttendanceStatus),
        hours=classes.hours_for(training_class, session.length),
        not_running=(
            None if training_class.status in class_attendance.RUNNING_STATUSES
            else _not_running_message(training_class)
        ),
        # Shown before the marks are chosen, so none are chosen only to be rejected.
        not_held=_not_held_message(session) if _not_held_yet(training_class, session) else None,
    )
    return page, 400 if error else 200


def _not_held_yet(training_class, session) -> bool:
    institution = db.session.get(Institution, training_class.institution_id)
    try:
        class_attendance.check_session_held(session, local_today(institution))
    except class_attendance.SessionNotHeldYet:
        return True
    return False


def _not_held_message(session) -> str:
    return _(
        "Attendance can be recorded from the day of the session, %(day)s, "
        "because it credits hours at once.",
        day=format_date(session.held_on),
    )


def _not_running_message(training_class) -> str:
    if training_class.status is ClassStatus.CANCELLED:
        return _("The class is cancelled, so it takes no attendance.")
    return _(
        "The class is still a draft, and attendance credits hours at once. On the "
        "class's page, set it to %(open)s or %(closed)s before recording attendance.",
        open=labels.label(ClassStatus.OPEN),
        closed=labels.label(ClassStatus.CLOSED),
    )


def _flash_sheet_result(result: class_attendance.SheetResult) -> None:
    if result.not_on_sheet:
        flash(
            ngettext(
                "The mark for %(people)s was ignored: this person is not a member of "
                "the class.",
                "The marks for %(people)s were ignored: these people are not members "
                "of the class.",
                len(result.not_on_sheet),
                people=_people_named(result.not_on_sheet),
            ),
            "error",
        )
    if result.saved:
        flash(
            ngettext(
                "Attendance saved for %(num)d person.",
                "Attendance saved for %(num)d people.",
                result.saved,
            ),
            "success",
        )


def _flash_reinstatable(members) -> None:
    """Point the trainer to people withdrawn for leave whom the marks brought back within it."""
    if not members:
        return
    flash(
        ngettext(
            "%(names)s was withdrawn for leave beyond the class's limit and is within "
            "it now. To end the withdrawal, reinstate the person from the roster.",
            "%(names)s were withdrawn for leave beyond the class's limit and are within "
            "it now. To end the withdrawals, reinstate them from the roster.",
            len(members),
            names=join_names(member.user.full_name for member in members),
        ),
        "info",
    )


def _people_named(user_ids: list[int]) -> str:
    """Join people's names, naming people of other institutions by ID only."""
    names = []
    for user_id in user_ids:
        person = db.session.get(User, user_id)
        if person is not None and person.institution_id == current_user.institution_id:
            names.append(person.full_name)
        else:
            names.append(_("unknown person (ID %(id)d)", id=user_id))
    return join_names(names)


def _session_values(session: ClassSession) -> dict:
    return {
        "title": session.title,
        "held_on": session.held_on.isoformat(),
        "length": session.length.value,
        "place": session.place,
        "lesson_id": str(session.lesson_id or ""),
    }


def _session_fields() -> dict:
    """Label of each field of the session form, for a rejected save."""
    return {
        "title": _("Title"),
        "held_on": _("Date"),
        "length": (_("Length"), lambda value: labels.label(value, "SessionLength")),
        "place": _("Place"),
        "lesson_id": _("Offline lesson"),
    }


@bp.route("/<int:class_id>/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@class_roles_required(*MANAGER_ROLES)
def edit_session(class_id: int, session_id: int):
    training_class = _managed(class_id)
    session = _session(training_class, session_id)
    values = _session_values(session)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            withdrawn = []

            def apply() -> None:
                class_attendance.update_session(session, values, current_user)
                withdrawn.extend(class_leave.enforce(training_class, current_user))

            conflict = revisions.save(session, apply)
        except AuthoringError as error:
            db.session.rollback()
            errors, status = error.errors, 400
        else:
            if conflict is None:
                flash(_("Session saved."), "success")
                flash_leave_withdrawals(training_class, withdrawn)
                return redirect(url_for("classes.detail", class_id=class_id))
            fresh = _session_values(session)
            revisions.show_conflict(
                conflict, revisions.value_differences(values, fresh, _session_fields())
            )
            status = 409
    return render_template(
        "classes/session_form.html",
        training_class=training_class,
        session=session,
        values=values,
        errors=errors,
        lengths=list(SessionLength),
        lessons=class_attendance.offline_lessons(training_class),
    ), status
