"""Trainer authoring of programmes, courses and lessons: validation and writes.

Functions take plain dicts of form values and raise ``AuthoringError`` with
one message per invalid field. They flush but never commit; views commit.
"""

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import nh3
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from courses import logger
from courses.models import (
    Course,
    Enrolment,
    Lesson,
    LessonKind,
    LessonProgress,
    Programme,
    ProgrammeCourse,
    PublicationStatus,
    TargetLevel,
)
from lms import audit
from lms.accounts.models import User
from lms.competencies.models import (
    CompetencyItem,
    Framework,
    FrameworkStatus,
    FunctionalArea,
    Level,
)
from lms.competencies.services import unassignable
from lms.extensions import db
from lms.organisations.models import Institution
from lms.records.models import TrainingKind, TrainingTier
from lms.seed import LESSON_TAGS

#: Tags a trainer may use in a text lesson: the seed's tags plus links.
AUTHORING_TAGS = LESSON_TAGS | {"a", "h4"}
#: Link schemes kept in lesson HTML; nh3 drops any other href, e.g. javascript:.
LINK_SCHEMES = {"http", "https", "mailto"}
#: Lesson kinds a trainer can create; file lessons need uploads, not built yet.
AUTHORED_LESSON_KINDS = (LessonKind.TEXT, LessonKind.VIDEO, LessonKind.OFFLINE)
#: Largest value Numeric(5, 1) holds.
MAX_CREDIT_HOURS = Decimal("9999.9")
MAX_LESSON_MINUTES = 24 * 60
#: The browser's datetime-local format, read in the institution's time zone.
SESSION_TIME_FORMAT = "%Y-%m-%dT%H:%M"


class AuthoringError(Exception):
    """Invalid input or a rejected change; ``errors`` maps field name to message.

    The key ``"form"`` is used for a rule that concerns no single field.
    """

    def __init__(self, errors: dict[str, str]):
        super().__init__(
            "; ".join(f"{field}: {message}" for field, message in errors.items())
        )
        self.errors = errors


def reject(message: str, field: str = "form") -> AuthoringError:
    return AuthoringError({field: message})


# Listing ------------------------------------------------------------------


def programmes_of(institution_id: int) -> list[Programme]:
    """Return every programme of the institution, in any status, by code."""
    return list(
        db.session.scalars(
            sa.select(Programme)
            .where(Programme.institution_id == institution_id)
            .order_by(Programme.code)
        )
    )


def courses_of(institution_id: int) -> list[Course]:
    """Return every course of the institution, in any status, by code."""
    return list(
        db.session.scalars(
            sa.select(Course)
            .where(Course.institution_id == institution_id)
            .order_by(Course.code)
        )
    )


def competency_choices(keep_ids=()) -> list[tuple[Level, list[CompetencyItem]]]:
    """Return the items a course may take, grouped by level and ordered by area.

    Those are the items of published frameworks plus ``keep_ids``, the items
    the course already has, which stay listed after their framework retires.
    """
    keep = {int(each) for each in keep_ids if str(each).isdigit()}
    items = db.session.scalars(
        sa.select(CompetencyItem)
        .join(Framework, Framework.id == CompetencyItem.framework_id)
        .where(
            sa.or_(
                Framework.status == FrameworkStatus.PUBLISHED,
                CompetencyItem.id.in_(keep),
            )
        )
        .join(Level, Level.id == CompetencyItem.level_id)
        .join(FunctionalArea, FunctionalArea.id == CompetencyItem.area_id)
        .order_by(Level.framework_id, Level.position, FunctionalArea.position)
    )
    groups: dict[int, tuple[Level, list[CompetencyItem]]] = {}
    for item in items:
        groups.setdefault(item.level_id, (item.level, []))[1].append(item)
    return list(groups.values())


# Field parsing --------------------------------------------------------------


def text_field(
    data: dict, field: str, errors: dict, *, max_length: int, required: bool = True
) -> str:
    value = (data.get(field) or "").strip()
    if required and not value:
        errors[field] = _("This field is required.")
    elif len(value) > max_length:
        errors[field] = _("Enter at most %(max)d characters.", max=max_length)
    return value


def _enum(data: dict, field: str, enum_cls, errors: dict, allowed=None):
    raw = (data.get(field) or "").strip()
    members = allowed or list(enum_cls)
    for member in members:
        if member.value == raw:
            return member
    errors[field] = _("Choose one of the listed values.")
    return None


def optional_int(
    data: dict, field: str, errors: dict, *, minimum: int, maximum: int
) -> int | None:
    raw = (data.get(field) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        errors[field] = _("Enter a whole number.")
        return None
    if not minimum <= value <= maximum:
        errors[field] = _(
            "Enter a number from %(min)d to %(max)d.", min=minimum, max=maximum
        )
        return None
    return value


def required_int(
    data: dict, field: str, errors: dict, *, minimum: int, maximum: int
) -> int | None:
    if not (data.get(field) or "").strip():
        errors[field] = _("This field is required.")
        return None
    return optional_int(data, field, errors, minimum=minimum, maximum=maximum)


def _code(data: dict, errors: dict) -> str:
    code = text_field(data, "code", errors, max_length=64)
    if code and any(character.isspace() for character in code):
        errors["code"] = _("The code cannot contain spaces.")
    return code


def _flush_new_code(code: str) -> None:
    """Flush a programme or course whose code passed the uniqueness check.

    A concurrent request can take the same code between the check and the
    insert. The unique constraint then fails, and the trainer gets the
    same message as for a code that was already taken.
    """
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        logger.info("Code %r taken concurrently: %s", code, error.orig)
        raise reject(
            _("The code %(code)s is already in use.", code=code), "code"
        ) from error


# Programmes -----------------------------------------------------------------


def _programme_code_taken(
    institution_id: int, code: str, exclude_id: int | None
) -> bool:
    query = sa.select(Programme.id).where(
        Programme.institution_id == institution_id, Programme.code == code
    )
    if exclude_id is not None:
        query = query.where(Programme.id != exclude_id)
    return db.session.scalar(query) is not None


def save_programme(
    institution_id: int, data: dict, actor: User, programme: Programme | None = None
) -> Programme:
    """Create a draft programme, or update ``programme``, from form values."""
    errors: dict[str, str] = {}
    code = _code(data, errors)
    title = text_field(data, "title", errors, max_length=200)
    summary = text_field(data, "summary", errors, max_length=10000, required=False)
    audience = text_field(data, "audience", errors, max_length=200, required=False)
    tier = _enum(data, "tier", TrainingTier, errors)
    kind = _enum(data, "kind", TrainingKind, errors)
    level = _enum(data, "level", TargetLevel, errors)
    validity = optional_int(
        data, "certificate_validity_months", errors, minimum=1, maximum=600
    )
    exclude_id = programme.id if programme is not None else None
    if (
        code
        and "code" not in errors
        and _programme_code_taken(institution_id, code, exclude_id)
    ):
        errors["code"] = _(
            "A programme with the code %(code)s already exists.", code=code
        )
    if errors:
        raise AuthoringError(errors)

    created = programme is None
    if programme is None:
        programme = Programme(
            institution_id=institution_id, status=PublicationStatus.DRAFT
        )
        db.session.add(programme)
    programme.code = code
    programme.title = title
    programme.summary = summary
    programme.audience = audience
    programme.tier = tier
    programme.kind = kind
    programme.level = level
    programme.certificate_validity_months = validity
    _flush_new_code(code)
    logger.info(
        "Programme %r %s by %r", programme, "created" if created else "updated", actor
    )
    return programme


def has_enrolments(programme: Programme) -> bool:
    return (
        db.session.scalar(
            sa.select(Enrolment.id).filter_by(programme_id=programme.id).limit(1)
        )
        is not None
    )


def add_course(
    programme: Programme, course: Course, required: bool, actor: User
) -> ProgrammeCourse:
    """Append ``course`` to the programme's course list."""
    if course.institution_id != programme.institution_id:
        raise reject(_("Choose a course of your institution."), "course_id")
    if any(link.course_id == course.id for link in programme.courses):
        raise reject(
            _("The course %(code)s is already in this programme.", code=course.code),
            "course_id",
        )
    if (
        programme.status is PublicationStatus.PUBLISHED
        and course.status is not PublicationStatus.PUBLISHED
    ):
        raise reject(
            _(
                "The programme is published, so only published courses can be added;"
                " publish %(code)s first.",
                code=course.code,
            ),
            "course_id",
        )
    if course.status is PublicationStatus.ARCHIVED:
        raise reject(
            _("The course %(code)s is archived and cannot be added.", code=course.code),
            "course_id",
        )
    position = max((link.position for link in programme.courses), default=0) + 1
    link = ProgrammeCourse(course_id=course.id, position=position, required=required)
    programme.courses.append(link)
    db.session.flush()
    logger.info("Course %r added to %r by %r", course, programme, actor)
    return link


def _reject_if_enrolled(programme: Programme, action: str) -> None:
    if has_enrolments(programme):
        raise reject(
            _(
                "Learners are enrolled in this programme, so you cannot %(action)s:"
                " it would change their completion rules.",
                action=action,
            )
        )


def remove_course(programme: Programme, link: ProgrammeCourse, actor: User) -> None:
    """Remove a course from a programme that has no enrolments, then renumber."""
    _reject_if_enrolled(programme, _("remove a course"))
    course = link.course
    programme.courses.remove(link)
    db.session.flush()
    renumber(programme.courses)
    logger.info("Course %r removed from %r by %r", course, programme, actor)


def set_required(
    programme: Programme, link: ProgrammeCourse, required: bool, actor: User
) -> None:
    """Mark a course of the programme as required or elective."""
    if link.required == required:
        return
    _reject_if_enrolled(programme, _("change whether a course is required"))
    link.required = required
    db.session.flush()
    logger.info(
        "Course %r set %s in %r by %r",
        link.course,
        "required" if required else "elective",
        programme,
        actor,
    )


def move(rows: list, row, direction: str, actor: User) -> bool:
    """Swap ``row`` with its neighbour in ``rows`` (ordered by ``position``).

    ``direction`` is "up" or "down". Returns False when the row is already
    first or last. Positions are unique per parent, so the row passes through
    a free position (0) while the two swap.
    """
    if direction not in ("up", "down"):
        raise reject(_("Choose to move up or down."), "direction")
    index = rows.index(row)
    other_index = index - 1 if direction == "up" else index + 1
    if not 0 <= other_index < len(rows):
        return False
    other = rows[other_index]
    first, second = row.position, other.position
    row.position = 0
    db.session.flush()
    other.position = first
    db.session.flush()
    row.position = second
    db.session.flush()
    logger.info(
        "%s %s moved %s to position %s by %r",
        type(row).__name__,
        row.id,
        direction,
        second,
        actor,
    )
    return True


def renumber(rows: list) -> None:
    """Give ``rows`` the positions 1..n in their current order, one at a time."""
    for number, row in enumerate(sorted(rows, key=lambda each: each.position), start=1):
        if row.position != number:
            row.position = number
            db.session.flush()


def publish_programme(programme: Programme, actor: User) -> None:
    """Open a draft or archived programme for enrolment.

    Every course in it must be published, so an enrolled learner never meets
    a course that is still being written.
    """
    if programme.status is PublicationStatus.PUBLISHED:
        raise reject(_("This programme is already published."))
    if not programme.courses:
        raise reject(
            _("Add at least one published course before publishing the programme.")
        )
    unpublished = [
        link.course.code
        for link in programme.courses
        if link.course.status is not PublicationStatus.PUBLISHED
    ]
    if unpublished:
        raise reject(
            _(
                "Publish these courses first: %(codes)s.",
                codes=", ".join(unpublished),
            )
        )
    _set_status(programme, "programme", PublicationStatus.PUBLISHED, actor)


def archive_programme(programme: Programme, actor: User) -> None:
    """Close a published programme to new enrolments; enrolled learners keep access."""
    if programme.status is not PublicationStatus.PUBLISHED:
        raise reject(_("Only a published programme can be archived."))
    _set_status(programme, "programme", PublicationStatus.ARCHIVED, actor)


def _set_status(
    subject, subject_type: str, status: PublicationStatus, actor: User
) -> None:
    previous = subject.status
    subject.status = status
    db.session.flush()
    verb = "published" if status is PublicationStatus.PUBLISHED else "archived"
    logger.info("%s %r %s by %r", subject_type.capitalize(), subject, verb, actor)
    audit.record(
        f"{subject_type}.{verb}",
        subject_type,
        subject.id,
        f"{subject.code} {subject.title}",
        actor_id=actor.id,
        institution_id=subject.institution_id,
        data={"from": previous.value, "to": status.value},
    )


# Courses ----------------------------------------------------------------------


def _course_code_taken(institution_id: int, code: str, exclude_id: int | None) -> bool:
    query = sa.select(Course.id).where(
        Course.institution_id == institution_id, Course.code == code
    )
    if exclude_id is not None:
        query = query.where(Course.id != exclude_id)
    return db.session.scalar(query) is not None


def _credit_hours(data: dict, errors: dict) -> Decimal | None:
    raw = (data.get("credit_hours") or "").strip()
    if not raw:
        errors["credit_hours"] = _("This field is required.")
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        errors["credit_hours"] = _("Credit hours must be a number, e.g. 1.5.")
        return None
    if not value.is_finite() or value <= 0:
        errors["credit_hours"] = _("Credit hours must be greater than 0.")
        return None
    if value > MAX_CREDIT_HOURS or value != value.quantize(Decimal("0.1")):
        errors["credit_hours"] = _(
            "Credit hours must be at most %(max)s with one decimal place.",
            max=MAX_CREDIT_HOURS,
        )
        return None
    return value


def _competencies(
    raw_ids: list, errors: dict, course: Course | None = None
) -> list[CompetencyItem]:
    try:
        ids = {int(raw) for raw in raw_ids}
    except (TypeError, ValueError):
        errors["competency_ids"] = _("Choose competency items from the list.")
        return []
    if not ids:
        return []
    items = list(
        db.session.scalars(sa.select(CompetencyItem).where(CompetencyItem.id.in_(ids)))
    )
    if len(items) != len(ids):
        errors["competency_ids"] = _("Choose competency items from the list.")
    elif unassignable(items, course.competencies if course is not None else []):
        errors["competency_ids"] = _(
            "Choose items of published frameworks; a draft or retired framework"
            " cannot be added to a course."
        )
    return items


def save_course(
    institution_id: int, data: dict, actor: User, course: Course | None = None
) -> Course:
    """Create a draft course, or update ``course``, from form values.

    ``data["competency_ids"]`` is a list of competency item ids.
    """
    errors: dict[str, str] = {}
    code = _code(data, errors)
    title = text_field(data, "title", errors, max_length=200)
    summary = text_field(data, "summary", errors, max_length=10000, required=False)
    hours = _credit_hours(data, errors)
    items = _competencies(data.get("competency_ids") or [], errors, course)
    exclude_id = course.id if course is not None else None
    if (
        code
        and "code" not in errors
        and _course_code_taken(institution_id, code, exclude_id)
    ):
        errors["code"] = _("A course with the code %(code)s already exists.", code=code)
    if errors:
        raise AuthoringError(errors)

    created = course is None
    if course is None:
        course = Course(institution_id=institution_id, status=PublicationStatus.DRAFT)
        db.session.add(course)
    course.code = code
    course.title = title
    course.summary = summary
    course.credit_hours = hours
    course.competencies = sorted(items, key=lambda item: item.code)
    _flush_new_code(code)
    logger.info(
        "Course %r %s by %r", course, "created" if created else "updated", actor
    )
    return course


def publish_course(course: Course, actor: User) -> None:
    """Publish a draft or archived course that has lessons and complete quizzes."""
    from assessments.authoring import quiz_problems

    if course.status is PublicationStatus.PUBLISHED:
        raise reject(_("This course is already published."))
    if not course.lessons:
        raise reject(_("Add at least one lesson before publishing the course."))
    problems = quiz_problems(course)
    if problems:
        raise reject(" ".join(problems))
    _set_status(course, "course", PublicationStatus.PUBLISHED, actor)


def archive_course(course: Course, actor: User) -> None:
    """Archive a published course that no published programme uses."""
    if course.status is not PublicationStatus.PUBLISHED:
        raise reject(_("Only a published course can be archived."))
    in_use = db.session.scalars(
        sa.select(Programme.code)
        .join(ProgrammeCourse, ProgrammeCourse.programme_id == Programme.id)
        .where(
            ProgrammeCourse.course_id == course.id,
            Programme.status == PublicationStatus.PUBLISHED,
        )
        .order_by(Programme.code)
    ).all()
    if in_use:
        raise reject(
            _(
                "The course is part of these published programmes: %(codes)s."
                " Archive them or remove the course first.",
                codes=", ".join(in_use),
            )
        )
    _set_status(course, "course", PublicationStatus.ARCHIVED, actor)


# Lessons ----------------------------------------------------------------------


def clean_html(html: str) -> str:
    """Return lesson HTML without scripts, event handlers or unsafe links.

    nh3 keeps only ``AUTHORING_TAGS``, only ``href`` and ``title`` on links,
    and only ``LINK_SCHEMES`` in ``href``. Every other attribute (``onerror``,
    ``style`` ...) and tag is removed.
    """
    return nh3.clean(
        html.strip(),
        tags=AUTHORING_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes=LINK_SCHEMES,
        link_rel="noopener noreferrer",
    )


def _video_url(data: dict, errors: dict) -> str:
    url = text_field(data, "video_url", errors, max_length=500)
    if url and "video_url" not in errors:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            errors["video_url"] = _(
                "Enter a video address that starts with https://, e.g. https://example.org/v/1."
            )
    return url


def _session_start(data: dict, errors: dict, timezone: str) -> datetime | None:
    raw = (data.get("session_starts_at") or "").strip()
    if not raw:
        errors["session_starts_at"] = _("This field is required.")
        return None
    try:
        local = datetime.strptime(raw, SESSION_TIME_FORMAT)
    except ValueError:
        errors["session_starts_at"] = _(
            "Enter a date and time such as 2026-09-01T14:00."
        )
        return None
    return local.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def session_start_input(lesson: Lesson) -> str:
    """Return the session start as a datetime-local value in the institution's zone."""
    if lesson.session_starts_at is None:
        return ""
    zone = ZoneInfo(_institution_timezone(lesson.course.institution_id))
    return lesson.session_starts_at.astimezone(zone).strftime(SESSION_TIME_FORMAT)


def _institution_timezone(institution_id: int) -> str:
    institution = db.session.get(Institution, institution_id)
    return institution.timezone if institution is not None else "Asia/Shanghai"


def save_lesson(
    course: Course, data: dict, actor: User, lesson: Lesson | None = None
) -> Lesson:
    """Create a lesson at the end of ``course``, or update ``lesson``, from form values.

    Text lessons keep their HTML after ``clean_html``. Video lessons keep an
    https address and offline sessions a start time and place; the fields of
    other kinds are cleared.
    """
    errors: dict[str, str] = {}
    title = text_field(data, "title", errors, max_length=200)
    kind = _enum(data, "kind", LessonKind, errors, allowed=AUTHORED_LESSON_KINDS)
    minutes = required_int(
        data, "duration_minutes", errors, minimum=1, maximum=MAX_LESSON_MINUTES
    )
    body_html = clean_html(data.get("body_html") or "")
    video_url = None
    starts_at = None
    place = None
    if kind is LessonKind.TEXT and not nh3.clean(body_html, tags=set()).strip():
        errors["body_html"] = _("A reading lesson needs some text.")
    if kind is LessonKind.VIDEO:
        video_url = _video_url(data, errors)
    if kind is LessonKind.OFFLINE:
        starts_at = _session_start(
            data, errors, _institution_timezone(course.institution_id)
        )
        place = text_field(data, "session_place", errors, max_length=200)
    if errors:
        raise AuthoringError(errors)

    created = lesson is None
    if lesson is None:
        position = max((each.position for each in course.lessons), default=0) + 1
        lesson = Lesson(position=position)
        course.lessons.append(lesson)
    lesson.title = title
    lesson.kind = kind
    lesson.duration_minutes = minutes
    lesson.body_html = body_html
    lesson.video_url = video_url
    lesson.session_starts_at = starts_at
    lesson.session_place = place
    db.session.flush()
    logger.info(
        "Lesson %s of %r %s by %r",
        lesson.id,
        course,
        "created" if created else "updated",
        actor,
    )
    return lesson


def lesson_completions(lesson: Lesson) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(LessonProgress)
        .filter_by(lesson_id=lesson.id)
    )


def delete_lesson(course: Course, lesson: Lesson, actor: User) -> None:
    """Delete a lesson that no learner has completed, then renumber the rest.

    A lesson with completions stays: deleting it would erase learners'
    progress. Lessons are not versioned, so edits to a published course
    apply to every learner at once.
    """
    done = lesson_completions(lesson)
    if done:
        raise reject(
            _(
                "%(count)d learners have completed this lesson, so it cannot be deleted."
                " Edit it instead.",
                count=done,
            )
        )
    course.lessons.remove(lesson)
    db.session.flush()
    renumber(course.lessons)
    logger.info("Lesson %s of %r deleted by %r", lesson.id, course, actor)


# Copies ----------------------------------------------------------------------


def _new_code(data: dict, is_taken) -> str:
    errors: dict[str, str] = {}
    code = _code(data, errors)
    if code and "code" not in errors and is_taken(code):
        errors["code"] = _("The code %(code)s is already in use.", code=code)
    if errors:
        raise AuthoringError(errors)
    return code


def copy_course(course: Course, data: dict, actor: User) -> Course:
    """Copy a course with its lessons, competencies and quizzes as a new draft.

    ``data["code"]`` is the new course code.
    """
    from assessments.authoring import copy_quizzes

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
    )
    copy.competencies = list(course.competencies)
    for lesson in course.lessons:
        copy.lessons.append(
            Lesson(
                position=lesson.position,
                title=lesson.title,
                kind=lesson.kind,
                body_html=lesson.body_html,
                duration_minutes=lesson.duration_minutes,
                video_url=lesson.video_url,
                session_starts_at=lesson.session_starts_at,
                session_place=lesson.session_place,
            )
        )
    db.session.add(copy)
    _flush_new_code(code)
    copy_quizzes(course, copy)
    logger.info("Course %r copied to %r by %r", course, copy, actor)
    return copy


def copy_programme(programme: Programme, data: dict, actor: User) -> Programme:
    """Copy a programme as a new draft with the same course list and flags.

    The copy links to the same courses, because a course is shared by the
    programmes that use it. Copy a course separately to change its content.
    """
    code = _new_code(
        data, lambda code: _programme_code_taken(programme.institution_id, code, None)
    )
    copy = Programme(
        institution_id=programme.institution_id,
        code=code,
        title=programme.title,
        summary=programme.summary,
        tier=programme.tier,
        kind=programme.kind,
        level=programme.level,
        audience=programme.audience,
        certificate_validity_months=programme.certificate_validity_months,
        status=PublicationStatus.DRAFT,
    )
    for link in programme.courses:
        copy.courses.append(
            ProgrammeCourse(
                course_id=link.course_id, position=link.position, required=link.required
            )
        )
    db.session.add(copy)
    _flush_new_code(code)
    logger.info("Programme %r copied to %r by %r", programme, copy, actor)
    return copy
