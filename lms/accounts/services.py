"""Account changes: details, passwords, roles, disabling accounts and ending sessions.

Each function flushes and audits; the calling view commits.
"""

import logging
from typing import Optional

from lms import audit
from lms.accounts import sessions
from lms.accounts.models import Role, User

logger = logging.getLogger("lms.accounts")


def change_password(user: User, new_password: str, *, keep_session: Optional[str]) -> int:
    """Set ``user``'s password and end their other sessions; return how many ended.

    ``keep_session`` is the id of the session that made the change, which
    stays logged in.
    """
    user.set_password(new_password)
    user.password_must_change = False
    ended = sessions.revoke_user_sessions(user, keep=keep_session)
    audit.record(
        "account.password_changed",
        "user",
        user.id,
        f"{user.username} changed the password; {ended} other session(s) ended",
        actor_id=user.id,
        institution_id=user.institution_id,
        data={"sessions_ended": ended},
    )
    return ended


def end_sessions(actor: User, person: User) -> int:
    """End every session of ``person`` at once; return how many were active."""
    ended = sessions.revoke_user_sessions(person)
    audit.record(
        "account.sessions_ended",
        "user",
        person.id,
        f"{actor.username} ended all sessions of {person.username} ({ended})",
        actor_id=actor.id,
        institution_id=person.institution_id,
        data={"sessions_ended": ended},
    )
    return ended


def end_other_sessions(user: User, keep: Optional[str]) -> int:
    """End every session of ``user`` except ``keep``; return how many ended."""
    ended = sessions.revoke_user_sessions(user, keep=keep)
    audit.record(
        "account.sessions_ended",
        "user",
        user.id,
        f"{user.username} ended their other sessions ({ended})",
        actor_id=user.id,
        institution_id=user.institution_id,
        data={"sessions_ended": ended, "own": True},
    )
    return ended


def set_active(actor: User, person: User, active: bool) -> int:
    """Enable or disable ``person``'s account; disabling ends all their sessions.

    Returns the number of sessions ended. Raises ValueError when an admin
    tries to disable their own account, which would lock them out.
    """
    if not active and actor.id == person.id:
        raise ValueError("an admin cannot disable their own account")
    person.active = active
    ended = sessions.revoke_user_sessions(person) if not active else 0
    audit.record(
        "account.enabled" if active else "account.disabled",
        "user",
        person.id,
        f"{actor.username} {'enabled' if active else 'disabled'} {person.username}",
        actor_id=actor.id,
        institution_id=person.institution_id,
        data={"sessions_ended": ended},
    )
    return ended


def set_role(actor: User, person: User, role: Role) -> bool:
    """Give ``person`` a new role; return False when it is already theirs.

    The change is audited with the old and new role. A department HR scope
    only applies to HR, so it is removed when the role changes away from HR,
    and the audit entry stores the removed department as ``hr_department_id``.
    The platform operator right goes with the admin role in the same way.
    Raises ValueError when an admin tries to change their own role, which
    could lock every admin out. The person's sessions stay because each
    request reads the role afresh.
    """
    if actor.id == person.id:
        raise ValueError("an admin cannot change their own role")
    old = person.role
    if old is role:
        return False
    summary = (
        f"{actor.username} changed the role of {person.username} "
        f"from {old.value} to {role.value}"
    )
    data = {"from": old.value, "to": role.value}
    if role is not Role.HR and person.hr_department_id is not None:
        summary += f" and removed the HR scope of department {person.hr_department_id}"
        data["hr_department_id"] = person.hr_department_id
        person.hr_department_id = None
    if role is not Role.ADMIN and person.platform_operator:
        # The right is granted from the command line only, so a later change
        # back to admin does not bring it back.
        summary += " and revoked the platform operator right"
        data["platform_operator_revoked"] = True
        person.platform_operator = False
    person.role = role
    audit.record(
        "account.role_changed",
        "user",
        person.id,
        summary,
        actor_id=actor.id,
        institution_id=person.institution_id,
        data=data,
    )
    return True


def update_details(
    actor: User,
    person: User,
    *,
    full_name: str,
    department_id: Optional[int],
    email: Optional[str],
) -> dict:
    """Set ``person``'s name, department and e-mail; return the changes as {name: [old, new]}.

    The values must be checked already. An audit entry with the old and new
    value of each changed field is added only when something changed.
    """
    new = {"full_name": full_name, "department_id": department_id, "email": email or None}
    changes = {
        name: [getattr(person, name), value]
        for name, value in new.items()
        if getattr(person, name) != value
    }
    if not changes:
        return changes
    for name, (_old, value) in changes.items():
        setattr(person, name, value)
    audit.record(
        "account.details_changed",
        "user",
        person.id,
        f"{actor.username} changed {', '.join(sorted(changes))} of {person.username}",
        actor_id=actor.id,
        institution_id=person.institution_id,
        data={"changes": changes},
    )
    logger.info("Account details of %r changed by %r: %s", person, actor, sorted(changes))
    return changes
