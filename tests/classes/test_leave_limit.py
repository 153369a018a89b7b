"""Leave limit of a class: missed time per member, withdrawal, reinstatement, completion."""

import re
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
import sqlalchemy as sa

from assessments.models import Quiz
from certificates.models import Certificate
from courses import class_attendance, class_leave, classes, services
from courses.class_models import (
    AttendanceStatus,
    ClassMember,
    ClassStatus,
    MemberStatus,
    SessionLength,
    WithdrawalReason,
)
from courses.models import Enrolment, Lesson
from lms.audit import AuditEntry
from lms.extensions import db
from lms.notifications.models import Notification
from tests.classes.helpers import make_class, make_session, user
from tests.factories import build_learning_world, correct_answers, finish_lesson

FULL, HALF = SessionLength.FULL_DAY, SessionLength.HALF_DAY
PRESENT, LATE = AttendanceStatus.PRESENT, AttendanceStatus.LATE
EXCUSED, ABSENT = AttendanceStatus.EXCUSED, AttendanceStatus.ABSENT
FIRST_DAY = date(2026, 9, 1)


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


@pytest.fixture
def klass(world):
    """An off-the-job class of the programme with the default limit of 1/7 and one member."""
    training_class = make_class(world)
    training_class.off_the_job = True
    training_class.leave_limit_num, training_class.leave_limit_den = 1, 7
    classes.add_member(training_class, user(world.counselor), by=user(world.trainer))
    db.session.flush()
    return training_class


def _sessions(training_class, *lengths):
    """Add one session per length on consecutive days from the class's first day."""
    return [
        make_session(training_class, held_on=FIRST_DAY + timedelta(days=i), length=length)
        for i, length in enumerate(lengths)
    ]


def _mark(world, sessions, *statuses):
    """Record one mark per session for the counselor, through the attendance sheet."""
    results = []
    for session, status in zip(sessions, statuses):
        # Each sheet is saved by its own request, which loads the session afresh.
        db.session.expire_all()
        results.append(
            class_attendance.mark_sheet(session, {world.counselor: status}, user(world.trainer))
        )
    return results


def _standing(world, training_class):
    return class_leave.standing_of(training_class, user(world.counselor))


def _member(world, training_class) -> ClassMember:
    return classes.find_member(training_class, user(world.counselor))


# Computation --------------------------------------------------------------------


def test_exactly_one_seventh_is_allowed(world, klass):
    sessions = _sessions(klass, *[FULL] * 7)

    _mark(world, sessions, ABSENT)
    standing = _standing(world, klass)

    assert standing.scheduled_hours == Decimal(56)
    assert standing.missed_hours == Decimal(8)
    assert standing.share == Fraction(1, 7)
    assert standing.remaining_hours == 0
    assert not standing.over_limit
    assert _member(world, klass).status is MemberStatus.ENROLLED


def test_just_above_one_seventh_withdraws(world, klass):
    # 52 学时 scheduled allow 7.43 学时 of leave, so one full day is just beyond.
    sessions = _sessions(klass, *[FULL] * 6, HALF)

    [result] = _mark(world, sessions, EXCUSED)
    standing = _standing(world, klass)

    assert standing.scheduled_hours == Decimal(52)
    assert standing.over_limit
    assert standing.remaining_hours == 0
    member = _member(world, klass)
    assert member.status is MemberStatus.WITHDRAWN
    assert member.withdrawal_reason is WithdrawalReason.LEAVE_LIMIT
    assert result.withdrawn == [member]


def test_half_days_count_four_hours(world, klass):
    sessions = _sessions(klass, *[HALF] * 7)

    _mark(world, sessions, EXCUSED)
    at_limit = _standing(world, klass)
    _mark(world, sessions[1:], ABSENT)

    assert at_limit.scheduled_hours == Decimal(28)
    assert at_limit.missed_hours == Decimal(4)
    assert not at_limit.over_limit
    assert _standing(world, klass).missed_hours == Decimal(8)
    assert _member(world, klass).status is MemberStatus.WITHDRAWN


def test_class_hours_convert_the_days(world, klass):
    klass.full_day_hours, klass.half_day_hours = Decimal(6), Decimal(3)
    sessions = _sessions(klass, FULL, HALF)

    _mark(world, sessions, PRESENT, ABSENT)
    standing = _standing(world, klass)

    assert standing.scheduled_hours == Decimal(9)
    assert standing.missed_hours == Decimal(3)
    assert standing.share == Fraction(1, 3)


def test_no_sessions_has_no_share(world, klass):
    standing = _standing(world, klass)

    assert standing.scheduled_hours == 0
    assert standing.share is None
    assert not standing.over_limit
    assert not standing.near_limit


def test_late_and_unmarked_not_missed(world, klass):
    sessions = _sessions(klass, *[FULL] * 7)

    _mark(world, sessions[:6], *[LATE] * 6)
    standing = _standing(world, klass)

    assert standing.missed_hours == 0
    assert standing.share == 0
    assert _member(world, klass).status is MemberStatus.ENROLLED


def test_near_limit_one_day_before(world, klass):
    sessions = _sessions(klass, *[FULL] * 14)

    _mark(world, sessions, ABSENT)
    one_day = _standing(world, klass)
    _mark(world, sessions[1:], EXCUSED)
    two_days = _standing(world, klass)

    # 112 学时 allow 16 of leave: after one day 8 are left, after two none.
    assert not one_day.near_limit
    assert two_days.near_limit
    assert not two_days.over_limit


def test_class_without_limit_withdraws_nobody(world, klass):
    klass.leave_limit_num = klass.leave_limit_den = None
    sessions = _sessions(klass, FULL, FULL)

    _mark(world, sessions, ABSENT, ABSENT)
    standing = _standing(world, klass)

    assert standing.share == 1
    assert standing.remaining_hours is None
    assert not standing.over_limit
    assert _member(world, klass).status is MemberStatus.ENROLLED


# Reading the limit ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "off_the_job", "expected"),
    [
        ("", True, Fraction(1, 7)),
        ("  ", False, None),
        ("none", True, None),
        ("不限", True, None),
        ("2/14", False, Fraction(1, 7)),
        ("15%", False, Fraction(3, 20)),
        ("0.125", False, Fraction(1, 8)),
        ("0.1333", False, Fraction(2, 15)),
    ],
)
def test_parse_limit(raw, off_the_job, expected):
    assert class_leave.parse_limit(raw, off_the_job) == expected


@pytest.mark.parametrize("raw", ["abc", "1/0", "0", "1", "7/7", "-1/7", "1.5/7", "nan", "1/3000", "9" * 5000])
def test_parse_limit_rejects(app_ctx, raw):
    with pytest.raises(class_leave.LimitError):
        class_leave.parse_limit(raw, True)


# Withdrawal and reinstatement -----------------------------------------------------


def _over_limit(world, klass):
    """Schedule seven full days and mark the counselor absent on two of them."""
    sessions = _sessions(klass, *[FULL] * 7)
    _mark(world, sessions, ABSENT, ABSENT)
    return sessions


def test_withdrawal_is_audited_and_notified(world, klass):
    _over_limit(world, klass)
    member = _member(world, klass)

    [entry] = db.session.scalars(
        sa.select(AuditEntry).filter_by(action="class.member_withdrawn_leave")
    )
    [notice] = db.session.scalars(
        sa.select(Notification).filter_by(
            recipient_id=world.counselor, kind="class_withdrawn_leave"
        )
    )
    assert entry.subject_id == member.id
    assert entry.actor_id == world.trainer
    assert entry.data == {"missed_hours": "16", "scheduled_hours": "56", "limit": "1/7"}
    assert member.decided_by_id == world.trainer
    assert notice.link == f"/classes/{klass.id}"


def test_correction_offers_reinstatement_without_reinstating(world, klass):
    sessions = _over_limit(world, klass)

    [result] = _mark(world, sessions, PRESENT)
    member = _member(world, klass)

    assert member.status is MemberStatus.WITHDRAWN
    assert result.reinstatable == [member]
    class_leave.reinstate(member, user(world.trainer))
    assert member.status is MemberStatus.ENROLLED
    assert member.withdrawal_reason is None
    assert db.session.scalar(
        sa.select(AuditEntry).filter_by(action="class.member_reinstated")
    ).subject_id == member.id
    assert db.session.scalar(
        sa.select(Notification).filter_by(recipient_id=world.counselor, kind="class_reinstated")
    ) is not None


def test_second_withdrawal_notifies_again(world, klass):
    sessions = _over_limit(world, klass)
    _mark(world, sessions, PRESENT)
    class_leave.reinstate(_member(world, klass), user(world.trainer))

    _mark(world, sessions[2:], ABSENT)

    notices = db.session.scalars(
        sa.select(Notification).filter_by(
            recipient_id=world.counselor, kind="class_withdrawn_leave"
        )
    ).all()
    assert len(notices) == 2


def test_reinstatement_refused_while_still_beyond(world, klass):
    _over_limit(world, klass)

    with pytest.raises(classes.ClassError) as error:
        class_leave.reinstate(_member(world, klass), user(world.trainer))

    assert error.value.code == "still_over_limit"


def test_raised_limit_allows_reinstatement(world, klass):
    _over_limit(world, klass)
    klass.leave_limit_num, klass.leave_limit_den = 2, 7

    class_leave.reinstate(_member(world, klass), user(world.trainer))

    assert _member(world, klass).status is MemberStatus.ENROLLED


def test_trainer_withdrawal_is_never_undone_by_marks(world, klass):
    sessions = _sessions(klass, *[FULL] * 7)
    _mark(world, sessions, ABSENT, ABSENT)
    member = _member(world, klass)
    # Reinstated, then taken off the roster by a trainer for another reason.
    _mark(world, sessions, PRESENT)
    class_leave.reinstate(member, user(world.trainer))
    classes.withdraw(member, user(world.trainer))

    [result] = _mark(world, sessions[1:], PRESENT)

    assert member.status is MemberStatus.WITHDRAWN
    assert member.withdrawal_reason is WithdrawalReason.TRAINER
    assert result.reinstatable == []
    with pytest.raises(classes.ClassError) as error:
        class_leave.reinstate(member, user(world.trainer))
    assert error.value.code == "not_leave_withdrawal"


def test_draft_class_withdraws_nobody(world, klass):
    sessions = _sessions(klass, *[FULL] * 7)
    for session in sessions[:2]:
        class_attendance.mark(session, user(world.counselor), ABSENT, user(world.trainer))
    klass.status = ClassStatus.DRAFT

    assert class_leave.enforce(klass, user(world.trainer)) == []
    assert _member(world, klass).status is MemberStatus.ENROLLED


def test_lower_limit_withdraws_on_enforce(world, klass):
    sessions = _sessions(klass, *[FULL] * 7)
    _mark(world, sessions, ABSENT)
    klass.leave_limit_num, klass.leave_limit_den = 1, 10

    withdrawn = class_leave.enforce(klass, user(world.trainer))

    assert withdrawn == [_member(world, klass)]


def test_reinstatement_needs_a_seat(world, klass):
    _over_limit(world, klass)
    klass.capacity = 1
    classes.add_member(klass, user(world.counselor2), by=user(world.trainer))
    klass.leave_limit_num, klass.leave_limit_den = 2, 7

    with pytest.raises(classes.ClassError) as error:
        class_leave.reinstate(_member(world, klass), user(world.trainer))

    assert error.value.code == "full"


# Completion ----------------------------------------------------------------------


def _finish_programme(world, login) -> None:
    """Complete every lesson and pass the quiz as the counselor, through the pages."""
    counselor = login("counselor1")
    for course_id, lesson_ids in [(world.course1, world.lessons1), (world.course2, world.lessons2)]:
        for lesson_id in lesson_ids:
            assert counselor.get(f"/courses/{course_id}/lessons/{lesson_id}").status_code == 200
            response = counselor.post(f"/courses/{course_id}/lessons/{lesson_id}/complete")
            assert response.status_code == 302
    quiz = db.session.get(Quiz, world.quiz)
    response = counselor.post(f"/quizzes/{quiz.id}/start")
    attempt_id = int(re.search(r"/attempts/(\d+)", response.headers["Location"]).group(1))
    response = counselor.post(f"/attempts/{attempt_id}/submit", data=correct_answers(quiz))
    assert response.status_code == 302


def _enrolment(world) -> Enrolment:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(Enrolment).filter_by(user_id=world.counselor, programme_id=world.programme)
    )


def _certificates(world) -> list[Certificate]:
    return db.session.scalars(sa.select(Certificate).filter_by(holder_id=world.counselor)).all()


def test_withdrawn_member_gets_no_programme_completion(world, klass, login):
    sessions = _over_limit(world, klass)
    db.session.commit()

    _finish_programme(world, login)

    assert _enrolment(world).completed_at is None
    assert _certificates(world) == []
    _mark(world, sessions, PRESENT)
    class_leave.reinstate(_member(world, klass), user(world.trainer))
    assert _enrolment(world).completed_at is not None
    assert len(_certificates(world)) == 1


def test_certificate_batch_leaves_out_withdrawn_member(world, klass, login):
    from certificates import batches

    db.session.commit()
    _finish_programme(world, login)
    assert [user_id for user_id, _at in batches.completers(klass.programme, klass)] == [
        world.counselor
    ]

    _over_limit(world, klass)

    assert batches.completers(klass.programme, klass) == []


def test_withdrawn_member_gets_no_course_completion(world):
    course_class = make_class(world, code="2026-c2", course_only=True)
    course_class.leave_limit_num, course_class.leave_limit_den = 1, 7
    counselor = user(world.counselor)
    classes.add_member(course_class, counselor, by=user(world.trainer))
    sessions = _sessions(course_class, *[FULL] * 7)
    _mark(world, sessions, ABSENT, ABSENT)
    course = db.session.get(Lesson, world.lessons2[0]).course

    finish_lesson(counselor, db.session.get(Lesson, world.lessons2[0]))

    assert services.find_completion(counselor, course) is None
    _mark(world, sessions, PRESENT)
    class_leave.reinstate(classes.find_member(course_class, counselor), user(world.trainer))
    assert services.find_completion(counselor, course) is not None


# Training counts --------------------------------------------------------------------


def _provincial_course_class(world):
    """A provincial class of one course with a 1/7 leave limit and the counselor as member."""
    from lms.records.models import TrainingTier

    training_class = make_class(world, code="2026-course", course_only=True)
    training_class.tier = TrainingTier.PROVINCIAL
    training_class.leave_limit_num, training_class.leave_limit_den = 1, 7
    classes.add_member(training_class, user(world.counselor), by=user(world.trainer))
    db.session.flush()
    return training_class


def _provincial_trainings(world) -> Decimal:
    from lms.compliance.engine import evaluate
    from lms.compliance.models import WindowKind
    from lms.records.models import TrainingTier
    from tests.compliance.test_engine import make_rule

    rule = make_rule(
        posts=[],
        window_kind=WindowKind.ROLLING_YEARS,
        window_years=5,
        min_hours=None,
        min_count=1,
        tiers=[TrainingTier.PROVINCIAL],
    )
    return evaluate(user(world.counselor), rule, date(2026, 12, 5)).achieved


def test_leave_withdrawal_counts_no_training(world):
    """A member withdrawn for leave gets no completion, so the class is no provincial training."""
    training_class = _provincial_course_class(world)
    sessions = _sessions(training_class, FULL, FULL, HALF)

    _mark(world, sessions, PRESENT, ABSENT)

    assert _member(world, training_class).withdrawal_reason is WithdrawalReason.LEAVE_LIMIT
    assert _provincial_trainings(world) == Decimal(0)


def test_attended_course_class_counts_one_training(world):
    training_class = _provincial_course_class(world)
    sessions = _sessions(training_class, FULL, FULL, HALF)

    _mark(world, sessions, PRESENT, PRESENT)

    assert _member(world, training_class).status is MemberStatus.ENROLLED
    assert _provincial_trainings(world) == Decimal(1)


def test_no_limit_word_in_chinese_form(world, login):
    training_class = make_class(world)
    training_class.off_the_job = True
    training_class.leave_limit_num = training_class.leave_limit_den = None
    db.session.commit()

    page = login("trainer").get(f"/classes/{training_class.id}/edit").get_data(as_text=True)

    assert 'name="leave_limit" value="无"' in page
    assert "不设上限请填写“无”" in page
    assert class_leave.parse_limit("无", off_the_job=True) is None
