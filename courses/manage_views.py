"""Trainer pages under /manage: build programmes, courses, lessons and quizzes.

Trainers and administrators edit their own institution's offer. Other roles
get 403, and objects of another institution give 404. A course's content
(the course form, its modules, lessons, quizzes and their questions) is
changed, published and archived only by the users who manage the course:
the authors of any version and the administrators (``teachers.may_manage``).
Other trainers, its co-teachers and class trainers included, read these
pages and get 403 on every change. A programme is likewise changed,
published and archived only by its author and the administrators
(``programme_authors.may_manage``).
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from assessments import authoring as quiz_authoring
from assessments import services as assessment_services
from assessments import question_forms
from assessments.models import Question, Quiz
from courses import (
    authoring,
    class_authoring,
    lesson_files,
    lesson_images,
    logger,
    programme_authors,
    programme_report,
    sections,
    teachers,
    teaching,
    versions,
)
from courses.models import (
    Course,
    CourseModule,
    Lesson,
    Programme,
    ProgrammeCourse,
    PublicationStatus,
    TargetLevel,
)
from lms import exports, labels, revisions
from lms.accounts.access import roles_required
from lms.accounts.models import Post, Role
from lms.extensions import db
from lms.records.models import TrainingKind, TrainingTier
from lms.i18n import join_names

bp = Blueprint("manage", __name__, url_prefix="/manage")

AUTHOR_ROLES = (Role.TRAINER, Role.ADMIN)


# Loading ----------------------------------------------------------------------


def _own(model, object_id: int):
    """Load a programme or course of the current user's institution, or abort 404."""
    row = db.session.get(model, object_id)
    if row is None or row.institution_id != current_user.institution_id:
        abort(404)
    return row


def _require_manage(course: Course) -> None:
    """Abort with 403 unless the current user manages ``course`` (authors, admins)."""
    if not teachers.may_manage(current_user, course):
        abort(403)


def _managed(course_id: int) -> Course:
    """Load a course whose content the current user may change, or abort 404 or 403."""
    course = _own(Course, course_id)
    _require_manage(course)
    return course


def _managed_programme(programme_id: int) -> Programme:
    """Load a programme the current user may change, or abort with 404 or 403."""
    programme = _own(Programme, programme_id)
    if not programme_authors.may_manage(current_user, programme):
        abort(403)
    return programme


def _programme_link(
    programme_id: int, link_id: int
) -> tuple[Programme, ProgrammeCourse]:
    programme = _managed_programme(programme_id)
    link = db.session.get(ProgrammeCourse, link_id)
    if link is None or link.programme_id != programme.id:
        abort(404)
    return programme, link


def _lesson(course_id: int, lesson_id: int) -> tuple[Course, Lesson]:
    course = _own(Course, course_id)
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or lesson.course_id != course.id:
        abort(404)
    return course, lesson


def _quiz(quiz_id: int) -> Quiz:
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None or quiz.course.institution_id != current_user.institution_id:
        abort(404)
    return quiz


def _question(quiz_id: int, question_id: int) -> tuple[Quiz, Question]:
    quiz = _quiz(quiz_id)
    question = db.session.get(Question, question_id)
    if question is None or question.quiz_id != quiz.id:
        abort(404)
    return quiz, question


def _show_conflict(conflict, typed: dict, fresh: dict, fields) -> None:
    """Show a rejected save with the saved values that differ from the typed ones."""
    labels = fields() if callable(fields) else fields
    revisions.show_conflict(conflict, revisions.value_differences(typed, fresh, labels))


def _programme_fields() -> dict:
    return {
        "code": _("Code"),
        "title": _("Title"),
        "summary": _("Summary"),
        "tier": (_("Tier"), lambda value: labels.label(value, "tier")),
        "kind": (_("Kind"), lambda value: labels.label(value, "kind")),
        "level": (_("Level"), lambda value: labels.label(value, "level")),
        "audience": _("Audience note"),
        "audience_posts": (_("Audience"), lambda value: labels.label(value, "post")),
        "min_elective_hours": _("Minimum elective hours"),
        "certificate_validity_months": _("Certificate validity (months)"),
    }


def _course_fields() -> dict:
    return {
        "code": _("Code"),
        "title": _("Title"),
        "summary": _("Summary"),
        "credit_hours": _("Credit hours"),
        "competency_ids": _("Competencies developed"),
    }


def _lesson_fields() -> dict:
    return {
        "title": _("Title"),
        "kind": (_("Kind"), lambda value: labels.label(value, "lesson_kind")),
        "duration_minutes": _("Duration (minutes)"),
        "body_html": _("Text (HTML)"),
        "video_url": _("Video address"),
        "session_starts_at": _("Date and time"),
        "session_place": _("Place"),
        "module_id": _("Module"),
    }


def _quiz_fields() -> dict:
    return {
        "title": _("Title"),
        "instructions": _("Instructions"),
        "pass_mark": _("Pass mark (percent)"),
        "max_attempts": _("Attempts allowed"),
        "time_limit_minutes": _("Time limit (minutes)"),
        "opens_at": _("Opens at"),
        "closes_at": _("Closes at"),
        "grading_method": _("Grading method"),
        "review_score": _("Score"),
        "review_responses": _("Their answers"),
        "review_correct": _("Correct answers"),
        "review_feedback": _("Feedback and explanations"),
    }


def _form_data() -> dict:
    data = request.form.to_dict()
    data["competency_ids"] = request.form.getlist("competency_ids")
    data["audience_posts"] = request.form.getlist("audience_posts")
    return data


def _module(course_id: int, module_id: int) -> tuple[Course, CourseModule]:
    course = _own(Course, course_id)
    module = db.session.get(CourseModule, module_id)
    if module is None or module.course_id != course.id:
        abort(404)
    return course, module


def _flash_errors(error: authoring.AuthoringError) -> None:
    for message in error.errors.values():
        flash(message, "error")


def _rejected(error: authoring.AuthoringError, subject) -> None:
    logger.info("Change to %r by %r rejected: %s", subject, current_user, error)
    db.session.rollback()
    _flash_errors(error)


def _copy_rejected(error: authoring.AuthoringError, subject) -> dict:
    """Roll back a rejected copy, flash its messages with their labels and return them."""
    logger.info("Copy of %r by %r rejected: %s", subject, current_user, error)
    db.session.rollback()
    errors = error.labelled(
        {"code": _("Code of the copy"), "course_suffix": _("Course code suffix")}
    )
    for message in errors.values():
        flash(message, "error")
    return errors


# Overview ---------------------------------------------------------------------


@bp.route("/programmes")
@roles_required(*AUTHOR_ROLES)
def index():
    institution_id = current_user.institution_id
    programmes = authoring.programmes_of(institution_id)
    return render_template(
        "courses/manage/index.html",
        programmes=programmes,
        managed_programme_ids={
            programme.id
            for programme in programmes
            if programme_authors.may_manage(current_user, programme)
        },
        managed_codes=teachers.managed_codes(current_user),
        superseded_ids=authoring.superseded_ids(institution_id),
        courses=authoring.courses_of(institution_id),
        lesson_counts=authoring.lesson_counts(institution_id),
    )


# Programmes -------------------------------------------------------------------


def _programme_form(
    programme,
    values: dict,
    errors: dict,
    status: int = 200,
    copy_values=None,
    copy_errors=None,
    author_values=None,
):
    courses = []
    enrolled = False
    if programme is not None:
        linked = {link.course.code for link in programme.courses}
        courses = [
            course
            for course in authoring.courses_of(programme.institution_id)
            if course.code not in linked
            and course.status is not PublicationStatus.ARCHIVED
        ]
        enrolled = authoring.has_enrolments(programme)
    return (
        render_template(
            "courses/manage/programme_form.html",
            programme=programme,
            values=values,
            errors=errors,
            tiers=list(TrainingTier),
            kinds=list(TrainingKind),
            levels=list(TargetLevel),
            posts=list(Post),
            addable_courses=courses,
            enrolled=enrolled,
            may_manage=programme is None
            or programme_authors.may_manage(current_user, programme),
            may_set_author=programme is not None
            and programme_authors.may_set_author(current_user, programme),
            may_view_learners=programme is not None
            and programme_authors.may_view_learners(current_user, programme),
            trainers=(
                teachers.trainer_choices(programme) if programme is not None else []
            ),
            author_values=author_values or {},
            pre_job_shortfall=(
                authoring.pre_job_shortfall(programme) if programme is not None else None
            ),
            copy_values=copy_values or {},
            copy_errors=copy_errors or {},
        ),
        status,
    )


def _programme_values(programme: Programme) -> dict:
    return {
        "code": programme.code,
        "title": programme.title,
        "summary": programme.summary,
        "audience": programme.audience,
        "tier": programme.tier.value,
        "kind": programme.kind.value,
        "level": programme.level.value,
        "certificate_validity_months": programme.certificate_validity_months or "",
        "audience_posts": list(programme.audience_posts or []),
        "min_elective_hours": programme.min_elective_hours,
    }


@bp.route("/programmes/new", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def new_programme():
    if request.method == "GET":
        return _programme_form(None, {}, {})
    data = _form_data()
    try:
        programme = authoring.save_programme(
            current_user.institution_id, data, current_user
        )
    except authoring.AuthoringError as error:
        db.session.rollback()
        return _programme_form(None, data, error.errors, 400)
    db.session.commit()
    flash(_("Programme %(code)s created as a draft.", code=programme.code), "success")
    return redirect(url_for("manage.edit_programme", programme_id=programme.id))


@bp.route("/programmes/<int:programme_id>", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def edit_programme(programme_id: int):
    programme = _own(Programme, programme_id)
    if request.method == "GET":
        return _programme_form(programme, _programme_values(programme), {})
    if not programme_authors.may_manage(current_user, programme):
        abort(403)
    data = _form_data()
    try:
        conflict = revisions.save(
            programme,
            lambda: authoring.save_programme(
                programme.institution_id, data, current_user, programme
            ),
            _programme_values,
        )
    except authoring.AuthoringError as error:
        db.session.rollback()
        programme = _own(Programme, programme_id)
        return _programme_form(programme, data, error.errors, 400)
    if conflict is not None:
        _show_conflict(conflict, data, _programme_values(programme), _programme_fields)
        return _programme_form(programme, data, {}, 409)
    flash(_("Programme saved."), "success")
    return redirect(url_for("manage.edit_programme", programme_id=programme.id))


@bp.route("/programmes/<int:programme_id>/courses", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def add_programme_course(programme_id: int):
    programme = _managed_programme(programme_id)
    target = url_for("manage.edit_programme", programme_id=programme.id)
    raw_id = request.form.get("course_id", "")
    course = (
        db.session.get(Course, int(raw_id))
        if raw_id.isdigit() and len(raw_id) < 19
        else None
    )
    if course is None or course.institution_id != programme.institution_id:
        flash(_("Choose a course to add."), "error")
        return redirect(target)
    required = request.form.get("required") == "1"
    try:
        class_authoring.check_programme_addition(programme, course, current_user)
        authoring.add_course(programme, course, required, current_user)
    except authoring.AuthoringError as error:
        _rejected(error, programme)
        return redirect(target)
    db.session.commit()
    flash(_("Course %(code)s added.", code=course.code), "success")
    return redirect(target)


@bp.route("/programmes/<int:programme_id>/courses/<int:link_id>/move", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def move_programme_course(programme_id: int, link_id: int):
    programme, link = _programme_link(programme_id, link_id)
    try:
        authoring.move(
            list(programme.courses),
            link,
            request.form.get("direction", ""),
            current_user,
        )
    except authoring.AuthoringError as error:
        _rejected(error, programme)
    else:
        db.session.commit()
    return redirect(url_for("manage.edit_programme", programme_id=programme_id))


@bp.route(
    "/programmes/<int:programme_id>/courses/<int:link_id>/required", methods=["POST"]
)
@roles_required(*AUTHOR_ROLES)
def set_programme_course_required(programme_id: int, link_id: int):
    programme, link = _programme_link(programme_id, link_id)
    target = url_for("manage.edit_programme", programme_id=programme_id)
    value = request.form.get("required")
    if value not in ("0", "1"):
        flash(_("Choose required or elective."), "error")
        return redirect(target)
    try:
        authoring.set_required(programme, link, value == "1", current_user)
    except authoring.AuthoringError as error:
        _rejected(error, programme)
        return redirect(target)
    db.session.commit()
    flash(_("Course list saved."), "success")
    return redirect(target)


@bp.route(
    "/programmes/<int:programme_id>/courses/<int:link_id>/prerequisites",
    methods=["POST"],
)
@roles_required(*AUTHOR_ROLES)
def set_programme_course_prerequisites(programme_id: int, link_id: int):
    programme, link = _programme_link(programme_id, link_id)
    target = url_for("manage.edit_programme", programme_id=programme_id)
    try:
        authoring.set_prerequisites(
            programme, link, request.form.getlist("prerequisite_ids"), current_user
        )
    except authoring.AuthoringError as error:
        _rejected(error, programme)
        return redirect(target)
    db.session.commit()
    flash(
        _("Prerequisites of “%(title)s” saved.", title=link.course.title), "success"
    )
    return redirect(target)


@bp.route(
    "/programmes/<int:programme_id>/courses/<int:link_id>/remove", methods=["POST"]
)
@roles_required(*AUTHOR_ROLES)
def remove_programme_course(programme_id: int, link_id: int):
    programme, link = _programme_link(programme_id, link_id)
    target = url_for("manage.edit_programme", programme_id=programme_id)
    code = link.course.code
    try:
        authoring.remove_course(programme, link, current_user)
    except authoring.AuthoringError as error:
        _rejected(error, programme)
        return redirect(target)
    db.session.commit()
    flash(_("Course %(code)s removed from the programme.", code=code), "success")
    return redirect(target)


def _transition(subject, change, message: str, target: str):
    try:
        change(subject, current_user)
    except authoring.AuthoringError as error:
        _rejected(error, subject)
        return redirect(target)
    db.session.commit()
    flash(message, "success")
    return redirect(target)


@bp.route("/programmes/<int:programme_id>/learners")
@roles_required(*AUTHOR_ROLES)
def programme_learners(programme_id: int):
    """Show the programme's learners with the courses and hours each has completed."""
    programme = _own(Programme, programme_id)
    if not programme_authors.may_view_learners(current_user, programme):
        abort(403)
    return render_template(
        "courses/manage/programme_learners.html",
        programme=programme,
        rows=programme_report.learner_rows(programme),
    )


@bp.route("/programmes/<int:programme_id>/learners.csv")
@roles_required(*AUTHOR_ROLES)
def export_programme_learners(programme_id: int):
    """Export the learners' progress as CSV with a byte order mark, so Excel reads the names."""
    programme = _own(Programme, programme_id)
    if not programme_authors.may_view_learners(current_user, programme):
        abort(403)
    zone = quiz_authoring.institution_zone(programme.institution_id)
    headers = [
        _("Person"),
        _("Username"),
        _("Employee number"),
        _("Department"),
        _("Enrolled"),
        _("Required courses completed"),
        _("Required courses"),
        _("Courses completed"),
        _("Hours completed"),
        _("Hours withdrawn"),
        _("Programme completed"),
    ]
    table = [
        [
            row.user.full_name,
            row.user.username,
            row.user.employee_no or "",
            row.user.department.name if row.user.department else "",
            row.enrolled_at.astimezone(zone).strftime("%Y-%m-%d"),
            row.required_done,
            row.required_total,
            row.courses_done,
            row.hours_done,
            row.hours_withdrawn,
            row.completed_at.astimezone(zone).strftime("%Y-%m-%d") if row.completed_at else "",
        ]
        for row in programme_report.learner_rows(programme)
    ]
    return exports.csv_response(f"programme-{programme.code}-learners.csv", headers, table)


@bp.route("/programmes/<int:programme_id>/publish", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def publish_programme(programme_id: int):
    programme = _managed_programme(programme_id)
    return _transition(
        programme,
        authoring.publish_programme,
        _("Programme published: learners can now enrol."),
        url_for("manage.edit_programme", programme_id=programme_id),
    )


@bp.route("/programmes/<int:programme_id>/archive", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def archive_programme(programme_id: int):
    programme = _managed_programme(programme_id)
    return _transition(
        programme,
        authoring.archive_programme,
        _("Programme archived: it is closed to new enrolments."),
        url_for("manage.edit_programme", programme_id=programme_id),
    )


@bp.route("/programmes/<int:programme_id>/copy", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def copy_programme(programme_id: int):
    programme = _own(Programme, programme_id)
    try:
        copy = versions.copy_programme(programme, request.form.to_dict(), current_user)
    except authoring.AuthoringError as error:
        errors = _copy_rejected(error, programme)
        programme = _own(Programme, programme_id)
        return _programme_form(
            programme,
            _programme_values(programme),
            {},
            400,
            copy_values=request.form.to_dict(),
            copy_errors=errors,
        )
    db.session.commit()
    flash(_("Programme copied as the draft %(code)s.", code=copy.code), "success")
    return redirect(url_for("manage.edit_programme", programme_id=copy.id))


@bp.route("/programmes/<int:programme_id>/author", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def set_programme_author(programme_id: int):
    """Let an administrator hand the programme to another trainer or administrator."""
    programme = _own(Programme, programme_id)
    if not programme_authors.may_set_author(current_user, programme):
        abort(403)
    values = {"author_username": request.form.get("author_username", "")}
    try:
        conflict = revisions.save(
            programme,
            lambda: programme_authors.set_author(programme, values, current_user),
            lambda row: {"author_id": row.author_id},
        )
    except authoring.AuthoringError as error:
        db.session.rollback()
        programme = _own(Programme, programme_id)
        return _programme_form(
            programme,
            _programme_values(programme),
            error.errors,
            400,
            author_values=values,
        )
    if conflict is not None:
        author = programme.author
        saved = {"author_username": author.username if author is not None else ""}
        revisions.show_conflict(
            conflict,
            revisions.value_differences(
                values, saved, {"author_username": _("Author")}
            ),
        )
        return _programme_form(
            programme, _programme_values(programme), {}, 409, author_values=values
        )
    flash(_("Author changed."), "success")
    return redirect(url_for("manage.edit_programme", programme_id=programme_id))


# Courses ----------------------------------------------------------------------


def _course_form(
    course,
    values: dict,
    errors: dict,
    status: int = 200,
    copy_values=None,
    copy_errors=None,
    module_titles=None,
):
    quizzes = []
    completions = {}
    may_manage = course is not None and teachers.may_manage(current_user, course)
    if course is not None:
        quizzes = assessment_services.quizzes_for_course(course)
        completions = authoring.lesson_completion_counts(course)
    return (
        render_template(
            "courses/manage/course_form.html",
            course=course,
            values=values,
            errors=errors,
            competency_groups=authoring.competency_choices(
                course.institution_id if course is not None else current_user.institution_id,
                values.get("competency_ids", []),
            ),
            selected_ids={str(each) for each in values.get("competency_ids", [])},
            quizzes=quizzes,
            completions=completions,
            versions=versions.versions_of(course) if course is not None else [],
            groups=_lesson_groups(course) if course is not None else [],
            editable=course is None
            or (course.status is PublicationStatus.DRAFT and may_manage),
            may_manage=may_manage,
            may_grade=course is not None and teaching.may_grade(current_user, course),
            may_draft_version=course is not None and may_manage,
            superseded=(
                course is not None
                and course.status is not PublicationStatus.PUBLISHED
                and authoring.next_version(course) is not None
            ),
            copy_values=copy_values or {},
            copy_errors=copy_errors or {},
            module_titles=module_titles or {},
        ),
        status,
    )


def _lesson_groups(course: Course) -> list:
    """Return each module (None for lessons outside modules) with its lessons."""
    groups = [(None, [each for each in course.lessons if each.module_id is None])]
    for module in course.modules:
        groups.append(
            (module, [each for each in course.lessons if each.module_id == module.id])
        )
    return groups


def _course_values(course: Course) -> dict:
    return {
        "code": course.code,
        "title": course.title,
        "summary": course.summary,
        "credit_hours": course.credit_hours,
        "competency_ids": [item.id for item in course.competencies],
    }


@bp.route("/courses/new", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def new_course():
    if request.method == "GET":
        return _course_form(None, {}, {})
    data = _form_data()
    try:
        course = authoring.save_course(current_user.institution_id, data, current_user)
    except authoring.AuthoringError as error:
        db.session.rollback()
        return _course_form(None, data, error.errors, 400)
    db.session.commit()
    flash(_("Course %(code)s created as a draft.", code=course.code), "success")
    return redirect(url_for("manage.edit_course", course_id=course.id))


@bp.route("/courses/<int:course_id>", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def edit_course(course_id: int):
    course = _own(Course, course_id)
    if request.method == "GET":
        return _course_form(course, _course_values(course), {})
    _require_manage(course)
    data = _form_data()
    try:
        conflict = revisions.save(
            course,
            lambda: authoring.save_course(
                course.institution_id, data, current_user, course
            ),
            _course_values,
        )
    except authoring.AuthoringError as error:
        db.session.rollback()
        return _course_form(_own(Course, course_id), data, error.errors, 400)
    if conflict is not None:
        _show_conflict(conflict, data, _course_values(course), _course_fields)
        return _course_form(course, data, {}, 409)
    flash(_("Course saved."), "success")
    return redirect(url_for("manage.edit_course", course_id=course_id))


@bp.route("/courses/<int:course_id>/publish", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def publish_course(course_id: int):
    course = _managed(course_id)
    return _transition(
        course,
        authoring.publish_course,
        _("Course published."),
        url_for("manage.edit_course", course_id=course_id),
    )


@bp.route("/courses/<int:course_id>/archive", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def archive_course(course_id: int):
    course = _managed(course_id)
    return _transition(
        course,
        authoring.archive_course,
        _("Course archived."),
        url_for("manage.edit_course", course_id=course_id),
    )


@bp.route("/courses/<int:course_id>/versions", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def new_course_version(course_id: int):
    course = _own(Course, course_id)
    # The author of a version teaches every version and adds its co-teachers,
    # so drafting one is kept to its authors and to administrators.
    if not teachers.may_manage(current_user, course):
        flash(
            _(
                "Only the authors of %(course)s and administrators can create a new"
                " version of it. Ask its author or an administrator to create it.",
                course=course.title,
            ),
            "error",
        )
        return redirect(url_for("manage.edit_course", course_id=course_id))
    try:
        draft = versions.new_version(course, current_user)
    except authoring.AuthoringError as error:
        _rejected(error, course)
        return redirect(url_for("manage.edit_course", course_id=course_id))
    db.session.commit()
    flash(
        _(
            "Version %(version)d is a draft: edit it, then publish it to replace"
            " version %(previous)d for new enrolments.",
            version=draft.version,
            previous=course.version,
        ),
        "success",
    )
    return redirect(url_for("manage.edit_course", course_id=draft.id))


@bp.route("/courses/<int:course_id>/copy", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def copy_course(course_id: int):
    course = _own(Course, course_id)
    try:
        copy = versions.copy_course(course, request.form.to_dict(), current_user)
    except authoring.AuthoringError as error:
        errors = _copy_rejected(error, course)
        course = _own(Course, course_id)
        return _course_form(
            course,
            _course_values(course),
            {},
            400,
            copy_values=request.form.to_dict(),
            copy_errors=errors,
        )
    db.session.commit()
    flash(_("Course copied as the draft %(code)s.", code=copy.code), "success")
    return redirect(url_for("manage.edit_course", course_id=copy.id))


# Lessons ----------------------------------------------------------------------


def _lesson_form(course: Course, lesson, values: dict, errors: dict, status: int = 200):
    return (
        render_template(
            "courses/manage/lesson_form.html",
            course=course,
            lesson=lesson,
            values=values,
            errors=errors,
            kinds=authoring.AUTHORED_LESSON_KINDS,
            video_types=lesson_files.VIDEO_TYPES,
            attachment_types=lesson_files.ATTACHMENT_TYPES,
            editable=course.status is PublicationStatus.DRAFT
            and teachers.may_manage(current_user, course),
        ),
        status,
    )


def _lesson_values(lesson: Lesson) -> dict:
    return {
        "title": lesson.title,
        "kind": lesson.kind.value,
        "duration_minutes": lesson.duration_minutes,
        "body_html": lesson.body_html,
        "video_url": lesson.video_url or "",
        "session_starts_at": authoring.session_start_input(lesson),
        "session_place": lesson.session_place or "",
        "module_id": lesson.module_id or "",
    }


@bp.route("/courses/<int:course_id>/lessons/new", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def new_lesson(course_id: int):
    course = _managed(course_id)
    if request.method == "GET":
        return _lesson_form(course, None, {"kind": "text", "duration_minutes": 45}, {})
    data = _form_data()
    image_errors = _add_images(course, data)
    try:
        authoring.save_lesson(
            course, data, current_user, upload=request.files.get("upload")
        )
        if image_errors:
            raise authoring.AuthoringError({})
    except authoring.AuthoringError as error:
        db.session.rollback()
        errors = {**error.errors, **image_errors}
        return _lesson_form(_own(Course, course_id), None, data, errors, 400)
    db.session.commit()
    flash(_("Lesson added."), "success")
    _report_removed_markup(data)
    return redirect(url_for("manage.edit_course", course_id=course_id))


@bp.route("/courses/<int:course_id>/lessons/<int:lesson_id>", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def edit_lesson(course_id: int, lesson_id: int):
    course, lesson = _lesson(course_id, lesson_id)
    if request.method == "GET":
        return _lesson_form(course, lesson, _lesson_values(lesson), {})
    _require_manage(course)
    data = _form_data()
    image_errors = _add_images(course, data)

    def apply() -> None:
        authoring.save_lesson(
            course, data, current_user, lesson, upload=request.files.get("upload")
        )
        if image_errors:
            # Raised before the commit, so nothing of the form is kept.
            raise authoring.AuthoringError({})

    try:
        conflict = revisions.save(lesson, apply, _lesson_values)
    except authoring.AuthoringError as error:
        db.session.rollback()
        course, lesson = _lesson(course_id, lesson_id)
        errors = {**error.errors, **image_errors}
        return _lesson_form(course, lesson, data, errors, 400)
    if conflict is not None:
        _show_conflict(conflict, data, _lesson_values(lesson), _lesson_fields)
        return _lesson_form(course, lesson, data, {}, 409)
    flash(_("Lesson saved."), "success")
    _report_removed_markup(data)
    return redirect(url_for("manage.edit_course", course_id=course_id))


def _add_images(course: Course, data: dict) -> dict:
    """Store the images chosen in the lesson form and add them to the end of its text.

    The text then carries the images, so a form shown again with an error
    keeps them and the trainer need not upload them again.
    """
    errors: dict[str, str] = {}
    tags = lesson_images.store_images(
        course.institution_id, request.files.getlist("images"), errors
    )
    if tags:
        data["body_html"] = "\n".join([(data.get("body_html") or "").rstrip(), *tags]).strip()
        flash(
            _(
                "The images were added at the end of the lesson text. Move each"
                " <img> tag to where the image belongs."
            ),
            "info",
        )
    return errors


def _report_removed_markup(data: dict) -> None:
    removed, attributes = authoring.removed_markup(data.get("body_html") or "")
    if removed:
        flash(
            _(
                "The lesson text was saved without these tags, which lessons do not"
                " keep: %(tags)s. The text inside them stays, except in scripts and"
                " styles. To show an image, upload it under “Images for the text”.",
                tags=join_names(f"<{name}>" for name in removed),
            ),
            "warning",
        )
    if attributes:
        flash(
            _(
                "These attributes were removed from the lesson text, which keeps"
                " no styles or scripts: %(attributes)s.",
                attributes=join_names(attributes),
            ),
            "warning",
        )


@bp.route("/courses/<int:course_id>/lessons/<int:lesson_id>/move", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def move_lesson(course_id: int, lesson_id: int):
    course, lesson = _lesson(course_id, lesson_id)
    _require_manage(course)
    try:
        sections.move_lesson(
            course, lesson, request.form.get("direction", ""), current_user
        )
    except authoring.AuthoringError as error:
        _rejected(error, course)
    else:
        db.session.commit()
    return redirect(url_for("manage.edit_course", course_id=course_id))


@bp.route(
    "/courses/<int:course_id>/lessons/<int:lesson_id>/delete", methods=["GET", "POST"]
)
@roles_required(*AUTHOR_ROLES)
def delete_lesson(course_id: int, lesson_id: int):
    """Confirm and delete a lesson, or explain why it cannot be deleted."""
    course, lesson = _lesson(course_id, lesson_id)
    _require_manage(course)
    if request.method == "GET":
        return render_template(
            "courses/manage/lesson_delete.html",
            course=course,
            lesson=lesson,
            problem=authoring.lesson_delete_problem(course, lesson),
        )
    target = url_for("manage.edit_course", course_id=course_id)
    try:
        authoring.delete_lesson(course, lesson, current_user)
    except authoring.AuthoringError as error:
        _rejected(error, course)
        return redirect(target)
    db.session.commit()
    flash(_("Lesson deleted."), "success")
    return redirect(target)


# Modules ----------------------------------------------------------------------


@bp.route("/courses/<int:course_id>/modules", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def new_module(course_id: int):
    course = _managed(course_id)
    target = url_for("manage.edit_course", course_id=course_id)
    try:
        module = sections.save_module(course, request.form.to_dict(), current_user)
    except authoring.AuthoringError as error:
        _rejected(error, course)
        return redirect(target)
    db.session.commit()
    flash(_("Module %(title)s added.", title=module.title), "success")
    return redirect(target)


@bp.route("/courses/<int:course_id>/modules/<int:module_id>", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def rename_module(course_id: int, module_id: int):
    course, module = _module(course_id, module_id)
    _require_manage(course)
    target = url_for("manage.edit_course", course_id=course_id)
    data = request.form.to_dict()
    try:
        conflict = revisions.save(
            module,
            lambda: sections.save_module(course, data, current_user, module),
        )
    except authoring.AuthoringError as error:
        _rejected(error, course)
        return redirect(target)
    if conflict is not None:
        _show_conflict(
            conflict, data, {"title": module.title}, {"title": _("Module title")}
        )
        return _course_form(
            course,
            _course_values(course),
            {},
            409,
            module_titles={module.id: data.get("title", "")},
        )
    flash(_("Module renamed."), "success")
    return redirect(target)


@bp.route("/courses/<int:course_id>/modules/<int:module_id>/move", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def move_module(course_id: int, module_id: int):
    course, module = _module(course_id, module_id)
    _require_manage(course)
    try:
        sections.move_module(
            course, module, request.form.get("direction", ""), current_user
        )
    except authoring.AuthoringError as error:
        _rejected(error, course)
    else:
        db.session.commit()
    return redirect(url_for("manage.edit_course", course_id=course_id))


@bp.route(
    "/courses/<int:course_id>/modules/<int:module_id>/delete", methods=["GET", "POST"]
)
@roles_required(*AUTHOR_ROLES)
def delete_module(course_id: int, module_id: int):
    """Confirm and delete a module; its lessons stay in the course."""
    course, module = _module(course_id, module_id)
    _require_manage(course)
    if request.method == "GET":
        lessons = [each for each in course.lessons if each.module_id == module.id]
        return render_template(
            "courses/manage/module_delete.html",
            course=course,
            module=module,
            lessons=lessons,
        )
    target = url_for("manage.edit_course", course_id=course_id)
    try:
        sections.delete_module(course, module, current_user)
    except authoring.AuthoringError as error:
        _rejected(error, course)
        return redirect(target)
    db.session.commit()
    flash(_("Module deleted; its lessons stay in the course."), "success")
    return redirect(target)


# Quizzes ----------------------------------------------------------------------


def _quiz_form(
    course: Course, quiz, values: dict, errors: dict, status: int = 200, **extra
):
    answered = {}
    if quiz is not None:
        answered = {
            question.id: quiz_authoring.answer_count(question)
            for question in quiz.questions
        }
    return (
        render_template(
            "courses/manage/quiz_form.html",
            course=course,
            quiz=quiz,
            values=values,
            errors=errors,
            answered=answered,
            locked=quiz_authoring.is_locked(course),
            reads_results=teaching.may_grade(current_user, course),
            may_manage=teachers.may_manage(current_user, course),
            draw_values=extra.get("draw_values", {}),
            draw_errors=extra.get("draw_errors", {}),
            **quiz_authoring.quiz_form_context(current_user.institution_id),
        ),
        status,
    )


def quiz_page_with_draw(quiz: Quiz, draw_values: dict, draw_errors: dict):
    """Render a quiz's page with the "Add draw" form refilled and its errors, as 400."""
    return _quiz_form(
        quiz.course,
        quiz,
        _quiz_values(quiz),
        {},
        400,
        draw_values=draw_values,
        draw_errors=draw_errors,
    )


def _quiz_values(quiz: Quiz) -> dict:
    return quiz_authoring.quiz_form_values(quiz)


@bp.route("/courses/<int:course_id>/quizzes/new", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def new_quiz(course_id: int):
    course = _managed(course_id)
    if request.method == "GET":
        return _quiz_form(course, None, quiz_authoring.new_quiz_values(), {})
    data = _form_data()
    try:
        quiz = quiz_authoring.save_quiz(course, data, current_user)
    except authoring.AuthoringError as error:
        db.session.rollback()
        return _quiz_form(_own(Course, course_id), None, data, error.errors, 400)
    db.session.commit()
    flash(_("Quiz created. Add its questions next."), "success")
    return redirect(url_for("manage.edit_quiz", quiz_id=quiz.id))


@bp.route("/quizzes/<int:quiz_id>", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def edit_quiz(quiz_id: int):
    quiz = _quiz(quiz_id)
    if request.method == "GET":
        return _quiz_form(quiz.course, quiz, _quiz_values(quiz), {})
    _require_manage(quiz.course)
    data = _form_data()
    try:
        conflict = revisions.save(
            quiz,
            lambda: quiz_authoring.save_quiz(quiz.course, data, current_user, quiz),
            _quiz_values,
        )
    except authoring.AuthoringError as error:
        db.session.rollback()
        quiz = _quiz(quiz_id)
        return _quiz_form(quiz.course, quiz, data, error.errors, 400)
    if conflict is not None:
        _show_conflict(conflict, data, _quiz_values(quiz), _quiz_fields)
        return _quiz_form(quiz.course, quiz, data, {}, 409)
    flash(_("Quiz saved."), "success")
    return redirect(url_for("manage.edit_quiz", quiz_id=quiz_id))


@bp.route("/quizzes/<int:quiz_id>/delete", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def delete_quiz(quiz_id: int):
    """Confirm and delete a quiz without attempts, or explain why it cannot be deleted."""
    quiz = _quiz(quiz_id)
    _require_manage(quiz.course)
    if request.method == "GET":
        problem = quiz_authoring.delete_problem(quiz)
        return render_template("courses/manage/quiz_delete.html", quiz=quiz, problem=problem)
    course_id = quiz.course_id
    try:
        quiz_authoring.delete_quiz(quiz, current_user)
    except authoring.AuthoringError as error:
        _rejected(error, quiz)
        return redirect(url_for("manage.edit_quiz", quiz_id=quiz_id))
    db.session.commit()
    flash(_("Quiz deleted."), "success")
    return redirect(url_for("manage.edit_course", course_id=course_id))


def _question_form(quiz: Quiz, question, values: dict, errors: dict, status: int = 200):
    answered = quiz_authoring.answer_count(question) if question is not None else 0
    return (
        render_template(
            "courses/manage/question_form.html",
            quiz=quiz,
            question=question,
            values=values,
            errors=errors,
            answered=answered,
            locked=quiz_authoring.is_locked(quiz),
            may_manage=teachers.may_manage(current_user, quiz.course),
            **quiz_authoring.question_form_context(),
        ),
        status,
    )


def _question_values(question: Question) -> dict:
    return question_forms.form_values(question)


@bp.route("/quizzes/<int:quiz_id>/questions/new", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def new_question(quiz_id: int):
    quiz = _quiz(quiz_id)
    _require_manage(quiz.course)
    if request.method == "GET":
        return _question_form(quiz, None, {"kind": "single", "points": 1}, {})
    data = _form_data()
    try:
        quiz_authoring.save_question(quiz, data, current_user)
    except authoring.AuthoringError as error:
        db.session.rollback()
        return _question_form(_quiz(quiz_id), None, data, error.errors, 400)
    db.session.commit()
    flash(_("Question added."), "success")
    return redirect(url_for("manage.edit_quiz", quiz_id=quiz_id))


@bp.route("/quizzes/<int:quiz_id>/questions/<int:question_id>", methods=["GET", "POST"])
@roles_required(*AUTHOR_ROLES)
def edit_question(quiz_id: int, question_id: int):
    quiz, question = _question(quiz_id, question_id)
    if request.method == "GET":
        return _question_form(quiz, question, _question_values(question), {})
    _require_manage(quiz.course)
    data = _form_data()
    try:
        conflict = revisions.save(
            question,
            lambda: quiz_authoring.save_question(quiz, data, current_user, question),
            _question_values,
        )
    except authoring.AuthoringError as error:
        db.session.rollback()
        quiz, question = _question(quiz_id, question_id)
        return _question_form(quiz, question, data, error.errors, 400)
    if conflict is not None:
        _show_conflict(conflict, data, _question_values(question), question_forms.field_labels)
        return _question_form(quiz, question, data, {}, 409)
    flash(_("Question saved."), "success")
    return redirect(url_for("manage.edit_quiz", quiz_id=quiz_id))


@bp.route("/quizzes/<int:quiz_id>/questions/<int:question_id>/move", methods=["POST"])
@roles_required(*AUTHOR_ROLES)
def move_question(quiz_id: int, question_id: int):
    quiz, question = _question(quiz_id, question_id)
    _require_manage(quiz.course)
    try:
        quiz_authoring.move_question(
            quiz, question, request.form.get("direction", ""), current_user
        )
    except authoring.AuthoringError as error:
        _rejected(error, quiz)
    else:
        db.session.commit()
    return redirect(url_for("manage.edit_quiz", quiz_id=quiz_id))


@bp.route(
    "/quizzes/<int:quiz_id>/questions/<int:question_id>/delete", methods=["GET", "POST"]
)
@roles_required(*AUTHOR_ROLES)
def delete_question(quiz_id: int, question_id: int):
    """Confirm and delete a question of a draft quiz, or explain why it cannot be deleted."""
    quiz, question = _question(quiz_id, question_id)
    _require_manage(quiz.course)
    if request.method == "GET":
        try:
            quiz_authoring.require_draft_quiz(quiz)
            quiz_authoring.reject_if_answered(question, _("delete"))
            problem = None
        except authoring.AuthoringError as error:
            problem = next(iter(error.errors.values()))
        return render_template(
            "courses/manage/quiz_question_delete.html",
            quiz=quiz,
            question=question,
            problem=problem,
        )
    target = url_for("manage.edit_quiz", quiz_id=quiz_id)
    try:
        quiz_authoring.delete_question(quiz, question, current_user)
    except authoring.AuthoringError as error:
        _rejected(error, quiz)
        return redirect(target)
    db.session.commit()
    flash(_("Question deleted."), "success")
    return redirect(target)


# The gradebook routes register on ``bp``; importing them here registers them
# when the app factory imports this module.
from courses import gradebook_views  # noqa: E402,F401
