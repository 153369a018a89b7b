"""Course versions and copies of courses and programmes.

A published course is never edited. ``new_version`` makes a draft copy
with the same code and the next version number. Publishing that draft
(``authoring.publish_course``) calls ``replace_previous_version``. It pins
every enrolment to the version it has, moves the programmes to the new
version and archives the old one. Copies start new courses or programmes
with a new code and carry no learner data.
"""

import sqlalchemy as sa
from flask_babel import gettext as _

from courses import lesson_files, logger
from courses.authoring import (
    AuthoringError,
    _code,
    _course_code_taken,
    _flush_new_code,
    _programme_code_taken,
    _set_status,
    next_version,
    record_created,
    record_programme_created,
    reject,
)
from courses.models import (
    Course,
    CourseModule,
    Enrolment,
    Lesson,
    Programme,
    ProgrammeCourse,
    PublicationStatus,
)
from lms import audit
from lms.accounts.models import User
from lms.extensions import db
from lms.i18n import join_names


def _copy_content(source: Course, target: Course) -> None:
    """Copy modules, lessons, competencies and quizzes of ``source`` onto ``target``."""
    from assessments.authoring import copy_quizzes

    target.competencies = list(source.competencies)
    modules = {}
    for module in source.modules:
        modules[module.id] = CourseModule(position=module.position, title=module.title)
        target.modules.append(modules[module.id])
    for lesson in source.lessons:
        copy = Lesson(
            position=lesson.position,
            title=lesson.title,
            kind=lesson.kind,
            body_html=lesson.body_html,
            duration_minutes=lesson.duration_minutes,
            video_url=lesson.video_url,
            session_starts_at=lesson.session_starts_at,
            session_place=lesson.session_place,
            module=modules.get(lesson.module_id),
        )
        lesson_files.copy_file_fields(lesson, copy)
        target.lessons.append(copy)
    db.session.flush()
    copy_quizzes(source, target)


def new_version(course: Course, actor: User) -> Course:
    """Return the draft of the course's next version, creating it if needed."""
    if course.status is not PublicationStatus.PUBLISHED:
        raise reject(
            _("Only a published course gets a new version. Edit this draft instead.")
        )
    existing = next_version(course)
    if existing is not None:
        return existing
    draft = Course(
        institution_id=course.institution_id,
        code=course.code,
        title=course.title,
        summary=course.summary,
        credit_hours=course.credit_hours,
        status=PublicationStatus.DRAFT,
        version=course.version + 1,
        previous_version_id=course.id,
        author_id=actor.id,
    )
    db.session.add(draft)
    db.session.flush()
    _copy_content(course, draft)
    logger.info("Course %r version %d drafted by %r", course, draft.version, actor)
    record_created(draft, actor)
    return draft


def replace_previous_version(course: Course, actor: User) -> None:
    """Make the just-published ``course`` the current version in every programme.

    Enrolments without a pin for a programme course keep the old version
    through a new pin, so learners finish the content they started.
    """
    from courses.services import pin_course_versions

    previous = course.previous_version
    links = db.session.scalars(
        sa.select(ProgrammeCourse).where(ProgrammeCourse.course_id == previous.id)
    ).all()
    for link in links:
        for enrolment in db.session.scalars(
            sa.select(Enrolment).where(Enrolment.programme_id == link.programme_id)
        ):
            pin_course_versions(enrolment)
        link.course_id = course.id
    db.session.flush()
    for link in links:
        db.session.expire(link, ["course"])
    if previous.status is PublicationStatus.PUBLISHED:
        _set_status(previous, "course", PublicationStatus.ARCHIVED, actor)
    audit.record(
        "course.version_published",
        "course",
        course.id,
        f"{course.code} {course.title} v{course.version}",
        actor_id=actor.id,
        institution_id=course.institution_id,
        data={"previous_id": previous.id, "programme_links": len(links)},
    )
    logger.info(
        "Course %r version %d replaced %r in %d programmes by %r",
        course,
        course.version,
        previous,
        len(links),
        actor,
    )


def versions_of(course: Course) -> list[Course]:
    """Return every version of the course, newest first."""
    return list(
        db.session.scalars(
            sa.select(Course)
            .where(
                Course.institution_id == course.institution_id,
                Course.code == course.code,
            )
            .order_by(Course.version.desc())
        )
    )


def _new_code(data: dict, is_taken) -> str:
    errors: dict[str, str] = {}
    code = _code(data, errors)
    if code and "code" not in errors and is_taken(code):
        errors["code"] = _("The code %(code)s is already in use.", code=code)
    if errors:
        raise AuthoringError(errors)
    return code


def copy_course(course: Course, data: dict, actor: User) -> Course:
    """Copy a course with its modules, lessons, competencies and quizzes as a new draft.

    ``data["code"]`` is the new course code. The copy is version 1 of a new
    course and has no learners.
    """
    code = _new_code(
        data, lambda code: _course_code_taken(course.institution_id, code, None)
    )
    copy = Course(
        institution_id=course.institution_id,
        code=code,
        title=course.title,
        summary=course.summary,
        credit_hours=course.credit_hours,
        status=PublicationStatus.DRAFT,
        author_id=actor.id,
    )
    db.session.add(copy)
    _flush_new_code(code)
    _copy_content(course, copy)
    logger.info("Course %r copied to %r by %r", course, copy, actor)
    record_created(copy, actor)
    return copy


def copy_programme(programme: Programme, data: dict, actor: User) -> Programme:
    """Copy a programme as a new draft with the same course list, rules and audience.

    Without ``data["course_suffix"]`` the copy links to the same courses,
    which programmes share. With a suffix such as ``-2027``, each course is
    also copied as a new draft course whose code is the old code plus the
    suffix, and the copy links to those. Prerequisites between the courses
    are copied, enrolments are not.
    """
    code = _new_code(
        data, lambda code: _programme_code_taken(programme.institution_id, code, None)
    )
    suffix = (data.get("course_suffix") or "").strip()
    if suffix:
        _check_course_suffix(programme, suffix)
    copy = Programme(
        institution_id=programme.institution_id,
        code=code,
        title=programme.title,
        summary=programme.summary,
        tier=programme.tier,
        kind=programme.kind,
        level=programme.level,
        audience=programme.audience,
        audience_posts=list(programme.audience_posts or []),
        min_elective_hours=programme.min_elective_hours,
        certificate_validity_months=programme.certificate_validity_months,
        status=PublicationStatus.DRAFT,
        author_id=actor.id,
    )
    links = {}
    for link in programme.courses:
        course_id = link.course_id
        if suffix:
            new_code = {"code": link.course.code + suffix}
            course_id = copy_course(link.course, new_code, actor).id
        links[link.id] = ProgrammeCourse(
            course_id=course_id, position=link.position, required=link.required
        )
        copy.courses.append(links[link.id])
    db.session.add(copy)
    _flush_new_code(code)
    for link in programme.courses:
        links[link.id].prerequisites = [
            links[each.id] for each in link.prerequisites
        ]
    db.session.flush()
    logger.info("Programme %r copied to %r by %r", programme, copy, actor)
    record_programme_created(copy, actor)
    return copy


def _check_course_suffix(programme: Programme, suffix: str) -> None:
    """Reject a suffix that gives an invalid or taken code to a course copy."""
    if any(character.isspace() for character in suffix):
        raise reject(_("The code suffix cannot contain spaces."), "course_suffix")
    codes = [link.course.code + suffix for link in programme.courses]
    too_long = [code for code in codes if len(code) > 64]
    if too_long:
        raise reject(
            _(
                "These course codes would be longer than 64 characters: %(codes)s."
                " Use a shorter suffix.",
                codes=join_names(too_long),
            ),
            "course_suffix",
        )
    taken = [
        code
        for code in codes
        if _course_code_taken(programme.institution_id, code, None)
    ]
    if taken:
        raise reject(
            _(
                "These course codes are already in use: %(codes)s. Choose another"
                " suffix.",
                codes=join_names(taken),
            ),
            "course_suffix",
        )
