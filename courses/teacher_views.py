"""The Teachers page of a course under /manage: its authors and co-teachers.

Trainers and administrators of the course's institution see the page; other
roles get 403 and a course of another institution gives 404. The author of
any version of the course and the institution's administrators add and
remove co-teachers, and only administrators change the author. Other
trainers get 403 on those forms (see ``courses.teachers``).
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from courses import logger, teachers
from courses.authoring import AuthoringError
from courses.models import Course
from lms import revisions
from lms.accounts.access import roles_required
from lms.accounts.models import Role, User
from lms.extensions import db

bp = Blueprint("course_teachers", __name__, url_prefix="/manage")

VIEW_ROLES = (Role.TRAINER, Role.ADMIN)


def _course(course_id: int) -> Course:
    """Load a course of the current user's institution, or abort 404."""
    course = db.session.get(Course, course_id)
    if course is None or course.institution_id != current_user.institution_id:
        abort(404)
    return course


def _page(course: Course, values: dict, errors: dict, status: int = 200):
    return (
        render_template(
            "courses/manage/teachers.html",
            course=course,
            authors=teachers.authors(course),
            co_teachers=teachers.co_teachers(course),
            may_manage=teachers.may_manage(current_user, course),
            may_set_author=teachers.may_set_author(current_user, course),
            trainers=teachers.trainer_choices(course),
            values=values,
            errors=errors,
        ),
        status,
    )


def _rejected(course_id: int, error: AuthoringError, values: dict):
    logger.info(
        "Teacher change on course %s by %r rejected: %s", course_id, current_user, error
    )
    db.session.rollback()
    return _page(_course(course_id), values, error.errors, 400)


@bp.route("/courses/<int:course_id>/teachers")
@roles_required(*VIEW_ROLES)
def teachers_page(course_id: int):
    return _page(_course(course_id), {}, {})


@bp.route("/courses/<int:course_id>/teachers", methods=["POST"])
@roles_required(*VIEW_ROLES)
def add_teacher(course_id: int):
    course = _course(course_id)
    if not teachers.may_manage(current_user, course):
        abort(403)
    values = {"username": request.form.get("username", "")}
    try:
        user = teachers.add_co_teacher(course, values, current_user)
    except AuthoringError as error:
        return _rejected(course_id, error, values)
    db.session.commit()
    flash(
        _("%(name)s now teaches this course and grades its work.", name=user.full_name),
        "success",
    )
    return redirect(url_for("course_teachers.teachers_page", course_id=course_id))


@bp.route("/courses/<int:course_id>/teachers/<int:user_id>/remove", methods=["POST"])
@roles_required(*VIEW_ROLES)
def remove_teacher(course_id: int, user_id: int):
    course = _course(course_id)
    if not teachers.may_manage(current_user, course):
        abort(403)
    user = teachers.co_teacher(course, user_id)
    if user is None:
        abort(404)
    teachers.remove_co_teacher(course, user, current_user)
    db.session.commit()
    flash(
        _(
            "%(name)s is no longer a co-teacher of this course.",
            name=user.full_name,
        ),
        "success",
    )
    return redirect(url_for("course_teachers.teachers_page", course_id=course_id))


@bp.route("/courses/<int:course_id>/author", methods=["POST"])
@roles_required(*VIEW_ROLES)
def set_author(course_id: int):
    course = _course(course_id)
    if not teachers.may_set_author(current_user, course):
        abort(403)
    values = {"author_username": request.form.get("author_username", "")}
    try:
        conflict = revisions.save(
            course,
            lambda: teachers.set_author(course, values, current_user),
            lambda row: {"author_id": row.author_id},
        )
    except AuthoringError as error:
        return _rejected(course_id, error, values)
    if conflict is not None:
        author = db.session.get(User, course.author_id) if course.author_id else None
        saved = {"author_username": author.username if author is not None else ""}
        revisions.show_conflict(
            conflict,
            revisions.value_differences(
                values, saved, {"author_username": _("Author")}
            ),
        )
        return _page(course, values, {}, 409)
    flash(_("Author changed."), "success")
    return redirect(url_for("course_teachers.teachers_page", course_id=course_id))
