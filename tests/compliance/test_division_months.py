"""The division-level cadre rule: 3 months or 550 学时 of training every 5 years.

Three months count as 90 training days, counted as the section-level rule
counts its 12 days, and either measure meets the rule.
"""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from lms.accounts.models import User
from lms.compliance.engine import Measure, Status, evaluate, evaluate_institution
from lms.compliance.models import CadreRank, ComplianceRule, PersonProfile
from lms.compliance.report import population_report
from lms.compliance.seed import seed_rules
from lms.extensions import db
from lms.records.models import HoursEntry, TrainingKind, TrainingTier
from tests.compliance.test_engine import add_hours, make_institution, make_person
from tests.factories import build_learning_world

CODE = "cadre-division-5y"
#: Reached the rank inside the five years: short, they have until 2027-03-09.
PROMOTED = date(2026, 3, 10)
TODAY = date(2026, 6, 1)


@pytest.fixture
def institution(app_ctx):
    institution = make_institution()
    seed_rules()
    return institution


@pytest.fixture
def english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def _rule() -> ComplianceRule:
    return db.session.scalar(
        sa.select(ComplianceRule).filter_by(code=CODE, institution_id=None)
    )


def _cadre(institution, name="d1", since=PROMOTED) -> User:
    return make_person(
        institution, name, cadre_rank=CadreRank.DIVISION_DEPUTY, rank_since=since
    )


def add_training(person, hours, days, on: date) -> HoursEntry:
    """Write the ledger row of a training taken elsewhere that ended on ``on``."""
    entry = add_hours(person, hours, on, tier=TrainingTier.PROVINCIAL)
    entry.source_type = "external_training"
    entry.days = Decimal(days)
    db.session.flush()
    return entry


def test_seeded_rule_accepts_ninety_days(institution):
    rule = _rule()

    assert rule.min_hours == Decimal(550)
    assert (rule.min_days, rule.hours_per_day) == (Decimal(90), Decimal(8))
    assert "3个月按90天计" in rule.source
    assert "本规则按学时核对" not in rule.source


def test_met_by_hours_only(institution, english):
    person = _cadre(institution)
    # Courses record no days: 550 学时 make 68.75 days.
    add_hours(person, 300, date(2025, 4, 1))
    add_hours(person, 250, date(2026, 4, 1))

    verdict = evaluate(person, _rule(), TODAY)

    assert verdict.status is Status.MET
    assert verdict.achieved_days == Decimal("68.8")
    assert not verdict.days_reached
    assert verdict.closest_measure is Measure.HOURS
    assert verdict.message.endswith(
        "Training days: 68.8 of 90. The hours reach the minimum."
    )


def test_met_by_three_months_only(institution, english):
    person = _cadre(institution)
    # A Party-school class from 1 March to 31 May: 92 days, 480 学时.
    add_training(person, 480, 92, date(2025, 5, 31))

    verdict = evaluate(person, _rule(), TODAY)

    assert verdict.status is Status.MET
    assert verdict.achieved == Decimal(480)
    assert (verdict.missing, verdict.missing_days) == (Decimal(0), Decimal(0))
    assert verdict.closest_measure is Measure.DAYS
    assert verdict.message == (
        "480 of 550 hours in the 5 years to 2026-06-01; requirement met. "
        "Either 550 hours or 90 days of training meet this rule. Hours recorded "
        "without days count one day for every 8 hours. Training days: 92 of 90. "
        "The training days reach the minimum."
    )


def test_eighty_nine_days_fall_short(institution):
    person = _cadre(institution)
    add_training(person, 480, 89, date(2025, 4, 30))

    verdict = evaluate(person, _rule(), TODAY)

    assert verdict.status is Status.IN_PROGRESS
    assert verdict.missing_days == Decimal(1)


def test_neither_names_both_gaps(institution, english):
    person = _cadre(institution)
    add_training(person, 300, 40, date(2025, 9, 30))

    verdict = evaluate(person, _rule(), TODAY)

    assert verdict.status is Status.IN_PROGRESS
    assert (verdict.missing, verdict.missing_days) == (Decimal(250), Decimal(50))
    assert verdict.closest_measure is Measure.HOURS
    assert verdict.message == (
        "300 of 550 hours in the 5 years to 2026-06-01; 250 hours or 50 "
        "training days missing by 2027-03-09, 12 months after reaching the "
        "rank on 2026-03-10. Either 550 hours or 90 days of training meet "
        "this rule. Hours recorded without days count one day for every 8 hours. "
        "Training days: 40 of 90. The hours are closer to the minimum: 54% of it, "
        "against 44% for the training days."
    )


def test_neither_in_chinese(institution, app):
    person = _cadre(institution)
    add_training(person, 300, 40, date(2025, 9, 30))

    with app.test_request_context(), force_locale("zh_CN"):
        message = evaluate(person, _rule(), TODAY).message

    assert message == (
        "截至2026年6月1日的5年内，学时为300（要求550），须在2027年3月9日前补足"
        "250学时或50天，即2026年3月10日任现职级后12个月内。"
        "参加培训满550学时或满90天即达标。只记录学时、未记录天数的培训，每8学时计为1天。"
        "培训天数：40 天，要求 90 天。"
        "学时更接近要求：已完成54%，培训天数已完成44%。"
    )


def test_days_closer_named(institution, app):
    person = _cadre(institution)
    add_training(person, 200, 60, date(2025, 9, 30))

    verdict = evaluate(person, _rule(), TODAY)
    with app.test_request_context(), force_locale("en"):
        english = verdict.message
    with app.test_request_context(), force_locale("zh_CN"):
        chinese = verdict.message

    assert verdict.closest_measure is Measure.DAYS
    assert english.endswith(
        "The training days are closer to the minimum: 66% of it, against 36% "
        "for the hours."
    )
    assert chinese.endswith("培训天数更接近要求：已完成66%，学时已完成36%。")


def test_missed_names_both_gaps(institution, english):
    # Reached the rank before the five years: no time to make up remains.
    person = _cadre(institution, since=date(2019, 5, 1))
    add_training(person, 100, 20, date(2025, 9, 30))

    verdict = evaluate(person, _rule(), TODAY)

    assert verdict.status is Status.MISSED
    assert "450 hours or 70 training days missing." in verdict.message


def test_at_risk_when_the_days_drop_out(institution, app):
    person = _cadre(institution, since=date(2019, 5, 1))
    # The three months end 2021-09-30; the window on 2026-11-28, 180 days
    # ahead, starts 2021-11-29 and leaves them out.
    add_training(person, 480, 92, date(2021, 9, 30))
    add_hours(person, 40, date(2025, 3, 1))

    verdict = evaluate(person, _rule(), TODAY)
    with app.test_request_context(), force_locale("en"):
        english = verdict.message
    with app.test_request_context(), force_locale("zh_CN"):
        chinese = verdict.message

    assert verdict.status is Status.AT_RISK
    assert verdict.days_reached and not verdict.hours_reached
    assert verdict.still_counting_days == Decimal(5)
    assert english.startswith(
        "520 of 550 hours in the 5 years to 2026-06-01; only 40 hours and 5 "
        "training days will still count on 2026-11-28."
    )
    assert english.endswith("The training days reach the minimum.")
    assert chinese.startswith(
        "截至2026年6月1日的5年内，学时为520（要求550），"
        "但到2026年11月28日时仍计入的只有40学时和5天。"
    )


def test_at_risk_near_the_deadline(institution, english):
    person = _cadre(institution, since=date(2025, 9, 1))
    add_training(person, 300, 40, date(2025, 12, 31))

    verdict = evaluate(person, _rule(), TODAY)

    assert verdict.status is Status.AT_RISK
    assert "250 hours or 50 training days missing by 2026-08-31" in (
        verdict.message
    )


def test_report_counts_match_engine(institution):
    add_hours(_cadre(institution, "hours"), 550, date(2025, 4, 1))
    days = _cadre(institution, "days")
    add_training(days, 480, 92, date(2025, 5, 31))
    short = _cadre(institution, "short")
    add_training(short, 300, 40, date(2025, 9, 30))
    risk = _cadre(institution, "risk", since=date(2019, 5, 1))
    add_training(risk, 480, 92, date(2021, 9, 30))
    rule = _rule()

    engine = {
        verdict.person.username: verdict.status
        for verdict in evaluate_institution(institution, rule, TODAY)
    }
    reports = population_report([institution.id], TODAY)
    [report] = [report for report in reports if report.rule.code == CODE]

    assert engine == {
        "hours": Status.MET, "days": Status.MET,
        "short": Status.IN_PROGRESS, "risk": Status.AT_RISK,
    }
    assert report.totals[Status.MET] == 2
    assert report.totals[Status.IN_PROGRESS] == 1
    assert report.totals[Status.AT_RISK] == 1


# HR pages


@pytest.fixture
def world(app_ctx):
    """The learning world, its national rules, and counselor1 a division cadre."""
    world = build_learning_world()
    seed_rules()
    db.session.add(
        PersonProfile(
            user_id=world.counselor,
            cadre_rank=CadreRank.DIVISION_CHIEF,
            rank_since=date(2019, 1, 1),
        )
    )
    db.session.commit()
    return world


def _record(world, hours, days, on):
    db.session.add(
        HoursEntry(
            user_id=world.counselor,
            source_type="external_training",
            source_id=9001,
            title="中青年干部培训班",
            occurred_on=on,
            year=on.year,
            tier=TrainingTier.PROVINCIAL,
            kind=TrainingKind.THEMATIC,
            hours=Decimal(hours),
            days=Decimal(days),
        )
    )
    db.session.commit()


def _csv_text(response) -> str:
    return response.get_data(as_text=True).lstrip("\ufeff")


def test_hr_list_and_csv_show_the_closest_measure(world, login):
    today = date.today()
    _record(world, 200, 60, date(today.year - 1, 6, 30))
    rule_id = _rule().id
    hr = login("hr")

    page = hr.get(f"/compliance/rules/{rule_id}").get_data(as_text=True)
    response = hr.get(f"/compliance/rules/{rule_id}/export.csv")

    assert "最接近达标的指标" in page
    assert "培训天数（66%）" in page
    rows = list(csv.DictReader(io.StringIO(_csv_text(response))))
    [row] = [row for row in rows if row["培训天数"]]
    assert (row["已完成"], row["尚差"]) == ("200", "350")
    assert (row["培训天数"], row["要求天数"], row["尚差天数"]) == ("60", "90", "30")
    assert row["最接近达标的指标"] == "培训天数"


def test_record_shows_the_closest_measure(world, login):
    today = date.today()
    _record(world, 200, 60, date(today.year - 1, 6, 30))

    page = login("hr").get(f"/people/{world.counselor}/record").get_data(as_text=True)

    assert "尚差350学时或30天" in page
    assert "最接近达标的指标：培训天数（66%）" in page


def test_hr_csv_of_a_rule_without_days_keeps_its_columns(world, login):
    rule_id = db.session.scalar(
        sa.select(ComplianceRule.id).filter_by(code="counselor-school-yearly")
    )

    response = login("hr").get(f"/compliance/rules/{rule_id}/export.csv")

    header = next(csv.reader(io.StringIO(_csv_text(response))))
    assert "培训天数" not in header
