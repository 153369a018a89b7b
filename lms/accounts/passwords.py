"""Password policy: length, a common-password list and the person's own identifiers.

There are no composition rules (digits, symbols, case), because such rules
push people towards predictable patterns like "Password1!" that the block
list already covers. Instead a password needs a minimum of characters that
are not part of a guessable pattern (see ``unpredictable_count``): listed
passwords, years, repeats and sequences such as 123456, abcdef or qwerty.
"""

import enum
from functools import lru_cache
from pathlib import Path
from typing import Optional

from flask_babel import gettext as _

MIN_LENGTH = 8
#: Matches the login form's limit, so every accepted password can be typed there.
MAX_LENGTH = 256
#: Identifiers shorter than this are not searched for inside a password.
MIN_IDENTIFIER_LENGTH = 3

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt")
#: Characters a password needs outside guessable patterns.
MIN_UNPREDICTABLE = 4
#: Runs of three or more neighbours in one of these count as a sequence, in
#: either direction. Digits wrap around, so 8901 is a sequence too.
SEQUENCES = (
    "01234567890",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv5tgb",
)
#: Shortest listed password that counts as a pattern inside a longer one.
MIN_WORD = 4
#: Longest part of a password looked up in the common list.
MAX_WORD = 20


class PasswordProblem(enum.Enum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    COMMON = "common"
    CONTAINS_USERNAME = "contains_username"
    CONTAINS_EMPLOYEE_NO = "contains_employee_no"
    PREDICTABLE = "predictable"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Return the lowercase block list from ``common-passwords.txt``."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def _neighbours(first: str, second: str) -> bool:
    return any(
        first + second in sequence or second + first in sequence
        for sequence in SEQUENCES
    )


def _sequence_at(text: str, start: int) -> int:
    """Return the length of the sequence run starting at ``start`` (0 if under 3)."""
    end = start + 1
    while end < len(text) and _neighbours(text[end - 1], text[end]):
        end += 1
    return end - start if end - start >= 3 else 0


def _repeat_at(text: str, start: int) -> int:
    """Return the length of a repeated unit of 1 to 4 characters at ``start``."""
    best = 0
    for unit in range(1, 5):
        piece = text[start : start + unit]
        if len(piece) < unit:
            break
        end = start + unit
        while text[end : end + unit] == piece:
            end += unit
        length = end - start
        if length >= max(3, 2 * unit):
            best = max(best, length)
    return best


def _word_at(text: str, start: int) -> int:
    """Return the length of the longest listed password that starts at ``start``."""
    words = common_passwords()
    for end in range(min(len(text), start + MAX_WORD), start + MIN_WORD - 1, -1):
        if text[start:end] in words:
            return end - start
    return 0


def _year_at(text: str, start: int) -> int:
    piece = text[start : start + 4]
    return 4 if len(piece) == 4 and piece.isdigit() and piece[:2] in ("19", "20") else 0


def unpredictable_count(password: str) -> int:
    """Count the characters of ``password`` outside guessable patterns.

    Reading left to right, the longest pattern that starts at each place is
    skipped: a listed password of 4 or more characters, a year from 1900 to
    2099, a character or a unit of up to 4 repeated, or a sequence run of 3
    or more. Every other character counts. "Aa123456" counts 2 (the two
    letters), "123456789012" counts 0.
    """
    text = password.lower()
    count = start = 0
    while start < len(text):
        skip = max(
            _word_at(text, start),
            _year_at(text, start),
            _repeat_at(text, start),
            _sequence_at(text, start),
        )
        if skip:
            start += skip
        else:
            count += 1
            start += 1
    return count


def _contains(password: str, identifier: Optional[str]) -> bool:
    identifier = (identifier or "").strip().lower()
    return len(identifier) >= MIN_IDENTIFIER_LENGTH and identifier in password.lower()


def password_problem(
    password: str, *, username: Optional[str] = None, employee_no: Optional[str] = None
) -> Optional[PasswordProblem]:
    """Return the first rule ``password`` breaks, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return PasswordProblem.TOO_SHORT
    if len(password) > MAX_LENGTH:
        return PasswordProblem.TOO_LONG
    if password.lower() in common_passwords():
        return PasswordProblem.COMMON
    if _contains(password, username):
        return PasswordProblem.CONTAINS_USERNAME
    if _contains(password, employee_no):
        return PasswordProblem.CONTAINS_EMPLOYEE_NO
    if unpredictable_count(password) < MIN_UNPREDICTABLE:
        return PasswordProblem.PREDICTABLE
    return None


def describe(problem: PasswordProblem, password: str) -> str:
    """Return the message for ``problem`` in the active Flask-Babel locale."""
    messages = {
        PasswordProblem.TOO_SHORT: _(
            "The password is too short: it has %(count)s characters and the "
            "minimum is %(minimum)s.",
            count=len(password),
            minimum=MIN_LENGTH,
        ),
        PasswordProblem.TOO_LONG: _(
            "The password is too long: it has %(count)s characters and the "
            "maximum is %(maximum)s.",
            count=len(password),
            maximum=MAX_LENGTH,
        ),
        PasswordProblem.COMMON: _(
            "The password is too common: it is on the list of the most used "
            "passwords. Choose another."
        ),
        PasswordProblem.CONTAINS_USERNAME: _(
            "The password contains the username. Choose one that does not."
        ),
        PasswordProblem.CONTAINS_EMPLOYEE_NO: _(
            "The password contains the employee number. Choose one that does not."
        ),
        PasswordProblem.PREDICTABLE: _(
            "The password is too easy to guess: apart from common passwords, "
            "years, repeats and sequences such as 123456, abcdef or qwerty, it "
            "has %(count)s other characters and needs at least %(minimum)s.",
            count=unpredictable_count(password),
            minimum=MIN_UNPREDICTABLE,
        ),
    }
    return messages[problem]


#: Audit action of a password set with ``flask lms set-password``.
PASSWORD_SET_ACTION = "account.password_set"


def first_password_expired(user, now=None) -> bool:
    """Return whether ``user`` still has a password someone else chose, and it expired.

    Accounts created by a roster import get a random first password, and
    ``flask lms set-password`` sets one for an existing account. Either must
    be changed at the next login and is good for ``FIRST_PASSWORD_DAYS``
    days after it was issued.
    """
    from datetime import timedelta

    from flask import current_app

    from lms.db import now_utc

    if not user.password_must_change:
        return False
    days = int(current_app.config.get("FIRST_PASSWORD_DAYS", 14))
    return (now or now_utc()) > _password_issued_at(user) + timedelta(days=days)


def _password_issued_at(user):
    """Return when the password was last set from the command line, else account creation."""
    import sqlalchemy as sa

    from lms.audit import AuditEntry
    from lms.extensions import db

    last_set = db.session.scalar(
        sa.select(sa.func.max(AuditEntry.created_at)).where(
            AuditEntry.action == PASSWORD_SET_ACTION,
            AuditEntry.subject_type == "user",
            AuditEntry.subject_id == user.id,
        )
    )
    if last_set is None:
        return user.created_at
    return max(user.created_at, last_set)


def random_first_password(*, username: str, employee_no: Optional[str]) -> str:
    """Return a random 16-character password that the policy accepts for this account.

    ``secrets.token_urlsafe(12)`` gives 96 random bits. A draw that happens
    to contain the username or employee number, or a guessable run, is
    drawn again.
    """
    import secrets

    while True:
        password = secrets.token_urlsafe(12)
        if password_problem(password, username=username, employee_no=employee_no) is None:
            return password
