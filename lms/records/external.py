"""Trainings taken outside the platform: submission with evidence, HR review, credit.

Evidence files live in ``EVIDENCE_DIR`` (default: the instance folder's
``evidence`` directory), never under ``static/``, with generated names.
"""

import logging
import os
import secrets
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO, Callable, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms import audit, labels, uploads
from lms.accounts.access import can_view_person, reviewers_among
from lms.accounts.models import Role, User
from lms.compliance.windows import days_in_year, split_hours_by_year
from lms.db import now_utc
from lms.extensions import db
from lms.i18n import plural_count
from lms.records import day_cap
from lms.records.models import (
    ExternalTraining,
    ExternalTrainingStatus,
    HoursEntry,
    ProgressionEntry,
    ProgressionKind,
    TrainingKind,
    TrainingTier,
)
from lms.records.services import _add_once, correction_of
from lms.stored_text import (
    reword_as_plural,
    stored_gettext,
    stored_join,
    stored_ngettext,
)

logger = logging.getLogger("lms.records")

SOURCE_TYPE = "external_training"
#: Source of the timeline entry that marks an approval as withdrawn.
WITHDRAWAL_SOURCE_TYPE = "external_training_withdrawal"

#: Returns why an approved training may not be withdrawn yet, or None. A
#: higher package registers one, so that the core need not import it.
WithdrawalHold = Callable[[ExternalTraining], Optional[str]]

_withdrawal_holds: list[WithdrawalHold] = []


def register_withdrawal_hold(hold: WithdrawalHold) -> None:
    """Add a check that can keep an approval from being withdrawn."""
    if hold not in _withdrawal_holds:
        _withdrawal_holds.append(hold)


def withdrawal_hold(training: ExternalTraining) -> Optional[str]:
    """Return the first reason that keeps ``training``'s approval, or None."""
    for hold in _withdrawal_holds:
        reason = hold(training)
        if reason:
            return reason
    return None

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
uploads.register_field("training_evidence", lambda: {"*": MAX_EVIDENCE_BYTES})

#: Accepted evidence types: extension -> (media type, leading magic bytes).
EVIDENCE_TYPES = {
    "pdf": ("application/pdf", b"%PDF-"),
    "jpg": ("image/jpeg", b"\xff\xd8\xff"),
    "jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    "png": ("image/png", b"\x89PNG\r\n\x1a\n"),
}


EXTERNAL_TRAINING_STATUS = {
    "pending": _l("Awaiting review"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}
labels.register("ExternalTrainingStatus", EXTERNAL_TRAINING_STATUS)


class EvidenceError(ValueError):
    """An uploaded file is not acceptable evidence.

    ``code`` is "extension", "content" or "size".
    """

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def evidence_dir() -> Path:
    configured = current_app.config.get("EVIDENCE_DIR")
    return Path(configured or os.path.join(current_app.instance_path, "evidence"))


def extension_of(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def read_evidence(filename: str, stream: BinaryIO) -> tuple[str, bytes]:
    """Return (extension, content) of an upload, or raise EvidenceError.

    The extension must be an accepted one, the content must start with that
    type's magic bytes, and it must not exceed MAX_EVIDENCE_BYTES.
    """
    extension = extension_of(filename)
    if extension not in EVIDENCE_TYPES:
        raise EvidenceError("extension")
    content = stream.read(MAX_EVIDENCE_BYTES + 1)
    if len(content) > MAX_EVIDENCE_BYTES:
        raise EvidenceError("size")
    _media_type, magic = EVIDENCE_TYPES[extension]
    if not content.startswith(magic):
        raise EvidenceError("content")
    return extension, content


def submit(
    user: User,
    *,
    title: str,
    organiser: str,
    tier: TrainingTier,
    kind: TrainingKind,
    start_date: date,
    end_date: date,
    hours: Decimal,
    evidence_name: str,
    extension: str,
    content: bytes,
    exam_passed: Optional[bool] = None,
    notify: bool = True,
) -> ExternalTraining:
    """Store the evidence file and add a pending submission; flush only.

    The file is written before the row, so a failed commit can leave an
    unreferenced file behind but never a row without its file. With
    ``notify``, the reviewers get a request to review it. HR's own entry is
    approved at once, so it passes False.
    """
    folder = evidence_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = f"{secrets.token_hex(16)}.{extension}"
    (folder / stored_name).write_bytes(content)

    training = ExternalTraining(
        user_id=user.id,
        title=title,
        organiser=organiser,
        tier=tier,
        kind=kind,
        start_date=start_date,
        end_date=end_date,
        hours=hours,
        exam_passed=exam_passed,
        evidence_path=stored_name,
        evidence_name=uploads.client_filename(evidence_name, 200) or stored_name,
        evidence_type=EVIDENCE_TYPES[extension][0],
        status=ExternalTrainingStatus.PENDING,
    )
    db.session.add(training)
    db.session.flush()
    logger.info(
        "External training %s submitted by user %s (%s bytes of evidence)",
        training.id,
        user.id,
        len(content),
    )
    if notify:
        notify_reviewers(training)
    return training


#: Notification kind of "an outside training waits for your review".
REVIEW_DUE_KIND = "external_training_review_due"
#: Notification kind of "HR decided on your outside training".
DECISION_KIND = "external_training_decision"


def reviewers(training: ExternalTraining) -> list[User]:
    """Return the HR officers who may review the submission, else its admins."""
    return reviewers_among(
        training.user.institution_id, lambda user: can_review(user, training)
    )


def notify_reviewers(training: ExternalTraining) -> int:
    """Notify each reviewer that the submission waits; return the number notified."""
    from lms.notifications import services as notifications

    title = stored_gettext("An outside training waits for your review")
    body = stored_ngettext(
        "%(name)s submitted %(title)s (%(hours)s hour) with evidence."
        " Review it under trainings to review.",
        "%(name)s submitted %(title)s (%(hours)s hours) with evidence."
        " Review it under trainings to review.",
        plural_count(training.hours),
        name=training.user.full_name,
        title=training.title,
        hours=_hours_text(training),
    )
    people = reviewers(training)
    for reviewer in people:
        notifications.enqueue(
            reviewer,
            REVIEW_DUE_KIND,
            "external_training",
            training.id,
            title,
            body,
            link=f"/records/external/{training.id}/review",
        )
    if not people:
        logger.warning("External training %s submitted; no reviewer to notify", training.id)
    return len(people)


def enter_for(
    person: User,
    hr: User,
    *,
    evidence_name: str,
    extension: str,
    content: bytes,
    note: str = "",
    **fields,
) -> ExternalTraining:
    """Record a training ``person`` took elsewhere, entered by HR with evidence; flush only.

    HR's entry is its own review: the training is approved and its hours
    credited at once, and the audit log names HR as the one who entered it.
    ``fields`` are the training fields of ``submit``. Raises PermissionError
    unless ``hr`` is HR or admin with ``person`` in reach.
    """
    if hr.role not in (Role.HR, Role.ADMIN) or not can_view_person(hr, person):
        raise PermissionError("only HR of the person's institution may enter trainings")
    training = submit(
        person,
        evidence_name=evidence_name,
        extension=extension,
        content=content,
        notify=False,
        **fields,
    )
    audit.record(
        "external_training.entered",
        "external_training",
        training.id,
        f"{person.full_name}: {training.title} ({training.hours}) entered by HR",
        actor_id=hr.id,
        institution_id=person.institution_id,
        data={"user_id": person.id, "hours": str(training.hours), "note": note},
    )
    approve(training, hr, note)
    logger.info("External training %s of user %s entered by %s", training.id, person.id, hr.id)
    return training


def _on_dates(user_id: int, start_date: date, end_date: date) -> sa.Select:
    """Select the person's pending or approved trainings whose dates overlap the given ones."""
    return sa.select(ExternalTraining).where(
        ExternalTraining.user_id == user_id,
        ExternalTraining.status != ExternalTrainingStatus.REJECTED,
        ExternalTraining.start_date <= end_date,
        ExternalTraining.end_date >= start_date,
    )


def find_overlapping(
    user_id: int, title: str, organiser: str, start_date: date, end_date: date
) -> Optional[ExternalTraining]:
    """Return the person's pending or approved training that the entry likely repeats.

    A training matches when its title and organiser equal the given ones,
    ignoring surrounding spaces and letter case (ASCII letters only on
    SQLite, whose lower() folds nothing else), and its dates overlap
    ``start_date``..``end_date``. A rejected training never matches, so a
    person can submit it again with corrected evidence.
    """
    return db.session.scalar(
        _on_dates(user_id, start_date, end_date)
        .where(
            sa.func.lower(ExternalTraining.title) == title.strip().lower(),
            sa.func.lower(ExternalTraining.organiser) == organiser.strip().lower(),
        )
        .order_by(ExternalTraining.id)
        .limit(1)
    )


def evidence_file(training: ExternalTraining) -> Path:
    return evidence_dir() / training.evidence_path


# Access checks


def can_view(viewer: User, training: ExternalTraining) -> bool:
    """Return whether ``viewer`` is the submitter, or HR or admin of their institution."""
    if viewer.id == training.user_id:
        return True
    return can_review(viewer, training)


def shows_entry_note(training: ExternalTraining) -> bool:
    """Return whether ``review_reason`` contains the note HR typed when entering the training.

    A later withdrawal replaces the note with its reason, so a withdrawn
    training shows a reason again.
    """
    # NOTE: enter_for stores the note in the column where a review stores its
    # reason, so only the "external_training.entered" audit entry marks it.
    if training.status is not ExternalTrainingStatus.APPROVED:
        return False
    entered = sa.select(audit.AuditEntry.id).where(
        audit.AuditEntry.action == "external_training.entered",
        audit.AuditEntry.subject_type == "external_training",
        audit.AuditEntry.subject_id == training.id,
    )
    return db.session.scalar(sa.select(entered.exists())) or False


def can_review(viewer: User, training: ExternalTraining) -> bool:
    """Return whether ``viewer`` is HR or admin with the submitter in reach."""
    return (
        viewer.role in (Role.HR, Role.ADMIN)
        and can_view_person(viewer, training.user)
    )


def submissions_of(user: User) -> list[ExternalTraining]:
    return list(
        db.session.scalars(
            sa.select(ExternalTraining)
            .where(ExternalTraining.user_id == user.id)
            .order_by(ExternalTraining.submitted_at.desc(), ExternalTraining.id.desc())
        )
    )


def pending_for(
    institution_id: int, department_id: Optional[int] = None
) -> list[ExternalTraining]:
    """Return pending submissions of an institution, or of one of its departments.

    Oldest first, with the submitters loaded.
    """
    query = (
        sa.select(ExternalTraining)
        .join(User, User.id == ExternalTraining.user_id)
        .where(
            User.institution_id == institution_id,
            ExternalTraining.status == ExternalTrainingStatus.PENDING,
        )
    )
    if department_id is not None:
        query = query.where(User.department_id == department_id)
    return list(
        db.session.scalars(
            query.options(so.contains_eager(ExternalTraining.user)).order_by(
                ExternalTraining.submitted_at, ExternalTraining.id
            )
        )
    )


def _decide(
    training: ExternalTraining,
    reviewer: User,
    status: ExternalTrainingStatus,
    reason: str,
) -> bool:
    """Move a pending submission to ``status``; return False if it was not pending.

    The UPDATE matches only a pending row, so of two reviews sent at once
    the database lets exactly one through. The reviewers' requests to
    review it are then settled.
    """
    from lms.notifications import services as notifications

    result = db.session.execute(
        sa.update(ExternalTraining)
        .where(
            ExternalTraining.id == training.id,
            ExternalTraining.status == ExternalTrainingStatus.PENDING,
        )
        .values(
            status=status,
            reviewed_by_id=reviewer.id,
            reviewed_at=now_utc(),
            review_reason=reason,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(training)
    if result.rowcount != 1:
        return False
    notifications.settle(REVIEW_DUE_KIND, "external_training", training.id)
    return True


def _credit(training: ExternalTraining, reviewer: User) -> list[HoursEntry]:
    """Write one ledger row per calendar year the training spans, and its timeline entry."""
    rows = []
    for year, hours in split_hours_by_year(
        training.start_date, training.end_date, training.hours
    ):
        row = HoursEntry(
            user_id=training.user_id,
            source_type=SOURCE_TYPE,
            source_id=training.id,
            title=training.title,
            # The last day of the training that falls inside this year.
            occurred_on=min(training.end_date, date(year, 12, 31)),
            year=year,
            tier=training.tier,
            kind=training.kind,
            hours=hours,
            days=Decimal(
                days_in_year(training.start_date, training.end_date, year)
            ),
            exam_passed=training.exam_passed,
        )
        if _add_once(row):
            rows.append(row)
    _add_once(
        ProgressionEntry(
            user_id=training.user_id,
            kind=ProgressionKind.TRAINING,
            occurred_on=training.end_date,
            title=training.title,
            detail={
                "hours": str(training.hours),
                "tier": training.tier.value,
                "kind": training.kind.value,
                "organiser": training.organiser,
                "start_date": training.start_date.isoformat(),
                "end_date": training.end_date.isoformat(),
                "external_training_id": training.id,
            },
            source_type=SOURCE_TYPE,
            source_id=training.id,
            created_by_id=reviewer.id,
        )
    )
    return rows


def _notify_decision(training: ExternalTraining, decision: str, title, body) -> None:
    """Notify the person of HR's decision; ``_decide`` settled the review requests."""
    from lms.notifications import services as notifications

    notifications.enqueue(
        training.user,
        DECISION_KIND,
        "external_training",
        training.id,
        title,
        body,
        link="/records/external",
        key_suffix=decision,
    )


# Notifications queued before these messages had plural forms.
reword_as_plural(
    "%(name)s submitted %(title)s (%(hours)s hours) with evidence. Review "
    "it under trainings to review.",
    "%(name)s submitted %(title)s (%(hours)s hour) with evidence. Review "
    "it under trainings to review.",
    "%(name)s submitted %(title)s (%(hours)s hours) with evidence. Review "
    "it under trainings to review.",
    "hours",
)
reword_as_plural(
    "%(title)s (%(hours)s hours) was approved, so its hours count.",
    "%(title)s (%(hours)s hour) was approved, so its hour counts.",
    "%(title)s (%(hours)s hours) was approved, so its hours count.",
    "hours",
)
reword_as_plural(
    "The approval of %(title)s was withdrawn, so its %(hours)s hours no "
    "longer count. You may submit it again with corrected details. "
    "Reason: %(reason)s",
    "The approval of %(title)s was withdrawn, so its %(hours)s hour no "
    "longer counts. You may submit it again with corrected details. "
    "Reason: %(reason)s",
    "The approval of %(title)s was withdrawn, so its %(hours)s hours no "
    "longer count. You may submit it again with corrected details. "
    "Reason: %(reason)s",
    "hours",
)


def _hours_text(training: ExternalTraining) -> str:
    return format(training.hours.normalize(), "f")


def approve(training: ExternalTraining, reviewer: User, reason: str = "") -> bool:
    """Approve a pending submission and credit its hours; flush only.

    Returns False, and changes nothing, when the submission was already
    decided, so approving twice credits the hours once.
    """
    if not _decide(training, reviewer, ExternalTrainingStatus.APPROVED, reason):
        return False
    rows = _credit(training, reviewer)
    day_cap.announce_hours_changed(training)
    audit.record(
        "external_training.approved",
        "external_training",
        training.id,
        f"{training.user.full_name}: {training.title} ({training.hours})",
        actor_id=reviewer.id,
        institution_id=training.user.institution_id,
        data={
            "user_id": training.user_id,
            "hours": str(training.hours),
            "years": {str(row.year): str(row.hours) for row in rows},
            "reason": reason,
        },
    )
    body = stored_ngettext(
        "%(title)s (%(hours)s hour) was approved, so its hour counts.",
        "%(title)s (%(hours)s hours) was approved, so its hours count.",
        plural_count(training.hours),
        title=training.title,
        hours=_hours_text(training),
    )
    if reason.strip():
        comment = stored_gettext("Comment: %(comment)s", comment=reason.strip())
        body = stored_join([body, comment], " ")
    _notify_decision(
        training, "approved", stored_gettext("Your outside training was approved"), body
    )
    return True


def reject(training: ExternalTraining, reviewer: User, reason: str) -> bool:
    """Reject a pending submission with a reason; flush only. Nothing is credited."""
    if not reason.strip():
        raise ValueError("a rejection needs a reason")
    if not _decide(training, reviewer, ExternalTrainingStatus.REJECTED, reason):
        return False
    audit.record(
        "external_training.rejected",
        "external_training",
        training.id,
        f"{training.user.full_name}: {training.title}",
        actor_id=reviewer.id,
        institution_id=training.user.institution_id,
        data={"user_id": training.user_id, "reason": reason},
    )
    _notify_decision(
        training,
        "rejected",
        stored_gettext("Your outside training was rejected"),
        stored_gettext(
            "%(title)s was rejected. You may submit it again with corrected "
            "details or evidence. Reason: %(reason)s",
            title=training.title,
            reason=reason.strip(),
        ),
    )
    return True


def cancel(training: ExternalTraining, submitter: User) -> Optional[str]:
    """Delete ``submitter``'s own pending submission; flush only.

    Returns the name of its evidence file, for the caller to delete once
    the transaction commits, or None, changing nothing, when the submission
    is no longer pending. The DELETE matches only a pending row, so a
    review sent at the same time either lands first and keeps the row, or
    finds it gone.
    """
    from lms.notifications import services as notifications

    training_id, evidence_path = training.id, training.evidence_path
    summary = f"{submitter.full_name}: {training.title} ({training.hours})"
    result = db.session.execute(
        sa.delete(ExternalTraining)
        .where(
            ExternalTraining.id == training_id,
            ExternalTraining.user_id == submitter.id,
            ExternalTraining.status == ExternalTrainingStatus.PENDING,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(training)
        return None
    db.session.expunge(training)
    notifications.settle(REVIEW_DUE_KIND, "external_training", training_id)
    audit.record(
        "external_training.cancelled",
        "external_training",
        training_id,
        summary,
        actor_id=submitter.id,
        institution_id=submitter.institution_id,
        data={"user_id": submitter.id},
    )
    logger.info("External training %s cancelled by its submitter %s", training_id, submitter.id)
    return evidence_path


def withdraw(
    training: ExternalTraining, reviewer: User, reason: str, *, notify: bool = True
) -> bool:
    """Withdraw the approval of ``training`` and take its hours back; flush only.

    The ledger is append-only, so each credited row gets a correcting row
    with the opposite hours, and the timeline entry of the training gets a
    correction that names the reason. The submission ends rejected, so the
    person may submit the training again with corrected hours, and
    ``notify`` tells them so. Returns False, and changes nothing, when the
    training is not approved.
    """
    if not reason.strip():
        raise ValueError("a withdrawal needs a reason")
    result = db.session.execute(
        sa.update(ExternalTraining)
        .where(
            ExternalTraining.id == training.id,
            ExternalTraining.status == ExternalTrainingStatus.APPROVED,
        )
        .values(
            status=ExternalTrainingStatus.REJECTED,
            reviewed_by_id=reviewer.id,
            reviewed_at=now_utc(),
            review_reason=reason,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(training)
    if result.rowcount != 1:
        return False
    credited = db.session.scalars(
        sa.select(HoursEntry)
        .where(
            HoursEntry.user_id == training.user_id,
            HoursEntry.source_type == SOURCE_TYPE,
            HoursEntry.source_id == training.id,
        )
        .order_by(HoursEntry.year)
    ).all()
    for row in credited:
        db.session.add(correction_of(row))
    db.session.flush()
    day_cap.announce_hours_changed(training)
    original = db.session.scalar(
        sa.select(ProgressionEntry).where(
            ProgressionEntry.user_id == training.user_id,
            ProgressionEntry.source_type == SOURCE_TYPE,
            ProgressionEntry.source_id == training.id,
        )
    )
    _add_once(
        ProgressionEntry(
            user_id=training.user_id,
            kind=ProgressionKind.TRAINING,
            occurred_on=training.end_date,
            title=training.title,
            detail={
                "hours": "0",
                "tier": training.tier.value,
                "kind": training.kind.value,
                "withdrawn": True,
                "reason": reason,
                "external_training_id": training.id,
            },
            source_type=WITHDRAWAL_SOURCE_TYPE,
            source_id=training.id,
            corrects_id=original.id if original is not None else None,
            created_by_id=reviewer.id,
        )
    )
    db.session.flush()
    audit.record(
        "external_training.withdrawn",
        "external_training",
        training.id,
        f"{training.user.full_name}: {training.title} ({training.hours})",
        actor_id=reviewer.id,
        institution_id=training.user.institution_id,
        data={
            "user_id": training.user_id,
            "hours": str(training.hours),
            "years": {str(row.year): str(-row.hours) for row in credited},
            "reason": reason,
        },
    )
    if notify:
        _notify_withdrawal(training, reason)
    return True


def _notify_withdrawal(training: ExternalTraining, reason: str) -> None:
    _notify_decision(
        training,
        "withdrawn",
        stored_gettext("The approval of your outside training was withdrawn"),
        stored_ngettext(
            "The approval of %(title)s was withdrawn, so its %(hours)s hour no "
            "longer counts. You may submit it again with corrected details. "
            "Reason: %(reason)s",
            "The approval of %(title)s was withdrawn, so its %(hours)s hours no "
            "longer count. You may submit it again with corrected details. "
            "Reason: %(reason)s",
            plural_count(training.hours),
            title=training.title,
            hours=_hours_text(training),
            reason=reason.strip(),
        ),
    )


def find(training_id: int) -> Optional[ExternalTraining]:
    return db.session.get(ExternalTraining, training_id)
