"""Adding people to a class warns about those whose level differs from its programme's."""

import sqlalchemy as sa

from courses.class_models import TrainingClass
from lms.accounts.models import User
from lms.extensions import db


def _add(login, username: str):
    klass = db.session.scalar(
        sa.select(TrainingClass).filter_by(code="demo-intermediate-class")
    )
    person = db.session.scalar(sa.select(User).filter_by(username=username))
    trainer = login("admin")
    trainer.post(f"/classes/{klass.id}/members", data={"user_ids": [str(person.id)]})
    return trainer.get(f"/classes/{klass.id}/roster").get_data(as_text=True)


def test_junior_in_intermediate_class_warned(app_ctx, seeded, login, english):
    page = _add(login, "counselor1")

    assert "By years in post, " in page
    assert "(Junior) is not at the level of the programme" in page
    assert "(Intermediate)" in page


def test_matching_level_not_warned(app_ctx, seeded, login, english):
    page = _add(login, "counselor2")

    assert " already in the class." in page
    assert "By years in post" not in page


def test_unknown_level_not_warned(app_ctx, seeded, login, english):
    page = _add(login, "organiser")

    assert "1 enrolled" in page
    assert "By years in post" not in page
