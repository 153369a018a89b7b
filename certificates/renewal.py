"""Renewal and replacement: a new certificate supersedes an older one.

A refresher programme's certificate supersedes an expiring one, and a
reissued certificate replaces a revoked one.
"""

from datetime import date, timedelta
from typing import Optional

import sqlalchemy as sa

from certificates import logger
from certificates.models import Certificate, CertificateStatus
from certificates.serials import renewal_window_days
from certificates.template_models import ProgrammeCertificateSettings
from courses.models import Programme
from lms import audit
from lms.accounts.models import User
from lms.db import now_utc
from lms.extensions import db


def renewed_programme_id(programme_id: int) -> Optional[int]:
    """Return the programme whose certificates ``programme_id`` renews, or None."""
    row = db.session.get(ProgrammeCertificateSettings, programme_id)
    return row.renews_programme_id if row is not None else None


def window_opens_on(cert: Certificate) -> Optional[date]:
    """Return the first day ``cert`` can be renewed, or None if it never expires."""
    if cert.expires_on is None:
        return None
    return cert.expires_on - timedelta(days=renewal_window_days(cert.institution_id))


def in_window(cert: Certificate, day: date) -> bool:
    """Return whether ``day`` lies in the renewal window, up to and including expiry."""
    opens = window_opens_on(cert)
    return opens is not None and opens <= day <= cert.expires_on


def renewable_certificate(
    user: User, programme: Programme, day: date
) -> Optional[Certificate]:
    """Return the holder's certificate that completing ``programme`` on ``day`` renews.

    The candidate is the newest valid certificate of the renewed programme,
    or of the refresher itself from an earlier renewal, whose window
    contains ``day``. Revoked, superseded and expired certificates are not
    renewed.
    """
    renewed_id = renewed_programme_id(programme.id)
    if renewed_id is None:
        return None
    candidates = db.session.scalars(
        sa.select(Certificate)
        .where(
            Certificate.holder_id == user.id,
            Certificate.programme_id.in_((renewed_id, programme.id)),
            Certificate.status == CertificateStatus.VALID,
            Certificate.expires_on.is_not(None),
        )
        .order_by(Certificate.issued_on.desc(), Certificate.id.desc())
    )
    for cert in candidates:
        if in_window(cert, day):
            return cert
    return None


def supersede(old: Certificate, new: Certificate) -> bool:
    """Mark ``old`` superseded by ``new`` and link both; return whether it changed.

    The UPDATE applies only while ``old`` is still valid, so two renewals
    racing for the same certificate link it once. Flushes.
    """
    moment = now_utc()
    changed = db.session.execute(
        sa.update(Certificate)
        .where(Certificate.id == old.id, Certificate.status == CertificateStatus.VALID)
        .values(
            status=CertificateStatus.SUPERSEDED,
            superseded_by_id=new.id,
            superseded_at=moment,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        logger.info("Certificate %s was no longer valid; not superseded", old.serial)
        return False
    db.session.refresh(old)
    new.supersedes_id = old.id
    db.session.flush()
    audit.record(
        "certificate.superseded",
        "certificate",
        old.id,
        f"{old.serial} superseded by {new.serial}",
        institution_id=old.institution_id,
        data={"serial": old.serial, "superseded_by": new.serial},
    )
    logger.info("Certificate %s superseded by %s", old.serial, new.serial)
    return True


def replace_revoked(
    old: Certificate, new: Certificate, *, actor: Optional[User] = None
) -> bool:
    """Link the revoked ``old`` to ``new``, its reissue; return whether it changed.

    ``old`` stays revoked and keeps its reason, so its verification page
    still shows it revoked, now with a link to ``new``. A revoked
    certificate that a renewal had already superseded keeps that link and
    is not linked again. Flushes.
    """
    changed = db.session.execute(
        sa.update(Certificate)
        .where(
            Certificate.id == old.id,
            Certificate.status == CertificateStatus.REVOKED,
            Certificate.superseded_by_id.is_(None),
        )
        .values(superseded_by_id=new.id, superseded_at=now_utc())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        logger.info("Certificate %s is already linked; not linking %s", old.serial, new.serial)
        return False
    db.session.refresh(old)
    new.supersedes_id = old.id
    db.session.flush()
    audit.record(
        "certificate.superseded",
        "certificate",
        old.id,
        f"{old.serial} (revoked) replaced by {new.serial}",
        actor_id=actor.id if actor is not None else None,
        institution_id=old.institution_id,
        data={"serial": old.serial, "superseded_by": new.serial, "reissue": True},
    )
    logger.info("Revoked certificate %s replaced by %s", old.serial, new.serial)
    return True


def refresher_programmes(programme_id: Optional[int]) -> list[Programme]:
    """Return the programmes whose completion renews ``programme_id``'s certificates."""
    if programme_id is None:
        return []
    return list(
        db.session.scalars(
            sa.select(Programme)
            .join(
                ProgrammeCertificateSettings,
                ProgrammeCertificateSettings.programme_id == Programme.id,
            )
            .where(ProgrammeCertificateSettings.renews_programme_id == programme_id)
            .order_by(Programme.code)
        )
    )
