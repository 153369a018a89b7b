"""Credit a programme's electives only up to its elective minimum

A programme earns the 学时 it states: its required courses plus its
minimum of elective hours, which is what its certificate prints. The
ledger used to credit every elective completed, so a learner with more
electives than the minimum had more 学时 in the ledger than on the
certificate. For each enrolment, this revision walks the elective
completions in the order they were completed, credits them up to the
minimum and takes back the rest: the completion's ``hours`` is lowered,
and the ledger and the timeline get a correcting row each (source type
``programme_hours_cap``), because both are append-only. Rows whose hours
were already withdrawn with a revoked certificate are left alone.
Certificates keep what they printed.

Revision ID: a71c3e5d9b20
Revises: f3a8c61d07b2
Create Date: 2026-12-06 13:00:00.000000

"""
import json
from datetime import datetime, timezone
from decimal import Decimal

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a71c3e5d9b20'
down_revision = 'f3a8c61d07b2'
branch_labels = None
depends_on = None

#: Source type of the ledger and timeline rows this revision writes.
CAP_SOURCE_TYPE = 'programme_hours_cap'
TENTH = Decimal('0.1')


def _decimal(value) -> Decimal:
    """Return a NUMERIC value as a Decimal of one decimal place; SQLite gives floats."""
    return Decimal(str(value or 0)).quantize(TENTH)


def upgrade():
    connection = op.get_bind()
    courses = {
        row.id: (row.institution_id, row.code)
        for row in connection.execute(sa.text("SELECT id, institution_id, code FROM course"))
    }
    links = connection.execute(sa.text(
        "SELECT id, programme_id, course_id, required FROM programme_course"
    )).all()
    pins = {
        (row.enrolment_id, row.course_id): row.programme_course_id
        for row in connection.execute(sa.text(
            "SELECT enrolment_id, course_id, programme_course_id FROM enrolment_course"
        ))
    }
    required_of_link = {link.id: bool(link.required) for link in links}
    enrolments = connection.execute(sa.text(
        "SELECT e.id, e.programme_id, p.min_elective_hours FROM enrolment e"
        " JOIN programme p ON p.id = e.programme_id"
    )).all()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for enrolment in enrolments:
        programme_links = [link for link in links if link.programme_id == enrolment.programme_id]
        left = _decimal(enrolment.min_elective_hours)
        completions = connection.execute(sa.text(
            "SELECT id, user_id, course_id, hours FROM course_completion"
            " WHERE enrolment_id = :enrolment ORDER BY completed_at, id"
        ), {"enrolment": enrolment.id}).all()
        for completion in completions:
            required = _required(enrolment.id, completion.course_id, programme_links,
                                 pins, required_of_link, courses)
            if required is not False:
                continue
            hours = _decimal(completion.hours)
            credit = min(hours, left)
            left -= credit
            if credit < hours:
                _cap(connection, completion, hours, credit, now)


def _required(enrolment_id, course_id, programme_links, pins, required_of_link, courses):
    """Return whether the completed course is required in the enrolment, or None if unknown.

    The pinned version decides first, then the programme's current link to
    that course, then a link to another version with the same code.
    """
    pinned = pins.get((enrolment_id, course_id))
    if pinned is not None and pinned in required_of_link:
        return required_of_link[pinned]
    for link in programme_links:
        if link.course_id == course_id:
            return bool(link.required)
    for link in programme_links:
        if courses.get(link.course_id) == courses.get(course_id):
            return bool(link.required)
    return None


def _cap(connection, completion, hours: Decimal, credit: Decimal, now: datetime) -> None:
    """Lower one completion to ``credit`` and correct its ledger row and timeline entry."""
    entry = connection.execute(sa.text(
        "SELECT id, user_id, title, occurred_on, year, tier, kind, hours FROM hours_entry"
        " WHERE source_type = 'course_completion' AND source_id = :completion"
        " AND corrects_id IS NULL"
    ), {"completion": completion.id}).first()
    if entry is not None:
        corrected = connection.execute(sa.text(
            "SELECT count(*) FROM hours_entry WHERE corrects_id = :entry"
        ), {"entry": entry.id}).scalar()
        if corrected:
            return
        connection.execute(
            sa.text(
                "INSERT INTO hours_entry (user_id, source_type, source_id, title,"
                " occurred_on, year, tier, kind, hours, corrects_id, created_at)"
                " VALUES (:user_id, :source_type, :source_id, :title, :occurred_on,"
                " :year, :tier, :kind, :hours, :corrects_id, :created_at)"
            ).bindparams(sa.bindparam("hours", type_=sa.Numeric(7, 1))),
            {
                "user_id": entry.user_id,
                "source_type": CAP_SOURCE_TYPE,
                "source_id": entry.id,
                "title": entry.title,
                "occurred_on": entry.occurred_on,
                "year": entry.year,
                "tier": entry.tier,
                "kind": entry.kind,
                "hours": credit - _decimal(entry.hours),
                "corrects_id": entry.id,
                "created_at": now,
            },
        )
    connection.execute(
        sa.text("UPDATE course_completion SET hours = :hours WHERE id = :id").bindparams(
            sa.bindparam("hours", type_=sa.Numeric(5, 1))
        ),
        {"hours": credit, "id": completion.id},
    )
    original = connection.execute(sa.text(
        "SELECT id, occurred_on, title, detail FROM progression_entry"
        " WHERE user_id = :user AND kind = 'training'"
        " AND source_type = 'course_completion' AND source_id = :completion"
    ), {"user": completion.user_id, "completion": completion.id}).first()
    if original is None:
        return
    detail = original.detail
    if isinstance(detail, str):
        detail = json.loads(detail)
    detail = dict(detail or {})
    detail.update({"hours": str(credit), "course_hours": str(hours)})
    connection.execute(
        sa.text(
            "INSERT INTO progression_entry (user_id, kind, occurred_on, title, detail,"
            " source_type, source_id, corrects_id, created_at)"
            " VALUES (:user_id, 'training', :occurred_on, :title, :detail,"
            " :source_type, :source_id, :corrects_id, :created_at)"
        ).bindparams(sa.bindparam("detail", type_=sa.JSON)),
        {
            "user_id": completion.user_id,
            "occurred_on": original.occurred_on,
            "title": original.title,
            "detail": detail,
            "source_type": CAP_SOURCE_TYPE,
            "source_id": completion.id,
            "corrects_id": original.id,
            "created_at": now,
        },
    )


def downgrade():
    # Restore each capped completion's hours from its ledger row, then drop
    # the correcting rows this revision wrote.
    connection = op.get_bind()
    capped = connection.execute(sa.text(
        "SELECT c.source_id AS entry_id, e.source_id AS completion_id, e.hours"
        " FROM hours_entry c JOIN hours_entry e ON e.id = c.corrects_id"
        " WHERE c.source_type = :cap"
    ), {"cap": CAP_SOURCE_TYPE}).all()
    for row in capped:
        connection.execute(
            sa.text("UPDATE course_completion SET hours = :hours WHERE id = :id").bindparams(
                sa.bindparam("hours", type_=sa.Numeric(5, 1))
            ),
            {"hours": _decimal(row.hours), "id": row.completion_id},
        )
    connection.execute(sa.text("DELETE FROM hours_entry WHERE source_type = :cap"),
                       {"cap": CAP_SOURCE_TYPE})
    connection.execute(sa.text("DELETE FROM progression_entry WHERE source_type = :cap"),
                       {"cap": CAP_SOURCE_TYPE})
