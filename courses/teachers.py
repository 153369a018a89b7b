"""The teachers of a course: its authors and co-teachers, and who changes them.

The author of any version of a course and the administrators of its
institution add and remove co-teachers, who must be active trainers of the
course's institution. A co-teacher teaches every version of the course, as
an author does (see ``courses.teaching``). Only an administrator changes a
version's author. Every change is written to the audit log.
"""

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from flask_babel import gettext as _

from courses import logger
from courses.authoring import AuthoringError
from courses.models import Course, CourseTeacher
from lms import audit
from lms.accounts.models import Role, User, user_by_username
from lms.extensions import db

#: Roles that may be a course's author. Co-teachers are trainers only.
AUTHOR_ROLES = (Role.TRAINER, Role.ADMIN)


def _version_ids(course: Course) -> sa.Select:
    """SELECT the ids of every version of ``course`` (the rows sharing its code)."""
    return sa.select(Course.id).where(
        Course.institution_id == course.institution_id, Course.code == course.code
    )


def authors(course: Course) -> list[tuple[User, list[int]]]:
    """Return each author of the course's versions with the versions they drafted."""
    rows = db.session.execute(
        sa.select(User, Course.version)
        .join(Course, Course.author_id == User.id)
        .where(Course.id.in_(_version_ids(course)))
        .order_by(Course.version)
    ).all()
    found: dict[int, tuple[User, list[int]]] = {}
    for user, version in rows:
        found.setdefault(user.id, (user, []))[1].append(version)
    return list(found.values())


def co_teachers(course: Course) -> list[CourseTeacher]:
    """Return the co-teachers of any version of the course, one row per person."""
    rows = db.session.scalars(
        sa.select(CourseTeacher)
        .where(CourseTeacher.course_id.in_(_version_ids(course)))
        .options(sa.orm.joinedload(CourseTeacher.user))
        .order_by(CourseTeacher.added_at, CourseTeacher.id)
    ).all()
    seen: set[int] = set()
    unique = []
    for row in rows:
        if row.user_id not in seen:
            seen.add(row.user_id)
            unique.append(row)
    return unique


def is_author(user: User, course: Course) -> bool:
    """Return whether ``user`` is the author of any version of ``course``."""
    query = sa.select(Course.id).where(
        Course.id.in_(_version_ids(course)), Course.author_id == user.id
    )
    return bool(db.session.scalar(sa.select(sa.exists(query))))


def teaches_in_person(user: User, course: Course) -> bool:
    """Return whether ``user`` authors or co-teaches any version of ``course``.

    Unlike ``courses.teaching.teaches``, trainers who teach the course only
    through the classes that offer it are left out.
    """
    authored = sa.select(Course.id).where(
        Course.id.in_(_version_ids(course)), Course.author_id == user.id
    )
    co_taught = sa.select(CourseTeacher.id).where(
        CourseTeacher.course_id.in_(_version_ids(course)),
        CourseTeacher.user_id == user.id,
    )
    found = db.session.scalar(sa.select(sa.or_(sa.exists(authored), sa.exists(co_taught))))
    return bool(found)


def _is_co_teacher(user: User, course: Course) -> bool:
    query = sa.select(CourseTeacher.id).where(
        CourseTeacher.course_id.in_(_version_ids(course)),
        CourseTeacher.user_id == user.id,
    )
    return bool(db.session.scalar(sa.select(sa.exists(query))))


def may_manage(user: User, course: Course) -> bool:
    """Return whether ``user`` adds and removes the course's co-teachers."""
    if user.institution_id != course.institution_id:
        return False
    if user.role is Role.ADMIN:
        return True
    return user.role is Role.TRAINER and is_author(user, course)


def managed_codes(user: User) -> set[str]:
    """Return the codes of the courses whose co-teachers ``user`` adds and removes.

    It applies the rule of ``may_manage`` to every course of the user's
    institution in one query.
    """
    query = sa.select(Course.code).where(Course.institution_id == user.institution_id)
    if user.role is Role.TRAINER:
        query = query.where(Course.author_id == user.id)
    elif user.role is not Role.ADMIN:
        return set()
    return set(db.session.scalars(query.distinct()))


def may_set_author(user: User, course: Course) -> bool:
    """Return whether ``user`` changes the author: administrators of its institution."""
    return user.institution_id == course.institution_id and user.role is Role.ADMIN


def _person(course: Course, data: dict, field: str) -> User:
    """Return the active user of the course's institution named in ``data[field]``."""
    return institution_member(course.institution_id, data, field)


def institution_member(institution_id: int, data: dict, field: str) -> User:
    """Return the active user of the institution named in ``data[field]``.

    Raises AuthoringError on ``field`` when the name is empty, unknown,
    of another institution or of a disabled account.
    """
    username = (data.get(field) or "").strip()
    if not username:
        raise AuthoringError(
            {field: _("Enter the username of a trainer of your institution.")}
        )
    user = user_by_username(username)
    # A user of another institution gets the same message as an unknown name,
    # so the field reveals nothing about other institutions' accounts.
    if user is None or user.institution_id != institution_id:
        raise AuthoringError(
            {
                field: _(
                    "No one of your institution has the username %(username)s."
                    " Check the spelling, or ask an administrator for the username.",
                    username=username[:64],
                )
            }
        )
    if not user.active:
        raise AuthoringError(
            {
                field: _(
                    "The account of %(name)s (%(username)s) is disabled."
                    " Choose an active trainer.",
                    name=user.full_name,
                    username=user.username,
                )
            }
        )
    return user


def add_co_teacher(course: Course, data: dict, actor: User) -> User:
    """Add the trainer named by ``data["username"]`` as a co-teacher of ``course``."""
    user = _person(course, data, "username")
    if user.role is not Role.TRAINER:
        raise AuthoringError(
            {
                "username": _(
                    "%(name)s (%(username)s) is not a trainer, and only trainers"
                    " are added as co-teachers. Choose a trainer, or ask an"
                    " administrator to change the account's role first.",
                    name=user.full_name,
                    username=user.username,
                )
            }
        )
    if is_author(user, course):
        raise AuthoringError(
            {
                "username": _(
                    "%(name)s already teaches this course as an author.",
                    name=user.full_name,
                )
            }
        )
    if _is_co_teacher(user, course):
        raise _already_co_teacher(user)
    # A concurrent request can add the same trainer between the check and the
    # insert. The unique constraint then rejects the row with the same message.
    try:
        with db.session.begin_nested():
            row = CourseTeacher(
                course_id=course.id, user_id=user.id, added_by_id=actor.id
            )
            db.session.add(row)
    except IntegrityError as error:
        logger.info(
            "Co-teacher %r added to %r concurrently: %s", user, course, error.orig
        )
        raise _already_co_teacher(user) from error
    logger.info("Co-teacher %r added to %r by %r", user, course, actor)
    audit.record(
        "course.teacher_added",
        "course",
        course.id,
        _subject(course),
        actor_id=actor.id,
        institution_id=course.institution_id,
        data={"user_id": user.id},
    )
    return user


def _already_co_teacher(user: User) -> AuthoringError:
    return AuthoringError(
        {
            "username": _(
                "%(name)s is already a co-teacher of this course.",
                name=user.full_name,
            )
        }
    )


def remove_co_teacher(course: Course, user: User, actor: User) -> None:
    """Remove ``user`` from the co-teachers of every version of ``course``."""
    db.session.execute(
        sa.delete(CourseTeacher).where(
            CourseTeacher.course_id.in_(_version_ids(course)),
            CourseTeacher.user_id == user.id,
        )
    )
    db.session.flush()
    logger.info("Co-teacher %r removed from %r by %r", user, course, actor)
    audit.record(
        "course.teacher_removed",
        "course",
        course.id,
        _subject(course),
        actor_id=actor.id,
        institution_id=course.institution_id,
        data={"user_id": user.id},
    )


def co_teacher(course: Course, user_id: int) -> User | None:
    """Return the co-teacher of ``course`` with id ``user_id``, or None."""
    user = db.session.get(User, user_id)
    if user is None or not _is_co_teacher(user, course):
        return None
    return user


def set_author(course: Course, data: dict, actor: User) -> User:
    """Make the user named by ``data["author_username"]`` the author of ``course``."""
    user = _person(course, data, "author_username")
    if user.role not in AUTHOR_ROLES:
        raise AuthoringError(
            {
                "author_username": _(
                    "%(name)s (%(username)s) is not a trainer or administrator, so"
                    " cannot author a course. Choose a trainer.",
                    name=user.full_name,
                    username=user.username,
                )
            }
        )
    if user.id == course.author_id:
        raise AuthoringError(
            {
                "author_username": _(
                    "%(name)s is already the author of this version.",
                    name=user.full_name,
                )
            }
        )
    previous = course.author_id
    course.author_id = user.id
    db.session.flush()
    logger.info(
        "Author of %r changed from user %s to %r by %r", course, previous, user, actor
    )
    audit.record(
        "course.author_changed",
        "course",
        course.id,
        _subject(course),
        actor_id=actor.id,
        institution_id=course.institution_id,
        data={"previous_author_id": previous, "author_id": user.id},
    )
    return user


def _subject(course: Course) -> str:
    """Return the stored audit summary of a course: its code and title."""
    return f"{course.code} {course.title}"


def trainer_choices(course: Course) -> list[User]:
    """Return the active trainers of the course's institution, for the username list."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.institution_id == course.institution_id,
                User.role == Role.TRAINER,
                User.active.is_(True),
            )
            .order_by(User.username)
        )
    )
