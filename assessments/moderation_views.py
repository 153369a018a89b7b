"""Assessor score sheets and the moderator's review, final score and release."""

from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from assessments import marking, moderation, scoring, tasks
from assessments.task_views import _managed_task, _submission, bp
from assessments.tasks_models import CriterionMark, ScoreSheet, TaskSubmission
from lms import revisions
from lms.accounts.models import Role
from lms.extensions import db
from lms.i18n import plural_count


# Moderation -----------------------------------------------------------------------


@bp.route("/manage/tasks/<int:task_id>/submissions")
@login_required
def task_submissions(task_id: int):
    task = _managed_task(task_id)
    rows = db.session.scalars(
        sa.select(TaskSubmission)
        .filter_by(task_id=task.id)
        .order_by(TaskSubmission.submitted_at, TaskSubmission.id)
        .options(
            so.joinedload(TaskSubmission.user),
            so.selectinload(TaskSubmission.sheets)
            .selectinload(ScoreSheet.marks)
            .options(
                so.joinedload(CriterionMark.criterion),
                so.joinedload(CriterionMark.level),
            ),
        )
    )
    summaries = [(s, moderation.panel_summary(s)) for s in rows]
    return render_template(
        "tasks/submissions.html",
        task=task,
        summaries=summaries,
        unscorable_reason=tasks.unscorable_reason,
    )


def _moderation_page(
    submission: TaskSubmission,
    values: dict,
    error: str = "",
    status: int = 200,
    field_errors: Optional[dict] = None,
):
    sheets = [(sheet, moderation.sheet_total(sheet)) for sheet in submission.sheets]
    levels = {
        (sheet.id, mark.criterion_id): mark.level
        for sheet in submission.sheets
        for mark in sheet.marks
    }
    return (
        render_template(
            "tasks/moderate.html",
            submission=submission,
            task=submission.task,
            sheets=sheets,
            levels=levels,
            summary=moderation.panel_summary(submission),
            unscorable=tasks.unscorable_reason(submission),
            values=values,
            error=error,
            errors=field_errors or {},
        ),
        status,
    )


def _final_values(submission: TaskSubmission) -> dict:
    return {
        "final_score": (
            "" if submission.final_score is None else scoring.display(submission.final_score)
        ),
        "reason": submission.final_reason,
        "feedback": submission.feedback,
    }


def _moderation_conflict(submission: TaskSubmission, typed: dict):
    """Return the moderation page with status 409, naming the final score saved meanwhile."""
    db.session.refresh(submission)
    score = ngettext(
        "%(awarded)s of %(max)s point",
        "%(awarded)s of %(max)s points",
        plural_count(submission.task.max_points),
        awarded=scoring.display(submission.final_score),
        max=scoring.display(submission.task.max_points),
    )
    conflict = revisions.grade_conflict(
        submission, submission.moderated_by_id, submission.moderated_at, score
    )
    fields = {
        "final_score": _("Final score"),
        "reason": _("Reason"),
        "feedback": _("Feedback to the learner"),
    }
    revisions.show_conflict(
        conflict, revisions.value_differences(typed, _final_values(submission), fields)
    )
    return _moderation_page(submission, typed, status=409)


@bp.route("/manage/submissions/<int:submission_id>", methods=["GET", "POST"])
@login_required
def moderate(submission_id: int):
    submission = _submission(submission_id)
    if not moderation.is_moderator(current_user, submission.task):
        abort(403)
    if request.method == "GET":
        return _moderation_page(submission, _final_values(submission))
    values = request.form.to_dict()
    if revisions.is_stale(submission.grade_version):
        return _moderation_conflict(submission, values)
    try:
        moderation.moderate(
            submission, values.get("final_score", ""), values.get("reason", ""),
            values.get("feedback", ""), current_user, revisions.posted_version(),
        )
    except revisions.StaleGrade:
        db.session.rollback()
        return _moderation_conflict(_submission(submission_id), values)
    except moderation.ModerationErrors as error:
        db.session.rollback()
        return _moderation_page(
            _submission(submission_id), values, status=400, field_errors=error.errors
        )
    except tasks.TaskError as error:
        db.session.rollback()
        return _moderation_page(_submission(submission_id), values, str(error), 400)
    db.session.commit()
    flash(_("Final score saved. Release it when the learner may see it."), "success")
    return redirect(url_for("tasks.moderate", submission_id=submission_id))


@bp.route("/manage/tasks/<int:task_id>/release", methods=["POST"])
@login_required
def release_all(task_id: int):
    task = _managed_task(task_id)
    count = moderation.release_moderated(task, current_user)
    db.session.commit()
    if count:
        flash(ngettext("%(num)d result released.", "%(num)d results released.", count), "success")
    elif waiting := moderation.without_final_score(task):
        flash(
            ngettext(
                "No result was released: %(num)d submission has no final score yet. "
                "Open it, save its final score, then release.",
                "No result was released: %(num)d submissions have no final score yet. "
                "Open each, save its final score, then release.",
                waiting,
            ),
            "warning",
        )
    else:
        flash(_("No result was released: every submission's result is released already."), "info")
    return redirect(url_for("tasks.task_submissions", task_id=task_id))


@bp.route("/manage/submissions/<int:submission_id>/release", methods=["POST"])
@login_required
def release(submission_id: int):
    submission = _submission(submission_id)
    if not moderation.is_moderator(current_user, submission.task):
        abort(403)
    try:
        done = moderation.release(submission, current_user)
    except tasks.TaskError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("tasks.moderate", submission_id=submission_id))
    db.session.commit()
    if done:
        flash(_("Result released to the learner."), "success")
    else:
        flash(_("The result was already released."), "success")
    return redirect(url_for("tasks.moderate", submission_id=submission_id))


# Assessors ------------------------------------------------------------------------


@bp.route("/assess")
@login_required
def assess_queue():
    sheets = db.session.scalars(
        sa.select(ScoreSheet)
        .join(TaskSubmission, TaskSubmission.id == ScoreSheet.submission_id)
        .where(ScoreSheet.assessor_id == current_user.id)
        .order_by(ScoreSheet.scored_at.is_not(None), TaskSubmission.submitted_at)
        .options(
            so.contains_eager(ScoreSheet.submission).options(
                so.joinedload(TaskSubmission.task), so.joinedload(TaskSubmission.user)
            )
        )
    )
    allowed = [
        sheet
        for sheet in sheets
        if moderation.grades_course(current_user, sheet.submission.task)
    ]
    return render_template(
        "tasks/assess_queue.html", sheets=allowed, essays_waiting=_essays_waiting()
    )


def _essays_waiting() -> int:
    """Count the quiz essays the current user may grade, which have a queue of their own."""
    if not current_user.has_role(Role.TRAINER, Role.ADMIN):
        return 0
    return len(marking.grading_queue(current_user))


def _own_sheet(sheet_id: int) -> ScoreSheet:
    """Load the current user's sheet; 403 for a trainer who does not teach its course."""
    sheet = db.session.get(ScoreSheet, sheet_id)
    if sheet is None or sheet.assessor_id != current_user.id:
        abort(404)
    if not moderation.grades_course(current_user, sheet.submission.task):
        abort(403)
    return sheet


def _score_page(
    sheet: ScoreSheet, chosen: dict, comment: str, error: str = "", status: int = 200
):
    return (
        render_template(
            "tasks/score.html",
            sheet=sheet,
            submission=sheet.submission,
            task=sheet.submission.task,
            candidate=moderation.candidate_label(sheet.submission, current_user),
            chosen=chosen,
            comment=comment,
            total=moderation.sheet_total(sheet),
            error=error,
        ),
        status,
    )


@bp.route("/assess/<int:sheet_id>", methods=["GET", "POST"])
@login_required
def score(sheet_id: int):
    sheet = _own_sheet(sheet_id)
    if request.method == "GET":
        chosen = {
            str(mark.criterion_id): str(mark.level_id) for mark in sheet.marks
        }
        return _score_page(sheet, chosen, sheet.comment)
    chosen = {
        key[len("criterion-"):]: value
        for key, value in request.form.items()
        if key.startswith("criterion-")
    }
    by_id = {
        int(key): value
        for key, value in chosen.items()
        if key.isdigit() and len(key) < 10
    }
    comment = request.form.get("comment", "")
    try:
        total = moderation.save_sheet(sheet, by_id, comment, current_user)
    except tasks.TaskError as error:
        db.session.rollback()
        return _score_page(_own_sheet(sheet_id), chosen, comment, str(error), 400)
    db.session.commit()
    flash(_("Score saved: %(total)s.", total=scoring.display(total)), "success")
    return redirect(url_for("tasks.assess_queue"))
