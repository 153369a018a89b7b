"""Role and ownership checks shared by every blueprint."""

from functools import wraps
from typing import Callable, Optional

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required

from lms.accounts.models import Role, User
from lms.extensions import db


def roles_required(*roles: Role):
    """Require login and one of ``roles``; other signed-in users get 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def person_roles_required(*roles: Role):
    """Require login and one of ``roles`` on a route about the person ``person_id``.

    A user who may not see that person (see ``can_view_person``) gets 404,
    whether the id exists or not, so the status never reveals an id. Only
    users who already see the person, such as the person themselves or HR
    in reach, get 403 when their role lacks the right.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            get_person_or_404(kwargs["person_id"])
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def operator_required(view):
    """Require login as an administrator who is a platform operator; others get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not is_platform_operator(current_user):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def is_platform_operator(user: User) -> bool:
    """Return whether ``user`` is an admin with the platform operator right."""
    return user.is_authenticated and user.role is Role.ADMIN and user.platform_operator


LEARNER_ROLES = (Role.COUNSELOR, Role.PARTY_WORKER)
STAFF_ROLES = (Role.TRAINER, Role.HR, Role.ADMIN)


def hr_scope(viewer: User) -> Optional[int]:
    """Return the department a department HR officer is limited to, else None.

    None means the viewer's reach is not limited to a department: institution
    HR, admins, and users who see no one else's records at all.
    """
    if viewer.role is Role.HR:
        return viewer.hr_department_id
    return None


def in_hr_scope(viewer: User, person: User) -> bool:
    """Return whether ``person`` is inside the department ``viewer`` is limited to.

    True for every person when the viewer is not a department HR officer.
    Institution checks are left to the caller.
    """
    scope = hr_scope(viewer)
    return scope is None or person.department_id == scope


def hr_scope_clause(viewer: User, user_id: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """Return an SQL condition that keeps ``user_id`` inside the viewer's department.

    The condition is always true when the viewer is not a department HR officer.
    """
    scope = hr_scope(viewer)
    if scope is None:
        return sa.true()
    return user_id.in_(sa.select(User.id).where(User.department_id == scope))


def can_view_person(viewer: User, person: User) -> bool:
    """Return whether ``viewer`` may see ``person``'s records.

    A person sees their own records. Institution HR and admins see everyone
    of their own institution, and department HR only the people of their
    department. Nobody else does.
    """
    if viewer.id == person.id:
        return True
    if viewer.role not in (Role.HR, Role.ADMIN):
        return False
    if viewer.institution_id != person.institution_id:
        return False
    return in_hr_scope(viewer, person)


def get_person_or_404(person_id: int) -> User:
    """Load a person the current user may see; 404 otherwise, so ids never leak."""
    from lms.extensions import db

    person = db.session.get(User, person_id)
    if person is None or not can_view_person(current_user, person):
        abort(404)
    return person


def reviewers_among(institution_id: int, may_review: Callable[[User], bool]) -> list[User]:
    """Return the active HR officers of an institution for whom ``may_review`` is true.

    When no HR officer qualifies, the qualifying admins are returned instead,
    so that admins are not notified of everything HR already handles.
    """
    candidates = db.session.scalars(
        sa.select(User)
        .where(
            User.institution_id == institution_id,
            User.role.in_([Role.HR, Role.ADMIN]),
            User.active.is_(True),
        )
        .order_by(User.id)
    ).all()
    allowed = [user for user in candidates if may_review(user)]
    hr = [user for user in allowed if user.role is Role.HR]
    return hr or allowed
