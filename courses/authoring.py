"""Trainer authoring of programmes, courses and lessons: validation and writes.

Functions take plain dicts of form values and raise ``AuthoringError`` with
one message per invalid field. They flush but never commit; views commit.
"""

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Optional
from html.parser import HTMLParser
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import nh3
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.exc import IntegrityError

from courses import logger
from courses import lesson_files
from courses import lesson_images
from courses.models import (
    Course,
    CourseModule,
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
from lms.accounts.models import Post, User
from lms.competencies.models import (
    CompetencyItem,
    Framework,
    FrameworkStatus,
    FunctionalArea,
    Level,
)
from lms.competencies.services import unassignable
from lms.extensions import db
from lms.input_ranges import scheduled_to_utc
from lms.labels import label
from lms.organisations.models import Institution
from lms.records.models import TrainingKind, TrainingTier
from lms.seed import LESSON_TAGS
from lms.i18n import join_names

#: Tags a trainer may use in a text lesson: the seed's tags plus links.
AUTHORING_TAGS = LESSON_TAGS | {
    "a", "h4", "b", "i", "u", "s", "sub", "sup", "hr", "code", "pre",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "img",
}
#: Attributes kept in lesson HTML, by tag; nh3 removes every other one.
AUTHORING_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "img": {"src", "alt", "width", "height"},
}
#: Tags that wrap a document and carry no content of their own, so removing
#: them is not worth telling the author.
_DOCUMENT_TAGS = {"html", "head", "body", "meta", "title", "o:p"}
#: Link schemes kept in lesson HTML; nh3 drops any other href, e.g. javascript:.
LINK_SCHEMES = {"http", "https", "mailto"}
#: Lesson kinds a trainer can create.
AUTHORED_LESSON_KINDS = (
    LessonKind.TEXT,
    LessonKind.VIDEO,
    LessonKind.FILE,
    LessonKind.OFFLINE,
)
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

    def labelled(self, labels: dict[str, str]) -> dict[str, str]:
        """Return the messages with their field's label in front, as "Title: ...".

        ``labels`` maps field names to labels in the reader's language. A
        message of a field without a label, such as ``"form"``, is unchanged.
        """
        return {
            field: _("%(field)s: %(message)s", field=labels[field], message=message)
            if field in labels
            else message
            for field, message in self.errors.items()
        }


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
    """Return every course version of the institution, by code, newest version first."""
    return list(
        db.session.scalars(
            sa.select(Course)
            .where(Course.institution_id == institution_id)
            .order_by(Course.code, Course.version.desc())
        )
    )


def lesson_counts(institution_id: int) -> dict[int, int]:
    """Return the number of lessons of each course of the institution, by course id."""
    return dict(
        db.session.execute(
            sa.select(Lesson.course_id, sa.func.count())
            .join(Course, Course.id == Lesson.course_id)
            .where(Course.institution_id == institution_id)
            .group_by(Lesson.course_id)
        ).all()
    )


def competency_choices(
    institution_id: int, keep_ids=()
) -> list[tuple[Level, list[CompetencyItem]]]:
    """Return the items a course may take, grouped by level and ordered by area.

    Those are the items of the published national standards and published
    frameworks of ``institution_id``, plus ``keep_ids``, the items the course
    already has, which stay listed after their framework retires.
    """
    keep = {int(each) for each in keep_ids if str(each).isdigit()}
    offered = sa.and_(
        Framework.status == FrameworkStatus.PUBLISHED,
        sa.or_(Framework.institution_id.is_(None), Framework.institution_id == institution_id),
    )
    items = db.session.scalars(
        sa.select(CompetencyItem)
        .join(Framework, Framework.id == CompetencyItem.framework_id)
        .where(sa.or_(offered, CompetencyItem.id.in_(keep)))
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
    posts = _audience_posts(data.get("audience_posts") or [], errors)
    min_elective = _hours(
        data, "min_elective_hours", errors, allow_zero=True, required=False
    )
    if min_elective is None:
        min_elective = Decimal(0)
    if (
        programme is not None
        and "min_elective_hours" not in errors
        and min_elective != programme.min_elective_hours
        and has_enrolments(programme)
    ):
        errors["min_elective_hours"] = _(
            "Learners are enrolled in this programme, so the minimum of elective"
            " hours cannot change: it would change their completion rules."
        )
    if (
        programme is not None
        and programme.status is PublicationStatus.PUBLISHED
        and "min_elective_hours" not in errors
        and requires_nothing(programme, min_elective)
    ):
        errors["min_elective_hours"] = _requires_nothing_message()
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
            institution_id=institution_id,
            status=PublicationStatus.DRAFT,
            author_id=actor.id,
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
    programme.audience_posts = posts
    programme.min_elective_hours = min_elective
    _flush_new_code(code)
    logger.info(
        "Programme %r %s by %r", programme, "created" if created else "updated", actor
    )
    if created:
        record_programme_created(programme, actor)
    return programme


def record_programme_created(programme: Programme, actor: User) -> None:
    """Audit the creation of ``programme``, which names its first author."""
    audit.record(
        "programme.created",
        "programme",
        programme.id,
        f"{programme.code} {programme.title}",
        actor_id=actor.id,
        institution_id=programme.institution_id,
    )


def requires_nothing(
    programme: Programme,
    min_elective: Decimal | None = None,
    links: list[ProgrammeCourse] | None = None,
) -> bool:
    """Return whether completing the programme would require no course at all.

    ``min_elective`` and ``links`` stand for the programme's minimum of
    elective hours and course links as they would be after a change.
    """
    if min_elective is None:
        min_elective = programme.min_elective_hours or Decimal(0)
    if links is None:
        links = list(programme.courses)
    return min_elective <= 0 and not any(link.required for link in links)


def _requires_nothing_message() -> str:
    return _(
        "The programme would require nothing to complete: it has no required course"
        " and its minimum elective hours is 0, so learners would complete it at once"
        " with 0 hours. Mark at least one course as required for completion, or set"
        " the minimum elective hours above 0."
    )


def _audience_posts(raw_values: list, errors: dict) -> list[str]:
    known = [post.value for post in Post]
    chosen = {str(raw) for raw in raw_values}
    if chosen - set(known):
        errors["audience_posts"] = _("Choose the audience from the listed posts.")
    return [value for value in known if value in chosen]


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
    """Append ``course`` to the programme's course list.

    Once learners are enrolled, only elective courses can be added, so their
    completion rule never grows.
    """
    if course.institution_id != programme.institution_id:
        raise reject(_("Choose a course of your institution."), "course_id")
    if required:
        _reject_if_enrolled(programme, _("add a required course"))
    if any(link.course.code == course.code for link in programme.courses):
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


def _reject_if_published_would_require_nothing(
    programme: Programme, links: list[ProgrammeCourse]
) -> None:
    """Reject a change that leaves a published programme ``links`` and nothing required."""
    if programme.status is PublicationStatus.PUBLISHED and requires_nothing(
        programme, links=links
    ):
        raise reject(_requires_nothing_message())


def remove_course(programme: Programme, link: ProgrammeCourse, actor: User) -> None:
    """Remove a course from a programme that has no enrolments, then renumber."""
    _reject_if_enrolled(programme, _("remove a course"))
    _reject_if_published_would_require_nothing(
        programme, [other for other in programme.courses if other is not link]
    )
    course = link.course
    for other in programme.courses:
        if link in other.prerequisites:
            other.prerequisites.remove(link)
    link.prerequisites = []
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
    if not required:
        _reject_if_published_would_require_nothing(
            programme, [other for other in programme.courses if other is not link]
        )
    link.required = required
    db.session.flush()
    logger.info(
        "Course %r set %s in %r by %r",
        link.course,
        "required" if required else "elective",
        programme,
        actor,
    )


def set_prerequisites(
    programme: Programme, link: ProgrammeCourse, raw_ids: list, actor: User
) -> None:
    """Set the courses of the programme that must be completed before ``link``.

    ``raw_ids`` are ids of other course links of the same programme. A
    choice that would make courses wait on each other in a circle is
    rejected with the courses involved.
    """
    by_id = {str(each.id): each for each in programme.courses}
    chosen = []
    for raw in raw_ids:
        other = by_id.get(str(raw))
        if other is None or other is link:
            raise reject(
                _("Choose prerequisites among the other courses of this programme."),
                "prerequisite_ids",
            )
        if other not in chosen:
            chosen.append(other)
    cycle = _prerequisite_cycle(programme, link, chosen)
    if cycle:
        raise reject(
            _(
                "These courses would wait for each other in a circle: %(codes)s."
                " Remove one of the prerequisites.",
                codes=" → ".join(each.course.code for each in cycle),
            ),
            "prerequisite_ids",
        )
    link.prerequisites = sorted(chosen, key=lambda each: each.position)
    db.session.flush()
    logger.info(
        "Prerequisites of %r in %r set to %s by %r",
        link.course,
        programme,
        [each.course.code for each in chosen],
        actor,
    )


def _prerequisite_cycle(
    programme: Programme, link: ProgrammeCourse, chosen: list[ProgrammeCourse]
) -> list[ProgrammeCourse]:
    """Return a path from ``link`` back to itself through prerequisites, or []."""
    edges = {each.id: list(each.prerequisites) for each in programme.courses}
    edges[link.id] = chosen

    def walk(node: ProgrammeCourse, path: list[ProgrammeCourse]):
        for following in edges.get(node.id, []):
            if following is link:
                return path + [following]
            if following in path:
                continue
            found = walk(following, path + [following])
            if found:
                return found
        return []

    return walk(link, [link])


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
                codes=join_names(unpublished),
            )
        )
    if requires_nothing(programme):
        raise reject(_requires_nothing_message())
    offered = programme.elective_hours_offered
    if programme.min_elective_hours > offered:
        raise reject(
            _(
                "The programme asks for %(minimum)s elective hours but its elective"
                " courses offer %(offered)s. Add elective courses or lower the"
                " minimum.",
                minimum=programme.min_elective_hours,
                offered=offered,
            )
        )
    _set_status(programme, "programme", PublicationStatus.PUBLISHED, actor)


def pre_job_shortfall(programme: Programme) -> Optional[tuple[Decimal, str]]:
    """Return (minimum, rule name) when a pre-job programme falls short of its rule.

    The rule is the institution's pre-job rule in force with the highest
    minimum of 学时. Training classes and training taken elsewhere may
    make up the rest, so the shortfall is a warning for the author, not a
    reason to refuse publishing.
    """
    from lms.compliance.engine import rules_for

    if programme.kind is not TrainingKind.PRE_JOB:
        return None
    minimums = [
        (rule.min_hours, rule.display_name)
        for rule in rules_for(programme.institution_id)
        if TrainingKind.PRE_JOB.value in (rule.kinds or []) and rule.min_hours
    ]
    if not minimums:
        return None
    minimum, name = max(minimums, key=lambda item: item[0])
    if programme.total_hours >= minimum:
        return None
    return minimum, name


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


def _hours(
    data: dict,
    field: str,
    errors: dict,
    *,
    allow_zero: bool = False,
    required: bool = True,
) -> Decimal | None:
    """Parse a number of 学时 with at most one decimal place."""
    raw = (data.get(field) or "").strip()
    if not raw:
        if required:
            errors[field] = _("This field is required.")
        return None
    try:
        value = Decimal(raw)
        # NaN and infinity parse, but they are no number of hours.
        if not value.is_finite():
            raise InvalidOperation(raw)
    except InvalidOperation:
        errors[field] = (
            _("Enter the hours as a number, e.g. 4 or 1.5.")
            if allow_zero
            else _("Credit hours must be a number, e.g. 1.5.")
        )
        return None
    if value < 0 or (value == 0 and not allow_zero):
        errors[field] = (
            _("Hours cannot be negative.")
            if allow_zero
            else _("Credit hours must be greater than 0.")
        )
        return None
    if value > MAX_CREDIT_HOURS:
        errors[field] = _(
            "Credit hours must be at most %(max)s with one decimal place.",
            max=MAX_CREDIT_HOURS,
        )
        return None
    if value != value.quantize(Decimal("0.1")):
        errors[field] = (
            _("Enter the hours with at most one decimal place, e.g. 1.5; %(value)s has more.", value=raw[:20])
            if allow_zero
            else _("Credit hours take at most one decimal place, e.g. 1.5; %(value)s has more.", value=raw[:20])
        )
        return None
    return value


def _credit_hours(data: dict, errors: dict) -> Decimal | None:
    return _hours(data, "credit_hours", errors)


def require_draft(course: Course) -> None:
    """Reject a change to a course that learners may already see."""
    if course.status is not PublicationStatus.DRAFT:
        raise reject(
            _(
                "This course is not a draft (status: %(status)s), so its content"
                " cannot change. Create a new version, edit it and publish it."
                " Learners who started this version keep it.",
                status=label(course.status),
            )
        )


def _competencies(
    raw_ids: list, errors: dict, institution_id: int, course: Course | None = None
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
    elif unassignable(
        items, course.competencies if course is not None else [], institution_id
    ):
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
    if course is not None:
        require_draft(course)
    errors: dict[str, str] = {}
    code = _code(data, errors)
    title = text_field(data, "title", errors, max_length=200)
    summary = text_field(data, "summary", errors, max_length=10000, required=False)
    hours = _credit_hours(data, errors)
    items = _competencies(data.get("competency_ids") or [], errors, institution_id, course)
    unchanged = course is not None and code == course.code
    if code and "code" not in errors and not unchanged:
        if course is not None and course.version > 1:
            errors["code"] = _(
                "Versions of a course share its code %(code)s. Copy the course to"
                " start one with a new code.",
                code=course.code,
            )
        elif _course_code_taken(institution_id, code, None):
            errors["code"] = _(
                "A course with the code %(code)s already exists.", code=code
            )
    if errors:
        raise AuthoringError(errors)

    created = course is None
    if course is None:
        course = Course(
            institution_id=institution_id,
            status=PublicationStatus.DRAFT,
            author_id=actor.id,
        )
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
    if created:
        record_created(course, actor)
    return course


def record_created(course: Course, actor: User) -> None:
    """Audit that ``actor`` created ``course``: a new course, a new version or a copy."""
    audit.record(
        "course.created",
        "course",
        course.id,
        f"{course.code} {course.title}",
        actor_id=actor.id,
        institution_id=course.institution_id,
        data={"version": course.version},
    )


def publish_course(course: Course, actor: User) -> None:
    """Publish a draft or archived course that has lessons and complete quizzes."""
    from assessments.authoring import quiz_problems

    if course.status is PublicationStatus.PUBLISHED:
        raise reject(_("This course is already published."))
    if not course.lessons:
        raise reject(_("Add at least one lesson before publishing the course."))
    newer = next_version(course)
    if newer is not None:
        raise reject(
            _(
                "Version %(version)d of this course exists, so this older version"
                " cannot be published again.",
                version=newer.version,
            )
        )
    problems = quiz_problems(course)
    if problems:
        raise reject(" ".join(problems))
    _set_status(course, "course", PublicationStatus.PUBLISHED, actor)
    if course.previous_version is not None:
        from courses.versions import replace_previous_version

        replace_previous_version(course, actor)


def next_version(course: Course) -> Course | None:
    return db.session.scalar(
        sa.select(Course).where(Course.previous_version_id == course.id)
    )


def superseded_ids(institution_id: int) -> set[int]:
    """Return the ids of the institution's courses that a later version replaces."""
    return set(
        db.session.scalars(
            sa.select(Course.previous_version_id).where(
                Course.institution_id == institution_id,
                Course.previous_version_id.is_not(None),
            )
        )
    )


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
                codes=join_names(in_use),
            )
        )
    _set_status(course, "course", PublicationStatus.ARCHIVED, actor)


# Lessons ----------------------------------------------------------------------


def clean_html(html: str) -> str:
    """Return lesson HTML without scripts, event handlers or unsafe links.

    nh3 keeps only ``AUTHORING_TAGS``, only ``AUTHORING_ATTRIBUTES``, and only
    ``LINK_SCHEMES`` in ``href``. Every other attribute (``onerror``,
    ``style`` ...) and tag is removed. An image stays only when its ``src``
    is an image uploaded with a lesson of the platform.
    """
    cleaned = nh3.clean(
        html.strip(),
        tags=AUTHORING_TAGS,
        attributes=AUTHORING_ATTRIBUTES,
        attribute_filter=_kept_attribute,
        url_schemes=LINK_SCHEMES,
        link_rel="noopener noreferrer",
    )
    return _IMAGE_WITHOUT_SOURCE.sub("", cleaned)


#: An ``<img>`` whose source ``clean_html`` removed; nh3 writes attributes in
#: double quotes, so a ``src=`` inside a value cannot occur outside one.
_IMAGE_WITHOUT_SOURCE = re.compile(r'<img(?:\s+(?!src=)[a-z]+="[^"]*")*\s*/?>')


def _kept_attribute(tag: str, name: str, value: str) -> str | None:
    if tag == "img" and name == "src" and not lesson_images.is_image_source(value):
        return None
    if tag == "img" and name in {"width", "height"} and not value.isdigit():
        return None
    return value


class _TagNames(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.names: set[str] = set()
        self.attributes: set[str] = set()
        self.foreign_images = False

    def handle_starttag(self, tag: str, attrs) -> None:
        self.names.add(tag)
        if tag in AUTHORING_TAGS:
            kept = AUTHORING_ATTRIBUTES.get(tag, set())
            self.attributes.update(name for name, _value in attrs if name not in kept)
            if tag == "img" and not lesson_images.is_image_source(dict(attrs).get("src") or ""):
                self.foreign_images = True


def _parsed(html: str) -> _TagNames:
    parser = _TagNames()
    parser.feed(html or "")
    parser.close()
    return parser


def removed_markup(html: str) -> tuple[list[str], list[str]]:
    """Return the tags and the attributes of kept tags that ``clean_html`` removes."""
    parser = _parsed(html)
    removed = parser.names - AUTHORING_TAGS - _DOCUMENT_TAGS
    if parser.foreign_images:
        removed.add("img")
    return sorted(removed), sorted(parser.attributes)


def removed_tags(html: str) -> list[str]:
    """Return the names of the tags in ``html`` that ``clean_html`` removes.

    Text pasted from Word or WPS contains images, spans and fonts, so the
    lesson form lists the kinds of element that the saved lesson lacks.
    """
    return removed_markup(html)[0]


def _video_url(data: dict, errors: dict) -> str:
    url = text_field(data, "video_url", errors, max_length=500)
    if url and "video_url" not in errors:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            errors["video_url"] = _(
                "Enter a video address that starts with https://, e.g. https://example.org/v/1."
            )
    return url


def _session_start(
    data: dict, errors: dict, timezone: str, stored: datetime | None
) -> datetime | None:
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
    return scheduled_to_utc(
        local, ZoneInfo(timezone), "session_starts_at", _("Date and time"), errors, stored
    )


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
    course: Course,
    data: dict,
    actor: User,
    lesson: Lesson | None = None,
    upload=None,
) -> Lesson:
    """Create a lesson at the end of ``course``, or update ``lesson``, from form values.

    Text lessons keep their HTML after ``clean_html``. Video lessons keep an
    uploaded MP4 or WebM file or an https address, file lessons an uploaded
    document, and offline sessions a start time and place. Fields of other
    kinds are cleared. ``upload`` is a werkzeug ``FileStorage`` or None.
    """
    require_draft(course)
    errors: dict[str, str] = {}
    title = text_field(data, "title", errors, max_length=200)
    kind = _enum(data, "kind", LessonKind, errors, allowed=AUTHORED_LESSON_KINDS)
    minutes = required_int(
        data, "duration_minutes", errors, minimum=1, maximum=MAX_LESSON_MINUTES
    )
    module = _module_choice(course, data, errors)
    body_html = clean_html(data.get("body_html") or "")
    video_url = None
    starts_at = None
    place = None
    has_upload = upload is not None and bool(getattr(upload, "filename", ""))
    # An uploaded image alone, such as a poster, also makes a reading lesson.
    has_image = 'src="/lesson-images/' in body_html
    if kind is LessonKind.TEXT and not has_image and not nh3.clean(body_html, tags=set()).strip():
        errors["body_html"] = _("A reading lesson needs some text.")
    if kind is LessonKind.VIDEO and not has_upload:
        keeps_file = lesson_files.has_file_of(lesson, lesson_files.VIDEO_TYPES)
        if (data.get("video_url") or "").strip() or not keeps_file:
            video_url = _video_url(data, errors)
    if kind is LessonKind.FILE and not has_upload:
        if not lesson_files.has_file_of(lesson, lesson_files.ATTACHMENT_TYPES):
            errors["upload"] = _(
                "Choose a file to upload: %(types)s.",
                types=join_names(lesson_files.ATTACHMENT_TYPES),
            )
    if kind is LessonKind.OFFLINE:
        starts_at = _session_start(
            data,
            errors,
            _institution_timezone(course.institution_id),
            lesson.session_starts_at if lesson is not None else None,
        )
        place = text_field(data, "session_place", errors, max_length=200)
    if errors:
        raise AuthoringError(errors)
    stored = None
    if has_upload and kind in (LessonKind.VIDEO, LessonKind.FILE):
        stored = lesson_files.store_upload(kind, upload)

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
    if stored is not None:
        lesson_files.attach(lesson, stored)
    elif kind not in (LessonKind.VIDEO, LessonKind.FILE) or video_url:
        lesson_files.detach(lesson)
    moved = lesson.module is not module
    lesson.module = module
    db.session.flush()
    if moved or created:
        from courses.sections import order_lessons

        order_lessons(course, last=lesson)
    logger.info(
        "Lesson %s of %r %s by %r",
        lesson.id,
        course,
        "created" if created else "updated",
        actor,
    )
    return lesson


def _module_choice(course: Course, data: dict, errors: dict) -> CourseModule | None:
    raw = (data.get("module_id") or "").strip()
    if not raw:
        return None
    module = next((each for each in course.modules if str(each.id) == raw), None)
    if module is None:
        errors["module_id"] = _("Choose a module of this course.")
    return module


def lesson_completions(lesson: Lesson) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(LessonProgress)
        .filter_by(lesson_id=lesson.id)
    )


def lesson_completion_counts(course: Course) -> dict[int, int]:
    """Return how many learners completed each lesson of ``course``, by lesson id."""
    counts = dict.fromkeys((lesson.id for lesson in course.lessons), 0)
    rows = db.session.execute(
        sa.select(LessonProgress.lesson_id, sa.func.count())
        .where(LessonProgress.lesson_id.in_(list(counts)))
        .group_by(LessonProgress.lesson_id)
    )
    counts.update({lesson_id: total for lesson_id, total in rows})
    return counts


def lesson_delete_problem(course: Course, lesson: Lesson) -> str | None:
    """Return why ``lesson`` cannot be deleted, or None when it can."""
    try:
        require_draft(course)
    except AuthoringError as error:
        return next(iter(error.errors.values()))
    done = lesson_completions(lesson)
    if done:
        return ngettext(
            "%(num)d learner has completed this lesson, so it cannot be deleted."
            " Edit it instead.",
            "%(num)d learners have completed this lesson, so it cannot be deleted."
            " Edit it instead.",
            done,
        )
    return None


def delete_lesson(course: Course, lesson: Lesson, actor: User) -> None:
    """Delete a lesson that no learner has completed, then renumber the rest.

    A lesson with completions stays: deleting it would erase learners'
    progress. Only draft courses change. A published one gets a new version.
    """
    problem = lesson_delete_problem(course, lesson)
    if problem is not None:
        raise reject(problem)
    course.lessons.remove(lesson)
    db.session.flush()
    renumber(course.lessons)
    logger.info("Lesson %s of %r deleted by %r", lesson.id, course, actor)
