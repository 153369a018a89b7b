"""Record the training days of ledger rows

Rules such as "12 days or 90 学时 a year" accept a number of training
days. Days used to be derived from hours at a fixed rate, so a training of
12 days at 6 学时 a day (72 学时) never met "12 days". Ledger rows now
carry the days of trainings that record them: an external training's
dates and a class's sessions. Existing rows of those sources, and the
rows that correct them, are filled in from their sources here. Other rows
keep no days.

Revision ID: e5b2c7d91a34
Revises: b9160b43005f
Create Date: 2026-12-06 08:00:00.000000

"""
from datetime import date
from decimal import Decimal

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5b2c7d91a34'
down_revision = 'b9160b43005f'
branch_labels = None
depends_on = None

#: The default full-day 学时 of a class (CLASS_FULL_DAY_HOURS) when this ran.
FULL_DAY_HOURS = Decimal(8)
TENTH = Decimal('0.1')


def upgrade():
    with op.batch_alter_table('hours_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('days', sa.Numeric(precision=5, scale=1), nullable=True))

    connection = op.get_bind()
    days_by_id = {}
    external = connection.execute(sa.text(
        "SELECT h.id, h.year, t.start_date, t.end_date FROM hours_entry h"
        " JOIN external_training t ON t.id = h.source_id"
        " WHERE h.source_type = 'external_training'"
    ))
    for entry_id, year, start, end in external:
        start, end = _as_date(start), _as_date(end)
        first, last = max(start, date(year, 1, 1)), min(end, date(year, 12, 31))
        days_by_id[entry_id] = Decimal(max((last - first).days + 1, 0))
    sessions = connection.execute(sa.text(
        "SELECT h.id, h.hours, c.full_day_hours FROM hours_entry h"
        " JOIN class_session s ON s.id = h.source_id"
        " JOIN training_class c ON c.id = s.class_id"
        " WHERE h.source_type = 'class_session'"
    ))
    for entry_id, hours, full_day in sessions:
        per_day = Decimal(str(full_day)) if full_day else FULL_DAY_HOURS
        days_by_id[entry_id] = (Decimal(str(hours)) / per_day).quantize(TENTH)

    corrections = connection.execute(sa.text(
        "SELECT h.id, h.hours, h.corrects_id, r.hours, r.source_type FROM hours_entry h"
        " JOIN hours_entry r ON r.id = h.corrects_id"
        " WHERE r.source_type IN ('external_training', 'class_session')"
    )).all()
    for entry_id, hours, root_id, root_hours, _source in corrections:
        root_days = days_by_id.get(root_id)
        if root_days is None or not root_hours:
            continue
        share = Decimal(str(hours)) / Decimal(str(root_hours))
        days_by_id[entry_id] = (root_days * share).quantize(TENTH)

    update = sa.text("UPDATE hours_entry SET days = :days WHERE id = :id").bindparams(
        sa.bindparam("days", type_=sa.Numeric(5, 1))
    )
    for entry_id, days in days_by_id.items():
        connection.execute(update, {"id": entry_id, "days": days})


def _as_date(value) -> date:
    """Return a DATE column's value as a date; SQLite returns text."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def downgrade():
    with op.batch_alter_table('hours_entry', schema=None) as batch_op:
        batch_op.drop_column('days')
