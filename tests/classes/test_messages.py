"""Attendance and roster messages name what was saved, what was ignored and why."""

import pytest
import sqlalchemy as sa

from courses import classes
from courses.class_models import ClassMember, MemberStatus
from lms.extensions import db
from lms.records.models import HoursEntry
from tests.classes.helpers import make_class, make_session, user
from tests.factories import build_learning_world

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


@pytest.fixture
def klass(world):
    training_class = make_class(world)
    classes.add_member(training_class, user(world.counselor), by=user(world.trainer))
    db.session.commit()
    return training_class


def _sheet_url(klass, session) -> str:
    return f"/classes/{klass.id}/sessions/{session.id}/attendance"


def _hours(user_id: int) -> list:
    db.session.expire_all()
    return db.session.scalars(sa.select(HoursEntry.hours).filter_by(user_id=user_id)).all()


def test_marks_for_non_members_only(world, klass, login):
    session = make_session(klass)
    db.session.commit()

    response = login("trainer").post(
        _sheet_url(klass, session),
        data={f"mark-{world.counselor2}": "present", f"mark-{world.counselor_b}": "present"},
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert "Attendance saved" not in page
    assert "The marks for 李老师, unknown person (ID" in page
    assert "these people are not members of the class." in page
    assert _hours(world.counselor2) == []


def test_marks_for_member_and_non_member(world, klass, login):
    session = make_session(klass)
    db.session.commit()

    response = login("trainer").post(
        _sheet_url(klass, session),
        data={f"mark-{world.counselor}": "present", f"mark-{world.counselor2}": "present"},
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert "Attendance saved for 1 person." in page
    assert "The mark for 李老师 was ignored: this person is not a member" in page
    assert len(_hours(world.counselor)) == 1


def test_attendance_saved_plural(world, klass, login):
    classes.add_member(klass, user(world.counselor2), by=user(world.trainer))
    session = make_session(klass)
    db.session.commit()

    response = login("trainer").post(
        _sheet_url(klass, session),
        data={f"mark-{world.counselor}": "present", f"mark-{world.counselor2}": "absent"},
        follow_redirects=True,
    )

    assert "Attendance saved for 2 people." in response.get_data(as_text=True)


def test_empty_sheet_saves_nothing(world, klass, login):
    session = make_session(klass)
    db.session.commit()

    response = login("trainer").post(_sheet_url(klass, session), data={}, follow_redirects=True)

    page = response.get_data(as_text=True)
    assert "Attendance saved" not in page
    assert "Choose a mark for at least one person; nothing was saved." in page


def test_adding_person_of_other_institution(world, klass, login):
    response = login("trainer").post(
        f"/classes/{klass.id}/members",
        data={"user_ids": [str(world.counselor_b)]},
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert f"The person with the ID {world.counselor_b} belongs to another institution" in page
    assert "Choose at least one person to add." not in page
    assert db.session.scalar(
        sa.select(ClassMember).filter_by(class_id=klass.id, user_id=world.counselor_b)
    ) is None


def test_adding_unknown_person(world, klass, login):
    response = login("trainer").post(
        f"/classes/{klass.id}/members", data={"user_ids": ["999999"]}, follow_redirects=True
    )

    page = response.get_data(as_text=True)
    assert "No person has the ID 999999, so nobody was added for it." in page


def test_adding_mixed_people_adds_valid_ones(world, klass, login):
    response = login("trainer").post(
        f"/classes/{klass.id}/members",
        data={"user_ids": [str(world.counselor2), str(world.trainer)]},
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert "only counselors and party workers can join a class." in page
    assert "1 enrolled" in page
    db.session.expire_all()
    member = db.session.scalar(
        sa.select(ClassMember).filter_by(class_id=klass.id, user_id=world.counselor2)
    )
    assert member.status is MemberStatus.ENROLLED


def test_adding_nobody_asks_for_a_choice(world, klass, login):
    response = login("trainer").post(
        f"/classes/{klass.id}/members", data={}, follow_redirects=True
    )

    assert "Choose at least one person to add." in response.get_data(as_text=True)
