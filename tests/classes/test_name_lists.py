"""Lists of names follow the reader's language: 甲、乙 in Chinese, "A, B" in English."""

import pytest

from lms.accounts.models import User
from lms.extensions import db
from tests.classes.helpers import make_class
from tests.factories import build_learning_world


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


@pytest.fixture
def two_trainers(world):
    training_class = make_class(world)
    training_class.trainers = [
        db.session.get(User, world.trainer),
        db.session.get(User, world.admin),
    ]
    db.session.commit()
    names = [trainer.full_name for trainer in training_class.trainers]
    return training_class.id, names


def test_class_trainers_in_english(two_trainers, login, english):
    class_id, names = two_trainers

    page = login("trainer").get(f"/classes/{class_id}").get_data(as_text=True)

    assert f"{names[0]}, {names[1]}" in page
    assert f"{names[0]}、{names[1]}" not in page


def test_class_trainers_in_chinese(two_trainers, login):
    class_id, names = two_trainers

    page = login("trainer").get(f"/classes/{class_id}").get_data(as_text=True)

    assert f"{names[0]}、{names[1]}" in page
