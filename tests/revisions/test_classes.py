"""Lost-update protection of the training class editor."""

import sqlalchemy as sa

from courses.class_models import TrainingClass
from lms.extensions import db
from tests.revisions.forms import text_of


def test_stale_class_save_rejected(app, race):
    with app.app_context():
        training_class = db.session.scalar(
            sa.select(TrainingClass).order_by(TrainingClass.id)
        )
        class_id = training_class.id
        summary = training_class.summary
        capacity = (training_class.capacity or 30) + 5

    edit = race(f"/classes/{class_id}/edit", "admin", "trainer")
    edit.first_saves(capacity=str(capacity))
    html = edit.second_saves(summary="新的班级简介")

    assert "Capacity" in text_of(html)
    with app.app_context():
        training_class = db.session.get(TrainingClass, class_id)
        assert training_class.capacity == capacity
        assert training_class.summary == summary

    edit.second_saves_again()
    with app.app_context():
        assert db.session.get(TrainingClass, class_id).summary == "新的班级简介"
