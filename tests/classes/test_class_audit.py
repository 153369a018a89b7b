"""Creating a class and changing its status are in the audit log."""

import pytest
import sqlalchemy as sa

from courses.class_models import ClassStatus, TrainingClass
from lms.audit import AuditEntry
from lms.extensions import db
from tests.classes.helpers import make_class
from tests.factories import build_learning_world


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def _entries(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(sa.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id))
    )


def test_class_creation_is_audited(world, login):
    login("trainer").post("/classes/new", data={
        "code": "2026-05",
        "title": "2026年第5期 辅导员专题培训班",
        "offering": f"p:{world.programme}",
        "starts_on": "2026-09-01",
        "ends_on": "2026-09-20",
        "enrolment_mode": "self",
        "tier": "school",
        "trainer_ids": [str(world.trainer)],
    })

    created = db.session.scalar(sa.select(TrainingClass).filter_by(code="2026-05"))
    entries = _entries("class.created")
    assert len(entries) == 1
    assert entries[0].subject_id == created.id
    assert entries[0].actor_id == world.trainer
    assert entries[0].institution_id == world.uni_a
    assert entries[0].summary == "2026-05 2026年第5期 辅导员专题培训班"


def test_status_change_is_audited(world, login):
    klass = make_class(world, status=ClassStatus.DRAFT)
    db.session.commit()
    trainer = login("trainer")

    trainer.post(f"/classes/{klass.id}/status", data={"status": "open"})
    trainer.post(f"/classes/{klass.id}/cancel")

    entries = _entries("class.status_changed")
    assert [entry.data for entry in entries] == [
        {"from": "draft", "to": "open"},
        {"from": "open", "to": "cancelled"},
    ]
    assert {entry.actor_id for entry in entries} == {world.trainer}
    assert {entry.subject_id for entry in entries} == {klass.id}


def test_rejected_status_change_is_not_audited(world, login):
    klass = make_class(world, status=ClassStatus.CANCELLED)
    db.session.commit()

    login("trainer").post(f"/classes/{klass.id}/status", data={"status": "open"})

    assert _entries("class.status_changed") == []


def test_audit_page_shows_status_labels(world, login):
    klass = make_class(world, status=ClassStatus.DRAFT)
    db.session.commit()
    login("trainer").post(f"/classes/{klass.id}/status", data={"status": "open"})

    page = login("admin").get("/admin/audit").get_data(as_text=True)

    assert "变更培训班状态" in page
    assert "2026-03 2026年第3期 组织员示范培训班：状态 草稿 → 开放报名" in page
