"""Changing what a class offers applies before people join and is rejected after."""

from datetime import date

import pytest

from courses import classes
from courses.class_models import ClassSession, SessionLength, TrainingClass
from lms.extensions import db
from tests.classes.helpers import make_class, user
from tests.factories import build_learning_world


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def _edit_data(world, klass, **overrides) -> dict:
    data = {
        "code": klass.code, "title": klass.title, "starts_on": "2026-09-01",
        "ends_on": klass.ends_on.isoformat(), "enrolment_mode": "assigned",
        "tier": "school", "kind": "demonstration", "trainer_ids": [str(world.trainer)],
    }
    data.update(overrides)
    return data


def _reloaded(class_id: int) -> TrainingClass:
    db.session.expire_all()
    return db.session.get(TrainingClass, class_id)


def test_offering_changes_without_members(world, login):
    klass = make_class(world, course_only=True)
    db.session.commit()

    response = login("trainer").post(
        f"/classes/{klass.id}/edit",
        data=_edit_data(world, klass, offering=f"c:{world.course1}"),
    )

    assert response.status_code == 302
    assert _reloaded(klass.id).course_id == world.course1


def test_offering_change_rejected_with_members(world, login, english):
    klass = make_class(world, course_only=True)
    classes.add_member(klass, user(world.counselor), by=user(world.trainer))
    db.session.commit()

    response = login("trainer").post(
        f"/classes/{klass.id}/edit",
        data=_edit_data(world, klass, offering=f"c:{world.course1}"),
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="offering-error"' in page
    assert "so what it offers cannot change" in page
    assert _reloaded(klass.id).course_id == world.course2


def test_offering_kept_with_members(world, login):
    klass = make_class(world, course_only=True)
    classes.add_member(klass, user(world.counselor), by=user(world.trainer))
    db.session.commit()
    trainer = login("trainer")

    same = trainer.post(
        f"/classes/{klass.id}/edit",
        data=_edit_data(world, klass, offering=f"c:{world.course2}", title="新标题"),
    )
    form = trainer.get(f"/classes/{klass.id}/edit").get_data(as_text=True)

    assert same.status_code == 302
    assert _reloaded(klass.id).title == "新标题"
    assert 'name="offering"' not in form


def test_offering_keeps_lesson_sessions(world, login, english):
    klass = make_class(world, course_only=True)
    db.session.add(ClassSession(
        class_id=klass.id, title="现场教学", held_on=date(2026, 9, 2),
        length=SessionLength.HALF_DAY, lesson_id=world.lessons2[0],
    ))
    db.session.commit()

    response = login("trainer").post(
        f"/classes/{klass.id}/edit",
        data=_edit_data(world, klass, offering=f"c:{world.course1}"),
    )

    assert response.status_code == 400
    assert "Change or delete that session first." in response.get_data(as_text=True)
    assert _reloaded(klass.id).course_id == world.course2
