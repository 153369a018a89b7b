"""Pages of performance tasks, rubrics, assessor panels, moderation and contests.

Trainers and administrators author rubrics, tasks and contests of their own
institution. Only the managers of a task, which ``moderation.is_moderator``
defines as its moderator and the administrators of its institution who are not
on its panel, edit it, change its assessor panel and moderate its submissions.
Other staff of the institution get 403. An HR officer who moderates a task
moderates its submissions but does not edit it, because editing needs the
trainer or administrator role. An assessor reaches only the score
sheets assigned to them, a learner only their own submissions, and HR the
released results of its institution. Objects of another institution give 404.

This module defines the ``tasks`` blueprint with the task, learner and result
pages; ``rubric_views``, ``moderation_views`` and ``contest_views`` add the rest.
"""

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from assessments import logger, moderation, pair_draws, rubrics, scoring, tasks
from assessments.tasks_models import (
    Aggregation,
    PerformanceTask,
    ScoreSheet,
    SubmissionFile,
    TaskAssessor,
    TaskKind,
    TaskSubmission,
)
from courses import authoring, teaching
from courses import services as course_services
from courses.authoring import AuthoringError
from courses.models import Course
from lms import exports, labels, revisions, uploads
from lms.accounts.access import hr_scope_clause, roles_required
from lms.accounts.models import Role, User
from lms.extensions import db

bp = Blueprint("tasks", __name__)

labels.register(
    "TaskKind",
    {
        "case_analysis": _l("Written case analysis"),
        "case_discussion": _l("Paired case discussion"),
        "heart_talk": _l("Heart-to-heart talk role-play"),
        "class_meeting": _l("Themed class meeting (video)"),
        "speech": _l("Speech"),
        "portfolio": _l("Portfolio of work achievements"),
    },
)
labels.register(
    "Aggregation",
    {
        "mean": _l("mean"),
        "trimmed_mean": _l("trimmed mean (highest and lowest dropped)"),
        "median": _l("median"),
    },
)
#: The same methods as choices in a list, where they start with a capital.
labels.register(
    "AggregationChoice",
    {
        "mean": _l("Mean"),
        "trimmed_mean": _l("Trimmed mean (highest and lowest dropped)"),
        "median": _l("Median"),
    },
)
labels.register("PairRole", {"a": _l("Role A"), "b": _l("Role B")})
labels.register(
    "AwardMode",
    {
        "rank_share": _l("rank share"),
        "threshold": _l("score threshold"),
        "rank_count": _l("number of places"),
    },
)

AUTHOR_ROLES = (Role.TRAINER, Role.ADMIN)
RESULT_ROLES = (Role.TRAINER, Role.HR, Role.ADMIN)


@bp.app_template_filter("score")
def _score_filter(value) -> str:
    return scoring.display(value)


# Loading --------------------------------------------------------------------------


def _own(model, object_id: int):
    row = db.session.get(model, object_id)
    if row is None or row.institution_id != current_user.institution_id:
        abort(404)
    return row


def _submission(submission_id: int) -> TaskSubmission:
    submission = db.session.get(TaskSubmission, submission_id)
    if (
        submission is None
        or submission.task.institution_id != current_user.institution_id
    ):
        abort(404)
    return submission


def _managed_task(task_id: int) -> PerformanceTask:
    """Load a task of the current user's institution that they manage, or abort."""
    task = _own(PerformanceTask, task_id)
    if not moderation.is_moderator(current_user, task):
        abort(403)
    return task


def _people_of_institution() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .filter_by(institution_id=current_user.institution_id, active=True)
            .order_by(User.full_name)
        )
    )


# Tasks ----------------------------------------------------------------------------


@bp.route("/manage/tasks")
@roles_required(*AUTHOR_ROLES)
def manage_tasks():
    rows = db.session.scalars(
        sa.select(PerformanceTask)
        .filter_by(institution_id=current_user.institution_id)
        .order_by(PerformanceTask.created_at.desc())
    )
    return render_template(
        "tasks/manage_tasks.html",
        tasks=list(rows),
        is_moderator=moderation.is_moderator,
    )


def _task_form(task, values: dict, errors: dict, status: int = 200):
    institution_id = current_user.institution_id
    return (
        render_template(
            "tasks/task_form.html",
            task=task,
            values=values,
            errors=errors,
            kinds=list(TaskKind),
            aggregations=list(Aggregation),
            course_options=[
                # Versions of a course share code and title, so the label
                # names the version and its status to tell them apart.
                (
                    c.id,
                    _(
                        "%(label)s (%(detail)s)",
                        label=f"{c.code} v{c.version} {c.title}",
                        detail=labels.label(c.status),
                    ),
                )
                for c in db.session.scalars(
                    sa.select(Course)
                    .filter_by(institution_id=institution_id)
                    .order_by(Course.code, Course.version.desc())
                )
            ],
            rubric_options=[
                (
                    r.id,
                    _(
                        "%(label)s (%(detail)s)",
                        label=r.title,
                        detail=scoring.display(r.max_points),
                    ),
                )
                for r in rubrics.institution_rubrics(institution_id)
            ],
            moderator_options=[
                (person.id, labels.person_label(person))
                for person in _people_of_institution()
                if person.role in RESULT_ROLES
            ],
            people=_people_of_institution(),
            competency_groups=authoring.competency_choices(institution_id),
            candidate_assessors=(
                {m.user_id for m in task.assessors if tasks.is_candidate(task, m.user)}
                if task is not None
                else set()
            ),
            unscorable=tasks.unscorable_submissions(task) if task is not None else [],
            pair_draws=(
                pair_draws.draws(task)
                if task is not None and task.kind is TaskKind.CASE_DISCUSSION
                else []
            ),
            candidate_label=moderation.candidate_label,
            selected_ids={str(each) for each in values.get("competency_ids", [])},
            is_moderator=moderation.is_moderator,
        ),
        status,
    )


def _task_data() -> dict:
    data = request.form.to_dict()
    data["competency_ids"] = request.form.getlist("competency_ids")
    return data


@bp.route("/manage/tasks/new", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def new_task():
    if request.method == "GET":
        defaults = {
            "kind": TaskKind.CASE_ANALYSIS.value,
            "aggregation": Aggregation.MEAN.value,
            "divergence_margin": "10",
            "pass_mark": "60",
            "blind_candidates": "y",
            "moderator_id": str(current_user.id),
            "course_id": request.args.get("course_id", ""),
        }
        return _task_form(None, defaults, {})
    data = _task_data()
    try:
        task = tasks.save_task(current_user.institution_id, data, current_user)
    except AuthoringError as error:
        db.session.rollback()
        return _task_form(None, data, error.errors, 400)
    db.session.commit()
    if not moderation.is_moderator(current_user, task):
        return _redirect_former_manager(task)
    flash(_("Task saved. Add the assessor panel next."), "success")
    return redirect(url_for("tasks.edit_task", task_id=task.id))


def _redirect_former_manager(task: PerformanceTask):
    """Redirect to the task list a user who saved a task that they no longer manage."""
    flash(
        _(
            "Task saved. Only its moderator, %(name)s, and administrators can "
            "now edit it, change its assessor panel or see its submissions.",
            name=task.moderator.full_name,
        ),
        "success",
    )
    return redirect(url_for("tasks.manage_tasks"))


def _task_fields() -> dict:
    """Label of each field of the task form, for a rejected save."""
    return {
        "kind": _("Kind"),
        "title": _("Title"),
        "instructions": _("Task instructions"),
        "course_id": _("Course"),
        "rubric_id": _("Rubric"),
        "student_rubric_id": _("Student-role rubric (heart-to-heart talk only)"),
        "due_at": _("Due"),
        "allow_resubmission": _("Allow a resubmission after a result is released"),
        "blind_candidates": _("Hide candidates’ names from assessors"),
        "aggregation": _("Combining the panel’s scores"),
        "divergence_margin": _("Divergence margin (points)"),
        "pass_mark": _("Pass mark (percent)"),
        "moderator_id": _("Moderator"),
        "competency_ids": _("Competencies assessed"),
    }


def _task_values(task: PerformanceTask) -> dict:
    return {
        "course_id": str(task.course_id),
        "kind": task.kind.value,
        "title": task.title,
        "instructions": task.instructions,
        "rubric_id": str(task.rubric_id),
        "student_rubric_id": str(task.student_rubric_id or ""),
        "due_at": tasks.due_input(task),
        "allow_resubmission": "y" if task.allow_resubmission else "",
        "blind_candidates": "y" if task.blind_candidates else "",
        "aggregation": task.aggregation.value,
        "divergence_margin": (
            "" if task.divergence_margin is None else str(task.divergence_margin)
        ),
        "pass_mark": str(task.pass_mark),
        "published": "y" if task.published else "",
        "moderator_id": str(task.moderator_id),
        "competency_ids": [item.id for item in task.competencies],
    }


@bp.route("/manage/tasks/<int:task_id>", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def edit_task(task_id: int):
    task = _managed_task(task_id)
    if request.method == "GET":
        return _task_form(task, _task_values(task), {})
    data = _task_data()
    try:
        conflict = revisions.save(
            task,
            lambda: tasks.save_task(
                current_user.institution_id, data, current_user, task
            ),
            _task_values,
        )
    except AuthoringError as error:
        db.session.rollback()
        return _task_form(_managed_task(task_id), data, error.errors, 400)
    if conflict is not None:
        fresh = _task_values(task)
        revisions.show_conflict(
            conflict, revisions.value_differences(data, fresh, _task_fields())
        )
        return _task_form(task, data, {}, 409)
    if not moderation.is_moderator(current_user, task):
        return _redirect_former_manager(task)
    flash(_("Task saved."), "success")
    return redirect(url_for("tasks.edit_task", task_id=task_id))


@bp.route("/manage/tasks/<int:task_id>/draw", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def draw_pairs(task_id: int):
    """Draw the group and A/B role of each candidate of a case discussion."""
    task = _managed_task(task_id)
    try:
        drawn_rows = pair_draws.draw_pairs(task, current_user)
    except pair_draws.DrawError as error:
        db.session.rollback()
        logger.info("Draw of task %s by user %s rejected: %s", task_id, current_user.id, error)
        flash(str(error), "error")
        return redirect(url_for("tasks.edit_task", task_id=task_id))
    db.session.commit()
    flash(
        ngettext(
            "%(num)s candidate was drawn a group and role.",
            "%(num)s candidates were drawn a group and role.",
            len(drawn_rows),
        ),
        "success",
    )
    return redirect(url_for("tasks.edit_task", task_id=task_id))


@bp.route("/manage/tasks/<int:task_id>/assessors", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def add_assessor(task_id: int):
    task = _managed_task(task_id)
    raw = request.form.get("user_id", "")
    user = db.session.get(User, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    if user is not None and user.institution_id != task.institution_id:
        # Treated as an unused id, so the message does not reveal that the id exists.
        user = None
    try:
        if user is None:
            raise tasks.TaskError(_("Assessor: choose a person from the list."))
        tasks.add_assessor(task, user, current_user)
    except tasks.TaskError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("tasks.edit_task", task_id=task_id))
    db.session.commit()
    flash(_("%(name)s added to the panel.", name=user.full_name), "success")
    if tasks.is_candidate(task, user):
        flash(
            _(
                "%(name)s is also a learner of this task and will not score their "
                "own submission. Keep at least one other assessor on the panel.",
                name=user.full_name,
            ),
            "warning",
        )
    return redirect(url_for("tasks.edit_task", task_id=task_id))


@bp.route(
    "/manage/tasks/<int:task_id>/assessors/<int:user_id>/remove", methods=["POST"]
)
@roles_required(*AUTHOR_ROLES)
def remove_assessor(task_id: int, user_id: int):
    task = _managed_task(task_id)
    try:
        tasks.remove_assessor(task, user_id, current_user)
    except tasks.TaskError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("tasks.edit_task", task_id=task_id))
    db.session.commit()
    flash(_("Assessor removed from the panel."), "success")
    return redirect(url_for("tasks.edit_task", task_id=task_id))


# Learners -------------------------------------------------------------------------


@bp.route("/tasks")
@roles_required(Role.COUNSELOR, Role.PARTY_WORKER)
def my_tasks():
    rows = db.session.scalars(
        sa.select(PerformanceTask)
        .filter_by(institution_id=current_user.institution_id, published=True)
        .order_by(PerformanceTask.due_at.is_(None), PerformanceTask.due_at)
    )
    listed = []
    for task in rows:
        mine = tasks.submissions_of(task, current_user)
        # Tasks of courses the learner does not take are left out, unless
        # they submitted to it before (e.g. through a class they left).
        if mine or course_services.can_view_course(current_user, task.course):
            listed.append((task, mine))
    return render_template(
        "tasks/my_tasks.html", listed=listed, assesses=_assesses(current_user)
    )


def _assesses(user: User) -> bool:
    """Return whether ``user`` sits on an assessor panel or holds a score sheet."""
    on_panel = sa.select(TaskAssessor.id).where(TaskAssessor.user_id == user.id)
    has_sheet = sa.select(ScoreSheet.id).where(ScoreSheet.assessor_id == user.id)
    return bool(db.session.scalar(sa.select(sa.or_(on_panel.exists(), has_sheet.exists()))))


def _visible_task(task_id: int) -> PerformanceTask:
    task = _own(PerformanceTask, task_id)
    if not task.published and current_user.role not in AUTHOR_ROLES:
        abort(404)
    return task


def _task_page(task: PerformanceTask, error: str = "", values=None, status: int = 200):
    is_learner = current_user.role.is_learner
    mine = tasks.submissions_of(task, current_user) if is_learner else []
    problem = tasks.submission_problem(task, current_user) if is_learner else None
    # After a submission, a task without resubmission offers no form, and its
    # facts already state that resubmission is not allowed.
    offer_submit = is_learner and (not mine or task.allow_resubmission or bool(error))
    return (
        render_template(
            "tasks/task.html",
            task=task,
            submissions=mine,
            problem=problem,
            offer_submit=offer_submit,
            pair_draw=(
                pair_draws.draw_of(task, current_user)
                if is_learner and task.kind is TaskKind.CASE_DISCUSSION
                else None
            ),
            video_mb=tasks.max_video_bytes() // uploads.MB,
            error=error,
            values=values or {},
            passed=moderation.passed,
            criterion_means=moderation.criterion_means,
        ),
        status,
    )


@bp.route("/tasks/<int:task_id>")
@login_required
def task(task_id: int):
    return _task_page(_visible_task(task_id))


@bp.route("/tasks/<int:task_id>/submit", methods=["POST"])
@roles_required(Role.COUNSELOR, Role.PARTY_WORKER)
def submit(task_id: int):
    task = _visible_task(task_id)
    files = [
        (upload.filename, upload.stream)
        for upload in request.files.getlist("files")
        if upload and upload.filename
    ]
    try:
        tasks.submit(
            task,
            current_user,
            text=request.form.get("text", ""),
            video_url=request.form.get("video_url", ""),
            files=files,
        )
    except tasks.TaskError as error:
        db.session.rollback()
        values = request.form.to_dict()
        return _task_page(_visible_task(task_id), str(error), values, 400)
    db.session.commit()
    flash(
        _("Submission received. You will see the result once it is released."),
        "success",
    )
    return redirect(url_for("tasks.task", task_id=task_id))


@bp.route("/tasks/files/<int:file_id>")
@login_required
def submission_file(file_id: int):
    """Serve a submission file to its learner, its panel's assessors and moderators."""
    stored = db.session.get(SubmissionFile, file_id)
    if stored is None:
        abort(404)
    submission = stored.submission
    allowed = (
        submission.user_id == current_user.id
        or (
            any(sheet.assessor_id == current_user.id for sheet in submission.sheets)
            and moderation.on_panel(submission.task, current_user)
            and moderation.grades_course(current_user, submission.task)
        )
        or (
            submission.task.institution_id == current_user.institution_id
            and moderation.is_moderator(current_user, submission.task)
        )
    )
    if not allowed:
        abort(404)
    # A blind assessor gets a name that does not carry the candidate's file name.
    name = stored.original_name
    if (
        submission.task.blind_candidates
        and submission.user_id != current_user.id
        and not moderation.is_moderator(current_user, submission.task)
    ):
        extension = uploads.extension_of(stored.stored_name)
        name = f"{submission.anonymous_code}-{stored.id}.{extension}"
    return uploads.send(tasks.UPLOAD_AREA, stored.stored_name, name)


def _released_submissions(task: PerformanceTask) -> list[TaskSubmission]:
    """Return the released submissions of ``task`` that the current user may see.

    A department HR officer gets only those of people in their department.
    """
    return list(
        db.session.scalars(
            sa.select(TaskSubmission)
            .where(
                TaskSubmission.task_id == task.id,
                TaskSubmission.released_at.is_not(None),
                hr_scope_clause(current_user, TaskSubmission.user_id),
            )
            .order_by(TaskSubmission.final_score.desc(), TaskSubmission.id)
        )
    )


def _result_task(task_id: int) -> PerformanceTask:
    """Load a task whose results the current user may read, or abort.

    A trainer who does not teach the task's course gets 403.
    """
    task = _own(PerformanceTask, task_id)
    if not moderation.grades_course(current_user, task):
        abort(403)
    return task


@bp.route("/results/tasks")
@roles_required(*RESULT_ROLES)
def result_index():
    released = (
        sa.select(sa.func.count())
        .where(
            TaskSubmission.task_id == PerformanceTask.id,
            TaskSubmission.released_at.is_not(None),
            hr_scope_clause(current_user, TaskSubmission.user_id),
        )
        .scalar_subquery()
    )
    query = sa.select(PerformanceTask, released).filter_by(
        institution_id=current_user.institution_id
    )
    if current_user.role is Role.TRAINER:
        query = query.where(
            teaching.gradable_clause(current_user, PerformanceTask.course_id)
        )
    rows = db.session.execute(
        query.order_by(PerformanceTask.created_at.desc())
    ).all()
    return render_template(
        "tasks/result_index.html", rows=rows, is_moderator=moderation.is_moderator
    )


@bp.route("/tasks/<int:task_id>/results")
@roles_required(*RESULT_ROLES)
def results(task_id: int):
    task = _result_task(task_id)
    rows = _released_submissions(task)
    return render_template(
        "tasks/results.html", task=task, rows=rows, passed=moderation.passed
    )


@bp.route("/tasks/<int:task_id>/results.csv")
@roles_required(*RESULT_ROLES)
def export_results(task_id: int):
    task = _result_task(task_id)
    rows = _released_submissions(task)
    headers = [
        _("Person"),
        _("Employee number"),
        _("Attempt"),
        _("Score"),
        _("Maximum"),
        _("Passed"),
        _("Released"),
    ]
    zone = ZoneInfo(tasks.institution_timezone(task.institution_id))
    table = [
        [
            submission.user.full_name,
            submission.user.employee_no or "",
            submission.number,
            scoring.display(submission.final_score),
            scoring.display(task.max_points),
            _("Yes") if moderation.passed(submission) else _("No"),
            submission.released_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        ]
        for submission in rows
    ]
    return exports.csv_response(f"task-{task.id}-results.csv", headers, table)


# The route modules below add their views to ``bp``; importing them here
# registers every route when the app factory imports this module.
from assessments import contest_views, moderation_views, rubric_views  # noqa: E402,F401
