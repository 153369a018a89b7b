"""Telling HR when a certificate's passed attempt is regraded to a fail.

A regrade that turns a passed attempt into a fail keeps the certificates
that rest on it, because revoking is a separate, audited act of HR. This
module records the regrade against each such certificate, notifies the
institution's HR reviewers, and lists the regrades for the certificate page.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

import sqlalchemy as sa

from certificates import logger, services
from certificates.models import Certificate
from lms import audit
from lms.accounts.access import in_hr_scope, reviewers_among
from lms.accounts.models import User
from lms.audit import AuditEntry
from lms.extensions import db
from lms.notifications import services as notifications
from lms.stored_text import stored_date, stored_gettext

#: Notification kind of "a certificate's passed attempt was regraded to a fail".
NOTIFICATION_KIND = "certificate_basis_failed"


@dataclass(frozen=True)
class BasisFailure:
    """A regrade that turned an attempt a certificate rests on into a fail."""

    at: datetime
    grader: Optional[User]
    quiz_title: str


def record_failed_basis(
    certificates: list[Certificate], quiz_title: str, attempt_id: int, grader: User
) -> None:
    """Audit the regrade against each certificate and notify its HR reviewers."""
    for cert in certificates:
        entry = audit.record(
            "certificate.basis_failed",
            "certificate",
            cert.id,
            f"{cert.serial}: attempt {attempt_id} on {quiz_title} regraded to a fail"[:500],
            actor_id=grader.id,
            institution_id=cert.institution_id,
            data={"serial": cert.serial, "attempt_id": attempt_id, "quiz": quiz_title},
        )
        db.session.flush()
        _notify_reviewers(cert, quiz_title, grader, entry.id)


def _notify_reviewers(
    cert: Certificate, quiz_title: str, grader: User, entry_id: int
) -> None:
    """Notify the HR reviewers of the holder, or the admins when no HR officer may."""
    holder = cert.holder
    reviewers = reviewers_among(
        cert.institution_id, lambda user: in_hr_scope(user, holder)
    )
    title = stored_gettext(
        "Certificate %(serial)s rests on an attempt regraded to a fail",
        serial=cert.serial,
    )
    body = stored_gettext(
        "%(grader)s regraded the attempt of %(holder)s on %(quiz)s to a fail "
        "on %(date)s. Certificate %(serial)s (%(title)s) rests on it and is "
        "still valid. Open the certificate to decide whether to revoke it.",
        grader=grader.full_name or grader.username,
        holder=cert.holder_name,
        quiz=quiz_title,
        date=stored_date(services.institution_today(cert.institution), "long"),
        serial=cert.serial,
        title=cert.title,
    )
    for reviewer in reviewers:
        notifications.enqueue(
            reviewer,
            NOTIFICATION_KIND,
            "certificate",
            cert.id,
            title,
            body,
            link=f"/certificates/{cert.serial}",
            key_suffix=str(entry_id),
        )
    if not reviewers:
        logger.warning(
            "Certificate %s rests on a failed attempt; no HR reviewer to notify",
            cert.serial,
        )


def failed_basis(cert: Certificate) -> list[BasisFailure]:
    """Return the regrades to a fail recorded against ``cert``, newest first."""
    rows = db.session.execute(
        sa.select(AuditEntry, User)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(
            AuditEntry.action == "certificate.basis_failed",
            AuditEntry.subject_type == "certificate",
            AuditEntry.subject_id == cert.id,
        )
        .order_by(AuditEntry.id.desc())
    ).all()
    return [
        BasisFailure(entry.created_at, grader, (entry.data or {}).get("quiz", ""))
        for entry, grader in rows
    ]
