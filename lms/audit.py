"""Audit log of grades, certificates and HR decisions, readable by users."""

import logging
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from lms.db import UTCDateTime, now_utc
from lms.extensions import db

logger = logging.getLogger("lms.audit")


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime, default=now_utc, index=True
    )
    actor_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("user.id"))
    institution_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("institution.id"), index=True
    )
    #: Dotted action name, e.g. "certificate.issued" or "quiz.graded".
    action: so.Mapped[str] = so.mapped_column(sa.String(64))
    subject_type: so.Mapped[str] = so.mapped_column(sa.String(32))
    subject_id: so.Mapped[int]
    summary: so.Mapped[str] = so.mapped_column(sa.String(500))
    data: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)


def record(
    action: str,
    subject_type: str,
    subject_id: int,
    summary: str,
    *,
    actor_id: Optional[int] = None,
    institution_id: Optional[int] = None,
    data: Optional[dict] = None,
) -> AuditEntry:
    """Add an audit row to the session and log the same event for operators."""
    entry = AuditEntry(
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        summary=summary,
        actor_id=actor_id,
        institution_id=institution_id,
        data=data or {},
    )
    db.session.add(entry)
    logger.info("%s %s %s by user %s: %s", action, subject_type, subject_id, actor_id, summary)
    return entry
