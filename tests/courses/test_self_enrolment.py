"""Who may enrol themselves in a programme: audience, level, tier and classes."""

import pytest
import sqlalchemy as sa

from courses import classes, eligibility
from courses.class_models import ClassMember, EnrolmentMode, MemberStatus, TrainingClass
from courses.eligibility import Refusal
from courses.models import Enrolment, Programme
from lms.accounts.models import User
from lms.compliance.windows import local_today
from lms.extensions import db
from lms.records.models import TrainingTier
from tests.classes.helpers import make_class
from tests.conftest import demo_row
from tests.factories import build_learning_world

INTERMEDIATE = "intermediate-upgrade-2026"
PRE_JOB = "junior-prejob-2026"


def _user(username: str) -> User:
    return db.session.scalar(sa.select(User).filter_by(username=username))


def _enrolled(username: str, programme_id: int) -> bool:
    user = _user(username)
    return (
        db.session.scalar(
            sa.select(Enrolment.id).filter_by(user_id=user.id, programme_id=programme_id)
        )
        is not None
    )


def _offer(username: str, programme_id: int) -> eligibility.SelfEnrolment:
    user = _user(username)
    programme = db.session.get(Programme, programme_id)
    return eligibility.self_enrolment(user, programme, local_today(user.institution))


# The demo: levels by years of service, a provincial programme, a party worker


def test_junior_cannot_enrol_in_intermediate(app_ctx, seeded, login, english):
    programme = demo_row(Programme, code=INTERMEDIATE)
    counselor = login("counselor1")

    response = counselor.post(f"/programmes/{programme.id}/enrol", follow_redirects=True)
    page = response.get_data(as_text=True)

    assert not _enrolled("counselor1", programme.id)
    assert "is for counselors at Intermediate level" in page
    assert "put you at Junior level" in page


def test_programme_page_says_why_no_button(app_ctx, seeded, login, english):
    programme = demo_row(Programme, code=INTERMEDIATE)

    page = login("counselor1").get(f"/programmes/{programme.id}").get_data(as_text=True)

    assert f"/programmes/{programme.id}/enrol" not in page
    assert "so you cannot enrol yourself" in page


@pytest.mark.parametrize("code", [PRE_JOB, INTERMEDIATE])
def test_party_worker_cannot_enrol_in_counselor_programme(
    app_ctx, seeded, login, english, code
):
    programme = demo_row(Programme, code=code)

    response = login("organiser").post(
        f"/programmes/{programme.id}/enrol", follow_redirects=True
    )
    page = response.get_data(as_text=True)

    assert not _enrolled("organiser", programme.id)
    assert "and your post is Party organiser" in page


def test_pre_job_enrolment_goes_through_its_class(app_ctx, seeded, login, english):
    programme = demo_row(Programme, code=PRE_JOB)
    training_class = demo_row(TrainingClass, code="demo-prejob-class")

    response = login("counselor1").post(
        f"/programmes/{programme.id}/enrol", follow_redirects=True
    )

    member = classes.find_member(training_class, _user("counselor1"))
    assert member.status is MemberStatus.ENROLLED
    assert member.enrolment.programme_id == programme.id
    assert training_class.title in response.get_data(as_text=True)


def test_demo_counselor2_keeps_class_enrolment(app_ctx, seeded):
    programme = demo_row(Programme, code=INTERMEDIATE)

    assert _enrolled("counselor2", programme.id)


# Tier and classes, on a small world


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def _set_tier(world, tier: TrainingTier) -> None:
    db.session.get(Programme, world.programme).tier = tier
    db.session.commit()


def test_school_programme_without_class_is_open(world, login):
    assert _offer("counselor1", world.programme).allowed

    assert login("counselor1").post(f"/programmes/{world.programme}/enrol").status_code == 302
    assert _enrolled("counselor1", world.programme)


@pytest.mark.parametrize("tier", [TrainingTier.PROVINCIAL, TrainingTier.NATIONAL])
def test_provincial_programme_is_by_nomination(world, login, english, tier):
    _set_tier(world, tier)

    response = login("counselor1").post(
        f"/programmes/{world.programme}/enrol", follow_redirects=True
    )

    assert not _enrolled("counselor1", world.programme)
    assert "given by nomination" in response.get_data(as_text=True)


def test_trainer_still_assigns_provincial_programme(world):
    _set_tier(world, TrainingTier.PROVINCIAL)
    training_class = make_class(world, mode=EnrolmentMode.ASSIGNED)

    member = classes.add_member(
        training_class, _user("counselor1"), by=_user("trainer")
    )

    assert member.status is MemberStatus.ENROLLED
    assert _enrolled("counselor1", world.programme)


def test_trainer_assigns_outside_audience(world):
    training_class = make_class(world, mode=EnrolmentMode.ASSIGNED)

    member = classes.add_member(training_class, _user("organiser"), by=_user("trainer"))

    assert member.status is MemberStatus.ENROLLED


def test_approval_class_takes_a_request(world, login):
    make_class(world, mode=EnrolmentMode.APPROVAL)
    db.session.commit()

    login("counselor1").post(f"/programmes/{world.programme}/enrol")

    member = db.session.scalar(sa.select(ClassMember))
    assert member.status is MemberStatus.PENDING
    assert not _enrolled("counselor1", world.programme)


def test_full_class_puts_learner_on_waiting_list(world, login):
    training_class = make_class(world, mode=EnrolmentMode.SELF, capacity=1)
    classes.add_member(training_class, _user("counselor2"), by=_user("trainer"))
    db.session.commit()

    login("counselor1").post(f"/programmes/{world.programme}/enrol")

    member = classes.find_member(training_class, _user("counselor1"))
    assert member.status is MemberStatus.WAITING
    assert not _enrolled("counselor1", world.programme)


def test_assigned_class_closes_self_enrolment(world, login, english):
    make_class(world, mode=EnrolmentMode.ASSIGNED)
    db.session.commit()

    response = login("counselor1").post(
        f"/programmes/{world.programme}/enrol", follow_redirects=True
    )

    assert _offer("counselor1", world.programme).refusal is Refusal.NO_OPEN_CLASS
    assert not _enrolled("counselor1", world.programme)
    assert "none of them takes enrolment requests now" in response.get_data(as_text=True)


def test_two_open_classes_are_listed(world, login):
    first = make_class(world, code="a", mode=EnrolmentMode.SELF)
    second = make_class(world, code="b", mode=EnrolmentMode.APPROVAL)
    db.session.commit()

    counselor = login("counselor1")
    page = counselor.get(f"/programmes/{world.programme}").get_data(as_text=True)
    counselor.post(f"/programmes/{world.programme}/enrol")

    assert _offer("counselor1", world.programme).refusal is Refusal.CHOOSE_CLASS
    assert f"/classes/{first.id}/join" in page
    assert f"/classes/{second.id}/join" in page
    assert f"/programmes/{world.programme}/enrol" not in page
    assert not _enrolled("counselor1", world.programme)


def test_class_join_rejects_outside_audience(world, login, english):
    training_class = make_class(world, mode=EnrolmentMode.SELF)
    db.session.commit()

    with pytest.raises(classes.ClassError) as error:
        classes.request_place(training_class, _user("organiser"))
    db.session.rollback()
    response = login("organiser").post(
        f"/classes/{training_class.id}/join", follow_redirects=True
    )

    assert error.value.code == "outside_audience"
    assert "meant for other posts than yours" in response.get_data(as_text=True)
    assert classes.find_member(training_class, _user("organiser")) is None


def test_learner_without_post_rejected(world, login, english):
    _user("counselor1").post = None
    db.session.commit()

    response = login("counselor1").post(
        f"/programmes/{world.programme}/enrol", follow_redirects=True
    )

    assert not _enrolled("counselor1", world.programme)
    assert "your post is not recorded" in response.get_data(as_text=True)


def test_my_learning_hides_button_of_nominated_programme(world, login):
    _set_tier(world, TrainingTier.PROVINCIAL)

    page = login("counselor1").get("/learning").get_data(as_text=True)

    assert f"/programmes/{world.programme}\"" in page
    assert f"/programmes/{world.programme}/enrol" not in page
