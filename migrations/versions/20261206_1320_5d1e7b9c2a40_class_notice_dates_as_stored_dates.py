"""Store the dates of queued class notices as dates of the reader's language

Cancellation notices of training classes stored their period as one
string, "2026-09-01 – 2026-09-30", and class start and session reminders
stored their Chinese text with the date in that ISO form, so Chinese
readers saw ISO dates inside Chinese sentences. The period becomes the
stored text "%(start)s to %(end)s" with two stored dates, which render in
each reader's format, and the ISO dates of the Chinese reminder text
become 2026年9月1日. English text keeps its ISO dates, the English date
format of the UI.

Revision ID: 5d1e7b9c2a40
Revises: 352f8cf9d193
Create Date: 2026-12-06 13:20:00.000000

"""
import re

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '5d1e7b9c2a40'
down_revision = '352f8cf9d193'
branch_labels = None
depends_on = None

NOTIFICATION = sa.table(
    "notification",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("body_data", sa.JSON),
)
CANCELLED = "class_cancelled"
REMINDERS = ("class_starts", "class_session_held")
ISO_PERIOD = re.compile(r"^(\d{4}-\d{2}-\d{2}) – (\d{4}-\d{2}-\d{2})$")
#: An ISO date that is not part of a longer number or an ISO date-time.
ISO_DATE = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\dT])")


def _period(start: str, end: str) -> dict:
    return {
        "msgid": "%(start)s to %(end)s",
        "params": {
            "start": {"date": start, "format": "long"},
            "end": {"date": end, "format": "long"},
        },
    }


def _stored_period(value) -> str | None:
    """Return the ISO period string of a stored period, or None for another value."""
    if not isinstance(value, dict) or value.get("msgid") != "%(start)s to %(end)s":
        return None
    params = value.get("params") or {}
    start, end = params.get("start"), params.get("end")
    if not (isinstance(start, dict) and isinstance(end, dict)):
        return None
    return f"{start.get('date')} – {end.get('date')}"


def _chinese_dates(text: str) -> str:
    return ISO_DATE.sub(
        lambda match: f"{match[1]}年{int(match[2])}月{int(match[3])}日", text
    )


def _rows(connection, kinds):
    return connection.execute(
        sa.select(NOTIFICATION.c.id, NOTIFICATION.c.kind, NOTIFICATION.c.body_data)
        .where(NOTIFICATION.c.kind.in_(kinds))
    ).all()


def _save(connection, row_id: int, data: dict) -> None:
    connection.execute(
        NOTIFICATION.update().where(NOTIFICATION.c.id == row_id).values(body_data=data)
    )


def upgrade():
    connection = op.get_bind()
    for row_id, kind, data in _rows(connection, (CANCELLED, *REMINDERS)):
        if not isinstance(data, dict):
            continue
        params = data.get("params")
        if kind == CANCELLED and isinstance(params, dict):
            match = ISO_PERIOD.match(str(params.get("period") or ""))
            if match:
                params = {**params, "period": _period(match[1], match[2])}
                _save(connection, row_id, {**data, "params": params})
        elif kind in REMINDERS and isinstance(data.get("languages"), dict):
            texts = data["languages"]
            if isinstance(texts.get("zh_CN"), str):
                texts = {**texts, "zh_CN": _chinese_dates(texts["zh_CN"])}
                _save(connection, row_id, {**data, "languages": texts})


def downgrade():
    # The reminders keep their Chinese dates: the earlier release shows the
    # stored text per language as it is, and which dates were ISO is lost.
    connection = op.get_bind()
    for row_id, _kind, data in _rows(connection, (CANCELLED,)):
        if not isinstance(data, dict) or not isinstance(data.get("params"), dict):
            continue
        period = _stored_period(data["params"].get("period"))
        if period is not None:
            params = {**data["params"], "period": period}
            _save(connection, row_id, {**data, "params": params})
