"""Offline sessions of a class, their attendance sheets and the 学时 they earn.

An attended session (present or late) is credited to the hours ledger with
source ("class_session", session id), one row per person. Re-marking never
edits a ledger row: it appends a correction row (``corrects_id`` set) with
the signed difference, so the ledger keeps its history and the net equals
what the current mark earns.

A session that delivers an offline lesson (``lesson_id`` set) works
differently: a present or late mark completes the lesson for the person, and
the session earns no 学时 of its own. The lesson's time is part of its
course's credit hours, which the ledger receives when the course is
completed, so crediting the session as well would count that time twice.

A person is credited at most one full day of 学时 per class and date, as
``courses.class_days`` describes.

Each session is its own ledger source, but every row names the training it
belongs to (``HoursEntry.training_type``), so a compliance rule that counts
trainings counts a class once. A class that offers a programme is the same
training as that programme, whose course completions credit hours too, and
such a rule counts it once the programme is completed.
"""

import hashlib
import dataclasses
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
from flask_babel import gettext as _

from courses import class_days, class_leave, classes, logger, services
from courses.authoring import AuthoringError, text_field
from courses.class_models import (
    Attendance,
    AttendanceStatus,
    ClassMember,
    ClassSession,
    ClassStatus,
    MemberStatus,
    SessionLength,
    TrainingClass,
)
from courses.class_authoring import date_field, enum_field
from courses.classes import hours_for, members_in, memberships_of
from courses.models import Course, Lesson, LessonKind, LessonProgress
from lms import audit, signals
from lms.accounts.models import User
from lms.db import now_utc
from lms.extensions import db
from lms.i18n import format_date
from lms.records import day_cap
from lms.records.models import ExternalTrainingStatus, HoursEntry

SOURCE_TYPE = "class_session"


# Sessions ---------------------------------------------------------------------


def offline_lessons(training_class: TrainingClass) -> list[Lesson]:
    """Return the offline lessons of the courses the class offers."""
    return [
        lesson
        for course in training_class.offered_courses
        for lesson in course.lessons
        if lesson.kind is LessonKind.OFFLINE
    ]


def _session_values(
    training_class: TrainingClass, data: dict, session: Optional[ClassSession] = None
) -> dict:
    """Validate session form values; raise ``AuthoringError`` naming each bad field.

    ``session`` is the session being edited, if any.
    """
    errors: dict[str, str] = {}
    values = {
        "title": text_field(data, "title", errors, max_length=200),
        "held_on": date_field(data, "held_on", errors),
        "length": enum_field(data, "length", SessionLength, errors),
        "place": text_field(data, "place", errors, max_length=200, required=False),
        "lesson_id": None,
    }
    raw_lesson = (data.get("lesson_id") or "").strip()
    if raw_lesson:
        lesson = next(
            (each for each in offline_lessons(training_class) if str(each.id) == raw_lesson),
            None,
        )
        if lesson is None:
            errors["lesson_id"] = _(
                "Choose an offline lesson of the class's courses, or none."
            )
        else:
            values["lesson_id"] = lesson.id

    held_on = values["held_on"]
    if held_on and not training_class.starts_on <= held_on <= training_class.ends_on:
        errors["held_on"] = _(
            "Choose a day from %(start)s to %(end)s, the period of the class.",
            start=format_date(training_class.starts_on),
            end=format_date(training_class.ends_on),
        )
    if "held_on" not in errors:
        problem = class_days.day_limit_problem(training_class, values, session)
        if problem:
            errors["held_on"] = problem
    if errors:
        raise AuthoringError(errors)
    return values


def add_session(training_class: TrainingClass, data: dict, by: User) -> ClassSession:
    """Add a session on a day within the class period."""
    values = _session_values(training_class, data)
    session = ClassSession(class_id=training_class.id, **values)
    db.session.add(session)
    db.session.flush()
    logger.info("Session %s of class %r added by %r", session.id, training_class, by)
    return session


def update_session(session: ClassSession, data: dict, by: User) -> None:
    """Change a session and bring its marks' ledger rows to the new length.

    The day is fixed once attendance is recorded, because the ledger rows
    carry it.
    """
    values = _session_values(session.training_class, data, session)
    if session.attendance and values["held_on"] != session.held_on:
        raise AuthoringError(
            {"held_on": _("Attendance is recorded for this session, so its day cannot change.")}
        )
    for field, value in values.items():
        setattr(session, field, value)
    db.session.flush()
    for attendance in session.attendance:
        sync_day(attendance)
        # NOTE: when the session changes to another lesson, completions of
        # the previous lesson that its marks made stay.
        sync_lesson(attendance)
    logger.info("Session %s changed by %r", session.id, by)


def delete_session(session: ClassSession, by: User) -> None:
    """Delete a session without marks, because marked sessions have ledger rows."""
    if session.attendance:
        raise AuthoringError(
            {"form": _("Attendance is recorded for this session, so it cannot be deleted.")}
        )
    db.session.delete(session)
    db.session.flush()
    logger.info("Session %s deleted by %r", session.id, by)



# Attendance -------------------------------------------------------------------


def sheet(session: ClassSession) -> list[tuple[User, Optional[Attendance]]]:
    """Return each enrolled member with their mark for ``session``, or None."""
    marks = {mark.user_id: mark for mark in session.attendance}
    members = members_in(session.training_class, MemberStatus.ENROLLED)
    people = [(member.user, marks.get(member.user_id)) for member in members]
    enrolled = {member.user_id for member in members}
    # People marked before they left the class keep their row on the sheet.
    people += [(mark.user, mark) for mark in session.attendance if mark.user_id not in enrolled]
    return people


def hours_earned(session: ClassSession, status: AttendanceStatus) -> Decimal:
    """Return the 学时 a mark of ``status`` earns at ``session``.

    A session that delivers an offline lesson earns none, because its time
    is credited with the course of the lesson.
    """
    if not status.earns_hours or session.lesson_id is not None:
        return Decimal(0)
    return hours_for(session.training_class, session.length)


def mark(session: ClassSession, user: User, status: AttendanceStatus, by: User) -> Attendance:
    """Record a mark and bring the ledger to what the mark earns.

    A new or changed mark is written to the audit log, because it decides
    the 学时 a person is credited.
    """
    lock_person_day(session, user)
    attendance = db.session.scalar(
        sa.select(Attendance).filter_by(session_id=session.id, user_id=user.id)
    )
    previous = attendance.status if attendance is not None else None
    if attendance is None:
        attendance = Attendance(
            session_id=session.id, user_id=user.id, status=status, credited_hours=Decimal(0)
        )
        try:
            with db.session.begin_nested():
                db.session.add(attendance)
        except sa.exc.IntegrityError:
            attendance = db.session.scalar(
                sa.select(Attendance).filter_by(session_id=session.id, user_id=user.id)
            )
    if previous is not status:
        attendance.status = status
        attendance.marked_by_id = by.id
        attendance.marked_at = now_utc()
        db.session.flush()
        audit.record(
            "class.attendance_marked", "class_attendance", attendance.id,
            f"{user.full_name}, {session.held_on.isoformat()} {session.title}: {status.value}",
            actor_id=by.id, institution_id=session.training_class.institution_id,
            data={"session_id": session.id, "status": status.value,
                  "previous": previous.value if previous else None},
        )
    sync_day(attendance)
    sync_lesson(attendance)
    return attendance


def _advisory_lock(name: str) -> None:
    """Take a transaction-level advisory lock named ``name`` on PostgreSQL."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def lock_person_class(training_class: TrainingClass, user: User) -> None:
    """Wait for other transactions that mark ``user`` in the class, until they commit.

    Whether a member is beyond the leave limit depends on all their marks
    in the class, so two sheets saved at once would each miss the other's
    absence. Taken before ``lock_person_day``, in ascending user id, like it.
    """
    _advisory_lock(f"shuren.leave:{training_class.id}:{user.id}")


def lock_person_day(session: ClassSession, user: User) -> None:
    """Wait for other transactions that mark ``user`` in any class on the session's date.

    Each mark's credit depends on what the person's other marks of that date
    credited, in this class or another (the daily cap), so two marks saved at
    once would each miss the other's credit. On PostgreSQL a
    transaction-level advisory lock makes them take turns until commit.
    SQLite needs none, because its writing requests start with BEGIN
    IMMEDIATE. Session edits and hour changes take no such lock.
    """
    _lock_person_date(user.id, session.held_on)


def _lock_person_date(user_id: int, day: date) -> None:
    _advisory_lock(f"shuren.attendance:{user_id}:{day.isoformat()}")


#: Statuses of a class whose sessions take place, so that marks may credit 学时.
RUNNING_STATUSES = (ClassStatus.OPEN, ClassStatus.CLOSED)


class ClassNotRunning(ValueError):
    """Attendance was marked in a draft or cancelled class."""


def check_class_running(training_class: TrainingClass) -> None:
    """Reject marks in a draft or cancelled class, because marks credit 学时 at once."""
    if training_class.status not in RUNNING_STATUSES:
        raise ClassNotRunning(training_class.status.value)


class SessionNotHeldYet(ValueError):
    """Attendance was marked for a session whose day has not come."""


def check_session_held(session: ClassSession, today: date) -> None:
    """Refuse marks before the session's day, because marks credit 学时 at once."""
    if session.held_on > today:
        raise SessionNotHeldYet(session.held_on.isoformat())


@dataclass
class SheetResult:
    """Outcome of ``mark_sheet``: the marks saved and the people ignored."""

    #: Number of marks recorded for people on the sheet.
    saved: int
    #: Ids of the people whose marks were ignored because they are not on the sheet.
    not_on_sheet: list[int]
    #: Members withdrawn because the marks took them beyond the leave limit.
    withdrawn: list[ClassMember] = dataclasses.field(default_factory=list)
    #: Members withdrawn for leave whom the marks brought within the limit again.
    reinstatable: list[ClassMember] = dataclasses.field(default_factory=list)


def mark_sheet(
    session: ClassSession, marks: dict[int, AttendanceStatus], by: User
) -> SheetResult:
    """Apply marks keyed by user id to the people on the sheet and ignore the rest.

    Raises ClassNotRunning, and saves no mark, unless the class is open or
    closed. Raises SessionNotHeldYet before the session's day in the
    institution's zone.
    """
    from lms.compliance.windows import local_today
    from lms.organisations.models import Institution

    check_class_running(session.training_class)
    institution = db.session.get(Institution, session.training_class.institution_id)
    check_session_held(session, local_today(institution))
    on_sheet = {user.id: user for user, _mark in sheet(session)}
    result = SheetResult(saved=0, not_on_sheet=[])
    # Marks take their per-person locks in ascending user id, so two sheets
    # of the same date cannot each hold one person's lock and wait for the other's.
    for user_id, status in sorted(marks.items()):
        user = on_sheet.get(user_id)
        if user is None:
            result.not_on_sheet.append(user_id)
            continue
        lock_person_class(session.training_class, user)
        mark(session, user, status, by)
        result.saved += 1
    marked = [user_id for user_id in marks if user_id in on_sheet]
    result.withdrawn = class_leave.enforce(session.training_class, by, marked)
    result.reinstatable = _now_within_limit(session.training_class, marked)
    logger.info(
        "Attendance of session %s: %d marks by %r, %d ignored for people off the sheet",
        session.id, result.saved, by, len(result.not_on_sheet),
    )
    return result


def _now_within_limit(training_class: TrainingClass, user_ids: list[int]) -> list[ClassMember]:
    """Return the people among ``user_ids`` withdrawn for leave but within the limit now."""
    members = [
        member for member in classes.members_in(training_class, MemberStatus.WITHDRAWN)
        if member.user_id in user_ids and class_leave.can_reinstate(member)
    ]
    by_user = class_leave.standings(training_class, [member.user_id for member in members])
    return [member for member in members if not by_user[member.user_id].over_limit]


def sync_hours(attendance: Attendance) -> None:
    """Append the ledger difference between the mark's hours and what was credited.

    A conditional update of ``credited_hours`` lets one request only write
    each difference, so a replayed or concurrent submission credits once.
    The mark earns at most what the person's other marks of the class on the
    same date leave of one full day.
    """
    db.session.refresh(attendance)
    target = min(
        hours_earned(attendance.session, attendance.status),
        class_days.day_allowance(attendance),
    )
    _credit(attendance, target)


def _credit(attendance: Attendance, target: Decimal) -> None:
    """Set the mark's credited 学时 to ``target`` and append the difference to the ledger."""
    session = attendance.session
    previous = Decimal(attendance.credited_hours)
    if target == previous:
        return
    result = db.session.execute(
        sa.update(Attendance)
        .where(Attendance.id == attendance.id, Attendance.credited_hours == previous)
        .values(credited_hours=target)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(attendance)
    if result.rowcount != 1:
        return
    days = _days(session, target) - _days(session, previous)
    _write_difference(session, attendance.user, target - previous, days)


def _days(session: ClassSession, hours: Decimal) -> Decimal:
    """Return the training days that ``hours`` of the class's sessions make up.

    One day is the class's full-day 学时, so a half-day session attended in
    full is half a day.
    """
    full_day = hours_for(session.training_class, SessionLength.FULL_DAY)
    return (Decimal(hours) / full_day).quantize(Decimal("0.1"))


def sync_day(attendance: Attendance) -> None:
    """Sync the mark's ledger rows, then those of the person's other marks that date.

    A mark that credits less frees room under the daily limit of one full
    day, which another mark of the same date, in this class or another, may
    then take.
    """
    sync_hours(attendance)
    for other in class_days.marks_on_same_day(attendance):
        sync_hours(other)


def sync_lesson(attendance: Attendance) -> None:
    """Bring the person's completion of the session's offline lesson in line with the mark.

    Present or late completes the lesson through ``services.complete_lesson``,
    so course and programme completion, their 学时 and certificates follow as
    for any lesson. A person who follows another version of the lesson's
    course has the matching lesson of that version completed instead
    (``followed_lesson``). Excused or absent removes the person's completion
    of the lesson, even one the learner recorded before offline lessons
    required attendance, unless another present or late mark covers the
    lesson or the course is already complete. A completed course keeps its
    completion, ledger rows, programme completion and certificate, because
    they may already be reported or printed.
    """
    session = attendance.session
    if session.lesson_id is None:
        return
    delivered = db.session.get(Lesson, session.lesson_id)
    user = attendance.user
    lesson = followed_lesson(user, delivered)
    if attendance.status.earns_hours:
        if lesson is None:
            logger.warning(
                "Lesson %s not completed for user %s, who follows no version of "
                "course %s with a matching offline lesson",
                delivered.id, user.id, delivered.course_id,
            )
            return
        services.complete_lesson(user, lesson, attended=True)
        return
    _withdraw_lesson(attendance, lesson or delivered)


def matching_lesson(lesson: Lesson, course: Course) -> Optional[Lesson]:
    """Return the offline lesson of ``course`` that corresponds to ``lesson``.

    ``course`` is another version of the lesson's course. A new version
    copies each lesson with its title, so the offline lesson with the same
    title matches. If no title matches but each version has exactly one
    offline lesson, those two match. Otherwise there is no match.
    """
    if course.id == lesson.course_id:
        return lesson
    candidates = [each for each in course.lessons if each.kind is LessonKind.OFFLINE]
    same_title = [each for each in candidates if each.title == lesson.title]
    if same_title:
        return same_title[0]
    offline_here = [each for each in lesson.course.lessons if each.kind is LessonKind.OFFLINE]
    if len(candidates) == 1 and len(offline_here) == 1:
        return candidates[0]
    return None


def followed_lesson(user: User, lesson: Lesson) -> Optional[Lesson]:
    """Return the offline lesson that ``user`` follows in place of ``lesson``.

    That is ``lesson`` itself when the person may open its course. Otherwise
    it is the matching lesson of the version that the person follows, such as
    the version that an enrolment kept when a trainer published a new one.
    None if the person follows no version with a matching lesson.
    """
    course = lesson.course
    if services.can_view_course(user, course):
        return lesson
    versions = db.session.scalars(
        sa.select(Course)
        .where(
            Course.institution_id == course.institution_id,
            Course.code == course.code,
            Course.id != course.id,
        )
        .order_by(Course.version.desc())
    )
    for version in versions:
        if services.can_view_course(user, version):
            return matching_lesson(lesson, version)
    return None


def _withdraw_lesson(attendance: Attendance, lesson: Lesson) -> None:
    user = attendance.user
    if services.find_completion(user, lesson.course) is not None:
        logger.info(
            "Lesson %s kept for user %s after a %s mark: course %s is already complete",
            lesson.id, user.id, attendance.status.value, lesson.course_id,
        )
        return
    other_marks = db.session.scalars(
        sa.select(Attendance)
        .join(ClassSession, ClassSession.id == Attendance.session_id)
        .where(
            ClassSession.lesson_id.is_not(None),
            Attendance.user_id == user.id,
            Attendance.id != attendance.id,
            Attendance.status.in_([AttendanceStatus.PRESENT, AttendanceStatus.LATE]),
        )
    )
    for other in other_marks:
        delivered = db.session.get(Lesson, other.session.lesson_id)
        if delivered.id == lesson.id or followed_lesson(user, delivered) is lesson:
            return
    removed = db.session.execute(
        sa.delete(LessonProgress).where(
            LessonProgress.user_id == user.id, LessonProgress.lesson_id == lesson.id
        )
    )
    if removed.rowcount:
        logger.info(
            "Completion of lesson %s removed for user %s after a %s mark at session %s",
            lesson.id, user.id, attendance.status.value, attendance.session_id,
        )


def training_of(training_class: TrainingClass) -> tuple[str, int]:
    """Return the (training_type, training_id) that the class's ledger rows carry.

    Members of a class that offers a programme are enrolled in it, and their
    course completions carry ("programme", id), so the class carries the same.
    """
    if training_class.programme_id is not None:
        return "programme", training_class.programme_id
    return "training_class", training_class.id


def _write_difference(
    session: ClassSession, user: User, difference: Decimal, days: Decimal
) -> None:
    training_class = session.training_class
    year = session.held_on.year
    root = db.session.scalar(
        sa.select(HoursEntry).filter_by(
            user_id=user.id, source_type=SOURCE_TYPE, source_id=session.id, year=year
        )
    )
    training_type, training_id = training_of(training_class)
    entry = HoursEntry(
        user_id=user.id,
        training_type=training_type,
        training_id=training_id,
        title=f"{training_class.title}：{session.title}",
        occurred_on=session.held_on,
        year=year,
        tier=training_class.tier,
        kind=training_class.kind,
        hours=difference,
        days=days,
    )
    if root is None:
        entry.source_type = SOURCE_TYPE
        entry.source_id = session.id
    else:
        # A correction nets against its root only within the root's tier,
        # kind and training, so it carries them even if the class changed.
        entry.corrects_id = root.id
        entry.tier, entry.kind = root.tier, root.kind
        entry.training_type, entry.training_id = root.training_type, root.training_id
    db.session.add(entry)
    db.session.flush()
    logger.info(
        "Ledger %+s 学时 for user %s, session %s", difference, user.id, session.id
    )


def resync_class(training_class: TrainingClass) -> None:
    """Bring every mark of the class in line after its hour conversion changed.

    Marks that now earn less are lowered first, so that the room they free
    under a person's daily limit is there when the other marks are raised.
    Otherwise a date with two half-day sessions could end below a full day
    after the hours went down.
    """
    marks = [
        attendance
        for session in training_class.sessions
        for attendance in session.attendance
    ]
    for attendance in marks:
        _lower_to_earned(attendance)
    for attendance in marks:
        sync_hours(attendance)


def resync_person_dates(user_id: int, first: date, last: date) -> None:
    """Bring the person's marks at sessions from ``first`` to ``last`` under the daily cap.

    Marks that now credit too much are lowered first, so that the room they
    free is there when the other marks are raised.
    """
    # NOTE: only dates that already hold a mark are locked, so a first mark
    # on another date, saved while this transaction is open, does not see
    # the training being approved and may credit a full day beside it.
    held = class_days.marks_between(user_id, first, last)
    for day in sorted({attendance.session.held_on for attendance in held}):
        _lock_person_date(user_id, day)
    marks = class_days.marks_between(user_id, first, last)
    for attendance in marks:
        db.session.refresh(attendance)
        target = min(
            hours_earned(attendance.session, attendance.status),
            class_days.day_allowance(attendance),
        )
        if target < attendance.credited_hours:
            _credit(attendance, target)
    for attendance in marks:
        sync_hours(attendance)


def _on_outside_hours_changed(
    sender, *, user_id: int, start_date: date, end_date: date
) -> None:
    """Listener: credit the sessions on the dates of a training approved or withdrawn elsewhere.

    The daily cap shares the days of overlapping trainings, so the sessions
    from the first to the last day of the approved trainings around those
    dates are synced.
    """
    shared = day_cap.shared_days(
        user_id, start_date, end_date, [ExternalTrainingStatus.APPROVED]
    )
    resync_person_dates(user_id, shared.first, shared.last)


def connect_listeners() -> None:
    signals.outside_hours_changed.connect(_on_outside_hours_changed, weak=False)


def _lower_to_earned(attendance: Attendance) -> None:
    """Lower the mark's credit to what its status earns at the session, if above."""
    db.session.refresh(attendance)
    earned = hours_earned(attendance.session, attendance.status)
    if earned < attendance.credited_hours:
        _credit(attendance, earned)


def marks_of(user: User, training_class: TrainingClass) -> dict[int, Attendance]:
    """Return the user's marks in the class, keyed by session id."""
    return {
        mark.session_id: mark
        for mark in db.session.scalars(
            sa.select(Attendance)
            .join(ClassSession, ClassSession.id == Attendance.session_id)
            .where(ClassSession.class_id == training_class.id, Attendance.user_id == user.id)
        )
    }


def credited_hours_by_user(training_class: TrainingClass) -> dict[int, Decimal]:
    """Return the 学时 credited to each person for this class's sessions."""
    rows = db.session.execute(
        sa.select(Attendance.user_id, sa.func.sum(Attendance.credited_hours))
        .join(ClassSession, ClassSession.id == Attendance.session_id)
        .where(ClassSession.class_id == training_class.id)
        .group_by(Attendance.user_id)
    )
    return {user_id: Decimal(total or 0) for user_id, total in rows}


@dataclass
class LessonDelivery:
    """Sessions and classes through which a person attends an offline lesson."""

    #: Sessions of the person's classes that deliver the lesson, by day.
    sessions: list[ClassSession]
    #: The person's classes that offer the lesson's course, in any version.
    classes: list[TrainingClass]


def lesson_delivery(user: User, lesson: Lesson) -> LessonDelivery:
    """Return the sessions and classes of ``user`` that concern an offline lesson.

    A session counts if it delivers ``lesson`` or the matching lesson of
    another version of its course (``matching_lesson``). Cancelled classes
    and places that are withdrawn or rejected are left out.
    """
    code = lesson.course.code
    candidates = db.session.scalars(
        sa.select(ClassSession)
        .join(TrainingClass, TrainingClass.id == ClassSession.class_id)
        .join(ClassMember, ClassMember.class_id == TrainingClass.id)
        .join(Lesson, Lesson.id == ClassSession.lesson_id)
        .join(Course, Course.id == Lesson.course_id)
        .where(
            Course.institution_id == lesson.course.institution_id,
            Course.code == code,
            ClassMember.user_id == user.id,
            ClassMember.status == MemberStatus.ENROLLED,
            TrainingClass.status != ClassStatus.CANCELLED,
        )
        .order_by(ClassSession.held_on, ClassSession.id)
    )
    sessions = [
        session
        for session in candidates
        if matching_lesson(session.lesson, lesson.course) is lesson
    ]
    offering = [
        member.training_class
        for member in memberships_of(user)
        if member.training_class.status is not ClassStatus.CANCELLED
        and any(course.code == code for course in member.training_class.offered_courses)
    ]
    return LessonDelivery(sessions=sessions, classes=offering)


def next_session(training_class: TrainingClass, today: date) -> Optional[ClassSession]:
    return next(
        (session for session in training_class.sessions if session.held_on >= today), None
    )
