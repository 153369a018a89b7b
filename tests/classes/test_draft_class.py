"""People added to a draft class hold places; enrolment and notices wait for it to open."""

import io
import re

import pytest
import sqlalchemy as sa

from courses import class_authoring, classes
from courses.class_models import ClassStatus, MemberStatus, TrainingClass
from courses.models import Enrolment
from lms.accounts.models import User
from lms.extensions import db
from lms.notifications.models import Notification
from tests.classes.helpers import make_class, user
from tests.conftest import count
from tests.factories import build_learning_world

DRAFT_NOTICE = "This class is a draft. People added to it hold their places without being notified"


@pytest.fixture
def world(app_ctx):
    world = build_learning_world()
    db.session.get(User, world.counselor).employee_no = "E1001"
    world.klass = make_class(world, status=ClassStatus.DRAFT).id
    db.session.commit()
    return world


def _draft(world) -> TrainingClass:
    return db.session.get(TrainingClass, world.klass)


def _notices(user_id: int) -> list[str]:
    return list(
        db.session.scalars(sa.select(Notification.kind).filter_by(recipient_id=user_id))
    )


def test_single_add_holds_place_silently(world, login, english):
    trainer = login("trainer")

    trainer.post(f"/classes/{world.klass}/members", data={"user_ids": [str(world.counselor)]})
    roster = trainer.get(f"/classes/{world.klass}/roster").get_data(as_text=True)

    member = classes.find_member(_draft(world), user(world.counselor))
    assert member.status is MemberStatus.ENROLLED
    assert member.enrolment is None
    assert count(Enrolment) == 0
    assert _notices(world.counselor) == []
    assert DRAFT_NOTICE in roster


def test_roster_upload_holds_places_silently(world, login, english):
    trainer = login("trainer")
    roster = "工号,姓名,院系\r\nE1001,张老师,教育学院\r\n".encode("utf-8")
    response = trainer.post(
        f"/classes/{world.klass}/import",
        data={"file": (io.BytesIO(roster), "r.csv")},
        content_type="multipart/form-data",
    )
    preview = trainer.get(response.headers["Location"]).get_data(as_text=True)

    done = trainer.post(f"{response.headers['Location']}/confirm").get_data(as_text=True)

    assert DRAFT_NOTICE in preview
    assert DRAFT_NOTICE in done
    assert classes.find_member(_draft(world), user(world.counselor)).status is MemberStatus.ENROLLED
    assert count(Enrolment) == 0
    assert _notices(world.counselor) == []


def test_learner_does_not_see_draft_class(world, login):
    classes.add_member(_draft(world), user(world.counselor), by=user(world.trainer))
    db.session.commit()
    counselor = login("counselor1")

    learning = counselor.get("/learning").get_data(as_text=True)
    listing = counselor.get("/classes").get_data(as_text=True)

    assert f"/classes/{world.klass}\"" not in learning
    assert f"/classes/{world.klass}\"" not in listing
    assert counselor.get(f"/classes/{world.klass}").status_code == 404
    assert count(Enrolment) == 0


def test_opening_enrols_and_notifies_once(world, login):
    training_class = _draft(world)
    classes.add_member(training_class, user(world.counselor), by=user(world.trainer))
    db.session.commit()
    trainer = login("trainer")

    trainer.post(f"/classes/{world.klass}/status", data={"status": "open"})
    trainer.post(f"/classes/{world.klass}/status", data={"status": "draft"})
    trainer.post(f"/classes/{world.klass}/status", data={"status": "open"})

    member = classes.find_member(_draft(world), user(world.counselor))
    assert member.enrolment is not None
    assert member.enrolment.programme_id == world.programme
    assert _notices(world.counselor) == ["class_enrolled"]
    assert login("counselor1").get(f"/classes/{world.klass}").status_code == 200


def test_waiting_place_is_announced_on_opening(world):
    training_class = _draft(world)
    training_class.capacity = 1
    trainer = user(world.trainer)
    classes.add_member(training_class, user(world.counselor), by=trainer)
    waiting = classes.add_member(training_class, user(world.counselor2), by=trainer)
    assert waiting.status is MemberStatus.WAITING
    assert _notices(world.counselor2) == []

    class_authoring.set_status(training_class, ClassStatus.OPEN, trainer)

    assert _notices(world.counselor) == ["class_enrolled"]
    assert _notices(world.counselor2) == ["class_waiting"]


def test_open_class_still_notifies_at_once(world):
    training_class = _draft(world)
    training_class.status = ClassStatus.OPEN

    member = classes.add_member(training_class, user(world.counselor), by=user(world.trainer))

    assert member.enrolment is not None
    assert _notices(world.counselor) == ["class_enrolled"]


def _status_buttons(page: str) -> list[str]:
    """Return the statuses the page offers, the cancel link to its confirmation included."""
    buttons = set(re.findall(r'name="status" value="(\w+)"', page))
    if re.search(r'href="/classes/\d+/cancel"', page):
        buttons.add("cancelled")
    return sorted(buttons)


def test_class_with_members_stays_open(world, login, english):
    classes.add_member(_draft(world), user(world.counselor), by=user(world.trainer))
    db.session.commit()
    trainer = login("trainer")
    trainer.post(f"/classes/{world.klass}/status", data={"status": "open"})

    response = trainer.post(
        f"/classes/{world.klass}/status", data={"status": "draft"}, follow_redirects=True
    )

    page = response.get_data(as_text=True)
    db.session.expire_all()
    assert _draft(world).status is ClassStatus.OPEN
    assert "cannot become a draft again" in page
    assert _status_buttons(page) == ["cancelled", "closed"]
    assert login("counselor1").get(f"/classes/{world.klass}").status_code == 200


def test_empty_opened_class_returns_to_draft(world, login):
    trainer = login("trainer")
    trainer.post(f"/classes/{world.klass}/status", data={"status": "open"})

    page = trainer.get(f"/classes/{world.klass}").get_data(as_text=True)
    trainer.post(f"/classes/{world.klass}/status", data={"status": "draft"})

    db.session.expire_all()
    assert "draft" in _status_buttons(page)
    assert _draft(world).status is ClassStatus.DRAFT


def test_cancelled_class_offers_no_status_change(world, login):
    trainer = login("trainer")
    trainer.post(f"/classes/{world.klass}/cancel")

    page = trainer.get(f"/classes/{world.klass}").get_data(as_text=True)

    assert _status_buttons(page) == []


def test_cancelling_open_class_notifies_members(world, login):
    training_class = _draft(world)
    training_class.capacity = 1
    classes.add_member(training_class, user(world.counselor), by=user(world.trainer))
    classes.add_member(training_class, user(world.counselor2), by=user(world.trainer))
    db.session.commit()
    trainer = login("trainer")
    trainer.post(f"/classes/{world.klass}/status", data={"status": "open"})

    trainer.post(f"/classes/{world.klass}/cancel")

    db.session.expire_all()
    assert _notices(world.counselor) == ["class_enrolled", "class_cancelled"]
    assert _notices(world.counselor2) == ["class_waiting", "class_cancelled"]


def test_cancelling_draft_notifies_nobody(world, login):
    classes.add_member(_draft(world), user(world.counselor), by=user(world.trainer))
    db.session.commit()

    login("trainer").post(f"/classes/{world.klass}/cancel")

    db.session.expire_all()
    assert _notices(world.counselor) == []


def test_cancellation_notice_in_chinese(world, login):
    classes.add_member(_draft(world), user(world.counselor), by=user(world.trainer))
    db.session.commit()
    trainer = login("trainer")
    trainer.post(f"/classes/{world.klass}/status", data={"status": "open"})
    trainer.post(f"/classes/{world.klass}/cancel")

    page = login("counselor1").get("/notifications").get_data(as_text=True)

    assert "“2026年第3期 组织员示范培训班”已取消" in page
    assert "不再举行，各场次随之取消。" in page
    training_class = _draft(world)
    start = f"{training_class.starts_on.year}年{training_class.starts_on.month}月"
    assert start in page
    assert training_class.starts_on.isoformat() not in page
