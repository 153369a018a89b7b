"""Serial number patterns and the per-institution certificate settings."""

import re
import string
from typing import Optional

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

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
#: Fields that take a number format such as ``06d``. The others are text.
NUMBER_FIELDS = ("year", "yy", "seq")
#: Maximum zero-padded width of a number field.
MAX_WIDTH = 12
#: A serial names the stored PDF file and appears in URLs. Its maximum length
#: is the length of the Certificate.serial column.
SERIAL_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_SERIAL_LENGTH = 40
PREFIX_RE = re.compile(r"^[A-Za-z0-9]{1,16}$")
MAX_PATTERN_LENGTH = 80
#: Sequence values up to this one must format to a valid serial.
MAX_SEQ_CHECKED = 999_999
#: Number formats allowed: none, ``d``, or a zero-padded width such as ``06d``.
_NUMBER_SPEC_RE = re.compile(r"^(?:d|0([1-9][0-9]?)d)?$")
#: Characters of an example serial shown in a message.
_EXAMPLE_LENGTH = 48


class SerialPatternError(ValueError):
    """A serial setting was rejected; the message gives the reason and the fix.

    ``field`` names the settings form field the message belongs to. The
    message is a lazy translation, rendered in the locale of the request.
    """

    def __init__(self, message, field: str = "serial_pattern"):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


def _fields_of(pattern: str) -> list[tuple[str, str | None, str]]:
    """Return the (name, conversion, format spec) of each field of ``pattern``."""
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError:
        raise SerialPatternError(
            _l(
                "The serial pattern is malformed, because a { or } has no partner. "
                "Write each field in braces, such as {prefix}-{year}-{seq:06d}, "
                "and no other braces."
            )
        ) from None
    return [
        (name, conversion, spec or "")
        for _text, name, spec, conversion in parsed
        if name is not None
    ]


def _check_field(name: str, conversion: str | None, spec: str) -> None:
    if name not in SERIAL_FIELDS:
        raise SerialPatternError(
            _l(
                "The serial pattern contains the unknown field {%(field)s}. Use "
                "only {prefix}, {code}, {year}, {yy} and {seq}.",
                field=name,
            )
        )
    if conversion is not None:
        raise SerialPatternError(
            _l(
                "The serial pattern contains {%(field)s!%(conversion)s}, but "
                "conversions such as !r are not allowed. Write {%(field)s}.",
                field=name,
                conversion=conversion,
            )
        )
    if name not in NUMBER_FIELDS:
        if spec:
            raise SerialPatternError(
                _l(
                    "In the serial pattern, {%(field)s} takes no format such as "
                    ":%(spec)s. Write {%(field)s}.",
                    field=name,
                    spec=spec,
                )
            )
        return
    match = _NUMBER_SPEC_RE.match(spec)
    if match is None or (match.group(1) and int(match.group(1)) > MAX_WIDTH):
        raise SerialPatternError(
            _l(
                "The format {%(field)s:%(spec)s} in the serial pattern is not "
                "allowed. Write {%(field)s} or a zero-padded width of 1 to "
                "%(max)d digits, such as {%(field)s:06d}.",
                field=name,
                spec=spec,
                max=MAX_WIDTH,
            )
        )


def _shortened(text: str) -> str:
    if len(text) <= _EXAMPLE_LENGTH:
        return text
    return text[:_EXAMPLE_LENGTH] + "…"


def check_pattern(pattern: str, prefix: str = "SR", code: str = "uni-a") -> None:
    """Reject a pattern that could yield an invalid or repeated serial.

    It must contain ``{seq}`` exactly once and ``{year}`` or ``{yy}``,
    because the counter restarts each year, and use only the fields in
    SERIAL_FIELDS with no conversion. Number fields take at most a
    zero-padded width of MAX_WIDTH digits. The serials of sequence numbers
    up to MAX_SEQ_CHECKED, with ``prefix`` and ``code``, must match SERIAL_RE.
    """
    if not pattern or len(pattern) > MAX_PATTERN_LENGTH:
        raise SerialPatternError(
            _l(
                "The serial pattern must have 1 to %(max)d characters.",
                max=MAX_PATTERN_LENGTH,
            )
        )
    fields = _fields_of(pattern)
    for name, conversion, spec in fields:
        _check_field(name, conversion, spec)
    names = [name for name, _conversion, _spec in fields]
    if "seq" not in names:
        raise SerialPatternError(
            _l(
                "The serial pattern must contain {seq}, the running number, "
                "such as {seq:06d}."
            )
        )
    if names.count("seq") > 1:
        raise SerialPatternError(
            _l(
                "The serial pattern contains {seq} %(count)d times. Write it once, "
                "because the running number makes each serial unique.",
                count=names.count("seq"),
            )
        )
    if "year" not in names and "yy" not in names:
        raise SerialPatternError(
            _l(
                "The serial pattern must contain {year} or {yy}, because the "
                "running number restarts every year."
            )
        )
    for value in (1, MAX_SEQ_CHECKED):
        sample = format_pattern(pattern, prefix, code, 2026, value)
        if not SERIAL_RE.match(sample):
            raise SerialPatternError(
                _l(
                    "The serial pattern gives serials such as %(example)s (%(length)d "
                    "characters), but a serial may contain only letters, digits, - "
                    "and _ and at most %(max)d characters. Remove other characters "
                    "or shorten the pattern.",
                    example=_shortened(sample),
                    length=len(sample),
                    max=MAX_SERIAL_LENGTH,
                )
            )


def check_prefix(prefix: str) -> None:
    if not PREFIX_RE.match(prefix or ""):
        raise SerialPatternError(
            _l("The serial prefix must be 1 to 16 letters or digits, such as SR or BNU."),
            field="serial_prefix",
        )


def _uses_code(pattern: str) -> bool:
    return any(name == "code" for name, _conversion, _spec in _fields_of(pattern))


def check_prefix_unshared(institution: Institution, prefix: str, pattern: str) -> None:
    """Reject a prefix that another institution uses while neither pattern has {code}.

    Serial numbers are unique across institutions, so two institutions
    with the same prefix would print look-alike serials, and each would
    skip the numbers the other took first. Case is ignored, because JA and
    ja read as the same serial.
    """
    if _uses_code(pattern):
        return
    others = db.session.scalars(
        sa.select(Institution).where(
            Institution.id != institution.id,
            sa.func.upper(Institution.serial_prefix) == prefix.upper(),
        )
    )
    for other in others:
        if _uses_code(serial_pattern(other.id)):
            continue
        raise SerialPatternError(
            _l(
                "%(institution)s already uses the serial prefix %(prefix)s, so both "
                "would issue serials such as %(example)s. Choose another prefix, "
                "or add {code} to the pattern.",
                institution=other.name,
                prefix=other.serial_prefix,
                example=_shortened(
                    format_pattern(pattern, other.serial_prefix, institution.code, 2026, 1)
                ),
            ),
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
    # NOTE: a later change of the institution code does not recheck the
    # pattern, so a longer code can still give serials over 40 characters.
    check_pattern(pattern, prefix, institution.code)
    check_prefix_unshared(institution, prefix, pattern)
    if not 0 <= renewal_window_days <= 3650:
        raise SerialPatternError(
            _l("The renewal window must be 0 to 3650 days."),
            field="renewal_window_days",
        )
    row = settings_of(institution.id)
    previous = {
        "prefix": institution.serial_prefix,
        "pattern": row.serial_pattern if row is not None else DEFAULT_SERIAL_PATTERN,
        "renewal_window_days": (
            row.renewal_window_days if row is not None else DEFAULT_RENEWAL_WINDOW_DAYS
        ),
    }
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
            "previous": previous,
        },
    )
    return row
