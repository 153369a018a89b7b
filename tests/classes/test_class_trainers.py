"""A trainer cannot save a class without themselves, and others learn who manages it."""

from html import unescape

import pytest
import sqlalchemy as sa

from courses.class_models import TrainingClass
from lms.accounts.models import Role
from lms.extensions import db
from lms.organisations.models import Institution
from tests.classes.helpers import make_class
from tests.factories import build_learning_world, make_user


@pytest.fixture
def world(app_ctx):
    world = build_learning_world()
    other = make_user(db.session.get(Institution, world.uni_a), "trainer2", Role.TRAINER)
    db.session.commit()
    world.trainer2 = other.id
    return world


def _new_class(world, trainer_ids) -> dict:
    return {
        "code": "2026-05", "title": "第5期", "offering": f"p:{world.programme}",
        "starts_on": "2026-09-01", "ends_on": "2026-09-20",
        "enrolment_mode": "assigned", "tier": "school", "kind": "",
        "trainer_ids": [str(each) for each in trainer_ids],
    }


def test_trainer_must_tick_themselves(world, login, english):
    response = login("trainer").post("/classes/new", data=_new_class(world, [world.trainer2]))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="trainer_ids-error"' in page
    assert "Tick yourself as well." in page
    assert db.session.scalar(sa.select(TrainingClass).filter_by(code="2026-05")) is None


def test_trainer_cannot_drop_themselves(world, login, english):
    klass = make_class(world)
    db.session.commit()
    data = _new_class(world, [world.trainer2]) | {"code": klass.code}

    response = login("trainer").post(f"/classes/{klass.id}/edit", data=data)

    assert response.status_code == 400
    assert "Tick yourself as well." in response.get_data(as_text=True)


def test_admin_hands_class_to_trainer(world, login):
    response = login("admin").post("/classes/new", data=_new_class(world, [world.trainer2]))

    assert response.status_code == 302
    created = db.session.scalar(sa.select(TrainingClass).filter_by(code="2026-05"))
    assert [trainer.id for trainer in created.trainers] == [world.trainer2]


def test_other_trainer_told_who_manages(world, login, english):
    klass = make_class(world)
    db.session.commit()
    trainer2 = login("trainer2")

    edit = trainer2.get(f"/classes/{klass.id}/edit")
    detail = trainer2.get(f"/classes/{klass.id}")

    message = "Only the class's trainers and administrators manage this class."
    assert edit.status_code == 403
    assert message in unescape(edit.get_data(as_text=True))
    assert "Your role does not allow this action." not in edit.get_data(as_text=True)
    assert message in unescape(detail.get_data(as_text=True))


def test_learner_gets_role_message(world, login, english):
    klass = make_class(world)
    db.session.commit()

    response = login("counselor1").get(f"/classes/{klass.id}/edit")

    assert response.status_code == 403
    assert "Your role does not allow this action." in response.get_data(as_text=True)
