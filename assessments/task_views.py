"""Pages of performance tasks, rubrics, assessor panels, moderation and contests.

Trainers and administrators author rubrics, tasks and contests of their own
institution. An assessor reaches only the score sheets assigned to them, a
learner only their own submissions, and HR the released results of its
institution. Objects of another institution give 404.
"""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from assessments import contests, rubrics, scoring, tasks
from assessments.tasks_models import (
    Aggregation,
    AwardMode,
    Contest,
    PairRole,
    PerformanceTask,
    Rubric,
    ScoreSheet,
    SubmissionFile,
    TaskKind,
    TaskSubmission,
)
from courses import authoring
from courses.authoring import AuthoringError
from courses.models import Course
from lms import exports, labels, uploads
from lms.accounts.access import roles_required
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
labels.register("PairRole", {"a": _l("Role A"), "b": _l("Role B")})
labels.register(
    "AwardMode", {"rank_share": _l("rank share"), "threshold": _l("score threshold")}
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
    if submission is None or submission.task.institution_id != current_user.institution_id:
        abort(404)
    return submission


def _moderated_task(task_id: int) -> PerformanceTask:
    task = _own(PerformanceTask, task_id)
    if not tasks.is_moderator(current_user, task):
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


# Rubrics --------------------------------------------------------------------------


@bp.route("/manage/rubrics")
@roles_required(*AUTHOR_ROLES)
def rubric_list():
    rows = db.session.scalars(
        sa.select(Rubric).filter_by(institution_id=current_user.institution_id).order_by(Rubric.code)
    )
    return render_template("tasks/rubrics.html", rubrics=list(rows))


def _rubric_form(rubric, values: dict, errors: dict, status: int = 200):
    locked = rubric is not None and rubrics.is_in_use(rubric)
    return (
        render_template(
            "tasks/rubric_form.html", rubric=rubric, values=values, errors=errors, locked=locked
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


@bp.route("/manage/rubrics/<int:rubric_id>", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def edit_rubric(rubric_id: int):
    rubric = _own(Rubric, rubric_id)
    if request.method == "GET":
        values = {
            "code": rubric.code,
            "title": rubric.title,
            "description": rubric.description,
            "definition": rubrics.format_definition(rubric),
        }
        return _rubric_form(rubric, values, {})
    data = request.form.to_dict()
    try:
        rubrics.save_rubric(current_user.institution_id, data, current_user, rubric)
    except AuthoringError as error:
        db.session.rollback()
        return _rubric_form(_own(Rubric, rubric_id), data, error.errors, 400)
    db.session.commit()
    flash(_("Rubric saved."), "success")
    return redirect(url_for("tasks.edit_rubric", rubric_id=rubric_id))


@bp.route("/manage/rubrics/<int:rubric_id>/copy", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def copy_rubric(rubric_id: int):
    copy = rubrics.copy_rubric(_own(Rubric, rubric_id), current_user)
    db.session.commit()
    flash(_("Rubric copied; edit the copy below."), "success")
    return redirect(url_for("tasks.edit_rubric", rubric_id=copy.id))


# Tasks ----------------------------------------------------------------------------


@bp.route("/manage/tasks")
@roles_required(*AUTHOR_ROLES)
def manage_tasks():
    rows = db.session.scalars(
        sa.select(PerformanceTask)
        .filter_by(institution_id=current_user.institution_id)
        .order_by(PerformanceTask.created_at.desc())
    )
    return render_template("tasks/manage_tasks.html", tasks=list(rows))


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
                (c.id, f"{c.code} {c.title}")
                for c in db.session.scalars(
                    sa.select(Course).filter_by(institution_id=institution_id).order_by(Course.code)
                )
            ],
            rubric_options=[
                (r.id, f"{r.title} ({scoring.display(r.max_points)})")
                for r in db.session.scalars(
                    sa.select(Rubric).filter_by(institution_id=institution_id).order_by(Rubric.code)
                )
            ],
            moderator_options=[
                (p.id, p.full_name) for p in _people_of_institution() if p.role in RESULT_ROLES
            ],
            people=_people_of_institution(),
            competency_groups=authoring.competency_choices(),
            selected_ids={str(each) for each in values.get("competency_ids", [])},
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
    flash(_("Task saved. Add the assessor panel next."), "success")
    return redirect(url_for("tasks.edit_task", task_id=task.id))


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
        "divergence_margin": "" if task.divergence_margin is None else str(task.divergence_margin),
        "pass_mark": str(task.pass_mark),
        "published": "y" if task.published else "",
        "moderator_id": str(task.moderator_id),
        "competency_ids": [item.id for item in task.competencies],
    }


@bp.route("/manage/tasks/<int:task_id>", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def edit_task(task_id: int):
    task = _own(PerformanceTask, task_id)
    if request.method == "GET":
        return _task_form(task, _task_values(task), {})
    data = _task_data()
    try:
        tasks.save_task(current_user.institution_id, data, current_user, task)
    except AuthoringError as error:
        db.session.rollback()
        return _task_form(_own(PerformanceTask, task_id), data, error.errors, 400)
    db.session.commit()
    flash(_("Task saved."), "success")
    return redirect(url_for("tasks.edit_task", task_id=task_id))


@bp.route("/manage/tasks/<int:task_id>/assessors", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def add_assessor(task_id: int):
    task = _own(PerformanceTask, task_id)
    raw = request.form.get("user_id", "")
    user = db.session.get(User, int(raw)) if raw.isdigit() and len(raw) < 10 else None
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
    return redirect(url_for("tasks.edit_task", task_id=task_id))


@bp.route("/manage/tasks/<int:task_id>/assessors/<int:user_id>/remove", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def remove_assessor(task_id: int, user_id: int):
    task = _own(PerformanceTask, task_id)
    try:
        tasks.remove_assessor(task, user_id, current_user)
    except tasks.TaskError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("tasks.edit_task", task_id=task_id))
    db.session.commit()
    flash(_("Assessor removed from the panel."), "success")
    return redirect(url_for("tasks.edit_task", task_id=task_id))


# Moderation -----------------------------------------------------------------------


@bp.route("/manage/tasks/<int:task_id>/submissions")
@login_required
def task_submissions(task_id: int):
    task = _moderated_task(task_id)
    rows = db.session.scalars(
        sa.select(TaskSubmission)
        .filter_by(task_id=task.id)
        .order_by(TaskSubmission.submitted_at, TaskSubmission.id)
    )
    summaries = [(s, tasks.panel_summary(s)) for s in rows]
    return render_template("tasks/submissions.html", task=task, summaries=summaries)


def _moderation_page(submission: TaskSubmission, values: dict, error: str = "", status: int = 200):
    sheets = [(sheet, tasks.sheet_total(sheet)) for sheet in submission.sheets]
    levels = {
        (sheet.id, mark.criterion_id): mark.level for sheet in submission.sheets for mark in sheet.marks
    }
    return (
        render_template(
            "tasks/moderate.html",
            submission=submission,
            task=submission.task,
            sheets=sheets,
            levels=levels,
            summary=tasks.panel_summary(submission),
            values=values,
            error=error,
        ),
        status,
    )


@bp.route("/manage/submissions/<int:submission_id>", methods=["GET", "POST"])
@login_required
def moderate(submission_id: int):
    submission = _submission(submission_id)
    if not tasks.is_moderator(current_user, submission.task):
        abort(403)
    if request.method == "GET":
        values = {
            "final_score": "" if submission.final_score is None else scoring.display(submission.final_score),
            "reason": submission.final_reason,
            "feedback": submission.feedback,
        }
        return _moderation_page(submission, values)
    values = request.form.to_dict()
    try:
        tasks.moderate(
            submission, values.get("final_score", ""), values.get("reason", ""),
            values.get("feedback", ""), current_user,
        )
    except tasks.TaskError as error:
        db.session.rollback()
        return _moderation_page(_submission(submission_id), values, str(error), 400)
    db.session.commit()
    flash(_("Final score saved. Release it when the learner may see it."), "success")
    return redirect(url_for("tasks.moderate", submission_id=submission_id))


@bp.route("/manage/submissions/<int:submission_id>/release", methods=["POST"])
@login_required
def release(submission_id: int):
    submission = _submission(submission_id)
    if not tasks.is_moderator(current_user, submission.task):
        abort(403)
    try:
        done = tasks.release(submission, current_user)
    except tasks.TaskError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("tasks.moderate", submission_id=submission_id))
    db.session.commit()
    flash(_("Result released to the learner.") if done else _("The result was already released."), "success")
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
    )
    return render_template("tasks/assess_queue.html", sheets=list(sheets))


def _own_sheet(sheet_id: int) -> ScoreSheet:
    sheet = db.session.get(ScoreSheet, sheet_id)
    if sheet is None or sheet.assessor_id != current_user.id:
        abort(404)
    return sheet


def _score_page(sheet: ScoreSheet, chosen: dict, comment: str, error: str = "", status: int = 200):
    return (
        render_template(
            "tasks/score.html",
            sheet=sheet,
            submission=sheet.submission,
            task=sheet.submission.task,
            candidate=tasks.candidate_label(sheet.submission, current_user),
            chosen=chosen,
            comment=comment,
            total=tasks.sheet_total(sheet),
            error=error,
        ),
        status,
    )


@bp.route("/assess/<int:sheet_id>", methods=["GET", "POST"])
@login_required
def score(sheet_id: int):
    sheet = _own_sheet(sheet_id)
    if request.method == "GET":
        chosen = {str(mark.criterion_id): str(mark.level_id) for mark in sheet.marks}
        return _score_page(sheet, chosen, sheet.comment)
    chosen = {
        key[len("criterion-"):]: value
        for key, value in request.form.items()
        if key.startswith("criterion-")
    }
    by_id = {int(k): v for k, v in chosen.items() if k.isdigit() and len(k) < 10}
    try:
        total = tasks.save_sheet(sheet, by_id, request.form.get("comment", ""), current_user)
    except tasks.TaskError as error:
        db.session.rollback()
        return _score_page(_own_sheet(sheet_id), chosen, request.form.get("comment", ""), str(error), 400)
    db.session.commit()
    flash(_("Score saved: %(total)s.", total=scoring.display(total)), "success")
    return redirect(url_for("tasks.assess_queue"))


# Learners -------------------------------------------------------------------------


@bp.route("/tasks")
@roles_required(Role.COUNSELOR, Role.PARTY_WORKER)
def my_tasks():
    rows = db.session.scalars(
        sa.select(PerformanceTask)
        .filter_by(institution_id=current_user.institution_id, published=True)
        .order_by(PerformanceTask.due_at.is_(None), PerformanceTask.due_at)
    )
    listed = [(task, tasks.submissions_of(task, current_user)) for task in rows]
    return render_template("tasks/my_tasks.html", listed=listed)


def _visible_task(task_id: int) -> PerformanceTask:
    task = _own(PerformanceTask, task_id)
    if not task.published and current_user.role not in AUTHOR_ROLES:
        abort(404)
    return task


def _task_page(task: PerformanceTask, error: str = "", values=None, status: int = 200):
    mine = tasks.submissions_of(task, current_user) if current_user.role.is_learner else []
    return (
        render_template(
            "tasks/task.html",
            task=task,
            submissions=mine,
            problem=tasks.submission_problem(task, current_user) if current_user.role.is_learner else None,
            pair_roles=list(PairRole),
            video_mb=tasks.max_video_bytes() // uploads.MB,
            error=error,
            values=values or {},
            passed=tasks.passed,
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
    files = [(f.filename, f.stream) for f in request.files.getlist("files") if f and f.filename]
    try:
        tasks.submit(
            task,
            current_user,
            text=request.form.get("text", ""),
            video_url=request.form.get("video_url", ""),
            files=files,
            pair_role=request.form.get("pair_role") or None,
            pair_group=request.form.get("pair_group", ""),
        )
    except tasks.TaskError as error:
        db.session.rollback()
        return _task_page(_visible_task(task_id), str(error), request.form.to_dict(), 400)
    db.session.commit()
    flash(_("Submission received. You will see the result once it is released."), "success")
    return redirect(url_for("tasks.task", task_id=task_id))


@bp.route("/tasks/files/<int:file_id>")
@login_required
def submission_file(file_id: int):
    """Serve a submission file to its learner, its assigned assessors and moderators."""
    stored = db.session.get(SubmissionFile, file_id)
    if stored is None:
        abort(404)
    submission = stored.submission
    allowed = (
        submission.user_id == current_user.id
        or any(sheet.assessor_id == current_user.id for sheet in submission.sheets)
        or (
            submission.task.institution_id == current_user.institution_id
            and tasks.is_moderator(current_user, submission.task)
        )
    )
    if not allowed:
        abort(404)
    # A blind assessor gets a name that does not carry the candidate's file name.
    name = stored.original_name
    if submission.task.blind_candidates and submission.user_id != current_user.id and not tasks.is_moderator(current_user, submission.task):
        name = f"{submission.anonymous_code}-{stored.id}.{uploads.extension_of(stored.stored_name)}"
    return uploads.send(tasks.UPLOAD_AREA, stored.stored_name, name)


@bp.route("/results/tasks")
@roles_required(*RESULT_ROLES)
def result_index():
    released = (
        sa.select(sa.func.count())
        .where(
            TaskSubmission.task_id == PerformanceTask.id,
            TaskSubmission.released_at.is_not(None),
        )
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(PerformanceTask, released)
        .filter_by(institution_id=current_user.institution_id)
        .order_by(PerformanceTask.created_at.desc())
    ).all()
    return render_template("tasks/result_index.html", rows=rows, is_moderator=tasks.is_moderator)


@bp.route("/tasks/<int:task_id>/results")
@roles_required(*RESULT_ROLES)
def results(task_id: int):
    task = _own(PerformanceTask, task_id)
    rows = db.session.scalars(
        sa.select(TaskSubmission)
        .where(TaskSubmission.task_id == task.id, TaskSubmission.released_at.is_not(None))
        .order_by(TaskSubmission.final_score.desc(), TaskSubmission.id)
    )
    return render_template("tasks/results.html", task=task, rows=list(rows), passed=tasks.passed)


# Contests -------------------------------------------------------------------------


@bp.route("/contests")
@roles_required(*RESULT_ROLES)
def contest_list():
    rows = db.session.scalars(
        sa.select(Contest)
        .filter_by(institution_id=current_user.institution_id)
        .order_by(Contest.created_at.desc())
    )
    return render_template("tasks/contests.html", contests=list(rows))


def _contest_page(contest: Contest, errors=None, status: int = 200):
    institution_id = current_user.institution_id
    from assessments.models import Quiz

    sources = [
        (f"task:{t.id}", t.title)
        for t in db.session.scalars(sa.select(PerformanceTask).filter_by(institution_id=institution_id))
    ] + [
        (f"quiz:{q.id}", q.title)
        for q in db.session.scalars(
            sa.select(Quiz).join(Course, Course.id == Quiz.course_id).where(Course.institution_id == institution_id)
        )
    ]
    learners = [p for p in _people_of_institution() if p.role.is_learner]
    return (
        render_template(
            "tasks/contest.html",
            contest=contest,
            standings=contests.standings(contest),
            sources=sources,
            learners=learners,
            can_edit=current_user.role in AUTHOR_ROLES,
            modes=list(AwardMode),
            values=(
                {
                    "title": contest.title,
                    "award_mode": contest.award_mode.value,
                    "first_tier": scoring.display(contest.first_tier),
                    "second_tier": scoring.display(contest.second_tier),
                    "third_tier": scoring.display(contest.third_tier),
                }
                if request.method == "GET" or request.endpoint != "tasks.edit_contest"
                else request.form.to_dict()
            ),
            errors=errors or {},
        ),
        status,
    )


@bp.route("/contests/<int:contest_id>")
@roles_required(*RESULT_ROLES)
def contest(contest_id: int):
    return _contest_page(_own(Contest, contest_id))


@bp.route("/manage/contests/new", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def new_contest():
    values = {"award_mode": AwardMode.RANK_SHARE.value, "first_tier": "10", "second_tier": "20", "third_tier": "30"}
    errors = {}
    status = 200
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            created = contests.save_contest(current_user.institution_id, values, current_user)
        except AuthoringError as error:
            db.session.rollback()
            errors, status = error.errors, 400
        else:
            db.session.commit()
            flash(_("Contest created. Add its events and entrants."), "success")
            return redirect(url_for("tasks.contest", contest_id=created.id))
    return (
        render_template("tasks/contest_form.html", values=values, errors=errors, modes=list(AwardMode)),
        status,
    )


@bp.route("/manage/contests/<int:contest_id>", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def edit_contest(contest_id: int):
    contest_row = _own(Contest, contest_id)
    try:
        contests.save_contest(
            current_user.institution_id, request.form.to_dict(), current_user, contest_row
        )
    except AuthoringError as error:
        db.session.rollback()
        return _contest_page(_own(Contest, contest_id), error.errors, 400)
    db.session.commit()
    flash(_("Contest saved."), "success")
    return redirect(url_for("tasks.contest", contest_id=contest_id))


@bp.route("/contests/<int:contest_id>/standings.csv")
@roles_required(*RESULT_ROLES)
def export_standings(contest_id: int):
    contest_row = _own(Contest, contest_id)
    headers = [_("Rank"), _("Entrant"), _("Employee number")]
    headers += [event.title for event in contest_row.events]
    headers += [_("Total"), _("Award")]
    rows = [
        [row.rank or "", row.user.full_name, row.user.employee_no or ""]
        + [scoring.display(value) if value is not None else "" for value in row.scores]
        + [scoring.display(row.total) if row.total is not None else "", row.award_label]
        for row in contests.standings(contest_row)
    ]
    return exports.csv_response(f"contest-{contest_row.id}-standings.csv", headers, rows)


@bp.route("/manage/contests/<int:contest_id>/events", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def add_contest_event(contest_id: int):
    contest_row = _own(Contest, contest_id)
    try:
        contests.add_event(contest_row, request.form.get("source", ""), request.form.get("weight", ""))
    except AuthoringError as error:
        db.session.rollback()
        return _contest_page(_own(Contest, contest_id), error.errors, 400)
    db.session.commit()
    flash(_("Event added."), "success")
    return redirect(url_for("tasks.contest", contest_id=contest_id))


@bp.route("/manage/contests/<int:contest_id>/entrants", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def add_contest_entrant(contest_id: int):
    contest_row = _own(Contest, contest_id)
    raw = request.form.get("user_id", "")
    user = db.session.get(User, int(raw)) if raw.isdigit() and len(raw) < 10 else None
    try:
        if user is None:
            raise AuthoringError({"user_id": _("Entrant: choose a person from the list.")})
        added = contests.add_entrant(contest_row, user)
    except AuthoringError as error:
        db.session.rollback()
        return _contest_page(_own(Contest, contest_id), error.errors, 400)
    db.session.commit()
    flash(_("Entrant added.") if added else _("That person is already entered."), "success")
    return redirect(url_for("tasks.contest", contest_id=contest_id))
