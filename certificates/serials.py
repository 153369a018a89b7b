"""Serial number patterns and the per-institution certificate settings."""

import re
import string
from typing import Optional

from certificates.template_models import (
    DEFAULT_RENEWAL_WINDOW_DAYS,
    DEFAULT_SERIAL_PATTERN,
    InstitutionCertificateSettings,
)
from lms import audit
from lms.accounts.models import User
from lms.extensions import db
from lms.organisations.models import Institution

#: Fields a serial pattern may use, with an example value each.
SERIAL_FIELDS = {"prefix": "SR", "code": "uni-a", "year": 2026, "yy": 26, "seq": 123}
#: A serial names the stored PDF file and appears in URLs.
SERIAL_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
PREFIX_RE = re.compile(r"^[A-Za-z0-9]{1,16}$")
MAX_PATTERN_LENGTH = 80
#: Sequence values up to this one must format to a valid serial.
MAX_SEQ_CHECKED = 999_999


class SerialPatternError(ValueError):
    """A serial setting was rejected; the message gives the reason and the fix.

    ``field`` names the settings form field the message belongs to.
    """

    def __init__(self, message: str, field: str = "serial_pattern"):
        super().__init__(message)
        self.field = field


def _fields_of(pattern: str) -> list[tuple[str, str]]:
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise SerialPatternError(
            f"the pattern {pattern!r} is malformed ({exc}); "
            "write fields in braces, e.g. {prefix}-{year}-{seq:06d}"
        ) from None
    return [(name, spec or "") for _, name, spec, _ in parsed if name is not None]


def check_pattern(pattern: str) -> None:
    """Reject a pattern that could yield an invalid or repeated serial.

    It must contain ``{seq}`` and ``{year}`` or ``{yy}``, because the counter
    restarts each year, and use only the fields in SERIAL_FIELDS.
    """
    if not pattern or len(pattern) > MAX_PATTERN_LENGTH:
        raise SerialPatternError(
            f"the pattern must have 1 to {MAX_PATTERN_LENGTH} characters"
        )
    fields = _fields_of(pattern)
    names = [name for name, _ in fields]
    unknown = [name for name in names if name not in SERIAL_FIELDS]
    if unknown:
        raise SerialPatternError(
            f"unknown field {{{unknown[0]}}} in the pattern; "
            f"use only {', '.join('{' + f + '}' for f in SERIAL_FIELDS)}"
        )
    if "seq" not in names:
        raise SerialPatternError(
            "the pattern must contain {seq}, the running number, e.g. {seq:06d}"
        )
    if "year" not in names and "yy" not in names:
        raise SerialPatternError(
            "the pattern must contain {year} or {yy}, because the running number "
            "restarts every year"
        )
    for value in (1, MAX_SEQ_CHECKED):
        try:
            sample = format_pattern(pattern, "SR", "uni-a", 2026, value)
        except (ValueError, TypeError) as exc:
            raise SerialPatternError(
                f"the pattern cannot be formatted ({exc}); "
                "use a number format for seq such as {seq:06d}"
            ) from None
        if not SERIAL_RE.match(sample):
            raise SerialPatternError(
                f"the pattern gives {sample!r}; a serial may contain only letters, "
                "digits, - and _ and at most 40 characters"
            )


def check_prefix(prefix: str) -> None:
    if not PREFIX_RE.match(prefix or ""):
        raise SerialPatternError(
            "the prefix must be 1 to 16 letters or digits, e.g. SR or BNU",
            field="serial_prefix",
        )


def format_pattern(pattern: str, prefix: str, code: str, year: int, seq: int) -> str:
    """Fill a serial pattern; ``check_pattern`` must have accepted it."""
    return pattern.format(prefix=prefix, code=code, year=year, yy=year % 100, seq=seq)


def settings_of(institution_id: int) -> Optional[InstitutionCertificateSettings]:
    return db.session.get(InstitutionCertificateSettings, institution_id)


def serial_pattern(institution_id: int) -> str:
    row = settings_of(institution_id)
    return row.serial_pattern if row is not None else DEFAULT_SERIAL_PATTERN


def renewal_window_days(institution_id: int) -> int:
    row = settings_of(institution_id)
    return row.renewal_window_days if row is not None else DEFAULT_RENEWAL_WINDOW_DAYS


def format_serial(institution: Institution, year: int, seq: int) -> str:
    """Return the serial of the ``seq``-th certificate of ``year``."""
    return format_pattern(
        serial_pattern(institution.id),
        institution.serial_prefix,
        institution.code,
        year,
        seq,
    )


def update_settings(
    institution: Institution,
    *,
    prefix: str,
    pattern: str,
    renewal_window_days: int,
    actor: Optional[User] = None,
) -> InstitutionCertificateSettings:
    """Validate and store the serial prefix, pattern and renewal window. Flushes.

    Already issued serials keep their form. Raises SerialPatternError.
    """
    check_prefix(prefix)
    check_pattern(pattern)
    if not 0 <= renewal_window_days <= 3650:
        raise SerialPatternError(
            "the renewal window must be 0 to 3650 days", field="renewal_window_days"
        )
    row = settings_of(institution.id)
    if row is None:
        row = InstitutionCertificateSettings(institution_id=institution.id)
        db.session.add(row)
    institution.serial_prefix = prefix
    row.serial_pattern = pattern
    row.renewal_window_days = renewal_window_days
    db.session.flush()
    audit.record(
        "certificate_settings.saved",
        "institution",
        institution.id,
        f"serial pattern {pattern} with prefix {prefix}, "
        f"renewal window {renewal_window_days} days",
        actor_id=actor.id if actor is not None else None,
        institution_id=institution.id,
        data={
            "prefix": prefix,
            "pattern": pattern,
            "renewal_window_days": renewal_window_days,
        },
    )
    return row
