"""A course in two programmes: completed once, counted toward both, credited once."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from certificates.models import Certificate
from courses import services
from courses.models import CourseCompletion
from lms.compliance.engine import Status, evaluate
from lms.compliance.models import ComplianceRule, WindowKind
from lms.accounts.models import Role, User
from lms.extensions import db
from lms.organisations.models import Institution
from lms.records import services as records
from lms.records.models import HoursEntry, ProgressionEntry, ProgressionKind
from lms.records.models import TrainingKind, TrainingTier
from tests.factories import (
    build_learning_world,
    finish_lesson,
    make_course,
    make_institution,
    make_programme,
    make_user,
)


@pytest.fixture(autouse=True)
def no_lesson_time(app, monkeypatch):
    monkeypatch.setitem(app.config, "LESSON_MIN_TIME_SHARE", 0)


@pytest.fixture
def learner(app_ctx):
    return make_user(make_institution(), "c1")


def _finish(user, course) -> None:
    for lesson in course.lessons:
        finish_lesson(user, lesson)
    services.evaluate_course(user, course)
    db.session.commit()


def _programme(uni, code, links, *, tier, minimum="0"):
    """Add a programme of (course, required) links."""
    programme = make_programme(
        uni, code, [course for course, _required in links],
        tier=tier, kind=TrainingKind.THEMATIC,
    )
    for link, (_course, required) in zip(programme.courses, links):
        link.required = required
    programme.min_elective_hours = Decimal(minimum)
    db.session.commit()
    return programme


def _ledger(user) -> dict[str, tuple]:
    rows = db.session.scalars(sa.select(HoursEntry).where(HoursEntry.user_id == user.id))
    return {row.title: (row.hours, row.tier, row.training_id) for row in rows}


def _year_total(user) -> Decimal:
    return records.yearly_summary(user, records.current_year(user))["total"]


def _completed(user, programme) -> bool:
    return services.find_enrolment(user, programme).completed_at is not None


def _certificate_hours(user, programme):
    return db.session.scalar(
        sa.select(Certificate.hours).filter_by(holder_id=user.id, programme_id=programme.id)
    )


def test_required_course_of_both_credited_once(learner):
    uni = learner.institution
    shared = make_course(uni, "x", title="X", hours="4", lessons=1)
    school_only = make_course(uni, "y", title="Y", hours="2", lessons=1)
    provincial_only = make_course(uni, "z", title="Z", hours="3", lessons=1)
    school = _programme(
        uni, "a", [(shared, True), (school_only, True)], tier=TrainingTier.SCHOOL
    )
    provincial = _programme(
        uni, "b", [(shared, True), (provincial_only, True)], tier=TrainingTier.PROVINCIAL
    )
    services.enrol(learner, school)
    services.enrol(learner, provincial)

    for course in (shared, school_only, provincial_only):
        _finish(learner, course)

    assert _completed(learner, school)
    assert _completed(learner, provincial)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseCompletion)) == 3
    # X is credited once, through the programme enrolled in first.
    assert _ledger(learner)["X"] == (Decimal(4), TrainingTier.SCHOOL, school.id)
    assert _year_total(learner) == Decimal(9)
    trainings = db.session.scalars(
        sa.select(ProgressionEntry.title).filter_by(kind=ProgressionKind.TRAINING)
    ).all()
    assert sorted(trainings) == ["X", "Y", "Z"]


def test_surplus_elective_credits_where_required(learner):
    """An elective beyond one programme's minimum is required in the other."""
    uni = learner.institution
    shared = make_course(uni, "x", title="X", hours="4", lessons=1)
    required = make_course(uni, "y", title="Y", hours="2", lessons=1)
    elective = make_course(uni, "w", title="W", hours="2", lessons=1)
    provincial_only = make_course(uni, "z", title="Z", hours="3", lessons=1)
    school = _programme(
        uni, "a", [(required, True), (elective, False), (shared, False)],
        tier=TrainingTier.SCHOOL, minimum="2",
    )
    provincial = _programme(
        uni, "b", [(shared, True), (provincial_only, True)], tier=TrainingTier.PROVINCIAL
    )
    services.enrol(learner, school)
    services.enrol(learner, provincial)

    for course in (required, elective, shared, provincial_only):
        _finish(learner, course)

    # Through the first programme, X would credit nothing as a surplus elective.
    assert _ledger(learner)["X"] == (Decimal(4), TrainingTier.PROVINCIAL, provincial.id)
    assert _year_total(learner) == Decimal(11)
    assert _certificate_hours(learner, school) == Decimal(4)
    assert _certificate_hours(learner, provincial) == Decimal(7)
    progress = services.programme_progress(learner, provincial)
    assert progress["hours_done"] == Decimal(7)


def test_provincial_hours_include_shared_course(learner):
    """The shared course credits provincial 学时, so a provincial hours rule is met."""
    uni = learner.institution
    shared = make_course(uni, "x", title="X", hours="4", lessons=1)
    required = make_course(uni, "y", title="Y", hours="2", lessons=1)
    provincial_only = make_course(uni, "z", title="Z", hours="3", lessons=1)
    school = _programme(
        uni, "a", [(required, True), (shared, False)], tier=TrainingTier.SCHOOL
    )
    provincial = _programme(
        uni, "b", [(shared, True), (provincial_only, True)], tier=TrainingTier.PROVINCIAL
    )
    rule = ComplianceRule(
        code="provincial-hours", name="省级培训学时", roles=[Role.COUNSELOR],
        window_kind=WindowKind.CALENDAR_YEAR, min_hours=Decimal(7),
        tiers=[TrainingTier.PROVINCIAL],
    )
    db.session.add(rule)
    services.enrol(learner, school)
    services.enrol(learner, provincial)

    for course in (required, shared, provincial_only):
        _finish(learner, course)

    verdict = evaluate(learner, rule)
    assert verdict.achieved == Decimal(7)
    assert verdict.status is Status.MET


def test_programme_joined_later_completes_at_once(learner):
    uni = learner.institution
    shared = make_course(uni, "x", title="X", hours="4", lessons=1)
    required = make_course(uni, "y", title="Y", hours="2", lessons=1)
    first = _programme(uni, "a", [(shared, True), (required, True)], tier=TrainingTier.SCHOOL)
    refresher = _programme(uni, "b", [(shared, True)], tier=TrainingTier.SCHOOL)
    services.enrol(learner, first)
    _finish(learner, shared)
    _finish(learner, required)

    services.enrol(learner, refresher)
    db.session.commit()

    assert _completed(learner, refresher)
    assert _certificate_hours(learner, refresher) == Decimal(4)
    # The refresher credits no 学时 of its own, only a row that counts it
    # as a training.
    assert _ledger(learner) == {
        "X": (Decimal(4), TrainingTier.SCHOOL, first.id),
        "Y": (Decimal(2), TrainingTier.SCHOOL, first.id),
        refresher.title: (Decimal(0), TrainingTier.SCHOOL, refresher.id),
    }
    assert _year_total(learner) == Decimal(6)


def test_programme_joined_later_waits_for_its_other_courses(learner):
    uni = learner.institution
    shared = make_course(uni, "x", title="X", hours="4", lessons=1)
    other = make_course(uni, "z", title="Z", hours="3", lessons=1)
    first = _programme(uni, "a", [(shared, True)], tier=TrainingTier.SCHOOL)
    second = _programme(uni, "b", [(shared, True), (other, True)], tier=TrainingTier.SCHOOL)
    services.enrol(learner, first)
    _finish(learner, shared)

    services.enrol(learner, second)
    db.session.commit()
    assert not _completed(learner, second)

    _finish(learner, other)

    assert _completed(learner, second)
    assert _year_total(learner) == Decimal(7)


def test_enrolling_through_the_page_counts_done_course(app_ctx, login):
    world = build_learning_world()
    uni = db.session.get(Institution, world.uni_a)
    counselor = db.session.get(User, world.counselor)
    shared = make_course(uni, "x", title="X", hours="4", lessons=1)
    first = _programme(uni, "a", [(shared, True)], tier=TrainingTier.SCHOOL)
    refresher = _programme(uni, "b", [(shared, True)], tier=TrainingTier.SCHOOL)
    services.enrol(counselor, first)
    _finish(counselor, shared)

    response = login("counselor1").post(f"/programmes/{refresher.id}/enrol")

    assert response.status_code == 302
    db.session.expire_all()
    assert _completed(counselor, refresher)
    assert _certificate_hours(counselor, refresher) == Decimal(4)
    assert _year_total(counselor) == Decimal(4)
