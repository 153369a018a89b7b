"""A completed programme counts as a training wherever its courses' 学时 went.

A course shared by two programmes credits its 学时 once, through one of
them. The other programme, once completed, still counts as one training
for rules that count trainings, through a ledger row of 0 学时.
"""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from certificates.models import Certificate
from courses import services
from lms.accounts.models import Role, User
from lms.compliance.engine import Status, evaluate
from lms.compliance.models import ComplianceRule, WindowKind
from lms.extensions import db
from lms.organisations.models import Institution
from lms.records import services as records
from lms.records.models import (
    PROGRAMME_COMPLETION_SOURCE_TYPE,
    HoursEntry,
    TrainingKind,
    TrainingTier,
)
from tests.factories import (
    build_learning_world,
    finish_lesson,
    make_course,
    make_institution,
    make_programme,
    make_user,
)

REASON = "培训记录有误"


@pytest.fixture(autouse=True)
def no_lesson_time(app, monkeypatch):
    monkeypatch.setitem(app.config, "LESSON_MIN_TIME_SHARE", 0)


def _finish(user, course) -> None:
    for lesson in course.lessons:
        finish_lesson(user, lesson)
    services.evaluate_course(user, course)
    db.session.commit()


def _count_rule(code="provincial-5y", tiers=(TrainingTier.PROVINCIAL, TrainingTier.NATIONAL)):
    rule = ComplianceRule(
        code=code, name="每5年至少1次省级以上培训", roles=[Role.COUNSELOR],
        window_kind=WindowKind.ROLLING_YEARS, window_years=5, min_count=1,
        tiers=list(tiers),
    )
    db.session.add(rule)
    db.session.commit()
    return rule


def _hours_rule():
    rule = ComplianceRule(
        code="yearly-hours", name="每年学时", roles=[Role.COUNSELOR],
        window_kind=WindowKind.CALENDAR_YEAR, min_hours=Decimal(1),
    )
    db.session.add(rule)
    db.session.commit()
    return rule


def _shared_world(uni):
    """A school programme of X and Y, and a provincial programme of X alone.

    X earns as much in both, so it credits through the school programme,
    enrolled in first, and the provincial programme has no 学时 of its own.
    """
    shared = make_course(uni, "x", title="X", hours="4", lessons=1)
    school_only = make_course(uni, "y", title="Y", hours="2", lessons=1)
    school = make_programme(
        uni, "a", [shared, school_only], title="校级培训",
        tier=TrainingTier.SCHOOL, kind=TrainingKind.THEMATIC,
    )
    provincial = make_programme(
        uni, "b", [shared], title="省级示范培训",
        tier=TrainingTier.PROVINCIAL, kind=TrainingKind.DEMONSTRATION,
    )
    db.session.commit()
    return shared, school_only, school, provincial


def _complete_both(learner, shared, school_only, school, provincial) -> None:
    services.enrol(learner, school)
    services.enrol(learner, provincial)
    _finish(learner, shared)
    _finish(learner, school_only)
    assert services.find_enrolment(learner, provincial).completed_at is not None


def _rows(user) -> list[HoursEntry]:
    return list(
        db.session.scalars(
            sa.select(HoursEntry).where(HoursEntry.user_id == user.id).order_by(HoursEntry.id)
        )
    )


@pytest.fixture
def learner(app_ctx):
    return make_user(make_institution(), "c1")


def test_credited_elsewhere_counts_as_training(learner):
    world = _shared_world(learner.institution)
    shared, _school_only, _school, provincial = world
    count_rule = _count_rule()
    hours_rule = _hours_rule()

    _complete_both(learner, *world)

    verdict = evaluate(learner, count_rule)
    assert verdict.achieved == Decimal(1)
    assert verdict.status is Status.MET
    # The 学时 still count once: X through the school programme, and Y.
    assert evaluate(learner, hours_rule).achieved == Decimal(6)
    marker = [row for row in _rows(learner) if row.training_id == provincial.id]
    assert [(row.source_type, row.hours, row.tier, row.kind) for row in marker] == [
        (PROGRAMME_COMPLETION_SOURCE_TYPE, Decimal(0), TrainingTier.PROVINCIAL,
         TrainingKind.DEMONSTRATION)
    ]
    assert marker[0].title == "省级示范培训"


def test_own_hours_need_no_extra_row(learner):
    world = _shared_world(learner.institution)
    _complete_both(learner, *world)
    school = world[2]

    rows = [row for row in _rows(learner) if row.training_id == school.id]

    assert {row.source_type for row in rows} == {"course_completion"}


def test_unfinished_programme_is_not_counted(learner):
    uni = learner.institution
    shared, _school_only, school, _provincial = _shared_world(uni)
    other = make_course(uni, "z", title="Z", hours="3", lessons=1)
    provincial = make_programme(
        uni, "c", [shared, other], tier=TrainingTier.PROVINCIAL,
        kind=TrainingKind.DEMONSTRATION,
    )
    rule = _count_rule()
    services.enrol(learner, school)
    services.enrol(learner, provincial)
    _finish(learner, shared)

    assert evaluate(learner, rule).achieved == Decimal(0)
    assert not [row for row in _rows(learner) if row.hours == 0]


def test_joined_later_counts_once_completed(learner):
    shared, school_only, school, provincial = _shared_world(learner.institution)
    rule = _count_rule()
    services.enrol(learner, school)
    _finish(learner, shared)
    _finish(learner, school_only)
    assert evaluate(learner, rule).achieved == Decimal(0)

    services.enrol(learner, provincial)
    db.session.commit()

    assert evaluate(learner, rule).achieved == Decimal(1)
    assert records.yearly_summary(learner, records.current_year(learner))["total"] == 6


def test_any_training_counts_both_programmes(learner):
    world = _shared_world(learner.institution)
    rule = _count_rule("any-training", tiers=())
    _complete_both(learner, *world)

    assert evaluate(learner, rule).achieved == Decimal(2)


# --- revocation --------------------------------------------------------------


def _provincial_certificate(world, counselor) -> Certificate:
    provincial = world[3]
    return db.session.scalar(
        sa.select(Certificate).filter_by(holder_id=counselor.id, programme_id=provincial.id)
    )


@pytest.fixture
def hr_world(app_ctx):
    ids = build_learning_world()
    uni = db.session.get(Institution, ids.uni_a)
    counselor = db.session.get(User, ids.counselor)
    world = _shared_world(uni)
    _complete_both(counselor, *world)
    return world, counselor


def test_withdrawal_stops_the_count(hr_world, login):
    world, counselor = hr_world
    rule = _count_rule()
    cert = _provincial_certificate(world, counselor)
    hr = login("hr")
    hr.post("/language/en")

    page = hr.get(f"/certificates/{cert.serial}")
    assert "Withdraw the hours this training credited" in page.text
    assert "counts as one training" in page.text

    response = hr.post(
        f"/certificates/{cert.serial}/revoke", data={"reason": REASON, "hours": "withdraw"}
    )
    assert response.status_code == 302
    flashed = hr.get(response.headers["Location"]).text
    assert "no longer counts as a training" in flashed
    assert "0 hours were withdrawn" not in flashed

    db.session.expire_all()
    assert evaluate(counselor, rule).achieved == Decimal(0)
    # The school programme's 学时 stay, X included.
    assert evaluate(counselor, _hours_rule()).achieved == Decimal(6)
    corrections = [row for row in _rows(counselor) if row.corrects_id is not None]
    assert [(row.source_type, row.hours) for row in corrections] == [
        ("certificate_withdrawal", Decimal(0))
    ]
    record = hr.get(f"/people/{counselor.id}/record").text
    assert "No longer counts as a training: withdrawn with the certificate" in record


def test_keeping_hours_keeps_the_count(hr_world, login):
    world, counselor = hr_world
    rule = _count_rule()
    cert = _provincial_certificate(world, counselor)

    response = login("hr").post(
        f"/certificates/{cert.serial}/revoke", data={"reason": REASON, "hours": "keep"}
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert evaluate(counselor, rule).achieved == Decimal(1)


def test_crediting_programme_revoked_other_counts(hr_world, login):
    world, counselor = hr_world
    school = world[2]
    rule = _count_rule()
    cert = db.session.scalar(
        sa.select(Certificate).filter_by(holder_id=counselor.id, programme_id=school.id)
    )

    login("hr").post(
        f"/certificates/{cert.serial}/revoke", data={"reason": REASON, "hours": "withdraw"}
    )

    db.session.expire_all()
    assert evaluate(counselor, rule).achieved == Decimal(1)
    assert evaluate(counselor, _hours_rule()).achieved == Decimal(0)


# --- pages -------------------------------------------------------------------


def test_record_page_shows_row_without_hours(hr_world, login):
    _world, counselor = hr_world

    hr = login("hr")
    hr.post("/language/en")
    page = hr.get(f"/people/{counselor.id}/record").text

    ledger = page[page.index("Hours ledger"):]
    row = ledger[ledger.index("省级示范培训"):]
    row = row[: row.index("</tr>")]
    assert "Counts as a training; its hours were credited through another programme" in row
    assert ">0<" not in row.replace(" ", "").replace("\n", "")


def test_dossier_leaves_out_row_without_hours(hr_world):
    from lms.promotion.evidence import hours_by_year_and_tier

    _world, counselor = hr_world
    today = records.local_date(counselor, datetime.now(ZoneInfo("UTC")))

    totals = hours_by_year_and_tier(counselor, today)

    assert totals[str(today.year)] == {"school": "6.0"}


def test_dossier_ledger_marks_row_without_hours(hr_world, app):
    from flask import render_template
    from flask_babel import force_locale

    from lms.promotion import dossier

    _world, counselor = hr_world
    today = records.local_date(counselor, datetime.now(ZoneInfo("UTC")))

    with app.test_request_context(), force_locale("en"):
        html = render_template("promotion/dossier_pdf.html", **dossier.context(counselor, today))

    ledger = html[html.index("Hours ledger"):]
    row = ledger[ledger.index("省级示范培训"):]
    row = row[: row.index("</tr>")]
    assert "counts as a training; its hours were credited through another programme" in row
    assert ">0<" not in row.replace(" ", "")


def test_revoked_page_says_training_withdrawn(hr_world, login):
    world, counselor = hr_world
    cert = _provincial_certificate(world, counselor)
    hr = login("hr")
    hr.post("/language/en")
    response = hr.post(
        f"/certificates/{cert.serial}/revoke", data={"reason": REASON, "hours": "withdraw"}
    )
    hr.get(response.headers["Location"])  # shows and clears the flashed message

    page = hr.get(f"/certificates/{cert.serial}").text

    assert "It no longer counts as a training toward the training requirements" in page
