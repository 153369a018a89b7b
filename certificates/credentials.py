"""Open Badges 3.0 credentials (W3C VCDM 2.0) for issued certificates.

``build_open_badge`` turns a certificate's plain render data into an unsigned
OpenBadgeCredential. ``sign_open_badge`` and ``verify_open_badge`` add and
check an ``eddsa-jcs-2022`` proof, and ``issue_open_badge`` builds and signs
with the institution's active key in one call.

Credential text (names, descriptions) is written in Chinese, like the paper
certificate, whatever the UI locale of the request that issues it: a signed
document cannot change with the reader's language.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certificates.signing import (
    CRYPTOSUITE,
    PROOF_TYPE,
    ResolvedKey,
    VerificationResult,
    sign_credential,
    verify_credential,
)

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CREDENTIAL_TYPES = ["VerifiableCredential", "OpenBadgeCredential"]
DEFAULT_TIMEZONE = "Asia/Shanghai"
#: Prefix of an Open Badges IdentityHash made with SHA-256.
IDENTITY_HASH_PREFIX = "sha256$"

_REQUIRED_FIELDS = (
    "holder_name",
    "institution_name",
    "institution_code",
    "programme_title",
    "hours",
    "issued_on",
    "serial",
)


# --- building -------------------------------------------------------------------


def identity_hash(value: str, salt: str) -> str:
    """Return the Open Badges IdentityHash ``sha256$<hex of value + salt>``.

    ``value`` is stripped of surrounding whitespace first, so a verifier who
    types an employee number with a stray space still gets a match.
    """
    digest = hashlib.sha256((value.strip() + salt).encode("utf-8")).hexdigest()
    return IDENTITY_HASH_PREFIX + digest


def format_hours(hours: Any) -> str:
    """Format 学时 without trailing zeros: 32.0 gives "32", 12.50 gives "12.5".

    Raises ValueError for a value that is not a finite non-negative number.
    """
    try:
        value = Decimal(str(hours))
    except InvalidOperation:
        raise ValueError(f"hours is not a number: {hours!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"hours must be a finite non-negative number: {hours!r}")
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _hours_number(hours: str) -> int | float:
    """Return formatted hours as a JSON number: "32" gives 32, "12.5" gives 12.5."""
    value = Decimal(hours)
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _as_date(value: Any, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{field} is not a date (YYYY-MM-DD): {value!r}")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone is not an IANA zone name: {name!r}") from None


def _date_time_stamp(day: date, moment: time, zone: ZoneInfo) -> str:
    """Return the UTC xsd:dateTimeStamp of ``moment`` on ``day`` in ``zone``."""
    local = datetime.combine(day, moment, tzinfo=zone)
    return local.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _achievement_id(data: dict, base_url: str) -> str:
    """Return a stable Achievement id shared by every holder of the programme.

    ``data["achievement_id"]`` wins when given. Otherwise a name-based UUID of
    the issuer and programme title is used, so holders of one programme at
    one institution share an Achievement id without a public URL for it.
    """
    if data.get("achievement_id"):
        return str(data["achievement_id"])
    issuer_id = f"{base_url}/issuers/{data['institution_code']}"
    name = f"{issuer_id}/achievements/{data['programme_title']}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def _alignment(competency: dict, base_url: str) -> dict:
    """Return an Alignment to a CASE CFItem from ``{name, identifier}``.

    Optional keys: ``url`` (default: the CASE 1.0 REST path of the item on
    this platform), ``code`` (CASE humanCodingScheme, as ``targetCode``) and
    ``framework`` (as ``targetFramework``).

    NOTE: no view serves ``/ims/case/v1p0/CFItems/<id>`` yet, so the default
    ``targetUrl`` identifies the item but does not resolve.
    """
    name = competency.get("name")
    identifier = competency.get("identifier")
    if not name or not identifier:
        raise ValueError(f"competency needs a name and an identifier: {competency!r}")
    alignment = {
        "type": ["Alignment"],
        "targetName": name,
        "targetUrl": competency.get("url")
        or f"{base_url}/ims/case/v1p0/CFItems/{identifier}",
        "targetType": "CFItem",
    }
    if competency.get("code"):
        alignment["targetCode"] = str(competency["code"])
    if competency.get("framework"):
        alignment["targetFramework"] = competency["framework"]
    return alignment


def _subject_identifiers(data: dict, salt: str) -> list[dict]:
    identifiers = [
        {
            "type": "IdentityObject",
            "identityType": "name",
            "hashed": False,
            "identityHash": data["holder_name"],
        }
    ]
    employee_no = str(data.get("employee_no") or "").strip()
    if employee_no:
        identifiers.append(
            {
                "type": "IdentityObject",
                "identityType": "identifier",
                "hashed": True,
                "identityHash": identity_hash(employee_no, salt),
                "salt": salt,
            }
        )
    return identifiers


def build_open_badge(
    data: dict, issuer: dict, base_url: str, *, salt: Optional[str] = None
) -> dict:
    """Build an unsigned OpenBadgeCredential from a certificate's render data.

    Required ``data`` keys: holder_name, institution_name, institution_code,
    programme_title, hours, issued_on and serial. Optional keys: employee_no,
    expires_on, verification_url, competencies ([{name, identifier}]),
    criteria, achievement_id and timezone (IANA, default Asia/Shanghai).
    Dates may be ``date`` objects or ISO strings.

    ``issuer`` contains extra Profile properties (e.g. ``url``, ``email``).
    This function sets ``id``, ``type`` and a default ``name``. The holder
    name is stored in plain text, as on the paper certificate, but the
    employee number appears only as a salted SHA-256 IdentityHash. ``salt``
    defaults to 16 random bytes in hex, so each credential has its own hash.

    Raises ValueError naming the field when ``data`` is incomplete or invalid.
    """
    missing = [field for field in _REQUIRED_FIELDS if data.get(field) in (None, "")]
    if missing:
        raise ValueError(f"credential data is missing: {', '.join(missing)}")
    base_url = base_url.rstrip("/")
    issuer_id = f"{base_url}/issuers/{data['institution_code']}"
    if issuer.get("id", issuer_id) != issuer_id:
        raise ValueError(f"issuer id {issuer['id']!r} is not {issuer_id!r}")

    zone = _zone(data.get("timezone") or DEFAULT_TIMEZONE)
    issued_on = _as_date(data["issued_on"], "issued_on")
    hours = format_hours(data["hours"])
    title = data["programme_title"]
    salt = salt if salt is not None else secrets.token_hex(16)

    profile = {"id": issuer_id, "type": ["Profile"], "name": data["institution_name"]}
    profile.update({k: v for k, v in issuer.items() if k not in ("id", "type")})

    achievement = {
        "id": _achievement_id(data, base_url),
        "type": ["Achievement"],
        "achievementType": "CertificateOfCompletion",
        "name": title,
        "description": f"完成“{title}”培训，共{hours}学时。",
        "criteria": {
            "narrative": data.get("criteria")
            or f"完成本培训项目规定的全部学习内容，累计取得{hours}学时。"
        },
        # Open Badges "credit hours": the programme's 学时 as a number.
        "creditsAvailable": _hours_number(hours),
        "inLanguage": "zh-CN",
    }
    competencies = data.get("competencies") or []
    if competencies:
        achievement["alignment"] = [_alignment(item, base_url) for item in competencies]

    description = f"{data['holder_name']}完成“{title}”培训，共{hours}学时。"
    if data.get("verification_url"):
        description += f"核验网址：{data['verification_url']}"

    credential = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        # The public URL ends in the verification code, not the sequential
        # serial, so holders' names cannot be listed by counting serials.
        "id": f"{base_url}/credentials/{data.get('verification_code') or data['serial']}",
        "type": list(CREDENTIAL_TYPES),
        "issuer": profile,
        "validFrom": _date_time_stamp(issued_on, time.min, zone),
        "name": f"{title}结业证书",
        "description": description,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": _subject_identifiers(data, salt),
            "creditsEarned": _hours_number(hours),
            "achievement": achievement,
        },
    }
    if data.get("expires_on"):
        # The certificate is valid through the whole of its expiry day.
        expires_on = _as_date(data["expires_on"], "expires_on")
        if expires_on < issued_on:
            raise ValueError(f"expires_on {expires_on} is before issued_on {issued_on}")
        next_day = expires_on + timedelta(days=1)
        credential["validUntil"] = _date_time_stamp(next_day, time.min, zone)
    return credential


def issuer_profile(institution, base_url: str) -> dict:
    """Return the issuer Profile of an Institution for ``build_open_badge``."""
    return {
        "id": f"{base_url.rstrip('/')}/issuers/{institution.code}",
        "type": ["Profile"],
        "name": institution.name,
    }


# --- signing and verification ---------------------------------------------------


def sign_open_badge(
    credential: dict,
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: Optional[datetime] = None,
) -> dict:
    """Return ``credential`` with an ``eddsa-jcs-2022`` assertionMethod proof."""
    created = created or datetime.now(timezone.utc)
    proof_config = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    return sign_credential(credential, proof_config, private_key)


def _issuer_id_of(credential: dict) -> Optional[str]:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def check_open_badge(
    credential: Any, resolve_public_key: Callable[[str], ResolvedKey]
) -> VerificationResult:
    """Verify an OpenBadgeCredential's proof and that the issuer signed it.

    On top of ``verify_credential`` this requires the OpenBadgeCredential
    type, ``proofPurpose`` assertionMethod and a verification method whose
    controller (the id before ``#``) is the credential's issuer id. It does
    not check validFrom/validUntil or revocation.
    """
    result = verify_credential(credential, resolve_public_key)
    if not result.ok:
        return result
    method = result.verification_method
    types = credential.get("type")
    if not isinstance(types, list) or "OpenBadgeCredential" not in types:
        return VerificationResult(
            False,
            "wrong_type",
            "credential is not an OpenBadgeCredential",
            method,
            detail="wrong_type",
        )
    purpose = credential["proof"].get("proofPurpose")
    if purpose != "assertionMethod":
        return VerificationResult(
            False,
            "wrong_purpose",
            f"proof purpose is {purpose!r}, expected 'assertionMethod'",
            method,
            detail="wrong_purpose",
            detail_values={"purpose": str(purpose)},
        )
    issuer_id = _issuer_id_of(credential)
    if issuer_id is None or method.partition("#")[0] != issuer_id:
        return VerificationResult(
            False,
            "issuer_mismatch",
            f"key {method} does not belong to the issuer {issuer_id!r}",
            method,
            detail="issuer_mismatch",
            detail_values={"method": method, "issuer": str(issuer_id)},
        )
    return result


def subject_has_identifier(credential: dict, value: str) -> bool:
    """Return whether a hashed identifier of the subject matches ``value``.

    Lets a verifier who has a holder's employee number confirm that the
    credential belongs to that holder, although the credential does not
    contain the number.
    """
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        return False
    for identity in subject.get("identifier") or []:
        if not isinstance(identity, dict) or not identity.get("hashed"):
            continue
        salt = identity.get("salt") or ""
        expected = identity.get("identityHash")
        if isinstance(expected, str) and secrets.compare_digest(
            identity_hash(value, salt), expected
        ):
            return True
    return False


# --- database-backed entry points -----------------------------------------------


def issue_open_badge(data: dict, institution, base_url: Optional[str] = None) -> dict:
    """Build and sign a credential with the institution's active key.

    ``base_url`` defaults to the ``PUBLIC_URL`` setting. May create the
    institution's first key: it flushes, and the caller commits. Raises
    ValueError for invalid ``data`` and ``keys.IssuerKeyError`` when the
    private key cannot be decrypted.
    """
    from certificates import keys

    base_url = keys.public_base_url(base_url)
    key = keys.active_key(institution, base_url)
    unsigned = build_open_badge(data, issuer_profile(institution, base_url), base_url)
    return sign_open_badge(unsigned, key.private_key(), key.key_id)


def verify_open_badge(credential: Any) -> VerificationResult:
    """Verify a credential against this platform's issuer keys, active or retired."""
    from certificates import keys

    return check_open_badge(credential, keys.resolve_public_key)


# --- JSON -----------------------------------------------------------------------


def dumps_credential(credential: dict) -> str:
    """Serialise a credential as indented UTF-8 JSON, keeping Chinese unescaped."""
    return json.dumps(credential, ensure_ascii=False, indent=2)


class CredentialJSONError(ValueError):
    """Credential JSON that parses but is rejected for verification.

    ``detail`` is a stable key (``duplicate_key``, ``constant`` or
    ``not_object``) and ``value`` the offending key or constant, for views to
    show a translated message. ``str()`` is an English sentence for logs.
    """

    def __init__(self, message: str, detail: str, value: str = ""):
        super().__init__(message)
        self.detail = detail
        self.value = value


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    result = {}
    for key, value in pairs:
        if key in result:
            raise CredentialJSONError(f"duplicate JSON key: {key!r}", "duplicate_key", key)
        result[key] = value
    return result


def _reject_constant(name: str) -> None:
    raise CredentialJSONError(f"invalid JSON number: {name}", "constant", name)


def loads_credential(text: str | bytes) -> dict:
    """Parse credential JSON strictly for verification.

    Raises ValueError (``json.JSONDecodeError`` is one) for invalid JSON,
    duplicate keys, NaN or Infinity, or a top-level value that is not an object.
    Duplicate keys are rejected because parsers keep different copies, so a
    verifier and a reader could see different credentials.
    """
    value = json.loads(
        text,
        object_pairs_hook=_reject_duplicate_keys,
        parse_constant=_reject_constant,
    )
    if not isinstance(value, dict):
        raise CredentialJSONError("credential JSON is not an object", "not_object")
    return value
