"""Hours ledger and progression record writes, and the summaries built on them."""

import logging
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms import signals
from lms.accounts.models import User
from lms.compliance.engine import evaluate_all
from lms.db import now_utc
from lms.extensions import db
from lms.records.models import (
    PROGRAMME_COMPLETION_SOURCE_TYPE,
    HoursEntry,
    ProgressionEntry,
    ProgressionKind,
    TrainingTier,
)

logger = logging.getLogger("lms.records")

#: Source type of a ledger or timeline row that lowers an elective's credited
#: 学时 to what is left of its programme's elective minimum. Rows of this
#: type were written once, on upgrade, for completions recorded before
#: electives were capped. Their ``source_id`` is the ledger row they correct
#: (on the timeline, the course completion).
ELECTIVE_CAP_SOURCE_TYPE = "programme_hours_cap"


def local_date(user: User, moment) -> date:
    """Return the calendar date of ``moment`` in the user's institution zone."""
    return moment.astimezone(ZoneInfo(user.institution.timezone)).date()


def _add_once(row) -> bool:
    """Insert ``row`` unless its unique source key exists; return whether it was new."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
        return True
    except IntegrityError:
        return False


def correction_of(row: HoursEntry, **source) -> HoursEntry:
    """Build a row that nets ``row`` to zero: the same facts with the opposite hours.

    The ledger is append-only, so hours are taken back by adding this row,
    never by changing or deleting ``row``. ``source`` may set the
    correction's own ``source_type`` and ``source_id``.
    """
    return HoursEntry(
        user_id=row.user_id,
        corrects_id=row.id,
        title=row.title,
        occurred_on=row.occurred_on,
        year=row.year,
        tier=row.tier,
        kind=row.kind,
        hours=-row.hours,
        days=None if row.days is None else -row.days,
        **source,
    )


def credit_course_hours(sender, **kw) -> None:
    """Listener: a completed course adds a ledger row and a progression entry.

    ``hours`` is what the completion credits, which for an elective of a
    programme may be less than the course's own ``course_hours``.
    """
    user = db.session.get(User, kw["user_id"])
    on = local_date(user, kw["completed_at"])
    tier = kw.get("tier") or TrainingTier.SCHOOL
    _add_once(
        HoursEntry(
            user_id=user.id,
            source_type="course_completion",
            source_id=sender.id,
            training_type="programme" if kw.get("programme_id") else None,
            training_id=kw.get("programme_id"),
            title=kw["course_title"],
            occurred_on=on,
            year=on.year,
            tier=tier,
            kind=kw.get("kind"),
            hours=kw["hours"],
            exam_passed=kw.get("exam_passed"),
        )
    )
    _add_once(
        ProgressionEntry(
            user_id=user.id,
            kind=ProgressionKind.TRAINING,
            occurred_on=on,
            title=kw["course_title"],
            detail={
                "hours": str(kw["hours"]),
                "course_hours": str(kw.get("course_hours", kw["hours"])),
                "tier": tier.value,
                "kind": kw["kind"].value if kw.get("kind") else None,
                "course_id": kw["course_id"],
                "programme_id": kw.get("programme_id"),
            },
            source_type="course_completion",
            source_id=sender.id,
        )
    )


def record_programme_completion(sender, **kw) -> None:
    """Listener: a completed programme without 学时 of its own still counts as a training.

    A course shared with another programme credits its 学时 once, through
    one of the two, so a programme can be completed with no ledger row
    credited through it. Rules that count trainings count a programme by
    its rows, so such a programme gets one row of 0 学时, with its own tier
    and kind, on the day it was completed. A programme that credited 学时
    gets no such row: it counts through its courses' rows.
    """
    programme_id = kw["programme_id"]
    credited = db.session.scalar(
        sa.select(HoursEntry.id)
        .where(
            HoursEntry.user_id == kw["user_id"],
            HoursEntry.training_type == "programme",
            HoursEntry.training_id == programme_id,
            HoursEntry.hours > 0,
        )
        .limit(1)
    )
    if credited is not None:
        return
    user = db.session.get(User, kw["user_id"])
    on = local_date(user, kw["completed_at"])
    _add_once(
        HoursEntry(
            user_id=user.id,
            source_type=PROGRAMME_COMPLETION_SOURCE_TYPE,
            source_id=programme_id,
            training_type="programme",
            training_id=programme_id,
            title=kw["programme_title"],
            occurred_on=on,
            year=on.year,
            tier=kw.get("tier") or TrainingTier.SCHOOL,
            kind=kw.get("kind"),
            hours=Decimal(0),
        )
    )


def record_certificate(sender, certificate, **kw) -> None:
    """Listener: an issued certificate appears on the holder's timeline."""
    _add_once(
        ProgressionEntry(
            user_id=certificate.holder_id,
            kind=ProgressionKind.CERTIFICATE,
            occurred_on=certificate.issued_on,
            title=certificate.title,
            detail={
                "serial": certificate.serial,
                # Lets the record page link to the public verification page
                # without importing the certificates package.
                "verification_code": certificate.verification_code,
                "hours": str(certificate.hours),
                "expires_on": certificate.expires_on.isoformat()
                if certificate.expires_on
                else None,
            },
            source_type="certificate",
            source_id=certificate.id,
        )
    )


def record_revocation(sender, certificate, **kw) -> None:
    """Listener: a revoked certificate gets its own timeline entry.

    The issue entry stays as it was, because the timeline is append-only.
    """
    _add_once(
        ProgressionEntry(
            user_id=certificate.holder_id,
            kind=ProgressionKind.CERTIFICATE,
            occurred_on=local_date(certificate.holder, certificate.revoked_at),
            title=certificate.title,
            detail={
                "serial": certificate.serial,
                "verification_code": certificate.verification_code,
                "revoked": True,
                "reason": certificate.revoked_reason,
            },
            source_type="certificate_revocation",
            source_id=certificate.id,
        )
    )


def connect_listeners() -> None:
    signals.course_completed.connect(credit_course_hours, weak=False)
    signals.programme_completed.connect(record_programme_completion, weak=False)
    signals.certificate_issued.connect(record_certificate, weak=False)
    signals.certificate_revoked.connect(record_revocation, weak=False)


def hours_by_tier(user: User, year: int) -> dict[TrainingTier, Decimal]:
    """Sum the ledger for one calendar year, per tier."""
    rows = db.session.execute(
        sa.select(HoursEntry.tier, sa.func.sum(HoursEntry.hours))
        .where(HoursEntry.user_id == user.id, HoursEntry.year == year)
        .group_by(HoursEntry.tier)
    )
    totals = {tier: Decimal(0) for tier in TrainingTier}
    for tier, total in rows:
        totals[tier] = Decimal(total or 0)
    return totals


def yearly_summary(user: User, year: int) -> dict:
    """Hours credited in one calendar year, per tier and in total.

    What a person owes comes from the compliance rules (``compliance_verdicts``).
    """
    totals = hours_by_tier(user, year)
    return {
        "year": year,
        "by_tier": totals,
        "total": sum(totals.values(), Decimal(0)),
    }


def compliance_verdicts(user: User) -> dict:
    """Evaluate every rule of the user's institution, split by whether it applies.

    Issues a fixed number of queries per rule, whatever the size of the ledger.
    """
    verdicts = evaluate_all(user)
    return {
        "applicable": [verdict for verdict in verdicts if verdict.applies],
        "not_applicable": [verdict for verdict in verdicts if not verdict.applies],
    }


def timeline(user: User) -> list[ProgressionEntry]:
    return list(
        db.session.scalars(
            sa.select(ProgressionEntry)
            .where(ProgressionEntry.user_id == user.id)
            .order_by(ProgressionEntry.occurred_on.desc(), ProgressionEntry.id.desc())
        )
    )


def ledger(user: User) -> list[HoursEntry]:
    return list(
        db.session.scalars(
            sa.select(HoursEntry)
            .where(HoursEntry.user_id == user.id)
            .order_by(HoursEntry.occurred_on.desc(), HoursEntry.id.desc())
        )
    )


def current_year(user: User) -> int:
    """Return the calendar year that today falls in, in the user's institution zone."""
    return local_date(user, now_utc()).year


def hours_by_tier_for(
    user_ids: list[int], year: int
) -> dict[int, dict[TrainingTier, Decimal]]:
    """Sum one calendar year of the ledger per person and tier, in one query."""
    totals = {
        user_id: {tier: Decimal(0) for tier in TrainingTier} for user_id in user_ids
    }
    if not user_ids:
        return totals
    rows = db.session.execute(
        sa.select(HoursEntry.user_id, HoursEntry.tier, sa.func.sum(HoursEntry.hours))
        .where(HoursEntry.user_id.in_(user_ids), HoursEntry.year == year)
        .group_by(HoursEntry.user_id, HoursEntry.tier)
    )
    for user_id, tier, total in rows:
        totals[user_id][tier] = Decimal(total or 0)
    return totals
