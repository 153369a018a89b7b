"""A person's gender and mobile phone: normalising, checking and changing them.

Contact data is visible to the person, to HR and admins of the person's
institution, and to trainers on the roster of a class the person belongs
to. Pages that other learners can open never show it.
"""

import re
from typing import Optional

from lms import audit, tabular
from lms.accounts.models import Gender, User

#: A mainland mobile number: 11 ASCII digits starting with 1. ``\d`` would
#: also match full-width and other scripts' digits, which SMS gateways and
#: spreadsheets do not read as a number.
MOBILE = re.compile(r"^1[0-9]{10}$")


def normalise_mobile(value: str) -> str:
    """Remove spaces, hyphens, brackets and a +86 or 0086 country prefix from a typed number.

    NFKC first turns the full-width digits, plus sign, hyphen and brackets
    that a Chinese input method types into their ASCII forms.
    """
    digits = re.sub(r"[\s\-()]", "", tabular.normalise(value))
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            return digits[len(prefix):]
    return digits


def is_mobile(value: str) -> bool:
    return MOBILE.match(value) is not None


def _masked(phone: Optional[str]) -> Optional[str]:
    """Replace all but the last four digits with ``*``, so the audit log keeps no full number."""
    if not phone:
        return None
    return "*" * (len(phone) - 4) + phone[-4:]


def _audit_values(person: User) -> dict:
    return {
        "gender": person.gender.value if person.gender else None,
        "phone": _masked(person.phone),
    }


def update_contact(
    person: User,
    actor: User,
    *,
    gender: Optional[Gender],
    phone: Optional[str],
    record: bool = True,
) -> dict:
    """Set ``person``'s gender and phone; return the changes as {name: [old, new]}.

    ``phone`` must be normalised and checked already. The returned values
    show the phone masked to its last four digits. A change made by someone
    other than the person is audited as ``profile.updated`` unless ``record``
    is false, for a caller that audits the changes with others of its own.
    The caller commits.
    """
    before = _audit_values(person)
    old = {"gender": person.gender, "phone": person.phone}
    person.gender = gender
    person.phone = phone or None
    after = _audit_values(person)
    new = {"gender": person.gender, "phone": person.phone}
    changes = {
        name: [before[name], after[name]] for name in old if old[name] != new[name]
    }
    if changes and record and actor.id != person.id:
        record_profile_change(person, actor, changes)
    return changes


def record_profile_change(person: User, actor: User, changes: dict) -> None:
    """Audit a change of ``person``'s profile; ``changes`` maps field to [before, after]."""
    audit.record(
        "profile.updated",
        "person_profile",
        person.id,
        f"{person.full_name}: {', '.join(sorted(changes))}",
        actor_id=actor.id,
        institution_id=person.institution_id,
        data={"changes": changes},
    )
