"""Withdrawing the training hours behind a revoked certificate.

A programme certificate rests on the course completions that credited
ledger rows with the training ("programme", id), or, when those courses
credited their 学时 through another programme, on the programme's row of
0 学时 that makes it count as a training. An external-training
certificate rests on the approval that credited the rows of that training.
Withdrawing appends a correcting row with the opposite hours to each of
those rows and a correcting timeline entry that names the reason, so the
history stays readable and the compliance figures net the hours to zero.
A row of 0 学时 gets a correction of 0 学时, after which rules that count
trainings no longer count the programme.
"""

from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from certificates import logger, services
from certificates.models import Certificate, CertificateStatus
from certificates.render import plain_hours
from lms import audit
from lms.accounts.models import User
from lms.extensions import db
from lms.i18n import plural_count
from lms.notifications import services as notifications
from lms.records import external
from lms.records.models import (
    PROGRAMME_COMPLETION_SOURCE_TYPE,
    ExternalTraining,
    HoursEntry,
    ProgressionEntry,
    ProgressionKind,
)
from lms.records.services import ELECTIVE_CAP_SOURCE_TYPE, _add_once, correction_of
from lms.stored_text import stored_gettext, stored_ngettext

#: Source type of a ledger row that takes back a programme's course hours.
#: Its ``source_id`` is the id of the row it corrects, so the unique source
#: key of the ledger lets each row be taken back once.
LEDGER_SOURCE_TYPE = "certificate_withdrawal"
#: Source type of the timeline entry that marks a course completion's hours
#: as withdrawn. Its ``source_id`` is the course completion's id.
TIMELINE_SOURCE_TYPE = "course_completion_withdrawal"
#: Ledger source type of the rows that a course completion credits
#: (``lms.records.services.credit_course_hours``).
COURSE_SOURCE_TYPE = "course_completion"
NOTIFICATION_KIND = "certificate_hours_withdrawn"


def _external_training(cert: Certificate) -> Optional[ExternalTraining]:
    training_id = (cert.render_data or {}).get("external_training_id")
    if training_id is None:
        return None
    return db.session.get(ExternalTraining, training_id)


def _source_filters(cert: Certificate) -> Optional[list]:
    """WHERE clauses for the rows that credited ``cert``'s training, or None."""
    if cert.programme_id is not None:
        return [
            HoursEntry.source_type.in_(
                [COURSE_SOURCE_TYPE, PROGRAMME_COMPLETION_SOURCE_TYPE]
            ),
            HoursEntry.training_type == "programme",
            HoursEntry.training_id == cert.programme_id,
        ]
    training = _external_training(cert)
    if training is None:
        return None
    return [
        HoursEntry.source_type == external.SOURCE_TYPE,
        HoursEntry.source_id == training.id,
    ]


def credited_entries(cert: Certificate) -> list[HoursEntry]:
    """Return the holder's uncorrected ledger rows credited for ``cert``'s training.

    Hours credited for attending the sessions of a training class are not
    among them: they follow the attendance marks (``courses.class_attendance``).
    The programme's row of 0 学时, if it has one, is among them.
    """
    filters = _source_filters(cert)
    if filters is None:
        return []
    correction = so.aliased(HoursEntry)
    corrected = (
        sa.select(correction.id)
        .where(
            correction.corrects_id == HoursEntry.id,
            sa.or_(
                correction.source_type.is_(None),
                correction.source_type != ELECTIVE_CAP_SOURCE_TYPE,
            ),
        )
        .exists()
    )
    return list(
        db.session.scalars(
            sa.select(HoursEntry)
            .where(
                HoursEntry.user_id == cert.holder_id,
                HoursEntry.corrects_id.is_(None),
                sa.or_(
                    HoursEntry.hours > 0,
                    HoursEntry.source_type == PROGRAMME_COMPLETION_SOURCE_TYPE,
                ),
                ~corrected,
                *filters,
            )
            .order_by(HoursEntry.occurred_on, HoursEntry.id)
        )
    )


def net_hours(row: HoursEntry) -> Decimal:
    """Return ``row``'s hours less what lowered it to its programme's elective minimum."""
    capped = db.session.scalar(
        sa.select(sa.func.sum(HoursEntry.hours)).where(
            HoursEntry.corrects_id == row.id,
            HoursEntry.source_type == ELECTIVE_CAP_SOURCE_TYPE,
        )
    )
    return row.hours + Decimal(capped or 0)


def withdrawable_hours(cert: Certificate) -> Decimal:
    """Return the hours that withdrawing would take back for ``cert``."""
    return sum((net_hours(row) for row in credited_entries(cert)), Decimal(0))


def withdrawable(cert: Certificate) -> tuple[Decimal, bool]:
    """Return the hours that withdrawing would take back, and whether it takes back any row.

    A programme whose 学时 were credited through another programme has no
    hours to withdraw, but withdrawing its row of 0 学时 stops it counting
    as a training.
    """
    rows = credited_entries(cert)
    hours = sum((net_hours(row) for row in rows), Decimal(0))
    return hours, hours > 0 or any(_counts_without_hours(row) for row in rows)


def _counts_without_hours(row: HoursEntry) -> bool:
    return row.source_type == PROGRAMME_COMPLETION_SOURCE_TYPE


def withdrawn_entries(cert: Certificate) -> list[HoursEntry]:
    """Return the correcting rows already written for ``cert``'s training."""
    filters = _source_filters(cert)
    if filters is None:
        return []
    credited = sa.select(HoursEntry.id).where(
        HoursEntry.user_id == cert.holder_id, *filters
    )
    return list(
        db.session.scalars(
            sa.select(HoursEntry)
            .where(HoursEntry.corrects_id.in_(credited))
            .order_by(HoursEntry.occurred_on, HoursEntry.id)
        )
    )


def withdraw_hours(cert: Certificate, actor: User, reason: str) -> list[HoursEntry]:
    """Take back the hours credited for a revoked certificate's training; flush only.

    Returns the correcting rows written, which is empty when no credited
    row is left, so a second call withdraws nothing. Raises
    CertificatePermissionError unless ``actor`` may revoke ``cert``, and
    CertificateError unless ``cert`` is revoked or for a missing reason.
    """
    if not services.can_manage(actor, cert):
        raise services.CertificatePermissionError(
            "only HR or an admin of the institution may withdraw hours"
        )
    if cert.status is not CertificateStatus.REVOKED:
        raise services.CertificateError(
            "only the hours of a revoked certificate can be withdrawn"
        )
    reason = (reason or "").strip()
    if not reason:
        raise services.CertificateError("a reason is required")

    if cert.programme_id is None:
        corrections = _withdraw_external(cert, actor, reason)
    else:
        corrections = _withdraw_programme(cert, actor, reason)
    if not corrections:
        return []
    db.session.flush()
    _audit(cert, actor, reason, corrections)
    logger.info(
        "Hours of certificate %s withdrawn by user %s: %s rows",
        cert.serial,
        actor.id,
        len(corrections),
    )
    hours = -sum((row.hours for row in corrections), Decimal(0))
    if hours > 0:
        notify_withdrawn(cert, hours, reason)
    return corrections


def _withdraw_programme(
    cert: Certificate, actor: User, reason: str
) -> list[HoursEntry]:
    """Correct each course completion row of the programme and its timeline entry."""
    corrections = []
    for row in credited_entries(cert):
        net = net_hours(row)
        without_hours = _counts_without_hours(row)
        if net <= 0 and not without_hours:
            continue
        correction = correction_of(
            row, source_type=LEDGER_SOURCE_TYPE, source_id=row.id
        )
        correction.hours = -net if net > 0 else Decimal(0)
        # A concurrent withdrawal of the same row loses on the unique source key.
        if not _add_once(correction):
            continue
        corrections.append(correction)
        if not without_hours:
            _correct_timeline(cert, row, actor, reason)
    return corrections


def _correct_timeline(
    cert: Certificate, row: HoursEntry, actor: User, reason: str
) -> None:
    """Add a timeline entry that corrects the course's training entry."""
    original = db.session.scalar(
        sa.select(ProgressionEntry).where(
            ProgressionEntry.user_id == row.user_id,
            ProgressionEntry.kind == ProgressionKind.TRAINING,
            ProgressionEntry.source_type == COURSE_SOURCE_TYPE,
            ProgressionEntry.source_id == row.source_id,
        )
    )
    detail = dict(original.detail) if original is not None else {}
    detail.update(
        {
            "hours": "0",
            "withdrawn": True,
            "reason": reason,
            "certificate_serial": cert.serial,
        }
    )
    _add_once(
        ProgressionEntry(
            user_id=row.user_id,
            kind=ProgressionKind.TRAINING,
            occurred_on=row.occurred_on if original is None else original.occurred_on,
            title=row.title,
            detail=detail,
            source_type=TIMELINE_SOURCE_TYPE,
            source_id=row.source_id,
            corrects_id=original.id if original is not None else None,
            created_by_id=actor.id,
        )
    )


def _withdraw_external(
    cert: Certificate, actor: User, reason: str
) -> list[HoursEntry]:
    """Withdraw the approval of the certificate's external training."""
    training = _external_training(cert)
    if training is None:
        return []
    credited_ids = [row.id for row in credited_entries(cert)]
    # The holder gets the certificate's own notice, so the training's is left out.
    if not credited_ids or not external.withdraw(training, actor, reason, notify=False):
        return []
    return list(
        db.session.scalars(
            sa.select(HoursEntry)
            .where(HoursEntry.corrects_id.in_(credited_ids))
            .order_by(HoursEntry.occurred_on, HoursEntry.id)
        )
    )


def _audit(
    cert: Certificate, actor: User, reason: str, corrections: list[HoursEntry]
) -> None:
    withdrawn = -sum((row.hours for row in corrections), Decimal(0))
    years: dict[str, Decimal] = {}
    for row in corrections:
        years[str(row.year)] = years.get(str(row.year), Decimal(0)) - row.hours
    audit.record(
        "certificate.hours_withdrawn",
        "certificate",
        cert.id,
        f"{cert.serial} hours withdrawn ({withdrawn}): {reason}"[:500],
        actor_id=actor.id,
        institution_id=cert.institution_id,
        data={
            "serial": cert.serial,
            "holder_id": cert.holder_id,
            "hours": str(withdrawn),
            "years": {year: str(hours) for year, hours in years.items()},
            "entry_ids": [row.corrects_id for row in corrections],
            "reason": reason,
        },
    )


def notify_withdrawn(cert: Certificate, hours: Decimal, reason: str) -> None:
    """Queue an in-app notification, with an e-mail copy, of the withdrawal."""
    title = stored_gettext(
        "Hours of certificate %(serial)s withdrawn", serial=cert.serial
    )
    body = stored_ngettext(
        "The %(hours)s hour credited for %(title)s no longer counts toward your "
        "training requirements, because certificate %(serial)s was revoked. "
        "Reason: %(reason)s",
        "The %(hours)s hours credited for %(title)s no longer count toward your "
        "training requirements, because certificate %(serial)s was revoked. "
        "Reason: %(reason)s",
        plural_count(hours),
        hours=plain_hours(hours),
        title=cert.title,
        serial=cert.serial,
        reason=reason,
    )
    notifications.enqueue(
        cert.holder,
        NOTIFICATION_KIND,
        "certificate",
        cert.id,
        title,
        body,
        link=f"/people/{cert.holder_id}/record",
    )
