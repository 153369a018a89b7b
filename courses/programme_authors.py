"""The author of a programme, who changes and publishes it with the administrators.

A programme's author is the trainer or administrator who created or copied
it. The author and the administrators of its institution change its
details and course list, publish and archive it. Other trainers read it and
may copy it, becoming the author of the copy. Only an administrator
changes the author, and every change is written to the audit log.
The learners' progress is shown to those who manage the programme and to
the trainers who teach one of its courses.
"""

from flask_babel import gettext as _

from courses import logger, teachers, teaching
from courses.authoring import AuthoringError
from courses.models import Programme
from lms import audit
from lms.accounts.models import Role, User
from lms.extensions import db


def may_manage(user: User, programme: Programme) -> bool:
    """Return whether ``user`` changes and publishes ``programme``: its author and admins."""
    if user.institution_id != programme.institution_id:
        return False
    if user.role is Role.ADMIN:
        return True
    return user.role is Role.TRAINER and programme.author_id == user.id


def may_view_learners(user: User, programme: Programme) -> bool:
    """Return whether ``user`` sees the programme's learners and their progress."""
    if may_manage(user, programme):
        return True
    return user.role is Role.TRAINER and any(
        teaching.teaches(user, link.course) for link in programme.courses
    )


def may_set_author(user: User, programme: Programme) -> bool:
    """Return whether ``user`` changes the author: administrators of its institution."""
    return user.institution_id == programme.institution_id and user.role is Role.ADMIN


def set_author(programme: Programme, data: dict, actor: User) -> User:
    """Make the user named by ``data["author_username"]`` the author of ``programme``."""
    user = teachers.institution_member(
        programme.institution_id, data, "author_username"
    )
    if user.role not in teachers.AUTHOR_ROLES:
        raise AuthoringError(
            {
                "author_username": _(
                    "%(name)s (%(username)s) is not a trainer or administrator, so"
                    " cannot author a programme. Choose a trainer.",
                    name=user.full_name,
                    username=user.username,
                )
            }
        )
    if user.id == programme.author_id:
        raise AuthoringError(
            {
                "author_username": _(
                    "%(name)s is already the author of this programme.",
                    name=user.full_name,
                )
            }
        )
    previous = programme.author_id
    programme.author_id = user.id
    db.session.flush()
    logger.info(
        "Author of %r changed from user %s to %r by %r",
        programme,
        previous,
        user,
        actor,
    )
    audit.record(
        "programme.author_changed",
        "programme",
        programme.id,
        f"{programme.code} {programme.title}",
        actor_id=actor.id,
        institution_id=programme.institution_id,
        data={"previous_author_id": previous, "author_id": user.id},
    )
    return user
