"""Class membership: each enrolment mode, capacity, waiting list and rules."""

from datetime import date

import pytest
import sqlalchemy as sa

from courses import classes, services
from courses.class_models import ClassStatus, EnrolmentMode, MemberStatus
from courses.models import Course, Enrolment
from lms.accounts.models import Post, Role
from lms.competencies.models import Framework, FrameworkStatus, Level
from lms.compliance.models import PersonProfile
from lms.db import now_utc
from lms.extensions import db
from lms.records.models import HoursEntry
from tests.classes.helpers import make_class, user
from tests.factories import build_learning_world, make_user, finish_lesson


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def test_assigned_mode_rejects_self_request(world):
    training_class = make_class(world, mode=EnrolmentMode.ASSIGNED)

    with pytest.raises(classes.ClassError) as error:
        classes.request_place(training_class, user(world.counselor))

    assert error.value.code == "assigned_only"
    assert classes.find_member(training_class, user(world.counselor)) is None


def test_assigned_member_gets_programme_enrolment(world):
    training_class = make_class(world)
    trainer = user(world.trainer)

    member = classes.add_member(training_class, user(world.counselor), by=trainer)

    assert member.status is MemberStatus.ENROLLED
    assert member.enrolment is not None
    assert member.enrolment.programme_id == world.programme
    assert member.decided_by_id == trainer.id


def test_add_member_twice_keeps_one_row(world):
    training_class = make_class(world)
    trainer = user(world.trainer)

    first = classes.add_member(training_class, user(world.counselor), by=trainer)
    second = classes.add_member(training_class, user(world.counselor), by=trainer)

    assert first.id == second.id
    assert classes.enrolled_count(training_class) == 1


def test_staff_cannot_join(world):
    training_class = make_class(world)

    with pytest.raises(classes.ClassError) as error:
        classes.add_member(training_class, user(world.hr), by=user(world.trainer))

    assert error.value.code == "not_learner"


def test_other_institution_cannot_join(world):
    training_class = make_class(world)

    with pytest.raises(classes.ClassError) as error:
        classes.add_member(training_class, user(world.counselor_b), by=user(world.trainer))

    assert error.value.code == "other_institution"


def test_self_enrol_takes_seat(world):
    training_class = make_class(world, mode=EnrolmentMode.SELF, capacity=2)

    member = classes.request_place(training_class, user(world.counselor))

    assert member.status is MemberStatus.ENROLLED
    assert services.find_enrolment(user(world.counselor), training_class.programme)


def test_self_enrol_needs_open_class(world):
    training_class = make_class(world, mode=EnrolmentMode.SELF, status=ClassStatus.DRAFT)

    with pytest.raises(classes.ClassError) as error:
        classes.request_place(training_class, user(world.counselor))

    assert error.value.code == "not_open"


def test_full_class_queues_and_promotes_first_waiting(world):
    training_class = make_class(world, mode=EnrolmentMode.SELF, capacity=1)
    third = make_user(_uni(world), "counselor3")

    first = classes.request_place(training_class, user(world.counselor))
    second = classes.request_place(training_class, user(world.counselor2))
    last = classes.request_place(training_class, third)

    assert first.status is MemberStatus.ENROLLED
    assert second.status is MemberStatus.WAITING
    assert last.status is MemberStatus.WAITING
    assert classes.seats_left(training_class) == 0

    classes.withdraw(first, user(world.counselor))

    assert first.status is MemberStatus.WITHDRAWN
    assert second.status is MemberStatus.ENROLLED
    assert second.enrolment is not None
    assert last.status is MemberStatus.WAITING
    assert classes.enrolled_count(training_class) == 1


def _uni(world):
    from lms.organisations.models import Institution

    return db.session.get(Institution, world.uni_a)


def test_withdraw_keeps_programme_enrolment(world):
    training_class = make_class(world, mode=EnrolmentMode.SELF)
    member = classes.request_place(training_class, user(world.counselor))

    classes.withdraw(member, user(world.counselor))

    assert db.session.scalar(
        sa.select(Enrolment).filter_by(user_id=world.counselor, programme_id=world.programme)
    )


def test_rejoin_after_withdrawal_queues_at_end(world):
    training_class = make_class(world, mode=EnrolmentMode.SELF, capacity=1)
    first = classes.request_place(training_class, user(world.counselor))
    classes.withdraw(first, user(world.counselor))
    classes.request_place(training_class, user(world.counselor2))

    again = classes.request_place(training_class, user(world.counselor))

    assert again.id == first.id
    assert again.status is MemberStatus.WAITING


def test_raising_capacity_promotes_waiting(world):
    training_class = make_class(world, mode=EnrolmentMode.SELF, capacity=1)
    classes.request_place(training_class, user(world.counselor))
    waiting = classes.request_place(training_class, user(world.counselor2))

    training_class.capacity = 2
    classes.promote_waiting(training_class)

    assert waiting.status is MemberStatus.ENROLLED


def test_approval_mode_request_is_pending(world):
    training_class = make_class(world, mode=EnrolmentMode.APPROVAL, capacity=1)

    member = classes.request_place(training_class, user(world.counselor))

    assert member.status is MemberStatus.PENDING
    assert member.enrolment is None
    assert classes.enrolled_count(training_class) == 0


def test_approve_with_seat_enrols(world):
    training_class = make_class(world, mode=EnrolmentMode.APPROVAL, capacity=1)
    member = classes.request_place(training_class, user(world.counselor))

    classes.approve(member, user(world.trainer))

    assert member.status is MemberStatus.ENROLLED
    assert member.decided_by_id == world.trainer


def test_approve_when_full_waitlists(world):
    training_class = make_class(world, mode=EnrolmentMode.APPROVAL, capacity=1)
    first = classes.request_place(training_class, user(world.counselor))
    second = classes.request_place(training_class, user(world.counselor2))
    classes.approve(first, user(world.trainer))

    classes.approve(second, user(world.trainer))

    assert second.status is MemberStatus.WAITING


def test_reject_request(world):
    training_class = make_class(world, mode=EnrolmentMode.APPROVAL)
    member = classes.request_place(training_class, user(world.counselor))

    classes.reject(member, user(world.trainer))

    assert member.status is MemberStatus.REJECTED
    with pytest.raises(classes.ClassError):
        classes.approve(member, user(world.trainer))


def test_course_only_class_opens_course(world):
    training_class = make_class(world, course_only=True)
    course = db.session.get(Course, world.course2)
    assert not services.can_view_course(user(world.counselor), course)

    classes.add_member(training_class, user(world.counselor), by=user(world.trainer))

    assert services.can_view_course(user(world.counselor), course)
    assert not services.can_view_course(user(world.counselor2), course)


def test_class_member_completion_credits_hours(world):
    training_class = make_class(world)
    counselor = user(world.counselor)
    classes.add_member(training_class, counselor, by=user(world.trainer))
    course = db.session.get(Course, world.course2)

    for lesson in course.lessons:
        finish_lesson(counselor, lesson)

    entry = db.session.scalar(sa.select(HoursEntry).filter_by(user_id=counselor.id))
    assert entry is not None
    assert entry.hours == course.credit_hours


def test_rule_by_department(world):
    training_class = make_class(world)

    people = classes.people_matching(world.uni_a, department_id=world.physics)
    counts = classes.enrol_by_rule(training_class, people, user(world.trainer))

    assert [p.id for p in people] == [world.counselor2]
    assert counts == {"enrolled": 1, "waiting": 0, "already": 0}


def test_rule_by_role_and_post(world):
    by_role = classes.people_matching(world.uni_a, role=Role.PARTY_WORKER)
    by_post = classes.people_matching(world.uni_a, post=Post.FULL_TIME_COUNSELOR)

    assert [p.id for p in by_role] == [world.organiser]
    assert {p.id for p in by_post} == {world.counselor, world.counselor2}


def test_rule_by_level_uses_years_of_service(world):
    framework = Framework(
        code="fw-levels",
        title="辅导员职业能力标准",
        status=FrameworkStatus.PUBLISHED,
        published_at=now_utc(),
    )
    db.session.add(framework)
    db.session.flush()
    db.session.add_all([
        Level(framework_id=framework.id, code="junior", name="初级", position=1, min_years=1, max_years=3),
        Level(framework_id=framework.id, code="intermediate", name="中级", position=2, min_years=4, max_years=8),
    ])
    db.session.add_all([
        PersonProfile(user_id=world.counselor, post_started_on=date(2020, 1, 1)),
        PersonProfile(user_id=world.counselor2, post_started_on=date.today().replace(year=date.today().year - 1)),
    ])
    db.session.flush()
    from courses.models import TargetLevel

    intermediate = classes.people_matching(world.uni_a, level=TargetLevel.INTERMEDIATE)
    junior = classes.people_matching(world.uni_a, level=TargetLevel.JUNIOR)

    assert [p.id for p in intermediate] == [world.counselor]
    assert [p.id for p in junior] == [world.counselor2]


def test_rule_enrolment_respects_capacity(world):
    training_class = make_class(world, capacity=1)
    people = classes.people_matching(world.uni_a, post=Post.FULL_TIME_COUNSELOR)

    counts = classes.enrol_by_rule(training_class, people, user(world.trainer))
    again = classes.enrol_by_rule(training_class, people, user(world.trainer))

    assert counts == {"enrolled": 1, "waiting": 1, "already": 0}
    assert again == {"enrolled": 0, "waiting": 0, "already": 2}


def test_ended_class_rejects_self_enrolment(world):
    training_class = make_class(world, mode=EnrolmentMode.SELF)
    training_class.ends_on = date(2026, 9, 30)
    training_class.starts_on = date(2026, 9, 1)

    with pytest.raises(classes.ClassError) as error:
        classes.request_place(training_class, user(world.counselor))

    assert error.value.code == "ended"


def test_promotion_notifies_learner(world):
    from lms.notifications.models import Notification

    training_class = make_class(world, mode=EnrolmentMode.SELF, capacity=1)
    first = classes.request_place(training_class, user(world.counselor))
    classes.request_place(training_class, user(world.counselor2))

    classes.withdraw(first, user(world.counselor))

    kinds = db.session.scalars(
        sa.select(Notification.kind)
        .where(Notification.recipient_id == world.counselor2)
        .order_by(Notification.id)
    ).all()
    assert kinds == ["class_waiting", "class_enrolled"]


def test_rejection_notifies_learner(world):
    from lms.notifications.models import Notification

    training_class = make_class(world, mode=EnrolmentMode.APPROVAL)
    member = classes.request_place(training_class, user(world.counselor))

    classes.reject(member, user(world.trainer))

    notice = db.session.scalar(
        sa.select(Notification).where(Notification.recipient_id == world.counselor)
    )
    assert notice.kind == "class_rejected"
    assert training_class.title in notice.title
    assert notice.link == f"/classes/{training_class.id}"


def test_waiting_position_counts_from_one(world):
    training_class = make_class(world, mode=EnrolmentMode.SELF, capacity=1)
    third = make_user(_uni(world), "counselor3")
    enrolled = classes.request_place(training_class, user(world.counselor))
    second = classes.request_place(training_class, user(world.counselor2))
    last = classes.request_place(training_class, third)

    assert classes.waiting_position(enrolled) is None
    assert classes.waiting_position(second) == 1
    assert classes.waiting_position(last) == 2
