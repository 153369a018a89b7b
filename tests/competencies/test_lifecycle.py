"""Versioning, publishing and retiring rules, and what they mean for courses."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from courses import authoring
from courses.models import Course
from lms.competencies import services
from lms.competencies.models import AreaMapping, FrameworkStatus
from lms.extensions import db
from tests.competencies.helpers import framework, make_draft, snapshot, user
from tests.conftest import demo_row

# These tests compare message text, which is written in English.
pytestmark = pytest.mark.usefixtures("english")


def _course_data(code: str, item_ids: list[int]) -> dict:
    return {
        "code": code,
        "title": f"课程{code}",
        "summary": "",
        "credit_hours": "2",
        "competency_ids": [str(each) for each in item_ids],
    }


def test_new_version_copies_content(app_ctx, seeded):
    original = framework("counselor-2014")

    copy = services.new_version(original, user("trainer"), "2")

    assert copy.version_number == 2
    assert copy.code == original.code
    assert copy.predecessor is original
    assert copy.status is FrameworkStatus.DRAFT
    assert snapshot(copy) == snapshot(original)


def test_new_version_gets_new_identifiers(app_ctx, seeded):
    original = framework("counselor-2014")

    copy = services.new_version(original, user("trainer"), "2")

    old = {item.code: item for item in original.items}
    assert copy.identifier != original.identifier
    for item in copy.items:
        assert item.identifier != old[item.code].identifier
        assert item.predecessor_id == old[item.code].id
    assert {a.identifier for a in copy.areas}.isdisjoint({a.identifier for a in original.areas})


def test_new_version_copies_mappings(app_ctx, seeded):
    original = framework("counselor-2014")

    copy = services.new_version(original, user("trainer"), "2")

    copied = services.mappings_of(copy)
    assert len(copied) == 9
    assert {m.source.framework_id for m in copied} == {copy.id}
    assert {m.target.framework.code for m in copied} == {"counselor-duties-2017"}
    assert len(services.mappings_of(original)) == 9


def test_only_latest_version_branches(app_ctx, seeded):
    original = framework("counselor-2014")
    services.new_version(original, user("trainer"), "2")

    with pytest.raises(services.FrameworkError):
        services.new_version(original, user("trainer"), "2b")


def test_draft_cannot_be_versioned(app_ctx, seeded):
    draft = make_draft(user("trainer"))

    with pytest.raises(services.FrameworkError):
        services.new_version(draft, user("trainer"), "2")


def test_publishing_version_retires_predecessor(app_ctx, seeded):
    original = framework("counselor-2014")
    copy = services.new_version(original, user("trainer"), "2")

    services.publish(copy, user("trainer"))

    assert copy.status is FrameworkStatus.PUBLISHED
    assert original.status is FrameworkStatus.RETIRED
    assert original.retired_at is not None


def test_retire_requires_published(app_ctx, seeded):
    draft = make_draft(user("trainer"))

    with pytest.raises(services.FrameworkError):
        services.retire(draft, user("trainer"))


def test_retired_framework_cannot_be_edited(app_ctx, seeded):
    original = framework("counselor-2014")
    services.retire(original, user("trainer"))

    with pytest.raises(services.FrameworkError):
        services.save_area(original, {"code": "new", "name": "新增", "position": 10})
    with pytest.raises(services.FrameworkError):
        services.delete_item(original.items[0])


def test_retired_framework_takes_no_new_mapping(app_ctx, seeded):
    original = framework("counselor-2014")
    draft = make_draft(user("trainer"))
    services.retire(original, user("trainer"))

    with pytest.raises(services.FrameworkError):
        services.add_mapping(draft.areas[0], original.areas[0], services.MappingRelation.RELATED, None, user("trainer"))


def test_retired_items_not_offered_to_new_course(app_ctx, seeded):
    original = framework("counselor-2014")
    services.retire(original, user("trainer"))

    institution_id = user("trainer").institution_id
    offered = {item.id for _level, items in authoring.competency_choices(institution_id) for item in items}

    assert offered.isdisjoint({item.id for item in original.items})
    assert {item.framework.code for _l, items in authoring.competency_choices(institution_id) for item in items} == {"counselor-duties-2017"}


def test_retired_item_rejected_for_new_course(app_ctx, seeded):
    trainer = user("trainer")
    original = framework("counselor-2014")
    item_id = original.items[0].id
    services.retire(original, trainer)

    with pytest.raises(authoring.AuthoringError) as caught:
        authoring.save_course(trainer.institution_id, _course_data("new-c", [item_id]), trainer)

    assert "competency_ids" in caught.value.errors


def test_draft_item_rejected_for_new_course(app_ctx, seeded):
    trainer = user("trainer")
    draft = make_draft(trainer)

    with pytest.raises(authoring.AuthoringError):
        authoring.save_course(trainer.institution_id, _course_data("new-c", [draft.items[0].id]), trainer)


def test_existing_course_keeps_retired_items(app_ctx, seeded):
    trainer = user("trainer")
    course = demo_row(Course, code="mental-health-practice")
    kept = [item.id for item in course.competencies]
    services.retire(framework("counselor-2014"), trainer)
    db.session.flush()

    # A published course changes through a new draft version, which keeps
    # the retired framework's items it already had.
    from courses.versions import new_version

    course = new_version(course, trainer)
    data = _course_data(course.code, kept)
    data["title"] = "改名后的课程"
    authoring.save_course(course.institution_id, data, trainer, course)
    offered = {
        item.id for _l, items in authoring.competency_choices(trainer.institution_id, kept) for item in items
    }

    assert sorted(item.id for item in course.competencies) == sorted(kept)
    assert set(kept) <= offered
    assert course.credit_hours == Decimal(2)


def test_existing_course_page_works_after_retire(app, seeded, login):
    with app.app_context():
        services.retire(framework("counselor-2014"), user("trainer"))
        db.session.commit()
        course = demo_row(Course, code="mental-health-practice")
        course_id = course.id

    assert login("trainer").get(f"/manage/courses/{course_id}").status_code == 200
    assert login("hr").get(f"/courses/{course_id}").status_code == 200


def test_delete_area_removes_items_and_mappings(app_ctx, seeded):
    trainer = user("trainer")
    draft = make_draft(trainer)
    target = framework("counselor-duties-2017").areas[0]
    mapping = services.add_mapping(draft.areas[0], target, services.MappingRelation.RELATED, None, trainer)
    mapping_id = mapping.id

    services.delete_area(draft.areas[0])

    assert [item.code for item in draft.items] == ["1.2"]
    assert db.session.get(AreaMapping, mapping_id) is None


def test_publish_audited(app_ctx, seeded):
    from lms.audit import AuditEntry

    draft = make_draft(user("trainer"))
    services.publish(draft, user("trainer"))

    entry = db.session.scalar(sa.select(AuditEntry).filter_by(action="framework.published"))
    assert entry.subject_id == draft.id
    assert entry.actor_id == user("trainer").id
