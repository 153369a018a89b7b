"""Attendance is recorded only in open or closed classes, because it credits 学时."""

import pytest
import sqlalchemy as sa

from courses import classes
from courses.class_models import ClassStatus
from lms.extensions import db
from lms.records.models import HoursEntry
from tests.classes.helpers import make_class, make_session, user
from tests.factories import build_learning_world


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def _class_with_session(world, status):
    klass = make_class(world)
    classes.add_member(klass, user(world.counselor), by=user(world.trainer))
    session = make_session(klass)
    klass.status = status
    db.session.commit()
    return klass.id, session.id


def _hours_entries(user_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(HoursEntry).filter_by(user_id=user_id)
    )


@pytest.mark.parametrize(
    "status, message",
    [
        (ClassStatus.DRAFT, "The class is still a draft, and attendance credits hours at once."),
        (ClassStatus.CANCELLED, "The class is cancelled, so it takes no attendance."),
    ],
)
def test_marks_rejected_unless_running(world, login, english, status, message):
    class_id, session_id = _class_with_session(world, status)
    trainer = login("trainer")
    url = f"/classes/{class_id}/sessions/{session_id}/attendance"

    response = trainer.post(url, data={f"mark-{world.counselor}": "present"})
    page = trainer.get(url).get_data(as_text=True)

    assert response.status_code == 302
    assert _hours_entries(world.counselor) == 0
    assert page.count(message) == 2
    assert "Save attendance" not in page


@pytest.mark.parametrize("status", [ClassStatus.OPEN, ClassStatus.CLOSED])
def test_marks_credit_in_running_class(world, login, status):
    class_id, session_id = _class_with_session(world, status)

    response = login("trainer").post(
        f"/classes/{class_id}/sessions/{session_id}/attendance",
        data={f"mark-{world.counselor}": "present"},
    )

    assert response.status_code == 302
    assert _hours_entries(world.counselor) == 1
