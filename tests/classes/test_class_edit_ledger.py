"""Editing a class whose sessions already have attendance keeps the ledger exact."""

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from courses import class_attendance, classes
from courses.class_models import SessionLength, TrainingClass
from courses.models import Enrolment
from lms.compliance import ledger
from lms.compliance.models import ComplianceRule
from lms.db import now_utc
from lms.extensions import db
from lms.records.models import HoursEntry, TrainingKind, TrainingTier
from tests.classes.helpers import make_class, make_session, user
from tests.factories import build_learning_world

FULL_DAY = date(2026, 9, 2)
HALF_DAYS = date(2026, 9, 3)


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


@pytest.fixture
def marked(world, login):
    """A 校级 class of 6/3 学时 where counselor1 attended all three sessions."""
    klass = make_class(world, full_day_hours="6", half_day_hours="3")
    classes.add_member(klass, user(world.counselor), by=user(world.trainer))
    sessions = [
        make_session(klass, held_on=FULL_DAY, length=SessionLength.FULL_DAY),
        make_session(klass, held_on=HALF_DAYS, length=SessionLength.HALF_DAY, title="上午"),
        make_session(klass, held_on=HALF_DAYS, length=SessionLength.HALF_DAY, title="下午"),
    ]
    db.session.commit()
    trainer = login("trainer")
    for session in sessions:
        _mark(trainer, klass.id, session.id, world.counselor, "present")
    return klass.id, [session.id for session in sessions], trainer


def _mark(client, class_id, session_id, user_id, status):
    response = client.post(
        f"/classes/{class_id}/sessions/{session_id}/attendance",
        data={f"mark-{user_id}": status},
    )
    assert response.status_code == 302


def _edit(client, world, class_id, **overrides):
    klass = db.session.get(TrainingClass, class_id)
    data = {
        "code": klass.code, "title": klass.title, "starts_on": "2026-09-01",
        "ends_on": klass.ends_on.isoformat(), "enrolment_mode": "assigned",
        "tier": "school", "kind": "demonstration", "full_day_hours": "6",
        "half_day_hours": "3", "offering": f"p:{world.programme}",
        "trainer_ids": [str(world.trainer)],
    }
    data.update(overrides)
    return client.post(f"/classes/{class_id}/edit", data=data)


def _hours_by_tier(user_id: int) -> dict[TrainingTier, Decimal]:
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(HoursEntry.tier, sa.func.sum(HoursEntry.hours))
        .where(HoursEntry.user_id == user_id)
        .group_by(HoursEntry.tier)
    )
    return {tier: Decimal(total) for tier, total in rows}


def _net_per_source(user_id: int) -> list[Decimal]:
    root = sa.func.coalesce(HoursEntry.corrects_id, HoursEntry.id)
    rows = db.session.execute(
        sa.select(sa.func.sum(HoursEntry.hours))
        .where(HoursEntry.user_id == user_id)
        .group_by(root)
    )
    return [Decimal(total) for (total,) in rows]


def _trainings(user_id: int, tiers: list[str]) -> Decimal:
    rule = ComplianceRule(code="tiers", name="tiers", min_count=1, tiers=tiers)
    filters = [HoursEntry.user_id == user_id, *ledger.restriction_filters(rule)]
    tally = ledger.tally(rule, filters, None).get(user_id, ledger.EMPTY_TALLY)
    achieved = tally.achieved
    return Decimal(achieved)


def test_marked_class_keeps_tier(world, marked, english):
    class_id, _sessions, trainer = marked

    response = _edit(trainer, world, class_id, tier="provincial",
                     full_day_hours="8", half_day_hours="4")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="tier-error"' in page
    assert "so the tier cannot change" in page
    assert "create a new class" in page
    db.session.expire_all()
    klass = db.session.get(TrainingClass, class_id)
    assert klass.tier is TrainingTier.SCHOOL
    assert klass.full_day_hours == Decimal(6)
    assert _hours_by_tier(world.counselor) == {TrainingTier.SCHOOL: Decimal(12)}


def test_marked_class_keeps_kind(world, marked, english):
    class_id, _sessions, trainer = marked

    response = _edit(trainer, world, class_id, kind="thematic")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="kind-error"' in page
    assert "so the kind cannot change" in page
    db.session.expire_all()
    assert db.session.get(TrainingClass, class_id).kind is TrainingKind.DEMONSTRATION


def test_unmarked_class_changes_tier(world, login):
    klass = make_class(world)
    db.session.commit()

    response = _edit(login("trainer"), world, klass.id, tier="provincial")

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(TrainingClass, klass.id).tier is TrainingTier.PROVINCIAL


def test_hours_change_recredits_same_tier(world, marked):
    class_id, sessions, trainer = marked
    assert _hours_by_tier(world.counselor) == {TrainingTier.SCHOOL: Decimal(12)}

    response = _edit(trainer, world, class_id, full_day_hours="8", half_day_hours="4")
    assert response.status_code == 302
    assert _hours_by_tier(world.counselor) == {TrainingTier.SCHOOL: Decimal(16)}

    _mark(trainer, class_id, sessions[2], world.counselor, "excused")

    assert _hours_by_tier(world.counselor) == {TrainingTier.SCHOOL: Decimal(12)}
    assert all(net >= 0 for net in _net_per_source(world.counselor))
    # The class offers a programme, which counts as a training once completed.
    assert _trainings(world.counselor, ["school"]) == 0
    enrolment = db.session.scalar(sa.select(Enrolment).filter_by(user_id=world.counselor))
    enrolment.completed_at = now_utc()
    db.session.flush()
    assert _trainings(world.counselor, ["national", "provincial"]) == 0
    assert _trainings(world.counselor, ["school"]) == 1


def test_lower_hours_keep_full_half_days(world, marked):
    class_id, _sessions, trainer = marked
    _edit(trainer, world, class_id, full_day_hours="8", half_day_hours="4")

    response = _edit(trainer, world, class_id, full_day_hours="6", half_day_hours="3")

    assert response.status_code == 302
    assert _hours_by_tier(world.counselor) == {TrainingTier.SCHOOL: Decimal(12)}
    credited = class_attendance.credited_hours_by_user(
        db.session.get(TrainingClass, class_id)
    )
    assert credited == {world.counselor: Decimal(12)}


def test_attended_sessions_record_days(world, marked):
    class_id, session_ids, trainer = marked

    _mark(trainer, class_id, session_ids[2], world.counselor, "absent")

    db.session.expire_all()
    days = db.session.scalar(
        sa.select(sa.func.sum(HoursEntry.days)).where(
            HoursEntry.user_id == world.counselor
        )
    )
    # A full day and the morning half day of a class of 6 学时 a day.
    assert Decimal(days) == Decimal("1.5")
