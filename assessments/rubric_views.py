"""Trainer pages that write, preview and copy rubrics."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from assessments import rubrics
from assessments.task_views import AUTHOR_ROLES, _own, bp
from assessments.tasks_models import Rubric
from courses.authoring import AuthoringError
from lms import revisions
from lms.accounts.access import roles_required
from lms.extensions import db


# Rubrics --------------------------------------------------------------------------


@bp.route("/manage/rubrics")
@roles_required(*AUTHOR_ROLES)
def rubric_list():
    return render_template(
        "tasks/rubrics.html", rubrics=rubrics.institution_rubrics(current_user.institution_id)
    )


def _rubric_form(rubric, values: dict, errors: dict, status: int = 200):
    locked = rubric is not None and rubrics.is_in_use(rubric)
    return (
        render_template(
            "tasks/rubric_form.html",
            rubric=rubric,
            values=values,
            errors=errors,
            locked=locked,
        ),
        status,
    )


@bp.route("/manage/rubrics/new", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def new_rubric():
    if request.method == "GET":
        return _rubric_form(None, {}, {})
    data = request.form.to_dict()
    try:
        rubric = rubrics.save_rubric(current_user.institution_id, data, current_user)
    except AuthoringError as error:
        db.session.rollback()
        return _rubric_form(None, data, error.errors, 400)
    db.session.commit()
    flash(_("Rubric saved."), "success")
    return redirect(url_for("tasks.edit_rubric", rubric_id=rubric.id))


def _rubric_values(rubric: Rubric) -> dict:
    return {
        "code": rubric.code,
        "title": rubric.title,
        "description": rubric.description,
        "definition": rubrics.format_definition(rubric),
    }


@bp.route("/manage/rubrics/<int:rubric_id>", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def edit_rubric(rubric_id: int):
    rubric = _own(Rubric, rubric_id)
    if request.method == "GET":
        return _rubric_form(rubric, _rubric_values(rubric), {})
    data = request.form.to_dict()
    try:
        conflict = revisions.save(
            rubric,
            lambda: rubrics.save_rubric(
                current_user.institution_id, data, current_user, rubric
            ),
            _rubric_values,
        )
    except AuthoringError as error:
        db.session.rollback()
        return _rubric_form(_own(Rubric, rubric_id), data, error.errors, 400)
    if conflict is not None:
        fields = {
            "code": _("Code"),
            "title": _("Title"),
            "description": _("Description"),
            "definition": _("Criteria and levels"),
        }
        fresh = _rubric_values(rubric)
        revisions.show_conflict(conflict, revisions.value_differences(data, fresh, fields))
        return _rubric_form(rubric, data, {}, 409)
    flash(_("Rubric saved."), "success")
    return redirect(url_for("tasks.edit_rubric", rubric_id=rubric_id))


@bp.route("/manage/rubrics/<int:rubric_id>/copy", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def copy_rubric(rubric_id: int):
    copy = rubrics.copy_rubric(_own(Rubric, rubric_id), current_user)
    db.session.commit()
    flash(_("Rubric copied; edit the copy below."), "success")
    return redirect(url_for("tasks.edit_rubric", rubric_id=copy.id))
