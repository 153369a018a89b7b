"""Certificates: issuance, serials, codes, status, revocation, PDFs and credentials."""

import calendar
import contextlib
import contextvars
import enum
import hashlib
import os
import re
import secrets
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from certificates import logger
from certificates.badges import CredentialFacts, issuer_code, read_facts
from certificates.credentials import (
    DEFAULT_TIMEZONE,
    dumps_credential,
    issue_open_badge,
    subject_has_identifier,
    verify_open_badge,
)
from certificates import renewal, serials, template_services
from certificates.designs import render_pdf
from certificates.models import Certificate, CertificateStatus, SerialCounter
from certificates.render import render_certificate_pdf
from certificates.template_models import TemplateVersion
from certificates.signing import VerificationResult
from courses.models import Programme, ProgrammeCourse
from lms import audit, signals
from lms.accounts.access import can_view_person, hr_scope
from lms.accounts.models import Role, User
from lms.db import now_utc
from lms.extensions import db
from lms.i18n import plural_count
from lms.notifications import services as notifications
from lms.organisations.models import Institution
from lms.records.services import local_date
from lms.stored_text import (
    reword_as_plural,
    stored_date,
    stored_gettext,
    stored_ngettext,
)

#: Characters of verification codes: no 0/O, 1/I or L, which readers confuse.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
CODE_GROUP = 4
#: Dash-like characters that people type or paste between code groups.
_CODE_SEPARATORS = {
    "-",
    "_",
    "\u2010",
    "\u2011",
    "\u2012",
    "\u2013",
    "\u2014",
    "\u2212",
}
#: A certificate within this many days of its expiry date shows "expiring soon".
EXPIRING_SOON_DAYS = 30
MAX_REASON_LENGTH = 500
_SERIAL_RE = re.compile(r"^[A-Za-z0-9_-]+$")
#: Groups of letters and digits joined by - or _, as serial patterns usually give.
_SERIAL_SHAPE_RE = re.compile(r"^[A-Z0-9]+(?:[-_][A-Z0-9]+)+$")
#: Attempts at drawing a verification code before giving up; a collision in
#: 31**12 codes is not expected, so a second attempt is already rare.
_ISSUE_ATTEMPTS = 3
#: Serials skipped at most in one issue because an older certificate has them.
_MAX_TAKEN_SERIALS = 1000
#: Set by ``pdf_after_commit``: issuing leaves the PDF to the caller.
_PDF_AFTER_COMMIT: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "certificate_pdf_after_commit", default=False
)


class DisplayStatus(enum.Enum):
    """Status shown to people, derived from the stored status and the dates."""

    VALID = "valid"
    EXPIRING_SOON = "expiring_soon"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class CertificateError(Exception):
    """A certificate operation was rejected; the message gives the reason."""


class CertificatePermissionError(CertificateError):
    """The actor may not change this certificate."""


# --- verification codes ---------------------------------------------------


def new_verification_code() -> str:
    """Draw a random 12-character code from CODE_ALPHABET, stored without dashes."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """Group a stored code for display: ABCDEFGHJKMN gives ABCD-EFGH-JKMN."""
    return "-".join(code[i : i + CODE_GROUP] for i in range(0, len(code), CODE_GROUP))


def normalise_code(raw: Optional[str]) -> Optional[str]:
    """Turn user-typed input into a stored code, or None if it cannot be one.

    NFKC folds full-width letters and digits to ASCII, then case, spaces
    and dashes are ignored, so "abcd efgh－jkmn" finds ABCDEFGHJKMN.
    """
    if not raw:
        return None
    text = unicodedata.normalize("NFKC", raw).upper()
    text = "".join(ch for ch in text if not ch.isspace() and ch not in _CODE_SEPARATORS)
    if len(text) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in text):
        return None
    return text


#: Path of the public verification page, which the certificate prints in
#: full under its QR code.
VERIFY_PATH = "/verify/"


def code_from_input(raw: Optional[str]) -> Optional[str]:
    """Turn a typed code or a pasted verification address into a stored code, or None.

    A visitor may copy the address printed under the QR code, or the whole
    line with it, instead of the code, so the text after the last
    ``/verify/`` is read as the code, up to a query string or fragment.
    """
    code = normalise_code(raw)
    if code is not None or not raw or VERIFY_PATH not in raw:
        return code
    tail = raw.rsplit(VERIFY_PATH, 1)[1]
    return normalise_code(re.split(r"[?#/]", tail, maxsplit=1)[0])


def looks_like_serial(raw: Optional[str]) -> bool:
    """Return whether user input has the shape of a serial number, not of a code.

    Serials such as SR-2026-000123 are groups of letters and digits joined by
    - or _, and usually contain characters that codes never use, such as 0 and 1.
    """
    text = unicodedata.normalize("NFKC", raw or "").strip().upper()
    if not _SERIAL_SHAPE_RE.match(text):
        return False
    return any(ch.isalnum() and ch not in CODE_ALPHABET for ch in text)


def find_by_code(raw: Optional[str]) -> Optional[Certificate]:
    """Return the certificate whose code matches user input, or None."""
    code = normalise_code(raw)
    if code is None:
        return None
    return db.session.scalar(sa.select(Certificate).filter_by(verification_code=code))


def verification_url(code: str) -> str:
    """Return the public verification address for a stored code."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return f"{base}/verify/{format_code(code)}"


# --- serial numbers -------------------------------------------------------


def next_serial_value(institution_id: int, year: int) -> int:
    """Increment and return the institution's serial counter for ``year``.

    The UPDATE increments in the database, so concurrent transactions queue
    on the row lock and each gets its own value. When the year's row is
    missing it is inserted; if another transaction inserts it first, the
    unique key rejects ours and the loop increments theirs.
    """
    for _attempt in range(3):
        value = db.session.scalar(
            sa.update(SerialCounter)
            .where(
                SerialCounter.institution_id == institution_id,
                SerialCounter.year == year,
            )
            .values(last_value=SerialCounter.last_value + 1)
            .returning(SerialCounter.last_value)
            .execution_options(synchronize_session=False)
        )
        if value is not None:
            return value
        try:
            with db.session.begin_nested():
                db.session.add(
                    SerialCounter(
                        institution_id=institution_id, year=year, last_value=1
                    )
                )
            return 1
        except IntegrityError:
            logger.info(
                "Serial counter of institution %s for %s was inserted concurrently; "
                "retrying the increment",
                institution_id,
                year,
            )
    raise CertificateError(
        f"could not allocate a serial for institution {institution_id}"
    )


def format_serial(institution: Institution, year: int, value: int) -> str:
    """Return a serial in the institution's pattern, by default SR-2026-000123."""
    return serials.format_serial(institution, year, value)


# --- dates and status -----------------------------------------------------


def add_months(day: date, months: int) -> date:
    """Add calendar months, clamping to the month's last day: Jan 31 + 1 is Feb 28."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry_date(issued_on: date, validity_months: Optional[int]) -> Optional[date]:
    """Return the last day on which the certificate is valid; None never expires.

    A 36-month certificate issued on 2026-05-01 is valid through 2029-04-30.
    """
    if validity_months is None:
        return None
    return add_months(issued_on, validity_months) - timedelta(days=1)


def institution_today(
    institution: Institution, now: Optional[datetime] = None
) -> date:
    """Return the date of ``now`` (default: the current time) in the institution's zone."""
    return (now or now_utc()).astimezone(ZoneInfo(institution.timezone)).date()


def status_of(cert: Certificate, today: Optional[date] = None) -> DisplayStatus:
    """Return the status shown on ``today`` (default: today in the institution's zone).

    Revoked and superseded win over the dates. A certificate is valid
    through its ``expires_on`` day and expiring soon in the last
    EXPIRING_SOON_DAYS days before it.
    """
    if cert.status is CertificateStatus.REVOKED:
        return DisplayStatus.REVOKED
    if cert.status is CertificateStatus.SUPERSEDED:
        return DisplayStatus.SUPERSEDED
    if cert.expires_on is None:
        return DisplayStatus.VALID
    if today is None:
        today = institution_today(cert.institution)
    if today > cert.expires_on:
        return DisplayStatus.EXPIRED
    if (cert.expires_on - today).days <= EXPIRING_SOON_DAYS:
        return DisplayStatus.EXPIRING_SOON
    return DisplayStatus.VALID


def revoked_on(cert: Certificate) -> Optional[date]:
    """Return the revocation date in the institution's zone, or None."""
    if cert.revoked_at is None:
        return None
    return cert.revoked_at.astimezone(ZoneInfo(cert.institution.timezone)).date()


def revoked_by(cert: Certificate) -> Optional[User]:
    """Return who revoked the certificate, from its audit entry, or None if unknown."""
    actor_id = db.session.scalar(
        sa.select(audit.AuditEntry.actor_id)
        .where(
            audit.AuditEntry.action == "certificate.revoked",
            audit.AuditEntry.subject_type == "certificate",
            audit.AuditEntry.subject_id == cert.id,
        )
        .order_by(audit.AuditEntry.id.desc())
        .limit(1)
    )
    return db.session.get(User, actor_id) if actor_id is not None else None


# --- queries --------------------------------------------------------------


def find_by_serial(serial: str) -> Optional[Certificate]:
    return db.session.scalar(sa.select(Certificate).filter_by(serial=serial))


def find_by_credential_key(key: Optional[str]) -> Optional[Certificate]:
    """Find the certificate a credential id names: its verification code.

    Credentials signed before the id carried the code named the serial, so
    the serial is tried second.
    """
    if not key:
        return None
    return find_by_code(key) or find_by_serial(key)


def find_by_achievement(achievement_key: str) -> Optional[Certificate]:
    return db.session.scalar(
        sa.select(Certificate).filter_by(achievement_key=achievement_key)
    )


def reissue_key(achievement_key: str, revoked: Certificate) -> str:
    """Return the achievement key of the certificate that replaces ``revoked``.

    The key is unique per revoked certificate, so the unique
    ``achievement_key`` keeps a revoked certificate from being replaced twice.
    """
    return f"{achievement_key}:reissue:{revoked.id}"


def _pick_held(certificates, achievement_keys) -> dict[str, Certificate]:
    """Return the held certificate of each achievement key among ``certificates``.

    An achievement's certificates are the one issued under its key and the
    reissues of revoked ones (keys ``<key>:reissue:<id>``). The held one is
    the newest that is not revoked. When all are revoked, it is the newest
    revoked one. Keys without any certificate are missing from the result.
    """
    wanted = set(achievement_keys)
    held: dict[str, Certificate] = {}
    for cert in sorted(certificates, key=lambda cert: cert.id):
        key = cert.achievement_key.partition(":reissue:")[0]
        if key not in wanted:
            continue
        current = held.get(key)
        if (
            current is None
            or cert.status is not CertificateStatus.REVOKED
            or current.status is CertificateStatus.REVOKED
        ):
            held[key] = cert
    return held


def held_certificate(achievement_key: str) -> Optional[Certificate]:
    """Return the certificate held for an achievement: the newest one not revoked.

    Returns the newest revoked one when every certificate of the achievement
    is revoked, and None when it has none.
    """
    certificates = db.session.scalars(
        sa.select(Certificate).where(
            sa.or_(
                Certificate.achievement_key == achievement_key,
                Certificate.achievement_key.startswith(
                    f"{achievement_key}:reissue:", autoescape=True
                ),
            )
        )
    )
    return _pick_held(certificates, [achievement_key]).get(achievement_key)


def held_programme_certificates(
    programme_id: int, user_ids: list[int]
) -> dict[int, Certificate]:
    """Return the programme certificate each of ``user_ids`` holds, by user id.

    The choice is the one ``held_certificate`` makes. People without any
    certificate of the programme are missing from the result.
    """
    keys = {
        programme_achievement_key_for(user_id, programme_id): user_id for user_id in user_ids
    }
    certificates = db.session.scalars(
        sa.select(Certificate).where(Certificate.programme_id == programme_id)
    )
    return {keys[key]: cert for key, cert in _pick_held(certificates, keys).items()}


def valid_certificates_on_course(user_id: int, course_id: int) -> list[Certificate]:
    """Return the user's valid certificates of programmes that include the course."""
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .join(
                ProgrammeCourse,
                ProgrammeCourse.programme_id == Certificate.programme_id,
            )
            .where(
                Certificate.holder_id == user_id,
                Certificate.status == CertificateStatus.VALID,
                ProgrammeCourse.course_id == course_id,
            )
            .order_by(Certificate.id)
        )
    )


def certificates_of(user: User) -> list[Certificate]:
    """Return the user's certificates, newest first."""
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .where(Certificate.holder_id == user.id)
            .order_by(Certificate.issued_on.desc(), Certificate.id.desc())
        )
    )


def institution_certificates(
    institution_id: int,
    search: str = "",
    limit: int = 200,
    department_id: Optional[int] = None,
) -> list:
    """Return up to ``limit`` certificates of an institution, newest first.

    ``search`` matches part of the holder name, the serial or the title.
    ``department_id`` keeps the certificates of that department's people.
    """
    query = sa.select(Certificate).where(Certificate.institution_id == institution_id)
    if department_id is not None:
        query = query.join(User, User.id == Certificate.holder_id).where(
            User.department_id == department_id
        )
    search = search.strip()
    if search:
        # autoescape makes "%", "_" and "/" in the search match themselves.
        query = query.where(
            sa.or_(
                Certificate.holder_name.icontains(search, autoescape=True),
                Certificate.serial.icontains(search, autoescape=True),
                Certificate.title.icontains(search, autoescape=True),
            )
        )
    query = query.order_by(Certificate.issued_on.desc(), Certificate.id.desc()).limit(
        limit
    )
    return list(db.session.scalars(query))


# --- permissions ----------------------------------------------------------


def can_view(viewer: User, cert: Certificate) -> bool:
    """Return whether ``viewer`` may open the certificate's PDF and details.

    The holder may, and so may HR and admins of the issuing institution.
    """
    if viewer.id == cert.holder_id:
        return True
    return can_manage(viewer, cert)


def can_download(viewer: User, cert: Certificate) -> bool:
    """Return whether ``viewer`` may download the certificate's PDF and credential.

    A revoked certificate is no longer the holder's to hand out: only HR and
    admins who manage it may fetch the archived copy, for the record.
    """
    if cert.status is CertificateStatus.REVOKED:
        return can_manage(viewer, cert)
    return can_view(viewer, cert)


def record_archived_download(cert: Certificate, actor: User, kind: str) -> None:
    """Audit a download of a revoked certificate's archived ``kind`` (pdf, credential)."""
    action = (
        "certificate.archived_pdf_downloaded"
        if kind == "pdf"
        else "certificate.archived_credential_downloaded"
    )
    audit.record(
        action,
        "certificate",
        cert.id,
        f"{cert.serial} archived {kind} downloaded after revocation",
        actor_id=actor.id,
        institution_id=cert.institution_id,
        data={"serial": cert.serial, "holder_id": cert.holder_id},
    )


def can_manage(actor: User, cert: Certificate) -> bool:
    """Return whether ``actor`` may revoke: HR or admin of the issuing institution.

    Department HR manages only the certificates of people of their department.
    """
    return (
        actor.role in (Role.HR, Role.ADMIN)
        and actor.institution_id == cert.institution_id
        and (hr_scope(actor) is None or can_view_person(actor, cert.holder))
    )


# --- issuing --------------------------------------------------------------


def programme_achievement_key(user: User, programme: Programme) -> str:
    return programme_achievement_key_for(user.id, programme.id)


def programme_achievement_key_for(user_id: int, programme_id: int) -> str:
    return f"programme:{programme_id}:user:{user_id}"


def issue_programme_certificate(
    user: User,
    programme: Programme,
    completed_at: datetime,
    *,
    replace_revoked: bool = False,
    actor: Optional[User] = None,
) -> Certificate:
    """Issue the certificate for a completed programme, or return the held one.

    Idempotent: the unique ``achievement_key`` makes a double click, a
    replayed request or a second tab yield the same certificate. Only the
    call that inserts the row audits it, stores the PDF and sends
    ``certificate_issued``.

    When the held certificate is revoked, it is returned unless
    ``replace_revoked`` is set. With it, a new certificate with a new serial
    is issued under ``reissue_key``, and the revoked one stays revoked.
    ``actor`` is recorded in the audit entries of a certificate issued by a
    person rather than by completion or a batch.
    """
    key = programme_achievement_key(user, programme)
    existing = find_by_achievement(key)
    if existing is not None and existing.status is CertificateStatus.REVOKED:
        # Reissues exist only for a revoked first certificate.
        existing = held_certificate(key)
    if existing is not None and not (
        replace_revoked and existing.status is CertificateStatus.REVOKED
    ):
        return existing
    replaced = existing
    if replaced is not None:
        key = reissue_key(key, replaced)

    institution = user.institution
    issued_on = local_date(user, completed_at)
    version = template_services.version_for_programme(programme)
    renewed = renewal.renewable_certificate(user, programme, issued_on)

    def build(serial: str) -> Certificate:
        cert = _new_certificate(
            user, programme, key, serial=serial, issued_on=issued_on, version=version
        )
        db.session.add(cert)
        db.session.flush()
        if renewed is not None:
            renewal.supersede(renewed, cert)
        elif replaced is not None:
            renewal.replace_revoked(replaced, cert, actor=actor)
        return cert

    cert, inserted = insert_with_serial(key, institution, issued_on.year, build)
    if not inserted:
        return cert
    after_issue(cert, actor)
    return cert


def insert_with_serial(
    key: str, institution: Institution, year: int, build
) -> tuple[Certificate, bool]:
    """Insert the certificate ``build(serial)`` adds with the next serial of ``year``.

    Returns (certificate, True) for the inserted one, or (certificate,
    False) when a concurrent request issued ``key`` first. The counter
    increment shares the savepoint with the insert, so a rejected insert
    leaves no gap in the serial sequence. Raises CertificateError after
    repeated verification code collisions.
    """
    code_collisions = taken_serials = 0
    while True:
        serial = None
        try:
            with db.session.begin_nested():
                value = next_serial_value(institution.id, year)
                serial = format_serial(institution, year, value)
                cert = build(serial)
            return cert, True
        except IntegrityError:
            existing = find_by_achievement(key)
            if existing is not None:
                logger.info("Certificate %s was issued by a concurrent request", key)
                return existing, False
            if serial and find_by_serial(serial) and taken_serials < _MAX_TAKEN_SERIALS:
                # A changed serial pattern can repeat an older serial: use up
                # its number outside the savepoint and try the next one.
                taken_serials += 1
                next_serial_value(institution.id, year)
                logger.warning("Serial %s is taken; skipping it for %s", serial, key)
                continue
            code_collisions += 1
            if code_collisions >= _ISSUE_ATTEMPTS:
                raise CertificateError(f"could not issue the certificate {key}")
            logger.warning("Verification code collision issuing %s; retrying", key)


def validity_months(
    programme: Programme, version: Optional[TemplateVersion]
) -> Optional[int]:
    """Return the validity in months: the programme's, else the template's, else None."""
    if programme.certificate_validity_months is not None:
        return programme.certificate_validity_months
    return version.validity_months if version is not None else None


def _new_certificate(
    user: User,
    programme: Programme,
    key: str,
    *,
    serial: str,
    issued_on: date,
    version: Optional[TemplateVersion] = None,
) -> Certificate:
    institution = user.institution
    code = new_verification_code()
    expires_on = expiry_date(issued_on, validity_months(programme, version))
    hours = programme.total_hours
    return Certificate(
        serial=serial,
        verification_code=code,
        achievement_key=key,
        holder_id=user.id,
        institution_id=institution.id,
        programme_id=programme.id,
        holder_name=user.full_name,
        title=programme.title,
        hours=hours,
        issued_on=issued_on,
        expires_on=expires_on,
        status=CertificateStatus.VALID,
        template_version_id=version.id if version is not None else None,
        render_data={
            "holder_name": user.full_name,
            "employee_no": user.employee_no or "",
            "institution_name": institution.name,
            "institution_name_en": institution.name_en or "",
            "programme_title": programme.title,
            "level": programme.level.value,
            "hours": str(hours),
            # Completing a programme requires passing every assessment in it.
            "grade": "pass",
            "issued_on": issued_on.isoformat(),
            "expires_on": expires_on.isoformat() if expires_on else None,
            "serial": serial,
            "verification_code": format_code(code),
            "verification_url": verification_url(code),
        },
    )


def after_issue(cert: Certificate, actor: Optional[User] = None) -> None:
    """Audit a newly inserted certificate, sign its credential, store its PDF, signal it."""
    audit.record(
        "certificate.issued",
        "certificate",
        cert.id,
        f"{cert.serial} {cert.title} for {cert.holder_name}",
        actor_id=actor.id if actor is not None else None,
        institution_id=cert.institution_id,
        data={
            "serial": cert.serial,
            "holder_id": cert.holder_id,
            "programme_id": cert.programme_id,
            "hours": str(cert.hours),
        },
    )
    logger.info(
        "Issued certificate %s to user %s for programme %s",
        cert.serial,
        cert.holder_id,
        cert.programme_id,
    )
    # The credential comes first because the PDF embeds it as an attachment.
    try_ensure_credential(cert)
    if not _PDF_AFTER_COMMIT.get():
        try:
            store_pdf(cert)
        except Exception:
            # The certificate is kept without its file, and pdf_bytes renders it
            # from render_data on the first download.
            logger.exception("Rendering the PDF of certificate %s failed", cert.serial)
    notify_issued(cert)
    signals.certificate_issued.send(cert, certificate=cert)


@contextlib.contextmanager
def pdf_after_commit():
    """Issue certificates without rendering their PDFs, for the caller to store later.

    The serial counter row stays locked until the issuing transaction ends,
    so rendering inside it would make every other issuer of the institution
    wait for the render. A caller that commits first and then calls
    ``render_stored`` and ``save_pdf`` holds the lock for milliseconds. A
    certificate left without its PDF is rendered by ``pdf_bytes`` on the
    first download.
    """
    token = _PDF_AFTER_COMMIT.set(True)
    try:
        yield
    finally:
        _PDF_AFTER_COMMIT.reset(token)


# --- signed credentials ---------------------------------------------------


def credential_data(cert: Certificate) -> dict:
    """Return the values ``build_open_badge`` needs, taken from ``render_data``.

    Everything printed on the certificate comes from ``render_data``; only the
    issuer's code and time zone, which the PDF does not show, are read from
    the institution.
    """
    data = dict(cert.render_data)
    data["institution_code"] = cert.institution.code
    data["timezone"] = cert.institution.timezone
    return data


def credential_filename(cert: Certificate) -> str:
    return f"{cert.serial}.credential.json"


def ensure_credential(cert: Certificate) -> str:
    """Return the certificate's signed credential JSON, building it if missing.

    The first call signs with the institution's active key and stores the
    text; later calls return the stored text unchanged, so the credential
    id always serves the same document. The UPDATE only fills an empty
    column, so when two requests build at once the first commit wins and
    both return that text. A certificate whose PDF was stored without a
    credential gets its ``pdf_sha256`` cleared, so ``pdf_bytes`` renders the
    PDF again with the attachment. Flushes only.

    Raises ValueError for incomplete render data and ``keys.IssuerKeyError``
    when the active private key cannot be decrypted.
    """
    if cert.credential_json:
        return cert.credential_json
    text = dumps_credential(issue_open_badge(credential_data(cert), cert.institution))
    stored = db.session.execute(
        sa.update(Certificate)
        .where(Certificate.id == cert.id, Certificate.credential_json.is_(None))
        .values(credential_json=text)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(cert, attribute_names=["credential_json"])
    if stored:
        logger.info("Signed the credential of certificate %s", cert.serial)
        if cert.pdf_sha256 is not None:
            cert.pdf_sha256 = None
            db.session.flush()
    return cert.credential_json


def try_ensure_credential(cert: Certificate) -> Optional[str]:
    """Call ``ensure_credential``, logging a failure and returning None instead.

    A certificate stays usable without its credential: the next call (a
    credential request or a PDF download) tries again.
    """
    try:
        with db.session.begin_nested():
            return ensure_credential(cert)
    except Exception:
        logger.exception("Signing the credential of certificate %s failed", cert.serial)
        return None


# --- PDF storage ----------------------------------------------------------


def pdf_path(cert: Certificate) -> Path:
    """Return where the certificate's PDF is stored: CERTIFICATE_DIR/<serial>.pdf."""
    if not _SERIAL_RE.match(cert.serial):
        raise CertificateError(f"serial {cert.serial!r} is not usable as a file name")
    return Path(current_app.config["CERTIFICATE_DIR"]) / f"{cert.serial}.pdf"


def render_stored(cert: Certificate, specs: Optional[dict] = None) -> bytes:
    """Render the certificate from its template version and frozen ``render_data``.

    Certificates issued before templates existed have no version and use
    the built-in layout. ``specs``, a dict by version id, keeps each
    version's spec (its images read, checked and encoded) for later calls.
    """
    if cert.template_version_id is None:
        return render_certificate_pdf(
            cert.render_data,
            credential_json=cert.credential_json,
            credential_filename=credential_filename(cert),
        )
    spec = specs.get(cert.template_version_id) if specs is not None else None
    if spec is None:
        version = db.session.get(TemplateVersion, cert.template_version_id)
        spec = template_services.spec_of(version)
        if specs is not None:
            specs[cert.template_version_id] = spec
    return render_pdf(
        spec,
        cert.render_data,
        credential_json=cert.credential_json,
        credential_filename=credential_filename(cert),
    )


def store_pdf(cert: Certificate) -> bytes:
    """Render the PDF from ``render_data``, write it atomically and record its hash."""
    pdf = render_stored(cert)
    save_pdf(cert, pdf)
    return pdf


def save_pdf(cert: Certificate, pdf: bytes) -> None:
    """Write a rendered PDF of ``cert`` atomically and record its hash. Flushes."""
    path = pdf_path(cert)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{cert.serial}.", suffix=".tmp"
    )
    try:
        with os.fdopen(handle, "wb") as tmp:
            tmp.write(pdf)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    digest = hashlib.sha256(pdf).hexdigest()
    if cert.pdf_sha256 and cert.pdf_sha256 != digest:
        logger.warning(
            "Re-rendered PDF of certificate %s differs from the issued one: "
            "sha256 %s, was %s",
            cert.serial,
            digest,
            cert.pdf_sha256,
        )
    cert.pdf_sha256 = digest
    db.session.flush()


def pdf_bytes(cert: Certificate) -> bytes:
    """Return the stored PDF, re-rendering it from ``render_data`` if the file is gone.

    A file whose hash does not match ``pdf_sha256`` is re-rendered too: it
    can be left behind by a transaction that rolled back after writing it.
    A certificate issued before credentials existed gets its credential
    first, and its PDF is rendered again with the credential attached.
    The re-render may update ``pdf_sha256`` and ``credential_json``, so
    callers commit afterwards.
    """
    if cert.credential_json is None:
        try_ensure_credential(cert)
    if cert.pdf_sha256 is None:
        logger.info("Certificate %s has no stored PDF hash; rendering it", cert.serial)
        return store_pdf(cert)
    path = pdf_path(cert)
    try:
        stored = path.read_bytes()
    except FileNotFoundError:
        logger.info("PDF of certificate %s is missing; rendering it again", cert.serial)
        return store_pdf(cert)
    if cert.pdf_sha256 and hashlib.sha256(stored).hexdigest() == cert.pdf_sha256:
        return stored
    logger.warning(
        "PDF of certificate %s does not match its hash; rendering it again", cert.serial
    )
    return store_pdf(cert)


# --- revocation -----------------------------------------------------------


def revoke(cert: Certificate, reason: str, actor: User) -> Certificate:
    """Revoke a certificate with a reason; revoking a revoked one changes nothing.

    Raises CertificatePermissionError unless ``actor`` is HR or admin of
    the issuing institution, and CertificateError for a missing or too
    long reason.
    """
    if not can_manage(actor, cert):
        raise CertificatePermissionError(
            "only HR or an admin of the institution may revoke"
        )
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError("a reason is required")
    if len(reason) > MAX_REASON_LENGTH:
        raise CertificateError(
            f"the reason is longer than {MAX_REASON_LENGTH} characters"
        )
    if cert.status is CertificateStatus.REVOKED:
        return cert

    cert.status = CertificateStatus.REVOKED
    cert.revoked_at = now_utc()
    cert.revoked_reason = reason
    audit.record(
        "certificate.revoked",
        "certificate",
        cert.id,
        f"{cert.serial} revoked: {reason}"[:500],
        actor_id=actor.id,
        institution_id=cert.institution_id,
        data={"serial": cert.serial, "holder_id": cert.holder_id, "reason": reason},
    )
    db.session.flush()
    logger.info("Certificate %s revoked by user %s", cert.serial, actor.id)
    notify_revoked(cert)
    signals.certificate_revoked.send(cert, certificate=cert)
    return cert


# Notifications queued before the message had a plural form.
reword_as_plural(
    "You received the certificate of %(title)s (%(hours)s hours). "
    "Download it under My certificates.",
    "You received the certificate of %(title)s (%(hours)s hour). Download "
    "it under My certificates.",
    "You received the certificate of %(title)s (%(hours)s hours). "
    "Download it under My certificates.",
    "hours",
)


def notify_issued(cert: Certificate) -> None:
    """Queue an in-app notification, with an e-mail copy, of a new certificate.

    A certificate is also issued without the holder on the page: by a
    trainer's attendance mark, an HR batch or a reissue.
    """
    title = stored_gettext("Your certificate %(serial)s was issued", serial=cert.serial)
    hours = format(cert.hours.normalize(), "f")
    body = stored_ngettext(
        "You received the certificate of %(title)s (%(hours)s hour). "
        "Download it under My certificates.",
        "You received the certificate of %(title)s (%(hours)s hours). "
        "Download it under My certificates.",
        plural_count(hours),
        title=cert.title,
        hours=hours,
    )
    notifications.enqueue(
        cert.holder,
        "certificate_issued",
        "certificate",
        cert.id,
        title,
        body,
        link=f"/certificates/{cert.serial}",
    )


def notify_revoked(cert: Certificate) -> None:
    """Queue an in-app notification, with an e-mail copy, telling the holder why."""
    holder = cert.holder
    title = stored_gettext("Your certificate %(serial)s was revoked", serial=cert.serial)
    body = stored_gettext(
        "Certificate %(serial)s (%(title)s) was revoked on %(date)s. "
        "Reason: %(reason)s",
        serial=cert.serial,
        title=cert.title,
        date=stored_date(revoked_on(cert), "long"),
        reason=cert.revoked_reason,
    )
    notifications.enqueue(
        holder,
        "certificate_revoked",
        "certificate",
        cert.id,
        title,
        body,
        link=f"/certificates/{cert.serial}",
    )


# --- signal listeners -----------------------------------------------------


def issue_on_programme_completion(
    sender, *, user_id, programme_id, completed_at, **kw
) -> None:
    """Listener: a completed programme issues its certificate."""
    user = db.session.get(User, user_id)
    programme = db.session.get(Programme, programme_id)
    if user is None or programme is None:
        logger.error(
            "Programme completion names a missing user %s or programme %s",
            user_id,
            programme_id,
        )
        return
    issue_programme_certificate(user, programme, completed_at)


def connect_listeners() -> None:
    signals.programme_completed.connect(issue_on_programme_completion, weak=False)


# --- checking uploaded credentials -----------------------------------------


@dataclass(frozen=True)
class CredentialCheck:
    """Outcome of checking an uploaded credential against this platform.

    ``certificate`` is set only when the signature is valid and the
    credential id names a certificate of the signing issuer. ``status`` is
    then that certificate's status today, which can be revoked or expired
    although the signature is valid.
    """

    result: VerificationResult
    facts: CredentialFacts
    certificate: Optional[Certificate] = None
    status: Optional[DisplayStatus] = None
    #: Whether the optional employee number matches the hashed identifier;
    #: None when no number was given.
    identifier_matches: Optional[bool] = None


def issuer_institution(issuer_id: Optional[str]) -> Optional[Institution]:
    """Return the institution of an issuer id ``{base}/issuers/{code}``, or None."""
    code = issuer_code(issuer_id)
    if code is None:
        return None
    return db.session.scalar(sa.select(Institution).filter_by(code=code))


def check_credential(credential: dict, employee_no: str = "") -> CredentialCheck:
    """Verify ``credential``'s signature and find the certificate it describes.

    The facts shown are read from the verified document when the signature
    is valid, else from the upload as it is, for the caller to mark as
    unverified. Dates are in the time zone of the issuing institution.
    """
    try:
        result = verify_open_badge(credential)
    except RecursionError:
        result = VerificationResult(
            False,
            "malformed",
            "credential nests JSON too deeply to verify",
            detail="too_deep",
        )
    institution = issuer_institution(
        read_facts(credential).issuer_id if isinstance(credential, dict) else None
    )
    zone = institution.timezone if institution is not None else DEFAULT_TIMEZONE
    facts = read_facts(result.document if result.ok else credential, zone)
    if not result.ok:
        return CredentialCheck(result, facts)

    cert = find_by_credential_key(facts.credential_key)
    if cert is None or institution is None or cert.institution_id != institution.id:
        cert = None
    matches = None
    if employee_no and employee_no.strip():
        # A Chinese input method may type full-width letters and digits. NFKC
        # folds them to ASCII, and the value as typed is tried too.
        typed = {employee_no, unicodedata.normalize("NFKC", employee_no)}
        matches = any(subject_has_identifier(result.document, value) for value in typed)
    return CredentialCheck(
        result,
        facts,
        certificate=cert,
        status=status_of(cert) if cert is not None else None,
        identifier_matches=matches,
    )
