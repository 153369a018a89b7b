"""Learner pages: my learning, catalogue, programmes, course outlines, lessons."""

import math
from datetime import timedelta
from typing import Optional

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from assessments import services as assessment_services
from courses import (
    class_attendance,
    classes,
    eligibility,
    learning,
    lesson_files,
    lesson_images,
    lesson_time,
    logger,
    services,
)
from courses.class_views import class_error_message, member_status_message
from courses.eligibility import Refusal
from courses.models import Course, Lesson, LessonKind, Programme, PublicationStatus
from lms import uploads
from lms.accounts.access import LEARNER_ROLES, roles_required
from lms.i18n import join_names
from lms.labels import label
from lms.compliance.windows import local_today
from lms.extensions import db
from lms.records import services as record_services

bp = Blueprint("courses", __name__)


# Access rules -------------------------------------------------------------


def _load_programme(programme_id: int) -> Programme:
    """Load a programme the current user may see, or abort with 404.

    Everyone sees only their own institution's programmes. A learner sees
    published ones, plus any programme they are enrolled in even after it is
    archived, so enrolled learners keep access to their courses.
    """
    programme = db.session.get(Programme, programme_id)
    if programme is None or programme.institution_id != current_user.institution_id:
        abort(404)
    if (
        current_user.role.is_learner
        and programme.status is not PublicationStatus.PUBLISHED
    ):
        if services.find_enrolment(current_user, programme) is None:
            abort(404)
    return programme


def load_course_or_404(course_id: int) -> Course:
    course = db.session.get(Course, course_id)
    if course is None or not services.can_view_course(current_user, course):
        abort(404)
    return course


def _load_lesson(course_id: int, lesson_id: int) -> tuple[Course, Lesson]:
    course = load_course_or_404(course_id)
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or lesson.course_id != course.id:
        abort(404)
    return course, lesson


# Presentation helpers -----------------------------------------------------


def describe_missing(codes: list[str]) -> list[str]:
    """Turn the codes of ``services.missing_requirements`` into sentences.

    Codes have the form ``"lessons:2"`` or ``"quizzes:1"``. A code of
    another form is a message from a completion check and is shown as it is.
    """
    messages = []
    for code in codes:
        name, _sep, raw_count = code.partition(":")
        try:
            count = int(raw_count)
        except ValueError:
            messages.append(code)
            continue
        # Each item completes the heading "Still to do for completion", so it
        # is a bare task ("Finish 2 lessons") without a "still" of its own.
        if name == "lessons":
            messages.append(
                ngettext("Finish %(num)d lesson", "Finish %(num)d lessons", count)
            )
        elif name == "quizzes":
            messages.append(
                ngettext("Pass %(num)d quiz", "Pass %(num)d quizzes", count)
            )
        else:
            messages.append(code)
    return messages


def _neighbours(
    course: Course, lesson: Lesson
) -> tuple[Optional[Lesson], Optional[Lesson]]:
    lessons = course.lessons
    index = next(i for i, each in enumerate(lessons) if each.id == lesson.id)
    previous = lessons[index - 1] if index > 0 else None
    following = lessons[index + 1] if index + 1 < len(lessons) else None
    return previous, following


def _quiz_rows(course: Course) -> list[dict]:
    """Return each quiz of the course with the current learner's standing."""
    rows = []
    for quiz in assessment_services.quizzes_for_course(course):
        row = {"quiz": quiz, "passed": False, "attempts_used": 0, "open": None}
        if current_user.role.is_learner:
            attempts = assessment_services.attempts_for(current_user, quiz)
            row["passed"] = assessment_services.has_passed(current_user, quiz, attempts)
            row["attempts_used"] = len(attempts)
            row["open"] = next(
                (each for each in attempts if each.submitted_at is None), None
            )
        rows.append(row)
    return rows


# Learner dashboard and catalogue -----------------------------------------


@bp.route("/learning")
@roles_required(*LEARNER_ROLES)
def my_learning():
    # The services read the user hundreds of times; the proxy would resolve
    # it on every read.
    learner = current_user._get_current_object()
    rows = []
    enrolments = services.enrolments_of(learner)
    services.prefetch_learner_state(learner, enrolments)
    for enrolment in enrolments:
        programme = enrolment.programme
        rows.append(
            {
                "enrolment": enrolment,
                "programme": programme,
                "progress": services.programme_progress(learner, programme, enrolment),
                "resume": services.resume_point(learner, programme, enrolment),
            }
        )
    year = record_services.current_year(learner)
    memberships = classes.memberships_of(learner)
    today = local_today(learner.institution)
    level = learning.person_level(learner, today)
    required = learning.required_programmes(learner, level)
    return render_template(
        "courses/my_learning.html",
        rows=rows,
        verdicts=record_services.compliance_verdicts(learner),
        required=required,
        self_enrolable={
            programme.id
            for programme in required
            if eligibility.self_enrolment(learner, programme, today).allowed
        },
        level=level,
        memberships=memberships,
        next_deadline=learning.next_deadline(memberships, today),
        year=year,
        hours=record_services.yearly_summary(learner, year),
    )


@bp.route("/programmes")
@login_required
def catalogue():
    programmes = services.published_programmes(current_user.institution_id)
    enrolled_ids = set()
    if current_user.role.is_learner:
        enrolled_ids = {e.programme_id for e in services.enrolments_of(current_user)}
    return render_template(
        "courses/catalogue.html", programmes=programmes, enrolled_ids=enrolled_ids
    )


@bp.route("/programmes/<int:programme_id>")
@login_required
def programme(programme_id: int):
    programme = _load_programme(programme_id)
    enrolment = None
    progress = None
    resume = None
    if current_user.role.is_learner:
        enrolment = services.find_enrolment(current_user, programme)
        if enrolment is not None:
            progress = services.programme_progress(current_user, programme, enrolment)
            resume = services.resume_point(current_user, programme, enrolment)
    offer = None
    if (
        current_user.role.is_learner
        and enrolment is None
        and programme.status is PublicationStatus.PUBLISHED
    ):
        offer = eligibility.self_enrolment(
            current_user, programme, local_today(current_user.institution)
        )
    if enrolment is not None:
        courses = services.enrolment_courses(enrolment)
    else:
        courses = services.learner_courses(current_user, programme)
    locked = {}
    if enrolment is not None:
        locked = services.locked_courses(current_user, [course for _l, course in courses])
    rows = [
        {"link": link, "course": course, "locked": locked.get(course.id, [])}
        for link, course in courses
    ]
    return render_template(
        "courses/programme.html",
        programme=programme,
        enrolment=enrolment,
        progress=progress,
        offer=offer,
        refusal=refusal_message(offer, programme) if offer else None,
        rows=rows,
        resume=resume,
    )


def refusal_message(offer: eligibility.SelfEnrolment, programme: Programme) -> Optional[str]:
    """Explain to the current learner why they cannot enrol themselves, or None."""
    title = programme.title
    refusal = offer.refusal
    if refusal is Refusal.POST_MISSING:
        return _(
            "%(title)s is meant for %(audience)s, and your post is not recorded, so "
            "you cannot enrol yourself. Ask HR to record your post.",
            title=title,
            audience=_audience_text(programme),
        )
    if refusal is Refusal.AUDIENCE:
        return _(
            "%(title)s is meant for %(audience)s, and your post is %(post)s, so you "
            "cannot enrol yourself. Ask HR if your post is recorded wrongly.",
            title=title,
            audience=_audience_text(programme),
            post=label(current_user.post),
        )
    if refusal is Refusal.LEVEL:
        return _(
            "%(title)s is for counselors at %(programme_level)s level, and your years "
            "of service put you at %(level)s level, so you cannot enrol yourself.",
            title=title,
            programme_level=label(programme.level),
            level=label(offer.level),
        )
    if refusal is Refusal.NOMINATION:
        return _(
            "%(title)s is a %(tier)s programme. Places in provincial and national "
            "programmes are given by nomination: a trainer adds the people nominated "
            "to a class of the programme, so you cannot enrol yourself.",
            title=title,
            tier=label(programme.tier),
        )
    if refusal is Refusal.NO_OPEN_CLASS:
        return _(
            "%(title)s is taught through training classes, and none of them takes "
            "enrolment requests now. The trainers of a class add people to it or "
            "open it for enrolment.",
            title=title,
        )
    if refusal is Refusal.CHOOSE_CLASS:
        return _(
            "%(title)s is taught through several training classes. Join one of the "
            "classes listed on this page.",
            title=title,
        )
    return None


def _audience_text(programme: Programme) -> str:
    posts = _(", ").join(label(post, "post") for post in programme.audience_posts)
    return posts or programme.audience


@bp.route("/programmes/<int:programme_id>/enrol", methods=["POST"])
@roles_required(*LEARNER_ROLES)
def enrol(programme_id: int):
    programme = _load_programme(programme_id)
    target = url_for("courses.programme", programme_id=programme.id)
    if services.find_enrolment(current_user, programme) is not None:
        flash(_("You are already enrolled in this programme."), "info")
        return redirect(target)
    if programme.status is not PublicationStatus.PUBLISHED:
        flash(_("This programme is not open for enrolment."), "error")
        return redirect(target)
    offer = eligibility.self_enrolment(
        current_user, programme, local_today(current_user.institution)
    )
    if not offer.allowed:
        logger.info(
            "Enrolment of %r in %r rejected: %s",
            current_user, programme, offer.refusal.value,
        )
        flash(refusal_message(offer, programme), "error")
        return redirect(target)
    if offer.via_class is not None:
        return _enrol_through_class(programme, offer.via_class, target)
    try:
        services.enrol(current_user, programme)
    except services.EnrolmentError as error:
        logger.info(
            "Enrolment of %r in %r rejected: %s", current_user, programme, error
        )
        flash(_("This programme is not open for enrolment."), "error")
        return redirect(target)
    db.session.commit()
    flash(_("You are enrolled in %(title)s.", title=programme.title), "success")
    return redirect(target)


def _enrol_through_class(programme: Programme, training_class, target: str):
    """Ask for a place in the one open class of the programme, as its mode allows."""
    try:
        member = classes.request_place(training_class, current_user)
    except classes.ClassError as error:
        db.session.rollback()
        flash(class_error_message(error, training_class), "error")
        return redirect(target)
    db.session.commit()
    flash(
        _(
            "%(title)s is taught through the class %(class_title)s. %(status)s",
            title=programme.title,
            class_title=training_class.title,
            status=member_status_message(member),
        ),
        "success",
    )
    return redirect(target)


# Course outline and lessons -----------------------------------------------


@bp.route("/courses/<int:course_id>")
@login_required
def course(course_id: int):
    course = load_course_or_404(course_id)
    progress = None
    missing: list[str] = []
    completed_enrolments = []
    locked_by: list[Course] = []
    resume = None
    quizzes = _quiz_rows(course)
    next_quiz = None
    if current_user.role.is_learner:
        progress = services.course_progress(current_user, course)
        completed_enrolments = services.completed_enrolments_for_course(
            current_user, course
        )
        locked_by = services.missing_prerequisites(current_user, course)
        if not locked_by:
            resume = services.continue_lesson(current_user, course)
            if progress["completion"] is None:
                missing = describe_missing(
                    services.missing_requirements(current_user, course)
                )
                if resume is None:
                    next_quiz = next(
                        (row["quiz"] for row in quizzes if not row["passed"]), None
                    )
    return render_template(
        "courses/course.html",
        course=course,
        groups=services.grouped_lessons(course),
        progress=progress,
        missing=missing,
        quizzes=quizzes,
        completed_enrolments=completed_enrolments,
        locked_by=locked_by,
        resume=resume,
        next_quiz=next_quiz,
    )


def _refuse_if_locked(course: Course):
    """Return a redirect to the course page while prerequisites are incomplete."""
    locked_by = services.missing_prerequisites(current_user, course)
    if not locked_by:
        return None
    logger.info(
        "Lesson of %r rejected for %r: prerequisites %r missing",
        course,
        current_user,
        locked_by,
    )
    flash(
        _(
            "Complete %(titles)s before starting this course.",
            titles=join_names(each.title for each in locked_by),
        ),
        "error",
    )
    return redirect(url_for("courses.course", course_id=course.id))


@bp.route("/courses/<int:course_id>/lessons/<int:lesson_id>")
@login_required
def lesson(course_id: int, lesson_id: int):
    course = load_course_or_404(course_id)
    # The page lists the course's lessons anyway, so take this one from them.
    lesson = next((each for each in course.lessons if each.id == lesson_id), None)
    if lesson is None:
        abort(404)
    refusal = _refuse_if_locked(course)
    if refusal is not None:
        return refusal
    previous, following = _neighbours(course, lesson)
    done = False
    position_permille = 0
    visit = None
    delivery = None
    seen = None
    wait_minutes = 0
    if current_user.role.is_learner:
        done = lesson.id in services.completed_lesson_ids(current_user, course)
        visit = services.find_visit(current_user, course)
        if visit is not None and visit.lesson_id == lesson.id:
            position_permille = visit.position_permille
        if lesson.kind is LessonKind.OFFLINE and not done:
            delivery = class_attendance.lesson_delivery(current_user, lesson)
        seen = lesson_time.first_viewed_at(current_user, lesson)
        if not done and lesson.kind is not LessonKind.OFFLINE:
            wait_minutes = _minutes_up(lesson_time.remaining_time(lesson, seen))
    page = render_template(
        "courses/lesson.html",
        course=course,
        lesson=lesson,
        previous=previous,
        following=following,
        done=done,
        position_permille=position_permille,
        delivery=delivery,
        wait_minutes=wait_minutes,
    )
    # The visits are written after rendering: a commit expires every loaded
    # object, and the page would load them all again.
    if current_user.role.is_learner:
        first_view = lesson_time.record_first_view(current_user, lesson, seen)
        moved = services.record_visit(current_user, lesson, visit=visit)
        if first_view or moved:
            db.session.commit()
    return page


def _minutes_up(span: timedelta) -> int:
    """Return ``span`` in whole minutes, rounded up."""
    return math.ceil(span.total_seconds() / 60)


@bp.route("/courses/<int:course_id>/lessons/<int:lesson_id>/file")
@login_required
def lesson_file(course_id: int, lesson_id: int):
    course, lesson = _load_lesson(course_id, lesson_id)
    if not lesson.file_name or lesson.kind not in (LessonKind.VIDEO, LessonKind.FILE):
        abort(404)
    if services.missing_prerequisites(current_user, course):
        logger.info(
            "File of lesson %s rejected for %r: prerequisites missing",
            lesson.id,
            current_user,
        )
        abort(403)
    return lesson_files.send(lesson)


@bp.route("/lesson-images/<int:institution_id>/<name>")
@login_required
def lesson_image(institution_id: int, name: str):
    """Serve an image of lesson text to a signed-in user of its institution."""
    if current_user.institution_id != institution_id:
        abort(404)
    if not lesson_images.is_image_source(f"/lesson-images/{institution_id}/{name}"):
        abort(404)
    return uploads.send(lesson_images.area(institution_id), name, name, inline=True)


@bp.route("/courses/<int:course_id>/lessons/<int:lesson_id>/position", methods=["POST"])
@roles_required(*LEARNER_ROLES)
def save_position(course_id: int, lesson_id: int):
    """Store how far the learner has read or watched the lesson.

    The JSON body is ``{"position": N}``, N in thousandths (0-1000) of the
    page height for a text lesson or of the running time for a video.
    """
    course, lesson = _load_lesson(course_id, lesson_id)
    if services.missing_prerequisites(current_user, course):
        abort(403)
    payload = request.get_json(silent=True)
    position = payload.get("position") if isinstance(payload, dict) else None
    valid = isinstance(position, int) and not isinstance(position, bool)
    if not valid or not 0 <= position <= 1000:
        logger.info("Invalid position %r for lesson %s", position, lesson.id)
        return (
            jsonify(error=_("The reading position must be a whole number from 0 to 1000.")),
            400,
        )
    if services.record_visit(current_user, lesson, position):
        db.session.commit()
    return jsonify(saved=True)


@bp.route("/courses/<int:course_id>/lessons/<int:lesson_id>/complete", methods=["POST"])
@roles_required(*LEARNER_ROLES)
def complete_lesson(course_id: int, lesson_id: int):
    course, lesson = _load_lesson(course_id, lesson_id)
    if lesson.kind is LessonKind.OFFLINE:
        logger.info(
            "Completion of offline lesson %s rejected for %r", lesson.id, current_user
        )
        flash(
            _(
                "An offline lesson is completed when a trainer records your "
                "attendance at its session, so it cannot be marked as complete here."
            ),
            "error",
        )
        return redirect(url_for("courses.lesson", course_id=course.id, lesson_id=lesson.id))
    refusal = _refuse_if_locked(course)
    if refusal is not None:
        return refusal
    was_complete = services.find_completion(current_user, course) is not None
    try:
        services.complete_lesson(current_user, lesson)
    except (lesson_time.LessonNotOpened, lesson_time.LessonTooEarly) as error:
        db.session.rollback()
        logger.info("Completion of lesson %s rejected for %r: %s", lesson.id, current_user, error)
        flash(_too_early_message(error), "error")
        return redirect(url_for("courses.lesson", course_id=course.id, lesson_id=lesson.id))
    db.session.commit()

    if not was_complete and services.find_completion(current_user, course) is not None:
        flash(_("You completed the course %(title)s.", title=course.title), "success")
        return redirect(url_for("courses.course", course_id=course.id))
    flash(_("Lesson marked as complete."), "success")
    _previous, following = _neighbours(course, lesson)
    if following is not None:
        return redirect(
            url_for("courses.lesson", course_id=course.id, lesson_id=following.id)
        )
    return redirect(url_for("courses.course", course_id=course.id))


def _too_early_message(error: Exception) -> str:
    """Explain why a lesson cannot be marked complete yet, and for how long."""
    if isinstance(error, lesson_time.LessonNotOpened):
        return _("Open the lesson and study it before marking it as complete.")
    return ngettext(
        "This lesson is planned for %(duration)s minutes. You can mark it as complete "
        "%(minimum)s minutes after you first opened it, so in %(num)d more minute.",
        "This lesson is planned for %(duration)s minutes. You can mark it as complete "
        "%(minimum)s minutes after you first opened it, so in %(num)d more minutes.",
        error.remaining_minutes,
        duration=error.lesson.duration_minutes,
        minimum=_minutes_up(error.minimum),
    )
