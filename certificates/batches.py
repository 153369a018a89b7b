"""Issuing certificates to a whole cohort at once, in the background.

A batch is created with one item per person, taken from who has completed
the programme when the batch is made. Running a batch issues each pending
item with ``services.issue_programme_certificate`` in its own transaction
together with the item's new status, so an item is either untouched or
finished, never half-done.

Rendering PDFs is CPU-bound, so a batch runs in ``CERTIFICATE_BATCH_PROCESSES``
worker processes, each taking the pending items whose id falls to it. The
workers are forked from a multiprocessing fork server that has imported the
app's modules and run ``certificates.worker_warmup``, so a worker starts in
about 0.1 s of CPU instead of about 1.5 s for a fresh interpreter (measured
on a 2-core VM). A crash leaves unfinished items pending; the next run (the
scheduler job or a "resume" click) picks them up. Issuing is idempotent per
achievement and a serial is allocated in the same savepoint as its
certificate, so a resumed batch yields neither duplicates nor gaps in the
serial sequence.

Only one runner works on a batch at a time: it holds a lease on the batch
row (``runner`` and ``heartbeat_at``), renewed every ``HEARTBEAT_SECONDS``
while items finish. A lease whose heartbeat is older than ``LEASE_SECONDS``
is taken over.
"""

import enum
import logging
import multiprocessing
import os
import socket
import sys
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l

from certificates.models import Certificate, CertificateStatus
from courses.class_models import ClassMember, MemberStatus, TrainingClass
from courses.models import Enrolment, Programme
from lms import audit, labels
from lms.accounts.access import hr_scope
from lms.accounts.models import User
from lms.db import UTCDateTime, enum_column, now_utc
from lms.extensions import db

logger = logging.getLogger("certificates.batches")

LEASE_SECONDS = 120
#: A worker renews the lease at most this often, well within LEASE_SECONDS.
#: Renewing after every item cost two UPDATEs per certificate.
HEARTBEAT_SECONDS = 10
#: Top-level packages of this project. The worker fork server imports those
#: of their modules that the process starting it has loaded.
APP_PACKAGES = ("lms", "certificates", "courses", "assessments")


class BatchStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


class ItemStatus(enum.Enum):
    PENDING = "pending"
    ISSUED = "issued"  # issued by this batch
    EXISTING = "existing"  # the person already held the certificate
    #: Skipped because the person's certificate was revoked. A revoked
    #: certificate is reissued only from its own page.
    REVOKED = "revoked"
    FAILED = "failed"


class ItemErrorCode(enum.Enum):
    """Failure code of a batch item, whose ``error`` keeps the exception."""

    #: The certificate was not issued. The item is failed and can be retried.
    ISSUE_FAILED = "issue_failed"
    #: The certificate was issued without its PDF, which the first download renders.
    PDF_NOT_STORED = "pdf_not_stored"
    #: The certificate was issued, but its template cannot lay out its values,
    #: so a download cannot render the PDF either.
    PDF_LAYOUT = "pdf_layout"


labels.register(
    "BatchStatus",
    {
        "queued": _l("Queued"),
        "running": _l("Running"),
        "done": _l("Finished"),
        "cancelled": _l("Cancelled"),
    },
)
labels.register(
    "BatchItemStatus",
    {
        "pending": _l("Pending"),
        "issued": _l("Issued"),
        "existing": _l("Already held"),
        "revoked": _l("Skipped: revoked"),
        "failed": _l("Not issued"),
    },
)
labels.register(
    "BatchItemError",
    {
        "issue_failed": _l(
            "The certificate could not be issued. Resume the batch to try again. If "
            "it fails again, ask an administrator to look up the cause in the server "
            "log."
        ),
        "pdf_not_stored": _l(
            "The certificate was issued, but its PDF could not be produced yet. It "
            "is produced on the first download."
        ),
        "pdf_layout": _l(
            "The certificate was issued, but its template cannot lay out its PDF, "
            "for example because its texts do not fit on one page. A trainer can "
            "adjust the template, and HR can then revoke the certificate and "
            "reissue it."
        ),
    },
)


class CertificateBatch(db.Model):
    """Certificates for everyone who completed a programme, issued together."""

    __tablename__ = "certificate_batch"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id"), index=True
    )
    programme_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("programme.id"))
    #: Set when the batch is for the members of one training class.
    class_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("training_class.id"))
    status: so.Mapped[BatchStatus] = so.mapped_column(
        enum_column(BatchStatus), default=BatchStatus.QUEUED
    )
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    started_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    finished_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    #: Lease: which runner works on the batch, and when it last reported.
    runner: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    heartbeat_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    last_error: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)

    programme: so.Mapped[Programme] = so.relationship()
    training_class: so.Mapped[Optional["TrainingClass"]] = so.relationship()
    created_by: so.Mapped[User] = so.relationship()


class CertificateBatchItem(db.Model):
    """One person of a batch and what issuing did for them."""

    __tablename__ = "certificate_batch_item"
    __table_args__ = (sa.UniqueConstraint("batch_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    batch_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("certificate_batch.id", ondelete="CASCADE")
    )
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    #: When the person completed the programme; the certificate's issue date.
    completed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    status: so.Mapped[ItemStatus] = so.mapped_column(
        enum_column(ItemStatus), default=ItemStatus.PENDING
    )
    certificate_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("certificate.id")
    )
    error_code: so.Mapped[Optional[ItemErrorCode]] = so.mapped_column(
        enum_column(ItemErrorCode)
    )
    #: The exception behind ``error_code``, for administrators.
    error: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
    finished_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    user: so.Mapped[User] = so.relationship()
    certificate: so.Mapped[Optional[Certificate]] = so.relationship()


class BatchError(ValueError):
    """Error raised when a batch cannot be created or run; the message gives the cause."""


class NothingToIssue(BatchError):
    """Error raised when everyone selected already has a certificate, valid or revoked."""


def completers(
    programme: Programme, training_class: Optional[TrainingClass] = None
) -> list[tuple[int, datetime]]:
    """Return (user id, completion time) of everyone who completed ``programme``.

    With ``training_class``, only its enrolled members count.
    """
    query = (
        sa.select(Enrolment.user_id, Enrolment.completed_at)
        .join(User, User.id == Enrolment.user_id)
        .where(
            Enrolment.programme_id == programme.id,
            Enrolment.completed_at.is_not(None),
            User.institution_id == programme.institution_id,
        )
        .order_by(Enrolment.completed_at, Enrolment.user_id)
    )
    if training_class is not None:
        members = sa.select(ClassMember.user_id).where(
            ClassMember.class_id == training_class.id,
            ClassMember.status == MemberStatus.ENROLLED,
        )
        query = query.where(Enrolment.user_id.in_(members))
    return [(user_id, completed_at) for user_id, completed_at in db.session.execute(query)]


def create_batch(
    actor: User,
    programme: Optional[Programme] = None,
    *,
    training_class: Optional[TrainingClass] = None,
) -> CertificateBatch:
    """Queue certificates for everyone who completed ``programme``, or the
    programme of ``training_class`` among that class's members."""
    if training_class is not None:
        if training_class.programme_id is None:
            raise BatchError("the class offers a single course; certificates are for programmes")
        programme = training_class.programme
    if programme is None or programme.institution_id != actor.institution_id:
        raise BatchError("programme belongs to another institution")
    if hr_scope(actor) is not None:
        raise BatchError("HR limited to a department may not run batches")
    people = completers(programme, training_class)
    if not people:
        raise BatchError("nobody has completed this programme yet")
    if not _needing_certificate(programme, [user_id for user_id, _completed in people]):
        raise NothingToIssue("everyone selected already has a certificate of this programme")
    batch = CertificateBatch(
        institution_id=programme.institution_id,
        programme_id=programme.id,
        class_id=training_class.id if training_class is not None else None,
        created_by_id=actor.id,
    )
    db.session.add(batch)
    db.session.flush()
    db.session.execute(
        sa.insert(CertificateBatchItem),
        [
            {"batch_id": batch.id, "user_id": user_id, "completed_at": completed_at,
             "status": ItemStatus.PENDING}
            for user_id, completed_at in people
        ],
    )
    audit.record(
        "certificate.batch_created",
        "certificate_batch",
        batch.id,
        f"{len(people)} certificates of {programme.title}",
        actor_id=actor.id,
        institution_id=batch.institution_id,
        data={
            "programme_id": programme.id,
            "programme_title": programme.title,
            "people": len(people),
        },
    )
    return batch


def _needing_certificate(programme: Programme, user_ids: list[int]) -> list[int]:
    """Return the ids of the people without any certificate of ``programme``.

    People whose certificate was revoked are left out, because batches
    never reissue a revoked certificate.
    """
    from certificates import services

    held = services.held_programme_certificates(programme.id, user_ids)
    return [user_id for user_id in user_ids if user_id not in held]


def progress(batch: CertificateBatch) -> dict[str, int]:
    """Return the count of items per status, and the total."""
    counts = dict(
        db.session.execute(
            sa.select(CertificateBatchItem.status, sa.func.count())
            .where(CertificateBatchItem.batch_id == batch.id)
            .group_by(CertificateBatchItem.status)
        ).all()
    )
    result = {status.value: counts.get(status, 0) for status in ItemStatus}
    result["total"] = sum(counts.values())
    result["done"] = result["total"] - result["pending"]
    return result


# --- running ---------------------------------------------------------------


def _runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claim(batch_id: int, runner: str, now: Optional[datetime] = None) -> bool:
    """Take the batch's lease if it is free or stale; commit and return True on success."""
    now = now or now_utc()
    stale = now - timedelta(seconds=LEASE_SECONDS)
    taken = db.session.execute(
        sa.update(CertificateBatch)
        .where(
            CertificateBatch.id == batch_id,
            CertificateBatch.status.in_([BatchStatus.QUEUED, BatchStatus.RUNNING]),
            sa.or_(
                CertificateBatch.runner.is_(None),
                CertificateBatch.heartbeat_at.is_(None),
                CertificateBatch.heartbeat_at < stale,
            ),
        )
        .values(
            runner=runner,
            heartbeat_at=now,
            status=BatchStatus.RUNNING,
            started_at=sa.func.coalesce(CertificateBatch.started_at, now),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return taken == 1


def _heartbeat(batch_id: int, runner: str) -> None:
    """Renew the batch's lease in the current transaction."""
    db.session.execute(
        sa.update(CertificateBatch)
        .where(CertificateBatch.id == batch_id, CertificateBatch.runner == runner)
        .values(heartbeat_at=now_utc())
        .execution_options(synchronize_session=False)
    )


def _renew_lease(batch_id: int, runner: str, renewed_at: Optional[float]) -> float:
    """Renew the lease unless it was renewed less than HEARTBEAT_SECONDS ago.

    ``renewed_at`` and the returned time of the last renewal are
    ``time.monotonic()`` values; None renews at once.
    """
    now = time.monotonic()
    if renewed_at is not None and now - renewed_at < HEARTBEAT_SECONDS:
        return renewed_at
    _heartbeat(batch_id, runner)
    return now


def _begin_write() -> None:
    """Begin the session's next transaction with SQLite's write lock taken first.

    A deferred SQLite transaction that reads and then writes fails at once
    with "database is locked" when the other worker committed in between;
    BEGIN IMMEDIATE waits for the lock instead. Other databases ignore it.
    """
    db.session.connection(execution_options={"sqlite_immediate": True})


def _next_item(batch_id: int, worker: int, workers: int) -> Optional[CertificateBatchItem]:
    return db.session.scalar(
        sa.select(CertificateBatchItem)
        .where(
            CertificateBatchItem.batch_id == batch_id,
            CertificateBatchItem.status == ItemStatus.PENDING,
            CertificateBatchItem.id % workers == worker,
        )
        .order_by(CertificateBatchItem.id)
        .limit(1)
    )


def _issue_item(item: CertificateBatchItem, programme: Programme) -> None:
    """Issue the item's certificate without its PDF, or finish the item as held or failed.

    A person whose certificate of the programme was revoked is skipped, and
    the item points at the revoked certificate: a replacement is issued
    only from that certificate's page.

    A certificate this batch issued leaves the item pending with its
    ``certificate_id`` set until ``_store_item_pdf`` has stored the PDF.
    """
    from certificates import services

    user = db.session.get(User, item.user_id)
    existing = services.held_certificate(
        services.programme_achievement_key(user, programme)
    )
    if existing is not None:
        item.certificate_id = existing.id
        if existing.status is CertificateStatus.REVOKED:
            item.status = ItemStatus.REVOKED
        else:
            item.status = ItemStatus.EXISTING
        item.error_code = None
        item.error = None
        item.finished_at = now_utc()
        return
    try:
        with services.pdf_after_commit():
            certificate = services.issue_programme_certificate(
                user, programme, item.completed_at
            )
        item.certificate_id = certificate.id
        item.error_code = None
        item.error = None
    except Exception as exc:  # noqa: BLE001 - recorded on the item, batch goes on
        item_id, batch_id, user_id = item.id, item.batch_id, item.user_id
        db.session.rollback()
        logger.exception("Batch %s: issuing to user %s failed", batch_id, user_id)
        _begin_write()
        item = db.session.get(CertificateBatchItem, item_id)
        item.status = ItemStatus.FAILED
        item.error_code = ItemErrorCode.ISSUE_FAILED
        item.error = _exception_detail(exc)
        item.finished_at = now_utc()


def _exception_detail(exc: Exception) -> str:
    """Return the exception's class and message, cut to fit the item's ``error``."""
    return f"{type(exc).__name__}: {exc}"[:500]


def _store_item_pdf(item_id: int, specs: dict) -> None:
    """Render the PDF of the item's new certificate outside any write lock, then store it.

    A render that fails leaves the certificate without its file, as issuing
    on completion does: ``services.pdf_bytes`` renders it on the first download.
    """
    from certificates import services
    from certificates.models import Certificate
    from certificates.render import CertificateRenderError
    from certificates.sandbox import TemplateSourceError

    item = db.session.get(CertificateBatchItem, item_id)
    cert = db.session.get(Certificate, item.certificate_id)
    code = error = None
    try:
        pdf = services.render_stored(cert, specs)
    except Exception as exc:  # noqa: BLE001 - the certificate is kept without its file
        logger.exception("Rendering the PDF of certificate %s failed", cert.serial)
        pdf, error = None, _exception_detail(exc)
        if isinstance(exc, (CertificateRenderError, TemplateSourceError)):
            code = ItemErrorCode.PDF_LAYOUT
        else:
            code = ItemErrorCode.PDF_NOT_STORED
    # End the read snapshot before taking the write lock.
    db.session.commit()
    _begin_write()
    item = db.session.get(CertificateBatchItem, item_id)
    if pdf is not None:
        services.save_pdf(db.session.get(Certificate, item.certificate_id), pdf)
    item.status = ItemStatus.ISSUED
    item.error_code = code
    item.error = error
    item.finished_at = now_utc()


def issue_items(
    batch_id: int,
    runner: str,
    *,
    worker: int = 0,
    workers: int = 1,
    limit: Optional[int] = None,
) -> int:
    """Issue this worker's share of the pending items; return how many were done.

    Each item takes two short transactions: one issues the certificate (the
    serial counter is locked only for it), one stores the PDF rendered in
    between, so workers render at the same time. An item whose certificate
    was issued before a crash gets only its PDF. ``limit`` stops after that
    many items, as a crash would.
    """
    batch = db.session.get(CertificateBatch, batch_id)
    programme_id = batch.programme_id
    #: Template specs by version id, built once per worker.
    specs: dict = {}
    done = 0
    renewed_at: Optional[float] = None
    while limit is None or done < limit:
        db.session.commit()
        _begin_write()
        item = _next_item(batch_id, worker, workers)
        if item is None:
            break
        item_id = item.id
        if item.certificate_id is None:
            _issue_item(item, db.session.get(Programme, programme_id))
        renewed_at = _renew_lease(batch_id, runner, renewed_at)
        # Release the write lock before rendering.
        db.session.commit()
        item = db.session.get(CertificateBatchItem, item_id)
        if item.status is ItemStatus.PENDING:
            _store_item_pdf(item_id, specs)
            renewed_at = _renew_lease(batch_id, runner, renewed_at)
            db.session.commit()
        done += 1
    db.session.commit()
    return done


def _worker_main(config: dict, batch_id: int, runner: str, worker: int, workers: int) -> int:
    """Entry point of a worker process: a fresh app on the same database."""
    from lms import create_app

    app = create_app(config)
    with app.app_context():
        try:
            return issue_items(batch_id, runner, worker=worker, workers=workers)
        finally:
            db.session.remove()
            db.engine.dispose()


def _plain_config(app: Flask) -> dict:
    """Return the app's settings that a worker process needs, as picklable values."""
    simple = (str, int, float, bool, type(None))
    return {
        key: value
        for key, value in app.config.items()
        if isinstance(value, simple) or (
            isinstance(value, (list, tuple, dict)) and key.isupper()
            and all(isinstance(v, simple) for v in (value.values() if isinstance(value, dict) else value))
        )
    }


def _worker_context() -> multiprocessing.context.BaseContext:
    """Return the multiprocessing context that starts batch workers.

    A worker is forked from the fork server, a single-threaded process of
    its own that has imported the app's modules and run
    ``certificates.worker_warmup``, so the worker repeats neither. Forking
    this process instead would be unsafe, because the web server and the
    scheduler call ``run_batch`` on a thread. A child forked while another
    thread holds a lock (the database pool's, a font library's) can wait on
    that lock for ever. Workers share no database connection with any
    process: the fork server never opens one, and each worker creates its
    own app.

    The fork server is started on first use and then serves every later
    batch of this process until this process exits. Its module list is
    fixed when it starts. It keeps about 120 MB of private memory.
    """
    context = multiprocessing.get_context("forkserver")
    # sys.modules is in the order the imports began, an order that works.
    loaded = [
        name for name in list(sys.modules) if name.partition(".")[0] in APP_PACKAGES
    ]
    context.set_forkserver_preload([*loaded, "certificates.worker_warmup"])
    return context


def finish(batch_id: int, runner: str) -> None:
    """Mark the batch done when no item is pending, and release the lease."""
    batch = db.session.get(CertificateBatch, batch_id)
    counts = progress(batch)
    if counts["pending"] == 0 and batch.status is BatchStatus.RUNNING:
        batch.status = BatchStatus.DONE
        batch.finished_at = now_utc()
        # An earlier run that stopped left people pending; they are all reached now.
        batch.last_error = None
        audit.record(
            "certificate.batch_finished",
            "certificate_batch",
            batch.id,
            f"{counts['issued']} issued, {counts['existing']} already held, "
            f"{counts['revoked']} skipped as revoked, {counts['failed']} failed",
            institution_id=batch.institution_id,
            data=counts,
        )
    if batch.runner == runner:
        batch.runner = None
    db.session.commit()


def run_batch(app: Flask, batch_id: int, *, processes: Optional[int] = None) -> bool:
    """Run a batch to the end if its lease is free; return False if another runner has it."""
    runner = _runner_name()
    with app.app_context():
        if not claim(batch_id, runner):
            return False
        processes = processes or int(app.config.get("CERTIFICATE_BATCH_PROCESSES") or 1)
        logger.info("Batch %s started by %s with %d process(es)", batch_id, runner, processes)
        try:
            if processes <= 1:
                issue_items(batch_id, runner)
            else:
                config = _plain_config(app)
                context = _worker_context()
                # A worker that dies (killed, out of memory) breaks the pool, so
                # BrokenProcessPool is raised here instead of a wait for ever.
                # Its unfinished items stay pending for the next run.
                with ProcessPoolExecutor(processes, mp_context=context) as pool:
                    futures = [
                        pool.submit(_worker_main, config, batch_id, runner, index, processes)
                        for index in range(processes)
                    ]
                    for future in futures:
                        future.result()
            finish(batch_id, runner)
        except Exception as exc:
            db.session.rollback()
            logger.exception("Batch %s stopped", batch_id)
            batch = db.session.get(CertificateBatch, batch_id)
            batch.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            batch.runner = None
            db.session.commit()
            raise
        finally:
            db.session.remove()
    logger.info("Batch %s finished by %s", batch_id, runner)
    return True


def start_in_background(batch_id: int) -> None:
    """Run a batch on a thread of this process, unless turned off by configuration."""
    app = current_app._get_current_object()
    if not app.config.get("CERTIFICATE_BATCH_AUTOSTART", True):
        return

    def target() -> None:
        try:
            run_batch(app, batch_id)
        except Exception:  # noqa: BLE001 - logged; the scheduler job resumes it
            logger.exception("Background run of batch %s failed", batch_id)

    threading.Thread(target=target, name=f"certificate-batch-{batch_id}", daemon=True).start()


def resume_batches(now: Optional[datetime] = None) -> dict:
    """Scheduler job: run every queued batch and every batch whose runner went silent."""
    app = current_app._get_current_object()
    stale = (now or now_utc()) - timedelta(seconds=LEASE_SECONDS)
    with app.app_context():
        ids = list(
            db.session.scalars(
                sa.select(CertificateBatch.id).where(
                    sa.or_(
                        CertificateBatch.status == BatchStatus.QUEUED,
                        sa.and_(
                            CertificateBatch.status == BatchStatus.RUNNING,
                            sa.or_(
                                CertificateBatch.heartbeat_at.is_(None),
                                CertificateBatch.heartbeat_at < stale,
                            ),
                        ),
                    )
                )
            )
        )
        db.session.remove()
    ran = [batch_id for batch_id in ids if run_batch(app, batch_id)]
    return {"batches": len(ran)}


def runner_is_gone(batch: CertificateBatch, now: Optional[datetime] = None) -> bool:
    """Return whether a queued or running batch has no live runner.

    True when no runner has the lease or its heartbeat is older than
    LEASE_SECONDS, so a resume would claim it. False for a finished batch.
    """
    if batch.status not in (BatchStatus.QUEUED, BatchStatus.RUNNING):
        return False
    if batch.runner is None or batch.heartbeat_at is None:
        return True
    return batch.heartbeat_at < (now or now_utc()) - timedelta(seconds=LEASE_SECONDS)


def retry_failed(batch: CertificateBatch, actor: Optional[User] = None) -> int:
    """Put failed items back to pending and re-queue the batch; return how many.

    Audits the resume with ``actor``, because the retried items issue
    certificates without naming who started them.
    """
    count = db.session.execute(
        sa.update(CertificateBatchItem)
        .where(
            CertificateBatchItem.batch_id == batch.id,
            CertificateBatchItem.status == ItemStatus.FAILED,
        )
        .values(status=ItemStatus.PENDING, error_code=None, error=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if count:
        batch.status = BatchStatus.QUEUED
        batch.finished_at = None
    audit.record(
        "certificate.batch_resumed",
        "certificate_batch",
        batch.id,
        f"batch resumed, {count} failed items retried",
        actor_id=actor.id if actor is not None else None,
        institution_id=batch.institution_id,
        data={"retried": count},
    )
    return count


def batches_of(institution_id: int) -> list[CertificateBatch]:
    return list(
        db.session.scalars(
            sa.select(CertificateBatch)
            .where(CertificateBatch.institution_id == institution_id)
            .order_by(CertificateBatch.created_at.desc(), CertificateBatch.id.desc())
        )
    )
