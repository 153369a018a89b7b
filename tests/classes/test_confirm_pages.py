"""Leaving a class, taking someone off a roster, deleting a session and cancelling a class ask first."""

import pytest
import sqlalchemy as sa

from courses import classes
from courses.class_models import (
    ClassMember,
    ClassSession,
    ClassStatus,
    EnrolmentMode,
    MemberStatus,
    TrainingClass,
)
from lms.extensions import db
from tests.classes.helpers import make_class, make_session, user
from tests.factories import build_learning_world


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def _member(class_id: int, user_id: int) -> ClassMember:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(ClassMember).filter_by(class_id=class_id, user_id=user_id)
    )


def test_class_page_links_to_leave_page(world, login, english):
    klass = make_class(world, mode=EnrolmentMode.SELF, capacity=1)
    classes.request_place(klass, user(world.counselor))
    db.session.commit()
    leave_url = f"/classes/{klass.id}/leave"

    page = login("counselor1").get(f"/classes/{klass.id}").get_data(as_text=True)

    assert f'action="{leave_url}"' not in page
    assert f'href="{leave_url}"' in page


def test_leave_page_warns_of_waiting_list(world, login, english):
    klass = make_class(world, mode=EnrolmentMode.SELF, capacity=1)
    classes.request_place(klass, user(world.counselor))
    db.session.commit()
    leave_url = f"/classes/{klass.id}/leave"

    response = login("counselor1").get(leave_url)

    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "you go to the end of the waiting list" in text
    assert f'action="{leave_url}"' in text
    assert _member(klass.id, world.counselor).status is MemberStatus.ENROLLED


def test_leave_page_names_waiting_place(world, login, english):
    klass = make_class(world, mode=EnrolmentMode.SELF, capacity=1)
    classes.request_place(klass, user(world.counselor))
    classes.request_place(klass, user(world.counselor2))
    db.session.commit()

    response = login("counselor2").get(f"/classes/{klass.id}/leave")

    assert "You give up place 1 on the waiting list." in response.get_data(as_text=True)
    assert _member(klass.id, world.counselor2).status is MemberStatus.WAITING


def test_leave_page_after_leaving_redirects(world, login, english):
    klass = make_class(world, mode=EnrolmentMode.SELF)
    classes.request_place(klass, user(world.counselor))
    db.session.commit()
    counselor = login("counselor1")
    counselor.post(f"/classes/{klass.id}/leave")

    response = counselor.get(f"/classes/{klass.id}/leave", follow_redirects=True)

    assert response.status_code == 200
    assert "You have already left this class." in response.get_data(as_text=True)


def test_roster_links_to_withdraw_page(world, login, english):
    klass = make_class(world, mode=EnrolmentMode.SELF, capacity=1)
    enrolled = classes.request_place(klass, user(world.counselor))
    waiting = classes.request_place(klass, user(world.counselor2))
    db.session.commit()
    base = f"/classes/{klass.id}/members"

    page = login("trainer").get(f"/classes/{klass.id}/roster").get_data(as_text=True)

    for url in (f"{base}/{enrolled.id}/withdraw", f"{base}/{waiting.id}/reject"):
        assert f'action="{url}"' not in page, url
        assert f'href="{url}"' in page, url


def test_withdraw_page_explains_then_posts(world, login, english):
    klass = make_class(world, mode=EnrolmentMode.SELF)
    member = classes.request_place(klass, user(world.counselor))
    db.session.commit()
    url = f"/classes/{klass.id}/members/{member.id}/withdraw"
    trainer = login("trainer")

    confirm = trainer.get(url)
    text = confirm.get_data(as_text=True)
    status_after_get = _member(klass.id, world.counselor).status
    trainer.post(url)

    assert confirm.status_code == 200
    assert "cannot join it again without a trainer" in text
    assert f'action="{url}"' in text
    assert status_after_get is MemberStatus.ENROLLED
    assert _member(klass.id, world.counselor).status is MemberStatus.WITHDRAWN


def test_reject_page_for_waiting_member(world, login, english):
    klass = make_class(world, mode=EnrolmentMode.SELF, capacity=1)
    classes.request_place(klass, user(world.counselor))
    waiting = classes.request_place(klass, user(world.counselor2))
    db.session.commit()

    response = login("trainer").get(
        f"/classes/{klass.id}/members/{waiting.id}/reject"
    )

    assert response.status_code == 200
    assert "loses their place on the waiting list" in response.get_data(as_text=True)
    assert _member(klass.id, world.counselor2).status is MemberStatus.WAITING


@pytest.mark.parametrize("action", ["approve", "reinstate", "unknown"])
def test_other_member_actions_have_no_page(world, login, action):
    klass = make_class(world, mode=EnrolmentMode.SELF)
    member = classes.request_place(klass, user(world.counselor))
    db.session.commit()

    response = login("trainer").get(
        f"/classes/{klass.id}/members/{member.id}/{action}"
    )

    assert response.status_code == 404


def test_withdraw_page_needs_a_class_trainer(world, login):
    klass = make_class(world, mode=EnrolmentMode.SELF)
    member = classes.request_place(klass, user(world.counselor))
    db.session.commit()
    url = f"/classes/{klass.id}/members/{member.id}/withdraw"

    assert login("hr").get(url).status_code == 403
    assert login("counselor2").get(url).status_code == 403
    assert login("hr_b").get(url).status_code == 404


def test_class_page_links_to_session_delete_page(world, login, english):
    klass = make_class(world)
    session = make_session(klass)
    db.session.commit()
    delete_url = f"/classes/{klass.id}/sessions/{session.id}/delete"

    page = login("trainer").get(f"/classes/{klass.id}").get_data(as_text=True)

    assert f'action="{delete_url}"' not in page
    assert f'href="{delete_url}"' in page


def test_session_delete_page_explains_then_posts(world, login, english):
    klass = make_class(world)
    session_id = make_session(klass).id
    db.session.commit()
    url = f"/classes/{klass.id}/sessions/{session_id}/delete"
    trainer = login("trainer")

    confirm = trainer.get(url)
    text = confirm.get_data(as_text=True)
    kept_after_get = db.session.get(ClassSession, session_id) is not None
    trainer.post(url)
    db.session.expire_all()

    assert confirm.status_code == 200
    assert "This cannot be undone." in text
    assert f'action="{url}"' in text
    assert kept_after_get
    assert db.session.get(ClassSession, session_id) is None


def test_status_post_does_not_cancel_class(world, login, english):
    klass = make_class(world)
    classes.add_member(klass, user(world.counselor), by=user(world.trainer))
    db.session.commit()

    response = login("trainer").post(f"/classes/{klass.id}/status", data={"status": "cancelled"})

    db.session.expire_all()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/classes/{klass.id}/cancel")
    assert db.session.get(TrainingClass, klass.id).status is ClassStatus.OPEN


def test_class_page_links_to_cancel_page(world, login, english):
    klass = make_class(world)
    db.session.commit()
    cancel_url = f"/classes/{klass.id}/cancel"

    page = login("trainer").get(f"/classes/{klass.id}").get_data(as_text=True)

    assert f'href="{cancel_url}"' in page
    assert 'name="status" value="cancelled"' not in page


def test_cancel_page_counts_people_notified(world, login, english):
    klass = make_class(world, capacity=1)
    classes.add_member(klass, user(world.counselor), by=user(world.trainer))
    classes.add_member(klass, user(world.counselor2), by=user(world.trainer))
    db.session.commit()
    cancel_url = f"/classes/{klass.id}/cancel"

    response = login("trainer").get(cancel_url)

    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This cannot be undone." in text
    assert "2 people with a place, a waiting place or a request are notified." in text
    assert f'action="{cancel_url}"' in text
    db.session.expire_all()
    assert db.session.get(TrainingClass, klass.id).status is ClassStatus.OPEN


def test_cancel_page_cancels_once(world, login, english):
    klass = make_class(world)
    db.session.commit()
    trainer = login("trainer")

    trainer.post(f"/classes/{klass.id}/cancel")
    again = trainer.post(f"/classes/{klass.id}/cancel")

    db.session.expire_all()
    assert db.session.get(TrainingClass, klass.id).status is ClassStatus.CANCELLED
    assert "This class is already cancelled." in again.get_data(as_text=True)


def test_cancel_page_in_chinese(world, login):
    klass = make_class(world)
    db.session.commit()

    text = login("trainer").get(f"/classes/{klass.id}/cancel").get_data(as_text=True)

    assert "取消培训班" in text
    assert "此操作无法撤销。" in text
    assert "不通知任何人。" in text


def test_cancel_page_refuses_learner(world, login):
    klass = make_class(world)
    db.session.commit()

    response = login("counselor1").post(f"/classes/{klass.id}/cancel")

    db.session.expire_all()
    assert response.status_code in (403, 404)
    assert db.session.get(TrainingClass, klass.id).status is ClassStatus.OPEN
