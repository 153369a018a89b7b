"""Modules (sections) of a course and the order of its lessons.

Lessons without a module come first, then each module's lessons in module
order, so the lessons of one module are always consecutive positions.
"""

from flask_babel import gettext as _

from courses import logger
from courses.authoring import move, reject, renumber, require_draft, text_field
from courses.authoring import AuthoringError
from courses.models import Course, CourseModule, Lesson
from lms.accounts.models import User
from lms.extensions import db


def order_lessons(course: Course, last: Lesson | None = None) -> None:
    """Renumber the lessons so each module's lessons are consecutive.

    Lessons keep their relative order within a module, except ``last``,
    which goes to the end of its module.
    """
    rank = {module.id: index for index, module in enumerate(course.modules, start=1)}

    def key(lesson: Lesson):
        module_rank = rank.get(lesson.module_id, 0) if lesson.module_id else 0
        is_last = lesson is last
        return (module_rank, is_last, lesson.position)

    ordered = sorted(course.lessons, key=key)
    if [each.position for each in ordered] == list(range(1, len(ordered) + 1)):
        return
    # Positions are unique per course, so rows pass through negative values.
    for index, lesson in enumerate(ordered, start=1):
        lesson.position = -index
    db.session.flush()
    for index, lesson in enumerate(ordered, start=1):
        lesson.position = index
    db.session.flush()
    db.session.expire(course, ["lessons"])


def save_module(
    course: Course, data: dict, actor: User, module: CourseModule | None = None
) -> CourseModule:
    """Add a module at the end of ``course``, or rename ``module``."""
    require_draft(course)
    errors: dict[str, str] = {}
    title = text_field(data, "title", errors, max_length=200)
    if errors:
        raise AuthoringError(errors)
    created = module is None
    if module is None:
        position = max((each.position for each in course.modules), default=0) + 1
        module = CourseModule(position=position)
        course.modules.append(module)
    module.title = title
    db.session.flush()
    logger.info(
        "Module %r of %r %s by %r",
        module,
        course,
        "created" if created else "renamed",
        actor,
    )
    return module


def move_module(
    course: Course, module: CourseModule, direction: str, actor: User
) -> bool:
    """Move a module up or down, taking its lessons along."""
    require_draft(course)
    moved = move(list(course.modules), module, direction, actor)
    if moved:
        db.session.expire(course, ["modules"])
        order_lessons(course)
    return moved


def delete_module(course: Course, module: CourseModule, actor: User) -> None:
    """Delete a module; its lessons stay in the course without a module."""
    require_draft(course)
    for lesson in course.lessons:
        if lesson.module_id == module.id:
            lesson.module = None
    course.modules.remove(module)
    db.session.flush()
    renumber(course.modules)
    order_lessons(course)
    logger.info("Module %r of %r deleted by %r", module, course, actor)


def move_lesson(course: Course, lesson: Lesson, direction: str, actor: User) -> bool:
    """Swap a lesson with its neighbour in the same module.

    Returns False when the lesson is already first or last of its module.
    Moving a lesson to another module is done by choosing the module in the
    lesson form.
    """
    require_draft(course)
    siblings = [each for each in course.lessons if each.module_id == lesson.module_id]
    if direction not in ("up", "down"):
        raise reject(_("Choose to move up or down."), "direction")
    return move(siblings, lesson, direction, actor)
