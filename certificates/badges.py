"""Facts a verifier shows from an Open Badges credential, read defensively.

The web verification page and ``flask lms verify-credential`` both read
uploaded files, so every value may be missing or of the wrong JSON type:
the readers here return None in place of raising.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Optional
from zoneinfo import ZoneInfo

from certificates.credentials import DEFAULT_TIMEZONE, format_hours
from certificates.signing import is_date_time_stamp


@dataclass(frozen=True)
class CredentialFacts:
    """Facts a credential states about its certificate, for display."""

    credential_id: Optional[str]
    #: Last segment of the credential id: the certificate's verification code.
    credential_key: Optional[str]
    issuer_id: Optional[str]
    issuer_name: Optional[str]
    holder_name: Optional[str]
    achievement_name: Optional[str]
    hours: Optional[str]
    #: Day of ``validFrom`` in the issuer's time zone: the issue date.
    issued_on: Optional[date]
    #: Last day before ``validUntil``: the expiry date printed on the certificate.
    valid_through: Optional[date]


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def issuer_code(issuer_id: Optional[str]) -> Optional[str]:
    """Return the institution code of an issuer id ``{base}/issuers/{code}``."""
    if not issuer_id or "/issuers/" not in issuer_id:
        return None
    code = issuer_id.rsplit("/issuers/", 1)[1]
    return code if code and "/" not in code else None


def credential_key_of(credential_id: Optional[str]) -> Optional[str]:
    """Return the key of a credential id ``{base}/credentials/{key}``."""
    if not credential_id or "/credentials/" not in credential_id:
        return None
    key = credential_id.rsplit("/credentials/", 1)[1]
    return key if key and "/" not in key else None


def _holder_name(subject: dict) -> Optional[str]:
    identifiers = subject.get("identifier")
    if not isinstance(identifiers, list):
        identifiers = []
    for identity in identifiers:
        if (
            isinstance(identity, dict)
            and identity.get("identityType") == "name"
            and not identity.get("hashed")
        ):
            return _text(identity.get("identityHash"))
    return _text(subject.get("name"))


def _hours(subject: dict, achievement: dict) -> Optional[str]:
    for value in (subject.get("creditsEarned"), achievement.get("creditsAvailable")):
        # bool is an int subclass but never a number of hours.
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return format_hours(value)
            except ValueError:
                return None
    return None


def _local_moment(value: Any, zone: ZoneInfo) -> Optional[datetime]:
    if not is_date_time_stamp(value):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(zone)


def read_facts(credential: dict, timezone: str = DEFAULT_TIMEZONE) -> CredentialFacts:
    """Return the displayable facts of ``credential``; absent values are None.

    Dates are converted to ``timezone``. ``validUntil`` is the first moment
    after the validity period, so the last valid day is the day before it
    when it falls on midnight, as in credentials this platform issues.
    """
    zone = ZoneInfo(timezone)
    issuer = credential.get("issuer")
    issuer_id = _text(issuer) or _text(_dict(issuer).get("id"))
    subject = _dict(credential.get("credentialSubject"))
    achievement = _dict(subject.get("achievement"))
    valid_from = _local_moment(credential.get("validFrom"), zone)
    valid_until = _local_moment(credential.get("validUntil"), zone)
    credential_id = _text(credential.get("id"))
    return CredentialFacts(
        credential_id=credential_id,
        credential_key=credential_key_of(credential_id),
        issuer_id=issuer_id,
        issuer_name=_text(_dict(issuer).get("name")),
        holder_name=_holder_name(subject),
        achievement_name=_text(achievement.get("name")),
        hours=_hours(subject, achievement),
        issued_on=valid_from.date() if valid_from else None,
        valid_through=(
            (valid_until - timedelta(seconds=1)).date() if valid_until else None
        ),
    )
