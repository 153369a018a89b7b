"""Creating and editing training classes from trainer form values.

Functions take plain dicts of form values and raise ``AuthoringError`` with
one message per invalid field. They flush but never commit.
"""

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Optional

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from courses import class_leave, class_notices, logger, teachers
from courses.authoring import AuthoringError, optional_int, text_field
from courses.class_models import (
    Attendance,
    ClassMember,
    ClassSession,
    ClassStatus,
    EnrolmentMode,
    TrainingClass,
)
from courses.classes import (
    ACTIVE_STATES,
    ClassError,
    enrolled_count,
    members_in,
    promote_waiting,
    start_held_places,
)
from courses.models import Course, Programme, ProgrammeCourse, PublicationStatus
from lms import audit, labels
from lms.accounts.models import Role, User
from lms.extensions import db
from lms.compliance.windows import local_today
from lms.i18n import format_date
from lms.input_ranges import class_date_problem, typed_decimal
from lms.organisations.models import Institution
from lms.records.models import TrainingKind, TrainingTier

#: Largest value Numeric(4, 1) holds.
#: Most 学时 a full or half day of a class can earn: a day has 24 hours.
MAX_SESSION_HOURS = {"full_day_hours": Decimal(24), "half_day_hours": Decimal(12)}
_SESSION_HOURS_MESSAGES = {
    "full_day_hours": lambda: _(
        "Hours for a full-day session: enter a number above 0 and at most 24, e.g. 8."
    ),
    "half_day_hours": lambda: _(
        "Hours for a half-day session: enter a number above 0 and at most 12, e.g. 4."
    ),
}


def date_field(data: dict, field: str, errors: dict) -> Optional[date]:
    """Read a YYYY-MM-DD value; the caller checks the window of dates it accepts."""
    raw = (data.get(field) or "").strip()
    if not raw:
        errors[field] = _("This field is required.")
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        errors[field] = _("Enter a date as YYYY-MM-DD, e.g. 2026-09-01.")
        return None
    return value


def enum_field(data: dict, field: str, enum_cls, errors: dict, *, required=True):
    raw = (data.get(field) or "").strip()
    if not raw and not required:
        return None
    for member in enum_cls:
        if member.value == raw:
            return member
    errors[field] = _("Choose one of the listed values.")
    return None


def _hours_field(data: dict, field: str, errors: dict) -> Optional[Decimal]:
    raw = (data.get(field) or "").strip()
    if not raw:
        return None
    try:
        value = typed_decimal(raw)
        # NaN and infinity parse, but no comparison or quantize accepts them.
        if value is None or not value.is_finite():
            raise InvalidOperation(raw)
        value = value.quantize(Decimal("0.1"))
    except InvalidOperation:
        errors[field] = _("Enter a number of hours, e.g. 8 or 3.5.")
        return None
    if value <= 0 or value > MAX_SESSION_HOURS[field]:
        errors[field] = _SESSION_HOURS_MESSAGES[field]()
        return None
    return value


def _check_plausible_dates(
    values: dict, institution_id: int, current: Optional[TrainingClass], errors: dict
) -> None:
    """Reject a new or changed start or end date far in the past or future.

    A stored date that is sent back unchanged is kept, so an old class can
    still be edited.
    """
    today = local_today(db.session.get(Institution, institution_id))
    labels = {"starts_on": _("Start date"), "ends_on": _("End date")}
    for field, label in labels.items():
        value = values[field]
        if value is None or (current is not None and getattr(current, field) == value):
            continue
        problem = class_date_problem(value, today, label)
        if problem:
            errors[field] = problem


def _check_capacity(capacity: Optional[int], current: Optional[TrainingClass], errors: dict) -> None:
    """Reject a capacity below the number of people the class already enrols."""
    if capacity is None or current is None or "capacity" in errors:
        return
    enrolled = enrolled_count(current)
    if capacity < enrolled:
        errors["capacity"] = ngettext(
            "%(num)d person is enrolled already. Set the capacity to at least "
            "%(num)d, or remove people from the roster first.",
            "%(num)d people are enrolled already. Set the capacity to at least "
            "%(num)d, or remove people from the roster first.",
            enrolled,
        )


def _check_session_hours(values: dict, errors: dict) -> None:
    """Reject half-day hours above full-day hours, counting a blank as the default."""
    if "full_day_hours" in errors or "half_day_hours" in errors:
        return
    full = values["full_day_hours"]
    half = values["half_day_hours"]
    if full is None:
        full = Decimal(str(current_app.config["CLASS_FULL_DAY_HOURS"]))
    if half is None:
        half = Decimal(str(current_app.config["CLASS_HALF_DAY_HOURS"]))
    if half > full:
        errors["half_day_hours"] = _(
            "A half day cannot earn more hours (%(half)s) than a full day (%(full)s). "
            "Lower the half-day hours or raise the full-day hours.",
            half=half,
            full=full,
        )


def has_attendance(training_class: TrainingClass) -> bool:
    """Return whether any session of the class has an attendance mark."""
    marked = db.session.scalar(
        sa.select(Attendance.id)
        .join(ClassSession, ClassSession.id == Attendance.session_id)
        .where(ClassSession.class_id == training_class.id)
        .limit(1)
    )
    return marked is not None


def _check_ledger_fields(values: dict, current: Optional[TrainingClass], errors: dict) -> None:
    """Reject a new tier or kind once attendance is recorded.

    Marks have credited ledger rows that carry the class's tier and kind,
    and corrections of those rows must carry the same, so that rules for
    one tier never net rows of another.
    """
    if current is None or not has_attendance(current):
        return
    tier, kind = values["tier"], values["kind"]
    if tier is not None and tier is not current.tier:
        errors["tier"] = _(
            "Attendance is already recorded in this class, and its hours are credited "
            "as %(tier)s training, so the tier cannot change. Keep %(tier)s, or "
            "create a new class for training at another tier.",
            tier=labels.label(current.tier),
        )
    if "kind" not in errors and kind is not current.kind:
        errors["kind"] = _kind_fixed_message(current.kind)


def _kind_fixed_message(kind: Optional[TrainingKind]) -> str:
    if kind is None:
        return _(
            "Attendance is already recorded in this class, and its hours are credited "
            "without a kind, so the kind cannot change. Leave it empty, or create a "
            "new class for training of another kind."
        )
    return _(
        "Attendance is already recorded in this class, and its hours are credited "
        "as %(kind)s, so the kind cannot change. Keep %(kind)s, or create a new "
        "class for training of another kind.",
        kind=labels.label(kind),
    )


def _offering(data: dict, institution_id: int, errors: dict):
    """Return (programme, course) named by the "offering" field, "p:<id>" or "c:<id>"."""
    raw = (data.get("offering") or "").strip()
    kind, _sep, raw_id = raw.partition(":")
    model = {"p": Programme, "c": Course}.get(kind)
    row = None
    if model is not None and raw_id.isdigit():
        row = db.session.get(model, int(raw_id))
    if row is None or row.institution_id != institution_id:
        errors["offering"] = _("Choose a programme or a course of your institution.")
        return None, None
    if row.status is not PublicationStatus.PUBLISHED:
        errors["offering"] = _("Publish the programme or course before offering it.")
        return None, None
    return (row, None) if model is Programme else (None, row)


def offering_value(training_class: TrainingClass) -> str:
    """Return the "offering" field value naming what the class offers."""
    if training_class.programme_id is not None:
        return f"p:{training_class.programme_id}"
    return f"c:{training_class.course_id}"


def _offered_title(training_class: TrainingClass) -> str:
    offered = training_class.programme or training_class.course
    return offered.title


def _check_offering_kept(data: dict, current: TrainingClass, errors: dict) -> None:
    """Reject another offering for a class that has people on its roster.

    Members are enrolled in what the class offers, and their progress and
    any attendance belong to it. A form without the field keeps the offering.
    """
    raw = (data.get("offering") or "").strip()
    if not raw or raw == offering_value(current):
        return
    errors["offering"] = _(
        "People are already on the roster of this class, so what it offers cannot "
        "change. Keep %(title)s, or create a new class for the other programme or "
        "course.",
        title=_offered_title(current),
    )


def _check_lesson_sessions(
    values: dict, current: Optional[TrainingClass], errors: dict
) -> None:
    """Reject an offering without the offline lessons that sessions deliver."""
    if current is None or "offering" in errors:
        return
    programme = values["programme"]
    offered = [link.course for link in programme.courses] if programme else [values["course"]]
    lesson_ids = {lesson.id for course in offered for lesson in course.lessons}
    stranded = [
        session for session in current.sessions
        if session.lesson_id is not None and session.lesson_id not in lesson_ids
    ]
    if stranded:
        errors["offering"] = _(
            "The session %(session)s on %(day)s delivers an offline lesson of what "
            "the class offers now. Change or delete that session first.",
            session=stranded[0].title,
            day=format_date(stranded[0].held_on),
        )


def _trainers(data: dict, institution_id: int, errors: dict) -> list[User]:
    ids = [int(raw) for raw in data.get("trainer_ids", []) if str(raw).isdigit()]
    trainers = list(
        db.session.scalars(
            sa.select(User).where(
                User.id.in_(ids),
                User.institution_id == institution_id,
                User.role.in_([Role.TRAINER, Role.ADMIN]),
            )
        )
    ) if ids else []
    if not trainers:
        errors["trainer_ids"] = _("Choose at least one trainer of your institution.")
    return trainers


def _check_editor_stays(trainers: list[User], editor: User, errors: dict) -> None:
    """Reject a trainer's save that leaves them off the class's trainers.

    A trainer manages only the classes they train, so the save would take
    away their access to the class. An administrator may hand a class over.
    """
    if "trainer_ids" in errors or editor.role is not Role.TRAINER:
        return
    if any(trainer.id == editor.id for trainer in trainers):
        return
    errors["trainer_ids"] = _(
        "Tick yourself as well. Only the class's trainers and administrators manage "
        "a class, so without you on this list you could no longer edit it or record "
        "its attendance. To hand the class over, ask an administrator."
    )


def offered_courses(programme: Optional[Programme], course: Optional[Course]) -> list[Course]:
    """Return the courses an offering gives its class's trainers to grade."""
    if programme is not None:
        return [link.course for link in programme.courses]
    return [course] if course is not None else []


def _foreign_course(
    editor: User, programme: Optional[Programme], course: Optional[Course]
) -> Optional[Course]:
    """Return the first offered course whose co-teachers ``editor`` may not manage, or None."""
    codes = teachers.managed_codes(editor)
    for offered in offered_courses(programme, course):
        if offered.institution_id != editor.institution_id or offered.code not in codes:
            return offered
    return None


def _codes_by_programme(programmes: list[Programme]) -> dict[int, set[str]]:
    """Return the course codes of each programme, read in one query."""
    found: dict[int, set[str]] = {programme.id: set() for programme in programmes}
    rows = db.session.execute(
        sa.select(ProgrammeCourse.programme_id, Course.code)
        .join(Course, Course.id == ProgrammeCourse.course_id)
        .where(ProgrammeCourse.programme_id.in_(list(found)))
    )
    for programme_id, code in rows:
        found[programme_id].add(code)
    return found


def _not_offerable_message(programme: Optional[Programme], foreign: Course) -> str:
    """Explain why the chosen offering is rejected, naming a course the editor does not author."""
    if programme is None:
        return _(
            "You can offer only courses you author, because the trainers of a class "
            "grade what it offers. Choose one of your courses, or ask an administrator "
            "to set up a class for %(title)s.",
            title=foreign.title,
        )
    return _(
        "You can offer a programme only when you author each of its courses, because "
        "the trainers of a class grade them. You do not author %(course)s of "
        "%(title)s. Choose a programme or course of your own, or ask an administrator "
        "to set up a class for %(title)s.",
        course=foreign.title,
        title=programme.title,
    )


def _locked_offering_message(current: TrainingClass, foreign: Course) -> str:
    """Explain that only an administrator changes what a class of others' courses offers."""
    if current.programme is None:
        return _(
            "This class offers %(title)s, which you do not author, so only an "
            "administrator can change what it offers. Keep %(title)s, or ask an "
            "administrator to change it.",
            title=foreign.title,
        )
    return _(
        "This class offers %(title)s, and you do not author its course %(course)s, so "
        "only an administrator can change what it offers. Keep %(title)s, or ask an "
        "administrator to change it.",
        title=current.programme.title,
        course=foreign.title,
    )


def _locked_trainers_message(current: TrainingClass, foreign: Course) -> str:
    """Explain that only an administrator changes who trains a class of others' courses."""
    if current.programme is None:
        return _(
            "The trainers of this class grade %(title)s, which you do not author, so "
            "only an administrator can change who trains it. Keep the trainers as they "
            "were, or ask an administrator to change them.",
            title=foreign.title,
        )
    return _(
        "The trainers of this class grade the courses of %(title)s, and you do not "
        "author %(course)s, so only an administrator can change who trains it. Keep "
        "the trainers as they were, or ask an administrator to change them.",
        title=current.programme.title,
        course=foreign.title,
    )


def _trainers_changed(data: dict, current: TrainingClass) -> bool:
    """Return whether the submitted trainer ids differ from the class's trainers."""
    submitted = {int(raw) for raw in data.get("trainer_ids", []) if str(raw).isdigit()}
    return submitted != {trainer.id for trainer in current.trainers}


def _check_offering_rights(
    data: dict, values: dict, current: Optional[TrainingClass], editor: User, errors: dict
) -> None:
    """Reject an offering or trainer change that the editor may not make.

    The trainers of a class teach what it offers, so they grade its learners'
    work (``courses.teaching``). A trainer chooses an offering only when they
    may add co-teachers to each of its courses (``teachers.may_manage`` is true
    for the author of any version). On an existing class, the same applies to
    the current offering before a trainer changes the offering or the trainers.
    Values sent back unchanged pass, so such a trainer still edits the other
    fields. Administrators of the institution may offer anything.

    A course added later to an offered programme passes
    ``check_programme_addition``, and new versions are drafted only by their
    course's authors and administrators, so later changes keep to the rule.
    """
    if editor.role is Role.ADMIN:
        return
    new_offering = values.get("programme"), values.get("course")
    if current is None:
        foreign = _foreign_course(editor, *new_offering)
        if "offering" not in errors and foreign is not None:
            errors["offering"] = _not_offerable_message(new_offering[0], foreign)
        return
    raw = (data.get("offering") or "").strip()
    offering_changed = bool(raw) and raw != offering_value(current)
    trainers_changed = _trainers_changed(data, current)
    if not offering_changed and not trainers_changed:
        return
    foreign_now = _foreign_course(editor, current.programme, current.course)
    if offering_changed and "offering" not in errors:
        foreign_new = _foreign_course(editor, *new_offering)
        if foreign_now is not None:
            errors["offering"] = _locked_offering_message(current, foreign_now)
        elif foreign_new is not None:
            errors["offering"] = _not_offerable_message(new_offering[0], foreign_new)
    if trainers_changed and foreign_now is not None and "trainer_ids" not in errors:
        errors["trainer_ids"] = _locked_trainers_message(current, foreign_now)


def check_programme_addition(programme: Programme, course: Course, actor: User) -> None:
    """Reject adding ``course`` to a programme that a class offers, unless ``actor`` may.

    The trainers of a class that offers a programme teach each of its
    courses, so adding a course to such a programme makes them its graders.
    That choice belongs to the people who may add co-teachers to the course:
    its author (of any version) and the administrators. A programme that no class
    offers takes any course; a class offering it later passes
    ``_check_offering_rights``.
    """
    if actor.role is Role.ADMIN or teachers.may_manage(actor, course):
        return
    offered = db.session.scalar(
        sa.select(sa.exists().where(
            TrainingClass.programme_id == programme.id,
            TrainingClass.status != ClassStatus.CANCELLED,
        ))
    )
    if offered:
        raise AuthoringError({
            "course_id": _(
                "Training classes offer %(programme)s, and their trainers grade each of"
                " its courses, so only the author of %(course)s or an administrator can"
                " add it. Ask its author or an administrator to add it.",
                programme=programme.title,
                course=course.title,
            )
        })


def offer_choices(
    editor: User,
    programmes: list[Programme],
    courses: list[Course],
    current: Optional[TrainingClass] = None,
) -> tuple[list[Programme], list[Course]]:
    """Return the programmes and courses the class form lists for ``editor``.

    Administrators get every one. A trainer gets those that
    ``_check_offering_rights`` accepts, and on an existing class also its
    current offering, so the form posts it back unchanged. When that current
    offering contains a course the trainer does not author, it is the only
    choice, because any other is rejected.
    """
    if editor.role is Role.ADMIN:
        return programmes, courses
    if current is not None and _foreign_course(editor, current.programme, current.course):
        return (
            [p for p in programmes if p.id == current.programme_id],
            [c for c in courses if c.id == current.course_id],
        )
    codes = teachers.managed_codes(editor)
    programme_codes = _codes_by_programme(programmes)
    kept_programmes = [
        p for p in programmes
        if programme_codes[p.id] <= codes
        or (current is not None and p.id == current.programme_id)
    ]
    kept_courses = [
        c for c in courses
        if c.code in codes or (current is not None and c.id == current.course_id)
    ]
    return kept_programmes, kept_courses


def offering_locked(editor: User, training_class: Optional[TrainingClass]) -> bool:
    """Return whether only an administrator may change the class's offering and trainers."""
    if training_class is None or editor.role is Role.ADMIN:
        return False
    foreign = _foreign_course(editor, training_class.programme, training_class.course)
    return foreign is not None


def _validate(
    data: dict, institution_id: int, current: Optional[TrainingClass], editor: User
) -> dict:
    errors: dict[str, str] = {}
    values = {
        "code": text_field(data, "code", errors, max_length=64),
        "title": text_field(data, "title", errors, max_length=200),
        "summary": text_field(data, "summary", errors, max_length=5000, required=False),
        "starts_on": date_field(data, "starts_on", errors),
        "ends_on": date_field(data, "ends_on", errors),
        "capacity": optional_int(data, "capacity", errors, minimum=1, maximum=100000),
        "enrolment_mode": enum_field(data, "enrolment_mode", EnrolmentMode, errors),
        "tier": enum_field(data, "tier", TrainingTier, errors),
        "kind": enum_field(data, "kind", TrainingKind, errors, required=False),
        "full_day_hours": _hours_field(data, "full_day_hours", errors),
        "half_day_hours": _hours_field(data, "half_day_hours", errors),
    }
    values["off_the_job"] = bool(data.get("off_the_job"))
    try:
        values["leave_limit"] = class_leave.parse_limit(
            data.get("leave_limit", ""), values["off_the_job"]
        )
    except class_leave.LimitError as error:
        errors["leave_limit"] = str(error)
    _check_plausible_dates(values, institution_id, current, errors)
    _check_capacity(values["capacity"], current, errors)
    _check_session_hours(values, errors)
    _check_ledger_fields(values, current, errors)
    if " " in values["code"]:
        errors["code"] = _("Use a code without spaces, e.g. 2026-03-organiser.")
    starts, ends = values["starts_on"], values["ends_on"]
    if starts and ends and ends < starts:
        errors["ends_on"] = _("The end date must not be before the start date.")
    elif starts and ends and current is not None:
        outside = [s for s in current.sessions if not starts <= s.held_on <= ends]
        if outside:
            errors["ends_on"] = _(
                "The session on %(day)s would fall outside the period. Move or delete it first.",
                day=format_date(outside[0].held_on),
            )
    clash = db.session.scalar(
        sa.select(TrainingClass.id).where(
            TrainingClass.institution_id == institution_id,
            TrainingClass.code == values["code"],
            TrainingClass.id != (current.id if current else 0),
        )
    )
    if clash is not None:
        errors["code"] = _("The code %(code)s is already used by another class.", code=values["code"])
    if current is None or not current.members:
        values["programme"], values["course"] = _offering(data, institution_id, errors)
        _check_lesson_sessions(values, current, errors)
    else:
        _check_offering_kept(data, current, errors)
    values["trainers"] = _trainers(data, institution_id, errors)
    _check_editor_stays(values["trainers"], editor, errors)
    _check_offering_rights(data, values, current, editor, errors)
    if errors:
        raise AuthoringError(errors)
    return values


def create_class(data: dict, author: User) -> TrainingClass:
    """Create a draft class of the author's institution from form values."""
    values = _validate(data, author.institution_id, None, author)
    training_class = TrainingClass(institution_id=author.institution_id)
    _apply(training_class, values)
    db.session.add(training_class)
    db.session.flush()
    logger.info("Class %r created by %r", training_class, author)
    audit.record(
        "class.created", "training_class", training_class.id,
        f"{training_class.code} {training_class.title}",
        actor_id=author.id, institution_id=training_class.institution_id,
    )
    return training_class


def update_class(training_class: TrainingClass, data: dict, editor: User) -> None:
    """Change a class, and promote people from the waiting list if the capacity rose.

    The offered programme or course is fixed once the class has members.
    """
    values = _validate(data, training_class.institution_id, training_class, editor)
    _apply(training_class, values)
    db.session.flush()
    promote_waiting(training_class)
    logger.info("Class %r changed by %r", training_class, editor)


def _apply(training_class: TrainingClass, values: dict) -> None:
    for field in (
        "code", "title", "summary", "starts_on", "ends_on", "capacity",
        "enrolment_mode", "tier", "kind", "full_day_hours", "half_day_hours",
    ):
        setattr(training_class, field, values[field])
    training_class.off_the_job = values["off_the_job"]
    limit = values["leave_limit"]
    training_class.leave_limit_num = limit.numerator if limit is not None else None
    training_class.leave_limit_den = limit.denominator if limit is not None else None
    if "programme" in values:
        training_class.programme = values["programme"]
        training_class.course = values["course"]
    training_class.trainers = values["trainers"]


def can_return_to_draft(training_class: TrainingClass) -> bool:
    """Return whether the class may become a draft again: only if nobody was ever placed in it.

    Opening a class enrols and notifies its members, while a draft is hidden
    from them and takes no attendance.
    """
    if training_class.status is ClassStatus.DRAFT:
        return True
    has_members = db.session.scalar(
        sa.select(sa.exists().where(ClassMember.class_id == training_class.id))
    )
    return not has_members


def set_status(training_class: TrainingClass, status: ClassStatus, editor: User) -> None:
    """Move a class to ``status``. A cancelled class takes no further change.

    A draft that opens or closes enrols the people placed in it into its
    programme and notifies them (``classes.start_held_places``).
    """
    if training_class.status is ClassStatus.CANCELLED:
        raise ClassError("cancelled")
    if status is ClassStatus.DRAFT and not can_return_to_draft(training_class):
        raise ClassError("draft_after_start")
    before = training_class.status
    training_class.status = status
    db.session.flush()
    if before is ClassStatus.DRAFT and status in (ClassStatus.OPEN, ClassStatus.CLOSED):
        start_held_places(training_class)
    if before is not ClassStatus.DRAFT and status is ClassStatus.CANCELLED:
        # People placed in a draft were never notified, so cancelling a draft notifies nobody.
        for member in members_in(training_class, *ACTIVE_STATES):
            class_notices.announce_cancellation(member)
    logger.info("Class %r set to %s by %r", training_class, status.value, editor)
    if status is not before:
        audit.record(
            "class.status_changed", "training_class", training_class.id,
            f"{training_class.code} {training_class.title}",
            actor_id=editor.id, institution_id=training_class.institution_id,
            data={"from": before.value, "to": status.value},
        )
