"""Optional TOTP two-factor login (RFC 6238) with single-use recovery codes.

A user enrols by scanning a QR code of the secret and confirming one code.
Only then is two-factor login on for them, and login requests a code after
the password. A code is accepted once: the time step it matched is stored,
and a code of that step or an earlier one is rejected, so a code seen over a
shoulder cannot be replayed within its 30 seconds. Recovery codes are stored
as password hashes and each works once.

An institution can require two-factor login for HR and admin accounts
(``InstitutionSecurity.require_two_factor``); such users are sent to the
enrolment page until they enrol.
"""

import hmac
import secrets
import unicodedata
from datetime import datetime
from typing import Optional

import pyotp
import segno
import sqlalchemy as sa
import sqlalchemy.orm as so
from werkzeug.security import check_password_hash, generate_password_hash

from lms import audit
from lms.accounts.models import Role, User
from lms.db import UTCDateTime, now_utc
from lms.extensions import db

#: Roles that an institution's requirement applies to.
REQUIRED_FOR_ROLES = (Role.HR, Role.ADMIN)

#: Seconds per TOTP step, as authenticator apps use by default.
STEP_SECONDS = 30

#: Digits of a TOTP code, as authenticator apps and pyotp use by default.
TOTP_DIGITS = 6

#: Steps before and after the current one that are accepted, for clock drift.
VALID_WINDOW = 1

RECOVERY_CODE_COUNT = 10

ISSUER = "Shuren"


class TwoFactor(db.Model):
    """A user's TOTP secret; two-factor login is on once ``confirmed_at`` is set."""

    __tablename__ = "two_factor"

    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    #: Base32 secret shared with the authenticator app.
    secret: so.Mapped[str] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    confirmed_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    #: Time step (Unix time // 30) of the last accepted code; older steps are rejected.
    last_step: so.Mapped[Optional[int]] = so.mapped_column(sa.BigInteger)

    def __repr__(self) -> str:
        return f"<TwoFactor user={self.user_id} confirmed={self.confirmed_at is not None}>"


class RecoveryCode(db.Model):
    """One single-use recovery code, stored as a password hash."""

    __tablename__ = "recovery_code"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(256))
    used_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)


class InstitutionSecurity(db.Model):
    """Security settings of one institution, edited by its admins."""

    __tablename__ = "institution_security"

    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True
    )
    #: HR and admin accounts must log in with a second factor.
    require_two_factor: so.Mapped[bool] = so.mapped_column(default=False)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc
    )


# --- state ---------------------------------------------------------------


def get_two_factor(user: User) -> Optional[TwoFactor]:
    return db.session.get(TwoFactor, user.id)


def is_enabled(user: User) -> bool:
    """Return whether ``user`` logs in with a second factor."""
    record = get_two_factor(user)
    return record is not None and record.confirmed_at is not None


def institution_requires(institution_id: int) -> bool:
    settings = db.session.get(InstitutionSecurity, institution_id)
    return settings is not None and settings.require_two_factor


def is_required(user: User) -> bool:
    """Return whether ``user``'s institution requires a second factor of their role."""
    return user.role in REQUIRED_FOR_ROLES and institution_requires(user.institution_id)


def set_requirement(actor: User, required: bool) -> InstitutionSecurity:
    """Turn the two-factor requirement of the actor's institution on or off; audited."""
    settings = db.session.get(InstitutionSecurity, actor.institution_id)
    if settings is None:
        settings = InstitutionSecurity(institution_id=actor.institution_id)
        db.session.add(settings)
    changed = settings.require_two_factor != required
    settings.require_two_factor = required
    db.session.flush()
    if changed:
        audit.record(
            "security.two_factor_required" if required else "security.two_factor_optional",
            "institution",
            actor.institution_id,
            f"{actor.username} made two-factor login "
            f"{'required' if required else 'optional'} for HR and admin accounts",
            actor_id=actor.id,
            institution_id=actor.institution_id,
        )
    return settings


# --- enrolment -----------------------------------------------------------


def begin_enrolment(user: User) -> TwoFactor:
    """Return the user's unconfirmed secret, creating one if needed.

    Raises ValueError when two-factor login is already on.
    """
    record = get_two_factor(user)
    if record is not None and record.confirmed_at is not None:
        raise ValueError("two-factor login is already enabled")
    if record is None:
        record = TwoFactor(user_id=user.id, secret=pyotp.random_base32())
        db.session.add(record)
        db.session.flush()
    return record


def provisioning_uri(user: User, record: TwoFactor) -> str:
    return pyotp.TOTP(record.secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """Return the QR code of ``uri`` as an SVG ``data:`` URI for an ``<img>``."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def compact_code(code: Optional[str]) -> str:
    """Return a typed code in ASCII form (NFKC) without surrounding and inner spaces.

    Chinese input methods often type full-width digits and spaces, which
    NFKC turns into their ASCII forms.
    """
    return unicodedata.normalize("NFKC", code or "").strip().replace(" ", "")


def matching_step(secret: str, code: str, now: datetime) -> Optional[int]:
    """Return the time step whose code equals ``code`` within the window, or None."""
    code = compact_code(code)
    # hmac.compare_digest accepts ASCII text only, and other scripts' digits
    # pass isdigit().
    if len(code) != TOTP_DIGITS or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        expected = totp.generate_otp(step)
        if hmac.compare_digest(expected, code):
            return step
    return None


def _accept_code(record: TwoFactor, code: str, now: datetime) -> bool:
    step = matching_step(record.secret, code, now)
    if step is None:
        return False
    if record.last_step is not None and step <= record.last_step:
        return False
    # A conditional UPDATE, so two requests with the same code cannot both pass.
    result = db.session.execute(
        sa.update(TwoFactor)
        .where(
            TwoFactor.user_id == record.user_id,
            sa.or_(TwoFactor.last_step.is_(None), TwoFactor.last_step < step),
        )
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(record)
    return result.rowcount == 1


def confirm_enrolment(user: User, code: str, now: Optional[datetime] = None) -> Optional[list[str]]:
    """Turn two-factor login on if ``code`` is valid; return the new recovery codes.

    Returns None, changing nothing, when the code is wrong.
    """
    now = now or now_utc()
    record = get_two_factor(user)
    if record is None or record.confirmed_at is not None:
        raise ValueError("no two-factor enrolment is in progress")
    if not _accept_code(record, code, now):
        return None
    record.confirmed_at = now
    codes = replace_recovery_codes(user)
    audit.record(
        "account.two_factor_enabled",
        "user",
        user.id,
        f"{user.username} turned on two-factor login",
        actor_id=user.id,
        institution_id=user.institution_id,
    )
    return codes


def _delete(user: User) -> None:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(sa.delete(TwoFactor).where(TwoFactor.user_id == user.id))
    db.session.flush()


def reset_from_command_line(user: User) -> None:
    """Turn off ``user``'s two-factor login for ``flask lms reset-two-factor``; audited.

    For an account whose device and recovery codes are lost when no other
    admin of its institution can reset it on the account page.
    """
    _delete(user)
    audit.record(
        "account.two_factor_reset",
        "user",
        user.id,
        f"Two-factor login of {user.username} reset from the command line",
        institution_id=user.institution_id,
    )


def disable(actor: User, user: User) -> None:
    """Turn two-factor login off and delete the secret and recovery codes; audited."""
    _delete(user)
    audit.record(
        "account.two_factor_disabled",
        "user",
        user.id,
        f"{actor.username} turned off two-factor login of {user.username}",
        actor_id=actor.id,
        institution_id=user.institution_id,
    )


# --- recovery codes ------------------------------------------------------


def _new_recovery_code() -> str:
    # 10 characters from a 32-letter alphabet without look-alikes: 50 bits.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _normalise_recovery_code(code: str) -> str:
    typed = unicodedata.normalize("NFKC", code or "").lower()
    raw = "".join(ch for ch in typed if ch.isascii() and ch.isalnum())
    return f"{raw[:5]}-{raw[5:]}" if len(raw) == 10 else ""


def is_recovery_code_format(code: str) -> bool:
    """Return whether ``code`` has the shape of a recovery code, hyphen and case aside."""
    return bool(_normalise_recovery_code(code))


def replace_recovery_codes(user: User) -> list[str]:
    """Delete the user's recovery codes and return a new set (shown once)."""
    from flask import current_app

    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    method = current_app.config["PASSWORD_HASH_METHOD"]
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        db.session.add(
            RecoveryCode(user_id=user.id, code_hash=generate_password_hash(code, method=method))
        )
    db.session.flush()
    return codes


def remaining_recovery_codes(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def _use_recovery_code(user: User, code: str, now: datetime) -> bool:
    normalised = _normalise_recovery_code(code)
    if not normalised:
        return False
    unused = db.session.scalars(
        sa.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    ).all()
    for row in unused:
        if check_password_hash(row.code_hash, normalised):
            result = db.session.execute(
                sa.update(RecoveryCode)
                .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1
    return False


# --- login ---------------------------------------------------------------


def verify_login(user: User, code: str, now: Optional[datetime] = None) -> Optional[str]:
    """Check the second factor at login; return "totp", "recovery_code" or None.

    A six-digit code is checked as a TOTP code, anything else as a
    recovery code. Failures are audited; the caller audits the login.
    """
    now = now or now_utc()
    record = get_two_factor(user)
    if record is None or record.confirmed_at is None:
        return None
    compact = compact_code(code)
    if compact.isdigit():
        method = "totp" if _accept_code(record, compact, now) else None
    else:
        method = "recovery_code" if _use_recovery_code(user, compact, now) else None
    if method is None:
        audit.record(
            "account.two_factor_failed",
            "user",
            user.id,
            f"wrong second-factor code for {user.username}",
            actor_id=user.id,
            institution_id=user.institution_id,
        )
    return method
