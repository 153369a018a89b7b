"""Question files kept between their import preview and its confirmation.

Each preview is a ``PendingQuestionImport`` row that names its stored file,
so a confirmation imports exactly the file its page showed. ``claim``
lets a row be imported at most once and rejects it after ``LIFETIME``.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa

from assessments import logger
from assessments.models import PendingQuestionImport, QuestionBank, QuestionCategory
from lms import uploads
from lms.accounts.models import User
from lms.db import now_utc
from lms.extensions import db

AREA = "question_imports"
LIFETIME = timedelta(hours=24)


class ImportRejected(ValueError):
    """Raised when a confirmation cannot import; ``code`` is unknown, expired or imported."""

    def __init__(self, code: str, pending: PendingQuestionImport | None = None):
        super().__init__(code)
        self.code = code
        self.pending = pending


def keep(
    category: QuestionCategory, fmt: str, stored: uploads.StoredFile, by: User
) -> PendingQuestionImport:
    """Record a previewed file for a later confirmation, after purging expired ones."""
    purge_expired()
    pending = PendingQuestionImport(
        bank_id=category.bank_id,
        category_id=category.id,
        created_by_id=by.id,
        format=fmt,
        stored_name=stored.name,
        filename=stored.original_name[:200],
    )
    db.session.add(pending)
    db.session.flush()
    logger.info(
        "Question import %s previewed in bank %s by %r", pending.id, category.bank_id, by
    )
    return pending


def find(import_id: int, bank: QuestionBank, by: User) -> PendingQuestionImport:
    """Return the preview ``import_id`` that ``by`` made in ``bank``.

    Raises ``ImportRejected("unknown")`` for a missing preview and for one
    of another bank or user, which the caller may not see.
    """
    pending = db.session.get(PendingQuestionImport, import_id)
    if pending is None or pending.bank_id != bank.id or pending.created_by_id != by.id:
        raise ImportRejected("unknown")
    return pending


def claim(pending: PendingQuestionImport) -> None:
    """Mark the preview imported, or raise ``ImportRejected`` if it expired or was imported.

    The update only matches a row not yet imported, so of two confirmations
    sent at once only one claims it.
    """
    if pending.imported_at is not None:
        raise ImportRejected("imported", pending)
    if now_utc() - pending.created_at > LIFETIME:
        raise ImportRejected("expired", pending)
    claimed = db.session.execute(
        sa.update(PendingQuestionImport)
        .where(
            PendingQuestionImport.id == pending.id,
            PendingQuestionImport.imported_at.is_(None),
        )
        .values(imported_at=now_utc())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        # The cleanup job may have deleted the row since it was loaded.
        current = db.session.get(PendingQuestionImport, pending.id, populate_existing=True)
        if current is None:
            raise ImportRejected("unknown")
        raise ImportRejected("imported", current)


def purge_expired() -> int:
    """Delete previews older than ``LIFETIME`` and their stored files."""
    expired = db.session.scalars(
        sa.select(PendingQuestionImport).where(
            PendingQuestionImport.created_at < now_utc() - LIFETIME
        )
    ).all()
    for pending in expired:
        uploads.remove(AREA, pending.stored_name)
        db.session.delete(pending)
    return len(expired)


def purge_unimported(cutoff: datetime) -> int:
    """Delete the previews made before ``cutoff`` that were never imported.

    Returns how many were deleted. Their files stay for the caller, the
    cleanup job, which deletes every file of ``AREA`` that is older than
    ``cutoff`` and named by no preview awaiting import.
    """
    result = db.session.execute(
        sa.delete(PendingQuestionImport).where(
            PendingQuestionImport.created_at < cutoff,
            PendingQuestionImport.imported_at.is_(None),
        )
    )
    return result.rowcount


def awaiting_names() -> set[str]:
    """Return the stored names of the files of previews not yet imported."""
    return set(
        db.session.scalars(
            sa.select(PendingQuestionImport.stored_name).where(
                PendingQuestionImport.imported_at.is_(None)
            )
        )
    )
