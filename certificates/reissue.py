"""Reissue one revoked programme certificate from its page.

The new certificate goes through ``services.issue_programme_certificate``
with ``replace_revoked``, so it gets a new serial and verification code,
the completion date of the original, its PDF and credential, and the
``certificate.superseded`` audit entry. This page is the only way a revoked
certificate is replaced: batches and completions skip it.
"""

import enum
from typing import Optional

import sqlalchemy as sa

from certificates import logger, services
from certificates.models import Certificate, CertificateStatus
from courses.models import Enrolment
from lms.accounts.models import User
from lms.extensions import db


class Problem(enum.Enum):
    """Reason a certificate cannot be reissued."""

    NOT_REVOKED = "not_revoked"
    EXTERNAL = "external"
    OTHER_INSTITUTION = "other_institution"
    NOT_COMPLETED = "not_completed"
    #: The holder has a newer certificate of the programme that is not revoked.
    NEWER_HELD = "newer_held"
    #: A newer revoked certificate of the programme is the one to reissue.
    NOT_LATEST = "not_latest"
    NOT_LINKED = "not_linked"


class ReissueError(services.CertificateError):
    """Error raised when a certificate cannot be reissued, with the reason in ``problem``."""

    def __init__(self, problem: Problem, current: Optional[Certificate] = None):
        super().__init__(problem.value)
        self.problem = problem
        #: For NEWER_HELD and NOT_LATEST, the certificate the holder holds.
        self.current = current


def _completed_at(cert: Certificate):
    return db.session.scalar(
        sa.select(Enrolment.completed_at).where(
            Enrolment.user_id == cert.holder_id,
            Enrolment.programme_id == cert.programme_id,
        )
    )


def check(cert: Certificate) -> Optional[ReissueError]:
    """Return why ``cert`` cannot be reissued, or None if it can.

    A certificate that is already replaced is not a problem here:
    ``reissue`` returns its replacement.
    """
    if cert.status is not CertificateStatus.REVOKED:
        return ReissueError(Problem.NOT_REVOKED)
    if cert.superseded_by_id is not None:
        return None
    if cert.programme_id is None:
        # External-training certificates have one achievement key per
        # training and no reissue key, so issuing again returns this one.
        return ReissueError(Problem.EXTERNAL)
    holder = cert.holder
    if holder.institution_id != cert.institution_id:
        return ReissueError(Problem.OTHER_INSTITUTION)
    if _completed_at(cert) is None:
        return ReissueError(Problem.NOT_COMPLETED)
    current = services.held_certificate(
        services.programme_achievement_key_for(cert.holder_id, cert.programme_id)
    )
    if current is not None and current.id != cert.id:
        if current.status is CertificateStatus.REVOKED:
            return ReissueError(Problem.NOT_LATEST, current)
        return ReissueError(Problem.NEWER_HELD, current)
    return None


def reissue(cert: Certificate, actor: User) -> tuple[Certificate, bool]:
    """Issue a replacement for the revoked ``cert``, returning it and whether it is new.

    A certificate already replaced returns its replacement with False, so a
    double click or a second tab issues nothing. The certificate row is
    locked first with FOR UPDATE, which SQLite ignores, and the unique
    reissue key stops a concurrent second replacement in any case. On
    SQLite a POST request holds the write lock from its first statement
    (BEGIN IMMEDIATE), so a second request waits and finds the replacement.
    NOTE: two simultaneous calls outside a request on SQLite (a script)
    can both return True for the one replacement that was inserted.
    Raises CertificatePermissionError unless ``actor`` manages ``cert``, and
    ReissueError when it cannot be reissued. Flushes; the caller commits.
    """
    if not services.can_manage(actor, cert):
        raise services.CertificatePermissionError(
            "only HR or an admin of the institution may reissue"
        )
    cert = db.session.scalar(
        sa.select(Certificate)
        .where(Certificate.id == cert.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    problem = check(cert)
    if problem is not None:
        logger.info("Reissue of certificate %s rejected: %s", cert.serial, problem.problem.value)
        raise problem
    if cert.superseded_by_id is not None:
        return cert.superseded_by, False

    new = services.issue_programme_certificate(
        cert.holder,
        cert.programme,
        _completed_at(cert),
        replace_revoked=True,
        actor=actor,
    )
    db.session.refresh(cert)
    if cert.superseded_by_id != new.id:
        # issue_programme_certificate links a renewed certificate instead
        # when the programme is a refresher whose window the date falls in.
        logger.error(
            "Reissuing certificate %s returned %s without linking it", cert.serial, new.serial
        )
        raise ReissueError(Problem.NOT_LINKED)
    logger.info("Certificate %s reissued as %s by user %s", cert.serial, new.serial, actor.id)
    return new, True
