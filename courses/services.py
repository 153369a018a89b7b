"""Enrolment, lesson progress and course/programme completion rules."""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from courses import lesson_time, logger
from courses.models import (
    Course,
    CourseCompletion,
    CourseVisit,
    Enrolment,
    EnrolmentCourse,
    Lesson,
    LessonKind,
    LessonProgress,
    Programme,
    ProgrammeCourse,
    PublicationStatus,
    programme_course_prerequisite,
)
from lms import signals
from lms.accounts.models import User
from lms.db import now_utc
from lms.extensions import db
from lms.records.models import HoursEntry
from lms.records.services import ELECTIVE_CAP_SOURCE_TYPE

#: Extra conditions a course needs before it counts as complete, e.g. a
#: passed quiz. Each returns None when met, else a message for the learner.
CompletionCheck = Callable[[User, Course], Optional[str]]
_completion_checks: list[CompletionCheck] = []


def register_completion_check(check: CompletionCheck) -> None:
    if check not in _completion_checks:
        _completion_checks.append(check)


#: Tests of whether a course has an exam that its completion requires
#: passing, e.g. a quiz. A completed course with one records a passed exam.
ExamCheck = Callable[[Course], bool]
_exam_checks: list[ExamCheck] = []


def register_exam_check(check: ExamCheck) -> None:
    if check not in _exam_checks:
        _exam_checks.append(check)


def has_exam(course: Course) -> bool:
    """Return whether completing ``course`` requires passing an exam."""
    return any(check(course) for check in _exam_checks)


#: Other ways than a programme enrolment for a learner to reach a course,
#: e.g. a place in a training class that offers the course alone.
CourseAccessCheck = Callable[[User, Course], bool]
_access_checks: list[CourseAccessCheck] = []


def register_course_access(check: CourseAccessCheck) -> None:
    if check not in _access_checks:
        _access_checks.append(check)


#: Conditions that hold back a programme's completion although its courses
#: are done, e.g. a withdrawal from the programme's training class. Each
#: returns None when the enrolment may complete, else the reason.
ProgrammeHold = Callable[[Enrolment], Optional[str]]
_programme_holds: list[ProgrammeHold] = []


def register_programme_hold(check: ProgrammeHold) -> None:
    if check not in _programme_holds:
        _programme_holds.append(check)


def programme_hold(enrolment: Enrolment) -> Optional[str]:
    """Return why the enrolment may not complete yet although its courses are done, or None."""
    return next(
        (reason for check in _programme_holds if (reason := check(enrolment)) is not None),
        None,
    )


def _attach_courses(rows: list) -> None:
    """Set ``row.course`` on each row (link or pin) that lacks it, from one query.

    The session holds loaded objects only weakly, so the courses are
    attached to their rows rather than only loaded.
    """
    unloaded = [row for row in rows if "course" not in sa.inspect(row).dict]
    if not unloaded:
        return
    ids = {row.course_id for row in unloaded}
    courses = {
        course.id: course
        for course in db.session.scalars(sa.select(Course).where(Course.id.in_(ids)))
    }
    for row in unloaded:
        set_committed_value(row, "course", courses[row.course_id])


def load_programme_courses(programme: Programme) -> list[ProgrammeCourse]:
    """Return the programme's course links with their courses and prerequisites loaded.

    Pages that walk every course of a programme call this first, so that
    the number of queries does not grow with the number of courses.
    """
    links = programme.courses
    _attach_links(links)
    return links


def _attach_links(links: list[ProgrammeCourse]) -> None:
    """Load the course and the prerequisites of each link, in two queries at most.

    Every prerequisite of a link is a link of the same programme, so the
    links of whole programmes must be passed together.
    """
    _attach_courses(links)
    unloaded = [link for link in links if "prerequisites" not in sa.inspect(link).dict]
    if not unloaded:
        return
    table = programme_course_prerequisite
    rows = db.session.execute(
        sa.select(table.c.link_id, table.c.prerequisite_id).where(
            table.c.link_id.in_([link.id for link in unloaded])
        )
    ).all()
    by_id = {link.id: link for link in links}
    needed: dict[int, list[ProgrammeCourse]] = {link.id: [] for link in unloaded}
    for link_id, prerequisite_id in rows:
        needed[link_id].append(by_id[prerequisite_id])
    for link in unloaded:
        prerequisites = sorted(needed[link.id], key=lambda each: each.position)
        set_committed_value(link, "prerequisites", prerequisites)


class EnrolmentError(Exception):
    """The learner cannot enrol. The message gives the reason."""


class CourseLocked(Exception):
    """The learner has not completed the prerequisites of a course."""

    def __init__(self, course: Course, prerequisites: list[Course]):
        super().__init__(
            f"{course!r} needs " + ", ".join(repr(each) for each in prerequisites)
        )
        self.course = course
        self.prerequisites = prerequisites


def enrol(user: User, programme: Programme) -> Enrolment:
    """Enrol ``user`` in a published programme of their institution; idempotent."""
    if programme.status is not PublicationStatus.PUBLISHED:
        raise EnrolmentError("programme is not open for enrolment")
    if programme.institution_id != user.institution_id:
        raise EnrolmentError("programme belongs to another institution")
    existing = find_enrolment(user, programme)
    if existing is not None:
        return existing

    enrolment = Enrolment(user_id=user.id, programme_id=programme.id)
    try:
        with db.session.begin_nested():
            db.session.add(enrolment)
    except IntegrityError:
        return find_enrolment(user, programme)
    pin_course_versions(enrolment)
    logger.info("User %r enrolled in %r", user, programme)
    if completed_course_ids(user, [link.course_id for link in enrolment.pins]):
        # Courses completed before, such as through another programme, count
        # here too, so they may already complete this one.
        evaluate_programme(enrolment)
    return enrolment


# Course versions per enrolment --------------------------------------------


def pin_course_versions(enrolment: Enrolment) -> None:
    """Pin the current version of each programme course that the enrolment lacks."""
    pinned = {pin.programme_course_id for pin in enrolment.pins}
    for link in enrolment.programme.courses:
        if link.id not in pinned:
            enrolment.pins.append(
                EnrolmentCourse(programme_course_id=link.id, course_id=link.course_id)
            )
    db.session.flush()


def enrolment_courses(enrolment: Enrolment) -> list[tuple[ProgrammeCourse, Course]]:
    """Return the programme's course links, each with the enrolment's version.

    Within one GET request the result is kept per enrolment, because the
    learner pages request it once per course shown and a GET changes no pins.
    """
    cache = request_cache("enrolment_courses")
    if cache is not None and enrolment.id in cache:
        return cache[enrolment.id]
    links = load_programme_courses(enrolment.programme)
    _attach_courses(enrolment.pins)
    pins = {pin.programme_course_id: pin.course for pin in enrolment.pins}
    result = [(link, pins.get(link.id) or link.course) for link in links]
    if cache is not None and enrolment.id is not None:
        cache[enrolment.id] = result
    return result


def request_cache(name: str) -> Optional[dict]:
    """Return a dict kept for the current GET request, or None outside one."""
    from flask import has_request_context
    from flask.globals import app_ctx, request_ctx

    if not has_request_context():
        return None
    # The learner pages call this a hundred times per request, so each
    # context-local proxy is resolved once per call.
    if request_ctx._get_current_object().request.method != "GET":
        return None
    caches = vars(app_ctx._get_current_object().g).setdefault("_course_caches", {})
    return caches.setdefault(name, {})


def learner_courses(
    user: User, programme: Programme
) -> list[tuple[ProgrammeCourse, Course]]:
    """Return the programme's course links with the versions shown to ``user``.

    An enrolled learner gets the pinned versions, anyone else the current ones.
    """
    enrolment = find_enrolment(user, programme)
    if enrolment is None:
        return [(link, link.course) for link in load_programme_courses(programme)]
    return enrolment_courses(enrolment)


def _rows_for(
    user: User, programme: Programme, enrolment: Optional[Enrolment]
) -> list[tuple[ProgrammeCourse, Course]]:
    if enrolment is not None and enrolment.programme_id == programme.id:
        return enrolment_courses(enrolment)
    return learner_courses(user, programme)


def find_enrolment(user: User, programme: Programme) -> Optional[Enrolment]:
    return db.session.scalar(
        sa.select(Enrolment)
        .filter_by(user_id=user.id, programme_id=programme.id)
    )


def enrolments_for_course(user: User, course: Course) -> list[Enrolment]:
    """Return the user's enrolments that follow this version of ``course``.

    An enrolment follows its pinned version of each programme course, and
    the programme's current version where it has no pin.
    """
    cache = request_cache("enrolments_for_course")
    key = (user.id, course.id)
    if cache is not None and key in cache:
        return list(cache[key])
    found = list(
        db.session.scalars(
            sa.select(Enrolment)
            .where(_follows_course(user.id, course.id))
            .order_by(Enrolment.enrolled_at, Enrolment.id)
        )
    )
    if cache is not None:
        cache[key] = list(found)
    return found


def _follows_course(user_id, course_id) -> sa.ColumnElement[bool]:
    """Return the condition on ``Enrolment`` of ``enrolments_for_course``.

    The ids are values or SQL expressions such as bound parameters.
    """
    return sa.and_(Enrolment.user_id == user_id, enrolments_following(course_id, user_id))


def enrolments_following(course_id, user_id=None) -> sa.ColumnElement[bool]:
    """Return the condition on ``Enrolment`` that keeps the enrolments following a course version.

    An enrolment follows the version it is pinned to, or the version in its
    programme when it has no pin for that programme course. ``user_id``
    narrows the subqueries to one person's enrolments.
    """
    pinned = sa.select(EnrolmentCourse.enrolment_id).where(
        EnrolmentCourse.course_id == course_id
    )
    has_pin = (
        sa.select(EnrolmentCourse.id)
        .where(
            EnrolmentCourse.enrolment_id == Enrolment.id,
            EnrolmentCourse.programme_course_id == ProgrammeCourse.id,
        )
        .exists()
    )
    unpinned = (
        sa.select(Enrolment.id)
        .join(ProgrammeCourse, ProgrammeCourse.programme_id == Enrolment.programme_id)
        .where(ProgrammeCourse.course_id == course_id, ~has_pin)
    )
    if user_id is not None:
        # Without the person, the database scans every enrolment of every
        # programme that contains the course.
        unpinned = unpinned.where(Enrolment.user_id == user_id)
    return sa.or_(Enrolment.id.in_(pinned), Enrolment.id.in_(unpinned))


@dataclass(frozen=True)
class CourseStanding:
    """A learner's relation to one course version, read by ``course_standing``."""

    #: An enrolment of the learner follows this version (``enrolments_for_course``).
    enrolled: bool
    #: The learner finished at least one lesson of the course.
    started: bool
    #: A programme link that may lead the learner to this version has
    #: prerequisites. False means ``missing_prerequisites`` is empty.
    may_need_prerequisites: bool


def course_standing(user: User, course: Course) -> CourseStanding:
    """Return the standing of ``user`` in ``course``, in one query.

    A caller that checks both access and prerequisites passes the result to
    ``can_view_course`` and ``missing_prerequisites``, which then skip their
    own queries where these facts decide.
    """
    row = db.session.execute(
        _course_standing_query(), {"user_id": user.id, "course_id": course.id}
    ).one()
    return standing_from_values(row)


@functools.cache
def _course_standing_query() -> sa.Select:
    """Build the query of ``course_standing`` once per process."""
    return sa.select(*standing_columns(sa.bindparam("user_id"), sa.bindparam("course_id")))


def standing_columns(user_id, course_id) -> tuple[sa.ColumnElement[bool], ...]:
    """Return the three EXISTS columns that ``course_standing`` selects.

    A caller that loads other rows about the course selects them along, so
    the standing costs no query of its own, and reads them back with
    ``standing_from_values``. The ids are values, bound parameters or
    scalar subqueries that do not refer to the enclosing query, because a
    column of the enclosing query would not be correlated into the nested
    subqueries.
    """
    enrolled = sa.select(Enrolment.id).where(_follows_course(user_id, course_id)).exists()
    started = (
        sa.select(LessonProgress.id)
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.user_id == user_id, Lesson.course_id == course_id)
        .exists()
    )
    # Links of the learner's programmes that hold this version, or that an
    # enrolment pins to it. Some of them may not lead to this version (a pin
    # to another version), which only costs the full check.
    pinned_here = (
        sa.select(EnrolmentCourse.id)
        .where(
            EnrolmentCourse.enrolment_id == Enrolment.id,
            EnrolmentCourse.programme_course_id == ProgrammeCourse.id,
            EnrolmentCourse.course_id == course_id,
        )
        .exists()
    )
    prerequisites = programme_course_prerequisite.c
    may_need = (
        sa.select(prerequisites.link_id)
        .join(ProgrammeCourse, ProgrammeCourse.id == prerequisites.link_id)
        .join(Enrolment, Enrolment.programme_id == ProgrammeCourse.programme_id)
        .where(
            Enrolment.user_id == user_id,
            sa.or_(ProgrammeCourse.course_id == course_id, pinned_here),
        )
        .exists()
    )
    return enrolled, started, may_need


def standing_from_values(values) -> CourseStanding:
    """Return the standing from the values of the ``standing_columns``, in their order."""
    enrolled, started, may_need = values
    return CourseStanding(
        enrolled=bool(enrolled), started=bool(started), may_need_prerequisites=bool(may_need)
    )


def open_enrolment_learners(course_ids: list[int]) -> set[tuple[int, int]]:
    """Return (course id, user id) for open enrolments that follow those course versions.

    An enrolment follows its pinned version of each programme course, and
    the programme's current version where it has no pin. Completed
    enrolments are left out.
    """
    if not course_ids:
        return set()
    pinned = (
        sa.select(EnrolmentCourse.course_id, Enrolment.user_id)
        .join(Enrolment, Enrolment.id == EnrolmentCourse.enrolment_id)
        .where(
            EnrolmentCourse.course_id.in_(course_ids),
            Enrolment.completed_at.is_(None),
        )
    )
    has_pin = (
        sa.select(EnrolmentCourse.id)
        .where(
            EnrolmentCourse.enrolment_id == Enrolment.id,
            EnrolmentCourse.programme_course_id == ProgrammeCourse.id,
        )
        .exists()
    )
    unpinned = (
        sa.select(ProgrammeCourse.course_id, Enrolment.user_id)
        .join(Enrolment, Enrolment.programme_id == ProgrammeCourse.programme_id)
        .where(
            ProgrammeCourse.course_id.in_(course_ids),
            Enrolment.completed_at.is_(None),
            ~has_pin,
        )
    )
    rows = db.session.execute(sa.union(pinned, unpinned)).all()
    return {(course_id, user_id) for course_id, user_id in rows}


# Prerequisites --------------------------------------------------------------


def missing_prerequisites(
    user: User, course: Course, standing: Optional[CourseStanding] = None
) -> list[Course]:
    """Return the prerequisite courses ``user`` must still complete before ``course``.

    A course in several of the learner's programmes is open when one of them
    has its prerequisites met. A course the learner already started stays
    open, even when a prerequisite was added later. Non-learners and courses
    outside any of the learner's enrolments have no prerequisites here.
    ``standing`` is the result of ``course_standing`` when the caller has it.
    """
    if standing is None:
        return locked_courses(user, [course]).get(course.id, [])
    if standing.started or not standing.may_need_prerequisites:
        return []
    return locked_courses(user, [course], started=set()).get(course.id, [])


def locked_courses(
    user: User, courses: list[Course], started: Optional[set[int]] = None
) -> dict[int, list[Course]]:
    """Map each of ``courses`` that is locked for ``user`` to its missing prerequisites.

    The rules are those of ``missing_prerequisites``. Open courses are left
    out. The number of queries does not depend on the number of courses.
    ``started`` is ``started_course_ids`` of these courses when the caller
    has it.
    """
    if not user.role.is_learner or not courses:
        return {}
    if started is None:
        started = started_course_ids(user, [course.id for course in courses])
    candidates = {course.id for course in courses} - started
    if not candidates:
        return {}
    options: dict[int, list[list[Course]]] = {}
    for enrolment in enrolments_of(user):
        versions = {link.id: version for link, version in enrolment_courses(enrolment)}
        for link in enrolment.programme.courses:
            version = versions[link.id]
            if version.id in candidates:
                needed = [versions[each.id] for each in link.prerequisites]
                options.setdefault(version.id, []).append(needed)
    needed_ids = {each.id for lists in options.values() for need in lists for each in need}
    done = completed_course_ids(user, list(needed_ids))
    locked = {}
    for course_id, needs in options.items():
        missing = [[each for each in need if each.id not in done] for need in needs]
        fewest = min(missing, key=len)
        if fewest:
            locked[course_id] = fewest
    return locked


def ensure_unlocked(user: User, course: Course) -> None:
    """Raise ``CourseLocked`` while ``user`` has prerequisites of ``course`` to do."""
    missing = missing_prerequisites(user, course)
    if missing:
        raise CourseLocked(course, missing)


def completed_lesson_ids(user: User, course: Course) -> set[int]:
    """Return the ids of the lessons of ``course`` that ``user`` finished."""
    cache = request_cache("completed_lessons")
    if cache is not None and course.id in cache.get(user.id, {}):
        return set(cache[user.id][course.id])
    finished = set(
        db.session.scalars(
            sa.select(LessonProgress.lesson_id)
            .join(Lesson, Lesson.id == LessonProgress.lesson_id)
            .where(LessonProgress.user_id == user.id, Lesson.course_id == course.id)
        )
    )
    if cache is not None:
        cache.setdefault(user.id, {})[course.id] = set(finished)
    return finished


class AttendanceRequired(Exception):
    """An offline lesson is completed by a trainer's attendance mark, not by the learner."""

    def __init__(self, lesson: Lesson):
        super().__init__(f"lesson {lesson.id} is offline")
        self.lesson = lesson


def complete_lesson(user: User, lesson: Lesson, *, attended: bool = False) -> None:
    """Mark a lesson done (idempotent) and re-evaluate its course.

    ``attended`` is set only by a present or late attendance mark at a class
    session that delivers the lesson. An offline lesson without it raises
    ``AttendanceRequired``. Other lessons raise ``CourseLocked`` while the
    course's prerequisites are incomplete, and ``lesson_time.LessonNotOpened``
    or ``lesson_time.LessonTooEarly`` until the learner has spent the
    lesson's minimum time on it. An attended lesson skips these checks,
    because the mark records a session that took place.
    """
    if lesson.kind is LessonKind.OFFLINE and not attended:
        raise AttendanceRequired(lesson)
    if not attended:
        ensure_unlocked(user, lesson.course)
    exists = db.session.scalar(
        sa.select(LessonProgress.id).filter_by(user_id=user.id, lesson_id=lesson.id)
    )
    if exists is None and not attended:
        lesson_time.ensure_time_spent(user, lesson)
    if exists is None:
        try:
            with db.session.begin_nested():
                db.session.add(LessonProgress(user_id=user.id, lesson_id=lesson.id))
        except IntegrityError:
            pass
    evaluate_course(user, lesson.course)


def missing_requirements(user: User, course: Course) -> list[str]:
    """Return the requirements ``user`` has not yet met for completing ``course``."""
    missing = []
    done = completed_lesson_ids(user, course)
    remaining = [lesson for lesson in course.lessons if lesson.id not in done]
    if remaining:
        missing.append(f"lessons:{len(remaining)}")
    for check in _completion_checks:
        reason = check(user, course)
        if reason:
            missing.append(reason)
    return missing


def find_completion(user: User, course: Course) -> Optional[CourseCompletion]:
    return db.session.scalar(
        sa.select(CourseCompletion).filter_by(user_id=user.id, course_id=course.id)
    )


def evaluate_course(user: User, course: Course) -> Optional[CourseCompletion]:
    """Record the course as complete when every requirement is met.

    Safe to call any number of times: the unique (user, course) row means
    a replayed request or a second tab completes the course once, and the
    ``course_completed`` signal fires only for the request that inserted it.
    """
    existing = find_completion(user, course)
    if existing is not None:
        return existing
    if missing_requirements(user, course):
        return None

    enrolments = enrolments_for_course(user, course)
    enrolment, hours = crediting_enrolment(enrolments, course)
    completion = CourseCompletion(
        user_id=user.id,
        course_id=course.id,
        enrolment_id=enrolment.id if enrolment else None,
        completed_at=now_utc(),
        hours=hours,
    )
    try:
        with db.session.begin_nested():
            db.session.add(completion)
    except IntegrityError:
        return find_completion(user, course)

    logger.info("Course %r completed by %r", course, user)
    programme = enrolment.programme if enrolment else None
    signals.course_completed.send(
        completion,
        user_id=user.id,
        course_id=course.id,
        course_title=course.title,
        hours=hours,
        course_hours=course.credit_hours,
        tier=programme.tier if programme else None,
        kind=programme.kind if programme else None,
        completed_at=completion.completed_at,
        programme_id=programme.id if programme else None,
        exam_passed=True if has_exam(course) else None,
    )
    for course_enrolment in enrolments:
        evaluate_programme(course_enrolment)
    return completion


def crediting_enrolment(
    enrolments: list[Enrolment], course: Course
) -> tuple[Optional[Enrolment], Decimal]:
    """Return the enrolment that credits ``course``'s 学时, and the 学时 it credits.

    A course in several programmes the learner follows is completed once,
    counts toward each programme's completion, and is credited once: through
    the programme in which it earns the most 学时, the one enrolled in first
    on a tie. So an elective beyond one programme's minimum still credits
    its 学时 as a required course of another. The other programmes' rows
    then add up to less than their certificates print. ``enrolments`` are
    in enrolment order. Without one, the course credits its own 学时.

    A programme whose courses all credited their 学时 through another
    programme gets a ledger row of 0 学时 when it is completed
    (``lms.records.services.record_programme_completion``), so rules that
    count trainings still count it.
    """
    chosen, chosen_hours = None, course.credit_hours
    for enrolment in enrolments:
        hours = credited_hours(enrolment, course)
        if chosen is None or hours > chosen_hours:
            chosen, chosen_hours = enrolment, hours
    return chosen, chosen_hours


def credited_hours(enrolment: Optional[Enrolment], course: Course) -> Decimal:
    """Return the 学时 that completing ``course`` credits through ``enrolment``.

    A programme earns the 学时 it states (``Programme.total_hours``): every
    required course credits its own, and electives together credit at most
    the programme's minimum of elective hours, in the order they are
    completed. An elective beyond that minimum is completed but credits
    only what is left of it, possibly nothing, so the ledger, the
    programme's certificate and a withdrawal of its hours name the same
    number. A course taken outside a programme credits its own 学时.
    ``crediting_enrolment`` picks the enrolment for a course in several
    programmes.

    NOTE: a course completed before the learner enrolled in another
    programme that contains it keeps the 学时 it credited then, even where
    the new programme would credit more, because the ledger credits a
    completion once.
    """
    if enrolment is None:
        return course.credit_hours
    rows = enrolment_courses(enrolment)
    electives = [other.id for link, other in rows if not link.required]
    if course.id not in electives:
        return course.credit_hours
    credited = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(CourseCompletion.hours), 0)).where(
            CourseCompletion.enrolment_id == enrolment.id,
            CourseCompletion.course_id.in_(electives),
            CourseCompletion.course_id != course.id,
        )
    )
    minimum = enrolment.programme.min_elective_hours or Decimal(0)
    left = max(minimum - Decimal(credited), Decimal(0))
    return min(course.credit_hours, left)


def programme_standing(enrolment: Enrolment) -> dict:
    """Return what the enrolment has completed and what it still owes.

    The rule: every required course, and elective courses worth at least the
    programme's minimum of elective hours, each in the version the enrolment
    follows.
    """
    rows = enrolment_courses(enrolment)
    done = set(
        db.session.scalars(
            sa.select(CourseCompletion.course_id).where(
                CourseCompletion.user_id == enrolment.user_id,
                CourseCompletion.course_id.in_([course.id for _link, course in rows]),
            )
        )
    )
    missing_required = [
        course for link, course in rows if link.required and course.id not in done
    ]
    elective_hours = sum(
        (
            course.credit_hours
            for link, course in rows
            if not link.required and course.id in done
        ),
        Decimal(0),
    )
    minimum = enrolment.programme.min_elective_hours or Decimal(0)
    return {
        "completed_course_ids": done,
        "missing_required": missing_required,
        "elective_hours_done": elective_hours,
        "elective_hours_missing": max(minimum - elective_hours, Decimal(0)),
    }


def evaluate_programme(enrolment: Enrolment) -> bool:
    """Mark the enrolment complete once its completion rule is met; idempotent."""
    if enrolment.completed_at is not None:
        return True
    standing = programme_standing(enrolment)
    if standing["missing_required"] or standing["elective_hours_missing"] > 0:
        return False
    reason = programme_hold(enrolment)
    if reason is not None:
        logger.info(
            "Completion of programme %s held for user %s: %s",
            enrolment.programme_id, enrolment.user_id, reason,
        )
        return False

    completed_at = now_utc()
    # A conditional update so that two concurrent requests complete it once.
    result = db.session.execute(
        sa.update(Enrolment)
        .where(Enrolment.id == enrolment.id, Enrolment.completed_at.is_(None))
        .values(completed_at=completed_at)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(enrolment)
    if result.rowcount != 1:
        return True
    logger.info("Programme %r completed by user %s", enrolment.programme, enrolment.user_id)
    programme = enrolment.programme
    signals.programme_completed.send(
        enrolment,
        user_id=enrolment.user_id,
        programme_id=enrolment.programme_id,
        completed_at=completed_at,
        programme_title=programme.title,
        tier=programme.tier,
        kind=programme.kind,
    )
    return True


def course_progress(user: User, course: Course) -> dict:
    """Summarise a learner's progress in a course for the outline page."""
    done = completed_lesson_ids(user, course)
    total = len(course.lessons)
    return {
        "lessons_done": len(done & {lesson.id for lesson in course.lessons}),
        "lessons_total": total,
        "completed_lesson_ids": done,
        "completion": find_completion(user, course),
    }


def published_programmes(institution_id: int) -> list[Programme]:
    """Return an institution's published programmes for the catalogue, by title."""
    return list(
        db.session.scalars(
            sa.select(Programme)
            .where(
                Programme.institution_id == institution_id,
                Programme.status == PublicationStatus.PUBLISHED,
            )
            .order_by(Programme.title, Programme.id)
        )
    )


def enrolments_of(user: User) -> list[Enrolment]:
    """Return the user's enrolments, open ones first, then by enrolment time.

    Each enrolment comes with its programme, the programme's course links
    (with courses and prerequisites) and its pinned versions, in a fixed
    number of queries. Within one GET request the list is kept, because
    the learner pages ask for it once per course they show.
    """
    cache = request_cache("enrolments_of")
    if cache is not None and user.id in cache:
        return cache[user.id]
    enrolments = list(
        db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.user_id == user.id)
            .order_by(Enrolment.completed_at.is_not(None), Enrolment.enrolled_at)
            .options(
                so.selectinload(Enrolment.programme).selectinload(Programme.courses),
                so.selectinload(Enrolment.pins),
            )
        )
    )
    _attach_links([link for each in enrolments for link in each.programme.courses])
    _attach_courses([pin for each in enrolments for pin in each.pins])
    if cache is not None:
        cache[user.id] = enrolments
    return enrolments


def _known_ids(name: str, user: User, ids: list[int], load) -> set[int]:
    """Return the subset of ``ids`` that ``load`` finds, calling it only for unseen ids.

    Within one GET request the results are kept per user, because a GET
    completes no course and finishes no lesson. Outside one, ``load`` runs
    every time.
    """
    cache = request_cache(name)
    if cache is None:
        return load(ids)
    known = cache.setdefault(user.id, {})
    unseen = [item_id for item_id in ids if item_id not in known]
    if unseen:
        found = load(unseen)
        for item_id in unseen:
            known[item_id] = item_id in found
    return {item_id for item_id in ids if known[item_id]}


def completion_hours_withdrawn() -> sa.Exists:
    """SQL test that a ``CourseCompletion`` row's ledger hours were taken back.

    The completion's credited row (``lms.records.services.credit_course_hours``)
    then has a correcting row, as when a revoked certificate's hours are
    withdrawn. The completion itself stands.
    """
    credited = so.aliased(HoursEntry)
    correction = so.aliased(HoursEntry)
    return (
        sa.select(correction.id)
        .join(credited, correction.corrects_id == credited.id)
        .where(
            credited.user_id == CourseCompletion.user_id,
            credited.source_type == "course_completion",
            credited.source_id == CourseCompletion.id,
            # Lowering an elective to its programme's minimum is no withdrawal.
            sa.or_(
                correction.source_type.is_(None),
                correction.source_type != ELECTIVE_CAP_SOURCE_TYPE,
            ),
        )
        .exists()
    )


def _completions(
    user: User, course_ids: list[int]
) -> dict[int, tuple[bool, Decimal]]:
    """Map each completed course in ``course_ids`` to (hours withdrawn?, credited hours).

    Within one GET request the results are kept per user, as ``_known_ids`` does.
    """
    cache = request_cache("completions")
    known = {} if cache is None else cache.setdefault(user.id, {})
    unseen = [course_id for course_id in course_ids if course_id not in known]
    if unseen:
        for course_id in unseen:
            known[course_id] = None
        rows = db.session.execute(
            sa.select(
                CourseCompletion.course_id,
                completion_hours_withdrawn(),
                CourseCompletion.hours,
            ).where(
                CourseCompletion.user_id == user.id,
                CourseCompletion.course_id.in_(unseen),
            )
        )
        for course_id, withdrawn, hours in rows:
            known[course_id] = (bool(withdrawn), Decimal(hours))
    return {
        course_id: known[course_id]
        for course_id in course_ids
        if known[course_id] is not None
    }


def completed_course_ids(user: User, course_ids: list[int]) -> set[int]:
    """Return the courses among ``course_ids`` that ``user`` has completed."""
    if not course_ids:
        return set()
    return set(_completions(user, course_ids))


def started_course_ids(user: User, course_ids: list[int]) -> set[int]:
    """Return the courses among ``course_ids`` with a finished lesson or a quiz attempt."""
    from assessments.models import Attempt, Quiz

    if not course_ids:
        return set()

    def load(ids: list[int]) -> set[int]:
        lessons = (
            sa.select(Lesson.course_id)
            .join(LessonProgress, LessonProgress.lesson_id == Lesson.id)
            .where(LessonProgress.user_id == user.id, Lesson.course_id.in_(ids))
        )
        attempts = (
            sa.select(Quiz.course_id)
            .join(Attempt, Attempt.quiz_id == Quiz.id)
            .where(Attempt.user_id == user.id, Quiz.course_id.in_(ids))
        )
        return set(db.session.scalars(sa.union(lessons, attempts)))

    return _known_ids("started_course_ids", user, course_ids, load)


def prefetch_learner_state(user: User, enrolments: list[Enrolment]) -> None:
    """Load, for every course of ``enrolments``, what the learner pages ask per course.

    That is completion, whether the course is started, its lessons and the
    learner's finished lessons, in four queries. Only a GET request keeps
    the results, so elsewhere this does nothing.
    """
    finished_cache = request_cache("completed_lessons")
    if finished_cache is None:
        return
    courses = {}
    for enrolment in enrolments:
        for _link, course in enrolment_courses(enrolment):
            courses[course.id] = course
    if not courses:
        return
    ids = list(courses)
    completed_course_ids(user, ids)
    started_course_ids(user, ids)
    unloaded = [course.id for course in courses.values()
                if "lessons" not in sa.inspect(course).dict]
    if unloaded:
        # Loads each course's lessons into the session's copy of that course.
        db.session.scalars(
            sa.select(Course)
            .where(Course.id.in_(unloaded))
            .options(so.selectinload(Course.lessons))
        ).all()
    finished = finished_cache.setdefault(user.id, {})
    missing = [course_id for course_id in ids if course_id not in finished]
    if not missing:
        return
    for course_id in missing:
        finished[course_id] = set()
    rows = db.session.execute(
        sa.select(Lesson.course_id, LessonProgress.lesson_id)
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.user_id == user.id, Lesson.course_id.in_(missing))
    )
    for course_id, lesson_id in rows:
        finished[course_id].add(lesson_id)


def programme_progress(
    user: User, programme: Programme, enrolment: Optional[Enrolment] = None
) -> dict:
    """Summarise a learner's progress through a programme's courses and hours.

    Courses are counted in the versions the learner follows. A completed
    course whose hours were withdrawn from the ledger still counts as
    completed, but its hours count as withdrawn, not earned. A caller that
    already holds the learner's ``enrolment`` passes it to save a query.
    """
    rows = _rows_for(user, programme, enrolment)
    course_ids = [course.id for _link, course in rows]
    completions = _completions(user, course_ids) if course_ids else {}
    done = set(completions)
    hours_done = sum(
        (hours for withdrawn, hours in completions.values() if not withdrawn),
        Decimal(0),
    )
    hours_withdrawn = sum(
        (hours for withdrawn, hours in completions.values() if withdrawn),
        Decimal(0),
    )
    minimum = programme.min_elective_hours or Decimal(0)
    elective_done = sum(
        (
            course.credit_hours
            for link, course in rows
            if not link.required and course.id in done
        ),
        Decimal(0),
    )
    required = [course.id for link, course in rows if link.required]
    return {
        "completed_course_ids": done,
        "started_course_ids": started_course_ids(user, course_ids) - done,
        "courses_done": len(done),
        "courses_total": len(course_ids),
        "required_done": sum(1 for course_id in required if course_id in done),
        "required_total": len(required),
        "elective_hours_minimum": minimum,
        "hours_done": hours_done,
        "hours_withdrawn": hours_withdrawn,
        "hours_total": programme.total_hours,
        "elective_hours_done": elective_done,
        "elective_hours_missing": max(minimum - elective_done, Decimal(0)),
    }


def resume_point(
    user: User, programme: Programme, enrolment: Optional[Enrolment] = None
) -> Optional[tuple[Course, Optional[Lesson]]]:
    """Return where the learner should continue in a programme.

    That is the first course in programme order that is not complete, with
    its first unfinished lesson. The lesson is None when every lesson of
    that course is done and something else, such as a quiz, is outstanding.
    Returns None once every course of the programme is complete.
    """
    rows = _rows_for(user, programme, enrolment)
    done = completed_course_ids(user, [course.id for _link, course in rows])
    locked = locked_courses(user, [course for _link, course in rows if course.id not in done])
    for _link, course in rows:
        if course.id in done or course.id in locked:
            continue
        finished = completed_lesson_ids(user, course)
        for lesson in course.lessons:
            if lesson.id not in finished:
                return course, lesson
        return course, None
    return None


# Where the learner left off ------------------------------------------------


#: A repeated visit to the same lesson within this time does not rewrite the
#: visit time, so reloading a page is a read, not a write.
VISIT_REFRESH = timedelta(seconds=60)

_LOOK_UP = object()


def record_visit(
    user: User,
    lesson: Lesson,
    position_permille: int | None = None,
    *,
    visit: Optional[CourseVisit] | object = _LOOK_UP,
) -> bool:
    """Remember ``lesson`` as the learner's place in its course.

    ``position_permille`` (0-1000) is kept only for the same lesson. A visit
    to another lesson starts at its beginning. ``visit`` is the learner's
    visit record of the course when the caller has already loaded it (None
    when there is none). Returns True when the record changed and the caller
    has to commit.
    """
    if visit is _LOOK_UP:
        visit = db.session.scalar(
            sa.select(CourseVisit).filter_by(user_id=user.id, course_id=lesson.course_id)
        )
    now = now_utc()
    if visit is None:
        visit = CourseVisit(user_id=user.id, course_id=lesson.course_id)
        try:
            with db.session.begin_nested():
                visit.lesson_id = lesson.id
                db.session.add(visit)
        except IntegrityError:
            visit = db.session.scalar(
                sa.select(CourseVisit).filter_by(
                    user_id=user.id, course_id=lesson.course_id
                )
            )
    elif (
        visit.lesson_id == lesson.id
        and position_permille in (None, visit.position_permille)
        and visit.visited_at is not None
        and now - visit.visited_at < VISIT_REFRESH
    ):
        return False
    if visit.lesson_id != lesson.id:
        visit.lesson_id = lesson.id
        visit.position_permille = 0
    if position_permille is not None:
        visit.position_permille = position_permille
    visit.visited_at = now
    db.session.flush()
    return True


def find_visit(user: User, course: Course) -> Optional[CourseVisit]:
    return db.session.scalar(
        sa.select(CourseVisit).filter_by(user_id=user.id, course_id=course.id)
    )


def continue_lesson(user: User, course: Course) -> Optional[Lesson]:
    """Return the lesson to continue with: last visited, else first unfinished.

    Returns None once every lesson is finished, because what is left then,
    if anything, is a quiz or another requirement and not a lesson.
    """
    finished = completed_lesson_ids(user, course)
    first_unfinished = next(
        (each for each in course.lessons if each.id not in finished), None
    )
    if first_unfinished is None:
        return None
    visit = find_visit(user, course)
    if visit is not None:
        return visit.lesson
    return first_unfinished


def completed_enrolments_for_course(user: User, course: Course) -> list[Enrolment]:
    """Return the user's completed enrolments in programmes that contain ``course``."""
    enrolments = enrolments_for_course(user, course)
    return [enrolment for enrolment in enrolments if enrolment.completed_at is not None]


def can_view_course(
    user: User, course: Course, standing: Optional[CourseStanding] = None
) -> bool:
    """Return whether ``user`` may open ``course`` and its lessons and quizzes.

    A learner must be enrolled in a programme that contains the course.
    Trainers, HR and admins may open the courses of their own institution.
    ``standing`` is the result of ``course_standing`` when the caller has it.
    """
    if user.role.is_learner:
        enrolled = (
            standing.enrolled if standing is not None
            else bool(enrolments_for_course(user, course))
        )
        if enrolled:
            return True
        return any(check(user, course) for check in _access_checks)
    return course.institution_id == user.institution_id


def grouped_lessons(course: Course) -> list[tuple[Optional[object], list[Lesson]]]:
    """Return the course's lessons in order, grouped by consecutive module."""
    groups: list[tuple[Optional[object], list[Lesson]]] = []
    for lesson in course.lessons:
        if groups and groups[-1][0] is lesson.module:
            groups[-1][1].append(lesson)
        else:
            groups.append((lesson.module, [lesson]))
    return groups
