"""Performance tasks: authoring, assessor panels and learners' submissions.

Scoring, moderation and release live in ``assessments.moderation``.
"""

import secrets
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import BinaryIO, Iterable, Optional
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from assessments import logger, pair_draws, scoring
from assessments.tasks_models import (
    Aggregation,
    PerformanceTask,
    Rubric,
    ScoreSheet,
    SubmissionFile,
    TaskAssessor,
    TaskKind,
    TaskSubmission,
)
from courses import services as course_services
from courses import teaching
from courses.authoring import AuthoringError
from courses.models import Course
from lms import audit, uploads
from lms.accounts.models import Role, User
from lms.competencies.models import CompetencyItem
from lms.competencies.services import unassignable
from lms.db import now_utc
from lms.extensions import db
from lms.input_ranges import scheduled_to_utc
from lms.routing import parse_id
from lms.organisations.models import Institution
from lms.i18n import format_local_datetime, join_names

#: Upload area of submission files under ``UPLOAD_DIR``.
UPLOAD_AREA = "task_evidence"
DOCUMENT_TYPES = ("pdf", "docx", "pptx", "xlsx", "jpg", "jpeg", "png", "zip")
VIDEO_TYPES = ("mp4", "webm")
MAX_DOCUMENT_BYTES = 20 * uploads.MB
MAX_FILES = 10
MAX_TEXT = 20000
VIDEO_KINDS = (TaskKind.CLASS_MEETING, TaskKind.SPEECH, TaskKind.HEART_TALK)
DUE_FORMAT = "%Y-%m-%dT%H:%M"


class TaskError(Exception):
    """A rejected submission, scoring or moderation, with a message for the user."""


# Authoring ----------------------------------------------------------------------


def _own_rubric(institution_id: int, raw: str) -> Optional[Rubric]:
    rubric_id = parse_id(raw)
    if rubric_id is None:
        return None
    rubric = db.session.get(Rubric, rubric_id)
    if rubric is None or rubric.institution_id != institution_id:
        return None
    return rubric


def _parse_due(
    raw: str, timezone: str, errors: dict, stored: Optional[datetime]
) -> Optional[datetime]:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        local = datetime.strptime(raw, DUE_FORMAT)
    except ValueError:
        errors["due_at"] = _("Enter the due date and time such as 2026-09-01T18:00.")
        return None
    return scheduled_to_utc(local, ZoneInfo(timezone), "due_at", _("Due"), errors, stored)


def _check_due_not_past(
    due_at: Optional[datetime],
    task: Optional[PerformanceTask],
    timezone: str,
    errors: dict,
) -> None:
    """Reject a new or moved due date that has already passed.

    An unchanged due date is kept even when it has passed, so the other
    fields of an overdue task can still be edited. The form has minute
    precision, so the stored value is compared to the minute.
    """
    if due_at is None:
        return
    if task is not None and task.due_at is not None:
        stored = task.due_at.replace(second=0, microsecond=0)
        if stored == due_at:
            return
    now = now_utc()
    if due_at > now:
        return
    errors["due_at"] = _(
        "The due date %(value)s has already passed. Enter a due date and time after now "
        "(%(now)s), or leave it empty for no due date.",
        value=_local_text(due_at, timezone),
        now=_local_text(now, timezone),
    )


def _local_text(moment, timezone: str) -> str:
    """Format an aware datetime in the institution's zone and the reader's language."""
    local = moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    return format_local_datetime(local)


def institution_timezone(institution_id: int) -> str:
    """Return the IANA zone name of the institution, Asia/Shanghai when unknown."""
    institution = db.session.get(Institution, institution_id)
    return institution.timezone if institution is not None else "Asia/Shanghai"


def due_input(task: PerformanceTask) -> str:
    """Return the due date as a datetime-local value in the institution's zone."""
    if task.due_at is None:
        return ""
    zone = ZoneInfo(institution_timezone(task.institution_id))
    return task.due_at.astimezone(zone).strftime(DUE_FORMAT)


def _enum_value(enum_cls, raw: str, field: str, errors: dict, message: str):
    try:
        return enum_cls(raw)
    except ValueError:
        errors[field] = message
        return None


def _decimal_field(
    raw: str, field: str, errors: dict, message: str
) -> Optional[Decimal]:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0 or value > 999999:
        errors[field] = message
        return None
    return value


def save_task(
    institution_id: int, data: dict, actor: User, task: Optional[PerformanceTask] = None
) -> PerformanceTask:
    """Create or update a task from form values, or raise AuthoringError per field."""
    errors: dict[str, str] = {}
    course = _own_course(institution_id, data.get("course_id"), errors)
    if course is not None and not _may_set_tasks(actor, course):
        errors["course_id"] = _(
            "Course: you do not teach %(course)s. Choose a course that you "
            "author or that a class you train offers.",
            course=course.title,
        )
    title = (data.get("title") or "").strip()
    if not title or len(title) > 200:
        errors["title"] = _("Enter a title of 1 to 200 characters.")
    kind = _enum_value(
        TaskKind, data.get("kind"), "kind", errors, _("Choose a task kind.")
    )
    aggregation = _enum_value(
        Aggregation,
        data.get("aggregation"),
        "aggregation",
        errors,
        _("Choose how panel scores are combined."),
    )
    rubric, student_rubric = _rubrics(institution_id, kind, data, errors)
    margin = _decimal_field(
        data.get("divergence_margin"),
        "divergence_margin",
        errors,
        _("Enter the divergence margin as points, e.g. 10, or leave it empty."),
    )
    pass_mark = str(data.get("pass_mark") or "").strip()
    if not pass_mark.isdigit() or int(pass_mark) > 100:
        errors["pass_mark"] = _(
            "Enter the pass mark as a whole percentage from 0 to 100."
        )
    moderator = _moderator(
        institution_id, data.get("moderator_id"), task, course, errors
    )
    if task is not None and has_scores(task):
        _check_scoring_unchanged(task, kind, rubric, student_rubric, errors)
    zone_name = institution_timezone(institution_id)
    stored_due = task.due_at if task is not None else None
    due_at = _parse_due(data.get("due_at"), zone_name, errors, stored_due)
    _check_due_not_past(due_at, task, zone_name, errors)
    items = _competencies(data.get("competency_ids") or [], errors, institution_id, task)
    if errors:
        raise AuthoringError(errors)

    created = task is None
    if created:
        task = PerformanceTask(institution_id=institution_id)
        db.session.add(task)
    task.course_id = course.id
    task.kind = kind
    task.title = title
    task.instructions = (data.get("instructions") or "").strip()[:MAX_TEXT]
    task.rubric_id = rubric.id
    task.student_rubric_id = student_rubric.id if student_rubric else None
    task.due_at = due_at
    task.allow_resubmission = bool(data.get("allow_resubmission"))
    task.blind_candidates = bool(data.get("blind_candidates"))
    task.aggregation = aggregation
    task.divergence_margin = margin
    task.pass_mark = int(pass_mark)
    task.published = bool(data.get("published"))
    task.moderator_id = moderator.id
    task.competencies = items if items or not created else list(course.competencies)
    db.session.flush()
    logger.info("Task %r saved by %r", task, actor)
    return task


def _own_course(institution_id: int, raw, errors: dict) -> Optional[Course]:
    course_id = parse_id(raw)
    course = db.session.get(Course, course_id) if course_id is not None else None
    if course is None or course.institution_id != institution_id:
        errors["course_id"] = _("Choose a course of your institution.")
        return None
    return course


def _rubrics(
    institution_id: int, kind: Optional[TaskKind], data: dict, errors: dict
) -> tuple[Optional[Rubric], Optional[Rubric]]:
    """Return the task rubric and, for a heart-to-heart talk, the student-role one."""
    rubric = _own_rubric(institution_id, data.get("rubric_id"))
    if rubric is None:
        errors["rubric_id"] = _("Choose a rubric of your institution.")
    if kind is not TaskKind.HEART_TALK:
        if str(data.get("student_rubric_id") or "").strip():
            errors["student_rubric_id"] = _(
                "Student-role rubric: only a heart-to-heart talk role-play is scored "
                "for two roles. Choose “None”, or change the kind to heart-to-heart "
                "talk role-play."
            )
        return rubric, None
    student_rubric = _own_rubric(institution_id, data.get("student_rubric_id"))
    if student_rubric is None:
        errors["student_rubric_id"] = _(
            "A heart-to-heart talk is scored for both roles: "
            "choose the student-role rubric."
        )
    elif rubric is not None and rubric.max_points != student_rubric.max_points:
        errors["student_rubric_id"] = _(
            "Both role rubrics must have the same maximum (%(a)s and %(b)s), "
            "because the score is the mean of the two roles.",
            a=scoring.display(rubric.max_points),
            b=scoring.display(student_rubric.max_points),
        )
    return rubric, student_rubric


def _may_set_tasks(user: User, course: Course) -> bool:
    """Return whether ``user`` may grade, and so set tasks on, ``course``.

    Trainers set tasks only on courses they teach (see ``courses.teaching``).
    """
    return user.role is not Role.TRAINER or teaching.teaches(user, course)


def _moderator(
    institution_id: int,
    raw,
    task: Optional[PerformanceTask],
    course: Optional[Course],
    errors: dict,
) -> Optional[User]:
    moderator_id = parse_id(raw)
    moderator = db.session.get(User, moderator_id) if moderator_id is not None else None
    if (
        moderator is None
        or not moderator.active
        or moderator.institution_id != institution_id
        or moderator.role not in (Role.TRAINER, Role.ADMIN, Role.HR)
    ):
        errors["moderator_id"] = _(
            "Choose a trainer, HR officer or administrator of your institution."
        )
        return None
    if course is not None and not _may_set_tasks(moderator, course):
        errors["moderator_id"] = _(
            "Moderator: %(name)s does not teach %(course)s. Choose a trainer who "
            "authors or co-teaches the course or trains a class that offers it, "
            "an HR officer or an administrator.",
            name=moderator.full_name,
            course=course.title,
        )
        return None
    if task is not None and any(m.user_id == moderator.id for m in task.assessors):
        errors["moderator_id"] = _(
            "%(name)s is on the assessor panel; "
            "choose a moderator who does not assess.",
            name=moderator.full_name,
        )
    return moderator


def _check_scoring_unchanged(
    task: PerformanceTask, kind, rubric, student_rubric, errors: dict
) -> None:
    """Reject a new kind or rubric once sheets are scored, as marks refer to them."""
    student_rubric_id = student_rubric.id if student_rubric else None
    if (
        kind is not task.kind
        or (rubric is not None and rubric.id != task.rubric_id)
        or student_rubric_id != task.student_rubric_id
    ):
        errors["rubric_id"] = _(
            "Assessors have already scored with this task's rubrics, "
            "so its kind and rubrics cannot change."
        )


def has_scores(task: PerformanceTask) -> bool:
    """Return whether any sheet of the task has been scored."""
    return (
        db.session.scalar(
            sa.select(ScoreSheet.id)
            .join(TaskSubmission, TaskSubmission.id == ScoreSheet.submission_id)
            .where(TaskSubmission.task_id == task.id, ScoreSheet.scored_at.is_not(None))
            .limit(1)
        )
        is not None
    )


def _competencies(
    raw_ids: Iterable[str],
    errors: dict,
    institution_id: int,
    task: Optional[PerformanceTask],
) -> list[CompetencyItem]:
    raw_ids = [str(raw).strip() for raw in raw_ids]
    ids = {parse_id(raw) for raw in raw_ids} - {None}
    query = sa.select(CompetencyItem).where(CompetencyItem.id.in_(ids))
    items = list(db.session.scalars(query))
    linked = task.competencies if task is not None else []
    # An id no row can have counts as unknown instead of reaching the database.
    out_of_range = any(raw.isdigit() and parse_id(raw) is None for raw in raw_ids)
    unknown = out_of_range or len(items) != len(ids)
    if unknown or unassignable(items, linked, institution_id):
        errors["competency_ids"] = _("Choose competency items from the list.")
    return items


def add_assessor(task: PerformanceTask, user: User, actor: User) -> TaskAssessor:
    """Put ``user`` on the panel and assign them every submission still being scored."""
    if user.institution_id != task.institution_id or not user.active:
        raise TaskError(_("Choose an active person of your institution."))
    if not _may_set_tasks(user, task.course):
        raise TaskError(
            _(
                "Assessor: %(name)s is a trainer who does not teach %(course)s, "
                "so cannot score its task. Choose a trainer who authors or "
                "co-teaches the course or trains a class that offers it.",
                name=user.full_name,
                course=task.course.title,
            )
        )
    if user.id == task.moderator_id:
        raise TaskError(
            _(
                "%(name)s moderates this task and sees every score, "
                "so cannot also assess it.",
                name=user.full_name,
            )
        )
    member = _member(task, user.id)
    if member is not None:
        raise TaskError(_("%(name)s is already on the panel.", name=user.full_name))
    member = TaskAssessor(task_id=task.id, user_id=user.id)
    db.session.add(member)
    for submission in _open_submissions(task):
        _assign(submission, user)
    db.session.flush()
    audit.record(
        "task.assessor_added", "performance_task", task.id, user.full_name,
        actor_id=actor.id,
        institution_id=task.institution_id,
        data={"assessor_id": user.id},
    )
    return member


def remove_assessor(task: PerformanceTask, user_id: int, actor: User) -> None:
    """Take an assessor off the panel; sheets they already scored stay and count."""
    member = _member(task, user_id)
    if member is None:
        raise TaskError(_("That person is not on the panel."))
    db.session.delete(member)
    for submission in _open_submissions(task):
        for sheet in list(submission.sheets):
            if sheet.assessor_id == user_id and sheet.scored_at is None:
                db.session.delete(sheet)
    db.session.flush()
    audit.record(
        "task.assessor_removed", "performance_task", task.id, str(user_id),
        actor_id=actor.id,
        institution_id=task.institution_id,
        data={"assessor_id": user_id},
    )


def is_candidate(task: PerformanceTask, user: User) -> bool:
    """Return whether ``user`` has submitted to the task or is a learner who may."""
    if submissions_of(task, user):
        return True
    return user.role.is_learner and course_services.can_view_course(user, task.course)


def unscorable_reason(submission: TaskSubmission) -> Optional[str]:
    """Return why no assessor can score an unreleased submission, or None if one can.

    An assessor never gets a sheet for their own submission, and every other
    member gets one, so a submission without sheets has an empty panel or a
    panel whose only member is its candidate.
    """
    if submission.released_at is not None or submission.sheets:
        return None
    members = submission.task.assessors
    if not members:
        return _(
            "No assessor can score this submission: the assessor panel is empty. "
            "Add assessors to the panel, or enter the final score yourself with "
            "a reason."
        )
    return _(
        "No assessor can score this submission: %(name)s, the only assessor, "
        "is its candidate and does not score their own work. Add another "
        "assessor to the panel, or enter the final score yourself with a reason.",
        name=members[0].user.full_name,
    )


def unscorable_submissions(task: PerformanceTask) -> list[tuple[TaskSubmission, str]]:
    """Return each unreleased submission of the task that no assessor can score."""
    pairs = []
    for submission in _open_submissions(task):
        reason = unscorable_reason(submission)
        if reason is not None:
            pairs.append((submission, reason))
    return pairs


def _member(task: PerformanceTask, user_id: int) -> Optional[TaskAssessor]:
    return db.session.scalar(
        sa.select(TaskAssessor).filter_by(task_id=task.id, user_id=user_id)
    )


def _open_submissions(task: PerformanceTask) -> list[TaskSubmission]:
    return list(
        db.session.scalars(
            sa.select(TaskSubmission).filter_by(task_id=task.id, released_at=None)
        )
    )


def _assign(submission: TaskSubmission, assessor: User) -> None:
    if assessor.id == submission.user_id:
        return
    if any(sheet.assessor_id == assessor.id for sheet in submission.sheets):
        return
    submission.sheets.append(ScoreSheet(assessor_id=assessor.id))


# Submissions ----------------------------------------------------------------------


def submissions_of(task: PerformanceTask, user: User) -> list[TaskSubmission]:
    return list(
        db.session.scalars(
            sa.select(TaskSubmission)
            .filter_by(task_id=task.id, user_id=user.id)
            .order_by(TaskSubmission.number.desc())
        )
    )


def submission_problem(
    task: PerformanceTask, user: User, now: Optional[datetime] = None
) -> Optional[str]:
    """Return why ``user`` cannot submit now, or None when they can.

    Only a learner who reaches the task's course (a programme enrolment that
    contains it, or a class that offers it) may submit.

    A first submission closes at the due date. A resubmission opens once the
    previous result is released, if the task allows it, whatever the date.
    """
    now = now or now_utc()
    if not task.published:
        return _("This task is not open for submissions.")
    if not course_services.can_view_course(user, task.course):
        return _(
            "This task belongs to the course %(course)s, in which you are not enrolled."
            " Enrol in a programme or training class that offers it first.",
            course=task.course.title,
        )
    previous = submissions_of(task, user)
    if not previous:
        if task.due_at is not None and now > task.due_at:
            return _("The due date has passed.")
        return None
    if not task.allow_resubmission:
        return _("You have already submitted, and this task allows no resubmission.")
    if previous[0].released_at is None:
        return _(
            "Your submission is being assessed; "
            "you can resubmit once its result is released."
        )
    return None


def max_video_bytes() -> int:
    """Return the largest video accepted, the request limit ``LMS_MAX_UPLOAD_BYTES``."""
    return int(current_app.config.get("MAX_CONTENT_LENGTH") or 50 * uploads.MB)


uploads.register_field(
    "task_files",
    lambda: {"*": MAX_DOCUMENT_BYTES, **{ext: max_video_bytes() for ext in VIDEO_TYPES}},
)


def _check_video_url(raw: str) -> Optional[str]:
    raw = (raw or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(raw) > 500:
        raise TaskError(
            _(
                "Video link: enter a full http or https address "
                "of at most 500 characters."
            )
        )
    return raw


def _store_files(
    files: list[tuple[str, BinaryIO]], kind: TaskKind
) -> list[uploads.StoredFile]:
    if len(files) > MAX_FILES:
        raise TaskError(_("Files: attach at most %(n)s files.", n=MAX_FILES))
    allowed = DOCUMENT_TYPES + (VIDEO_TYPES if kind in VIDEO_KINDS else ())
    video_limit = max_video_bytes()
    stored = []
    try:
        for filename, stream in files:
            is_video = uploads.extension_of(filename) in VIDEO_TYPES
            limit = video_limit if is_video else MAX_DOCUMENT_BYTES
            stored.append(
                uploads.store(
                    UPLOAD_AREA, filename, stream, allowed=allowed, max_bytes=limit
                )
            )
    except uploads.UploadError as error:
        for done in stored:
            uploads.remove(UPLOAD_AREA, done.name)
        raise TaskError(_upload_message(filename, error)) from error
    return stored


def _upload_message(filename: str, error: uploads.UploadError) -> str:
    if error.code == "size":
        return _(
            "File %(name)s is larger than %(mb)s MB; attach a smaller file.",
            name=filename, mb=error.limit // uploads.MB,
        )
    if error.code == "missing":
        return _("File %(name)s is empty; attach the file again.", name=filename)
    if error.code == "content":
        extension = uploads.extension_of(filename)
        return _(
            "File %(name)s is not a real %(type)s file: its name ends in .%(extension)s "
            "but its content is of another kind. Save or export the file again as "
            "%(type)s, or rename it to its real type, and attach it again.",
            name=filename, type=extension.upper(), extension=extension,
        )
    return _(
        "File %(name)s is not an accepted type; attach one of: %(types)s.",
        name=filename, types=join_names(error.allowed),
    )


def _check_content(
    task: PerformanceTask, text: str, video_url, files, pair_role
) -> None:
    kind = task.kind
    has_video = video_url or any(
        uploads.extension_of(name) in VIDEO_TYPES for name, _stream in files
    )
    if kind is TaskKind.CASE_ANALYSIS and not (text or files):
        raise TaskError(_("Analysis: write your case analysis or attach it as a file."))
    if kind is TaskKind.CASE_DISCUSSION and pair_role is None:
        raise TaskError(
            _(
                "Role: your group and role have not been drawn yet. The task's "
                "moderator draws them; submit once this page shows yours."
            )
        )
    if kind is TaskKind.CLASS_MEETING and not has_video:
        raise TaskError(
            _(
                "Video: upload the class meeting video (MP4 or WebM) "
                "or give a link to it."
            )
        )
    if kind in (TaskKind.SPEECH, TaskKind.HEART_TALK) and not (has_video or text):
        raise TaskError(
            _("Recording: upload a video, give a link, or paste the transcript.")
        )
    if kind is TaskKind.PORTFOLIO and not files:
        raise TaskError(
            _("Evidence: attach at least one file that documents your work.")
        )


def submit(
    task: PerformanceTask,
    user: User,
    *,
    text: str = "",
    video_url: str = "",
    files: Optional[list[tuple[str, BinaryIO]]] = None,
) -> TaskSubmission:
    """Store a submission with its files and assign it to every panel member."""
    problem = submission_problem(task, user)
    if problem:
        raise TaskError(problem)
    files = [(name, stream) for name, stream in (files or []) if name]
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise TaskError(_("Text: write at most %(n)s characters.", n=MAX_TEXT))
    # Candidates of a case discussion are drawn their group and role.
    role, group = None, None
    if task.kind is TaskKind.CASE_DISCUSSION:
        draw = pair_draws.draw_of(task, user)
        if draw is not None:
            role, group = draw.pair_role, str(draw.pair_group)
    url = _check_video_url(video_url)
    _check_content(task, text, url, files, role)
    # NOTE: files are written before the view commits, so a failed commit
    # leaves them in the upload area with no row pointing at them.
    stored = _store_files(files, task.kind)

    previous = submissions_of(task, user)
    submission = TaskSubmission(
        task_id=task.id,
        user_id=user.id,
        number=previous[0].number + 1 if previous else 1,
        anonymous_code=_new_code(),
        text=text,
        video_url=url,
        pair_role=role,
        pair_group=group,
    )
    for item in stored:
        submission.files.append(
            SubmissionFile(
                stored_name=item.name, original_name=item.original_name,
                media_type=item.media_type, size=item.size,
            )
        )
    db.session.add(submission)
    for member in task.assessors:
        _assign(submission, member.user)
    db.session.flush()
    logger.info("Submission %s of task %r by %r", submission.number, task, user)
    return submission


def _new_code() -> str:
    while True:
        code = "C-" + secrets.token_hex(3).upper()
        query = sa.select(TaskSubmission.id).filter_by(anonymous_code=code)
        if db.session.scalar(query) is None:
            return code
