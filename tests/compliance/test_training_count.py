"""Rules that count trainings count each programme, class or external training once."""

import itertools
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from courses import services
from courses.models import Enrolment, LessonKind, Programme
from lms.accounts.models import User
from lms.compliance.engine import Status, evaluate, evaluate_institution
from lms.compliance.models import ComplianceRule, WindowKind
from lms.compliance.report import population_report
from lms.extensions import db
from lms.records import external
from lms.records.models import ExternalTraining, HoursEntry, TrainingKind, TrainingTier
from tests.compliance.test_engine import make_institution, make_person, make_rule
from tests.factories import make_programme, open_lesson

TODAY = date(2026, 12, 5)
_source_ids = itertools.count(1)


def _five_year_rule() -> ComplianceRule:
    return make_rule(
        posts=[],
        window_kind=WindowKind.ROLLING_YEARS,
        window_years=5,
        min_hours=None,
        min_count=2,
        tiers=[TrainingTier.NATIONAL, TrainingTier.PROVINCIAL],
        at_risk_days=0,
    )


def _entry(person, on: date, source_type: str, training=(None, None)) -> HoursEntry:
    """Add a provincial ledger row with a new source of ``source_type``."""
    training_type, training_id = training
    entry = HoursEntry(
        user_id=person.id,
        source_type=source_type,
        source_id=next(_source_ids),
        training_type=training_type,
        training_id=training_id,
        title="省级培训",
        occurred_on=on,
        year=on.year,
        tier=TrainingTier.PROVINCIAL,
        kind=TrainingKind.DEMONSTRATION,
        hours=Decimal(8),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def _programme(institution, person, code: str, *, completed: bool = True) -> int:
    """Add a provincial programme with ``person`` enrolled, completed or not; return its id."""
    programme = make_programme(institution, code, [], tier=TrainingTier.PROVINCIAL)
    db.session.add(
        Enrolment(
            user_id=person.id,
            programme_id=programme.id,
            completed_at=datetime(2026, 6, 1, tzinfo=timezone.utc) if completed else None,
        )
    )
    db.session.flush()
    return programme.id


def _long_in_post(institution) -> User:
    """Add a counselor in post since 2015, so a 5-year shortfall is missed."""
    return make_person(institution, "c1", post_started_on=date(2015, 9, 1))


@pytest.fixture
def institution(app_ctx):
    return make_institution()


# Engine and report


def test_programme_courses_count_once(institution):
    person = _long_in_post(institution)
    rule = _five_year_rule()
    programme_id = _programme(institution, person, "p7")
    for month in (3, 4, 5):
        _entry(person, date(2026, month, 1), "course_completion", ("programme", programme_id))

    verdict = evaluate(person, rule, TODAY)

    assert verdict.achieved == Decimal(1)
    assert verdict.status is Status.MISSED


def test_unfinished_programme_counts_none(institution):
    person = _long_in_post(institution)
    rule = _five_year_rule()
    finished = _programme(institution, person, "p7")
    unfinished = _programme(institution, person, "p8", completed=False)
    for programme_id in (finished, unfinished):
        _entry(person, date(2026, 3, 1), "course_completion", ("programme", programme_id))
    hours_rule = make_rule(posts=[], min_hours=Decimal(1), tiers=[TrainingTier.PROVINCIAL])

    verdict = evaluate(person, rule, TODAY)
    [hr_verdict] = evaluate_institution(institution, rule, TODAY)

    assert verdict.achieved == Decimal(1)
    assert hr_verdict.achieved == Decimal(1)
    assert evaluate(person, hours_rule, TODAY).achieved == Decimal(16)


def test_another_persons_completion_does_not_count(institution):
    person = _long_in_post(institution)
    other = make_person(institution, "c2", post_started_on=date(2015, 9, 1))
    rule = _five_year_rule()
    programme_id = _programme(institution, other, "p7")
    _entry(person, date(2026, 3, 1), "course_completion", ("programme", programme_id))

    assert evaluate(person, rule, TODAY).achieved == Decimal(0)


def test_two_programmes_count_two(institution):
    person = _long_in_post(institution)
    rule = _five_year_rule()
    for programme_id in (
        _programme(institution, person, "p7"),
        _programme(institution, person, "p8"),
    ):
        for month in (3, 4):
            _entry(
                person,
                date(2026, month, 1),
                "course_completion",
                ("programme", programme_id),
            )

    verdict = evaluate(person, rule, TODAY)
    [hr_verdict] = evaluate_institution(institution, rule, TODAY)
    [report] = [
        each for each in population_report([institution.id], TODAY) if each.rule.id == rule.id
    ]

    assert verdict.achieved == Decimal(2)
    assert verdict.status is Status.MET
    assert hr_verdict.achieved == Decimal(2)
    assert report.totals[Status.MET] == 1


def test_class_sessions_count_once(institution):
    person = _long_in_post(institution)
    rule = _five_year_rule()
    for day in (1, 2, 3):
        _entry(person, date(2026, 6, day), "class_session", ("training_class", 4))

    assert evaluate(person, rule, TODAY).achieved == Decimal(1)


def test_same_id_of_other_training_type_counts_apart(institution):
    person = _long_in_post(institution)
    rule = _five_year_rule()
    programme_id = _programme(institution, person, "p4")
    _entry(person, date(2026, 6, 1), "class_session", ("training_class", programme_id))
    _entry(person, date(2026, 6, 2), "course_completion", ("programme", programme_id))

    assert evaluate(person, rule, TODAY).achieved == Decimal(2)


def test_standalone_course_counts_as_own_training(institution):
    person = _long_in_post(institution)
    rule = _five_year_rule()
    _entry(person, date(2026, 6, 1), "course_completion")
    _entry(person, date(2026, 6, 2), "course_completion")

    assert evaluate(person, rule, TODAY).achieved == Decimal(2)


def test_programme_cancelled_by_correction_counts_none(institution):
    person = _long_in_post(institution)
    rule = _five_year_rule()
    entry = _entry(person, date(2026, 6, 1), "class_session", ("training_class", 4))
    db.session.add(
        HoursEntry(
            user_id=person.id,
            corrects_id=entry.id,
            title="更正",
            occurred_on=entry.occurred_on,
            year=entry.year,
            tier=entry.tier,
            kind=entry.kind,
            hours=-entry.hours,
        )
    )
    db.session.flush()

    assert evaluate(person, rule, TODAY).achieved == Decimal(0)


# Seeded demo


def _counselor2() -> User:
    return db.session.scalar(sa.select(User).filter_by(username="counselor2"))


def _five_year_verdict(person: User):
    rule = db.session.scalar(
        sa.select(ComplianceRule).filter_by(code="counselor-national-provincial-5y")
    )
    return evaluate(person, rule)


def _learning_page(login) -> str:
    return login("counselor2").get("/learning").get_data(as_text=True)


def test_demo_programme_counts_one_training(app_ctx, seeded, login):
    person = _counselor2()
    programme = db.session.scalar(
        sa.select(Programme).filter_by(code="intermediate-upgrade-2026")
    )
    before = _five_year_verdict(person).achieved
    page_before = _learning_page(login)

    enrolment = services.enrol(person, programme)
    for link in enrolment.programme.courses[:3]:
        for lesson in link.course.lessons:
            # The workshop is offline, which a trainer's attendance mark completes.
            open_lesson(person, lesson)
            services.complete_lesson(person, lesson, attended=lesson.kind is LessonKind.OFFLINE)
    db.session.commit()
    completions = db.session.scalar(
        sa.select(sa.func.count(HoursEntry.id)).filter_by(
            user_id=person.id, training_type="programme", training_id=programme.id
        )
    )
    after = _five_year_verdict(person).achieved
    page_after = _learning_page(login)

    assert completions == 3
    assert after == before + 1
    assert f"国家级或省级培训次数为{before}（要求1）" in page_before
    assert f"国家级或省级培训次数为{after}（要求1）" in page_after


def test_demo_external_training_counts_once(app_ctx, seeded):
    person = _counselor2()
    reviewer = db.session.scalar(sa.select(User).filter_by(username="hr"))
    before = _five_year_verdict(person).achieved
    training = ExternalTraining(
        user_id=person.id,
        title="全省辅导员骨干研修班",
        organiser="省教育厅",
        tier=TrainingTier.PROVINCIAL,
        kind=TrainingKind.BACKBONE_CAMP,
        # Spans New Year, so approval writes one ledger row per year.
        start_date=date(2025, 12, 29),
        end_date=date(2026, 1, 2),
        hours=Decimal(20),
        evidence_path="count-test.pdf",
        evidence_name="结业证书.pdf",
        evidence_type="application/pdf",
    )
    db.session.add(training)
    db.session.flush()

    assert external.approve(training, reviewer)
    rows = db.session.scalar(
        sa.select(sa.func.count(HoursEntry.id)).filter_by(
            source_type="external_training", source_id=training.id
        )
    )

    assert rows == 2
    assert _five_year_verdict(person).achieved == before + 1


def test_demo_one_course_is_not_a_training(app_ctx, seeded, login):
    person = _counselor2()
    programme = db.session.scalar(
        sa.select(Programme).filter_by(code="intermediate-upgrade-2026")
    )
    before = _five_year_verdict(person).achieved
    enrolment = services.enrol(person, programme)
    first = enrolment.programme.courses[0].course

    for lesson in first.lessons:
        open_lesson(person, lesson)
        services.complete_lesson(person, lesson, attended=lesson.kind is LessonKind.OFFLINE)
    db.session.commit()
    credited = db.session.scalar(
        sa.select(sa.func.sum(HoursEntry.hours)).filter_by(
            user_id=person.id, training_type="programme", training_id=programme.id
        )
    )

    assert credited == first.credit_hours
    assert enrolment.completed_at is None
    assert _five_year_verdict(person).achieved == before
    assert f"国家级或省级培训次数为{before}（要求1）" in _learning_page(login)
