"""Count programmes whose 学时 were credited elsewhere as trainings

A course shared by two programmes credits its 学时 once, through one of
them. A completed programme whose courses all credited through another
programme had no ledger row of its own, so rules that count trainings
did not count it. The application now gives such a programme, when it is
completed, one ledger row of 0 学时 (source type ``programme_completion``,
source id the programme) with the programme as its training and with the
programme's tier and kind, dated on the day it was completed. This
revision writes that row for the enrolments completed before.

An enrolment whose certificates for the programme are all revoked or
superseded gets no row: the certificate was revoked when withdrawing the
hours was not offered for it, and the programme should not count again.

Revision ID: 55cf031ff93c
Revises: c4f2a8d61e95
Create Date: 2026-12-06 15:52:00.000000

"""
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '55cf031ff93c'
down_revision = 'c4f2a8d61e95'
branch_labels = None
depends_on = None

#: Source type of the ledger rows this revision writes.
SOURCE_TYPE = 'programme_completion'


def _aware(value) -> datetime:
    """Return a stored UTC timestamp as an aware datetime; SQLite may give a string."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def upgrade():
    connection = op.get_bind()
    enrolments = connection.execute(sa.text(
        "SELECT e.user_id, e.programme_id, e.completed_at, p.title, p.tier, p.kind,"
        " i.timezone"
        " FROM enrolment e"
        " JOIN programme p ON p.id = e.programme_id"
        " JOIN \"user\" u ON u.id = e.user_id"
        " JOIN institution i ON i.id = u.institution_id"
        " WHERE e.completed_at IS NOT NULL"
        " AND NOT EXISTS (SELECT 1 FROM hours_entry h"
        "   WHERE h.user_id = e.user_id AND h.training_type = 'programme'"
        "   AND h.training_id = e.programme_id"
        "   AND (h.hours > 0 OR h.source_type = :source_type))"
        " AND NOT (EXISTS (SELECT 1 FROM certificate c"
        "   WHERE c.holder_id = e.user_id AND c.programme_id = e.programme_id)"
        "   AND NOT EXISTS (SELECT 1 FROM certificate c"
        "   WHERE c.holder_id = e.user_id AND c.programme_id = e.programme_id"
        "   AND c.status NOT IN ('revoked', 'superseded')))"
        " ORDER BY e.id"
    ), {"source_type": SOURCE_TYPE}).all()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    insert = sa.text(
        "INSERT INTO hours_entry (user_id, source_type, source_id, training_type,"
        " training_id, title, occurred_on, year, tier, kind, hours, created_at)"
        " VALUES (:user_id, :source_type, :source_id, 'programme', :training_id,"
        " :title, :occurred_on, :year, :tier, :kind, :hours, :created_at)"
    ).bindparams(
        sa.bindparam("hours", type_=sa.Numeric(7, 1)),
        sa.bindparam("occurred_on", type_=sa.Date),
    )
    for row in enrolments:
        on = _aware(row.completed_at).astimezone(ZoneInfo(row.timezone)).date()
        connection.execute(insert, {
            "user_id": row.user_id,
            "source_type": SOURCE_TYPE,
            "source_id": row.programme_id,
            "training_id": row.programme_id,
            "title": row.title[:200],
            "occurred_on": on,
            "year": on.year,
            "tier": row.tier,
            "kind": row.kind,
            "hours": Decimal(0),
            "created_at": now,
        })


def downgrade():
    # The rows of 0 学时, and the corrections that withdrew some of them
    # with a revoked certificate, credit nothing; the application of the
    # previous revision neither writes nor reads them.
    connection = op.get_bind()
    connection.execute(sa.text(
        "DELETE FROM hours_entry WHERE corrects_id IN"
        " (SELECT id FROM hours_entry WHERE source_type = :source_type)"
    ), {"source_type": SOURCE_TYPE})
    connection.execute(sa.text("DELETE FROM hours_entry WHERE source_type = :source_type"),
                       {"source_type": SOURCE_TYPE})
