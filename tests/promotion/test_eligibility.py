"""Eligibility per kind of condition, with dates at the boundaries in Asia/Shanghai."""

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from flask_babel import force_locale

from lms.accounts.models import Role
from lms.compliance.models import ComplianceRule, WindowKind
from lms.extensions import db
from lms.promotion import engine
from lms.promotion.models import PromotionRule, PromotionTrack
from lms.records.models import HoursEntry, ProgressionKind, TrainingTier
from tests.promotion.conftest import (
    add_entry,
    add_grade,
    make_rule,
    set_level,
    set_title,
)


def _lecturer_since(world, day: date):
    return add_entry(
        world.counselor, ProgressionKind.TITLE_CHANGE, day, {"title": "lecturer"}
    )


def _evaluate(rule, user, today):
    with force_locale("en"):
        return engine.evaluate(rule, user, today)


# Positions


def test_position_since_first_reached(world):
    set_title(world.counselor, "teaching_assistant", date(2020, 9, 1))
    first = _lecturer_since(world, date(2023, 9, 1))
    set_title(world.counselor, "lecturer", date(2024, 1, 5))
    # A correction moves the date of the first lecturer entry.
    add_entry(
        world.counselor,
        ProgressionKind.TITLE_CHANGE,
        date(2023, 7, 1),
        {"title": "lecturer"},
        corrects=first,
    )

    position = engine.positions(world.counselor)[PromotionTrack.PROFESSIONAL_TITLE]

    assert position.value == "lecturer"
    assert position.since == date(2023, 7, 1)


def test_rule_applies_only_from_its_starting_step(world):
    rule = make_rule(world.uni.id)
    assert not engine.evaluate(rule, world.counselor, date(2027, 1, 1)).applies

    set_title(world.counselor, "teaching_assistant", date(2020, 9, 1))
    assert not engine.evaluate(rule, world.counselor, date(2027, 1, 1)).applies

    _lecturer_since(world, date(2024, 9, 1))
    result = engine.evaluate(rule, world.counselor, date(2027, 1, 1))
    assert result.applies and result.eligible


# Years in the current step


def test_years_short_names_the_day_it_is_met(world):
    rule = make_rule(world.uni.id, min_years=3)
    _lecturer_since(world, date(2024, 9, 1))

    result = _evaluate(rule, world.counselor, date(2027, 8, 31))

    assert not result.eligible
    [condition] = result.unmet
    assert condition.message == "2 of 3 required years as Lecturer; eligible from 2027-09-01"
    assert condition.eligible_from == date(2027, 9, 1)


@pytest.mark.parametrize(
    ("moment", "eligible"),
    [
        # 23:59 on 31 August in Shanghai is 15:59 UTC: still short.
        (datetime(2027, 8, 31, 15, 59, tzinfo=timezone.utc), False),
        # Midnight of 1 September in Shanghai is 16:00 UTC on 31 August.
        (datetime(2027, 8, 31, 16, 0, tzinfo=timezone.utc), True),
        (datetime(2027, 9, 2, 0, 0, tzinfo=timezone.utc), True),
    ],
)
def test_years_boundary_follows_the_institution_zone(world, moment, eligible):
    rule = make_rule(world.uni.id, min_years=3)
    _lecturer_since(world, date(2024, 9, 1))

    assert _evaluate(rule, world.counselor, moment).eligible is eligible


def test_years_without_a_known_start_date_are_unmet(world):
    from lms.compliance.models import CadreRank, PersonProfile

    profile = PersonProfile(user_id=world.counselor.id, cadre_rank=CadreRank.CLERK)
    db.session.add(profile)
    rule = make_rule(
        world.uni.id,
        code="rank",
        track=PromotionTrack.ADMINISTRATIVE_RANK,
        from_value="clerk",
        to_value="section_deputy",
        min_years=3,
    )

    result = _evaluate(rule, world.counselor, date(2027, 1, 1))

    assert result.applies and not result.eligible
    assert "Clerk" in result.unmet[0].message
    assert "The record has no date for Clerk" in result.unmet[0].message


# Annual assessment grades


def _grade_rule(world, **values):
    return make_rule(world.uni.id, assessment_years=3, min_grade="competent", **values)


def test_grades_count_the_years_before_the_current_one(world):
    _lecturer_since(world, date(2020, 9, 1))
    for year in (2024, 2025):
        add_grade(world.counselor, year, "competent")
    rule = _grade_rule(world)

    # The last evening of 2026 in Shanghai still checks 2023 to 2025.
    last_evening = datetime(2026, 12, 31, 15, 59, tzinfo=timezone.utc)
    result = _evaluate(rule, world.counselor, last_evening)
    assert not result.eligible
    assert result.unmet[0].message.startswith(
        "No annual assessment grade on record for 2023"
    )

    # From midnight on 1 January 2027 in Shanghai, 2024 to 2026 count.
    new_year = datetime(2026, 12, 31, 16, 0, tzinfo=timezone.utc)
    result = _evaluate(rule, world.counselor, new_year)
    assert result.unmet[0].message.startswith(
        "No annual assessment grade on record for 2026"
    )


def test_graded_current_year_counts(world):
    _lecturer_since(world, date(2020, 9, 1))
    add_grade(world.counselor, 2024, "competent")
    add_grade(world.counselor, 2025, "competent")
    add_grade(world.counselor, 2026, "basically_competent")
    rule = make_rule(world.uni.id, assessment_years=2, min_grade="competent")

    result = _evaluate(rule, world.counselor, date(2026, 12, 20))

    assert not result.eligible
    assert result.unmet[0].message.startswith("2026: Basically competent graded below")


def test_grades_below_minimum_named(world):
    _lecturer_since(world, date(2020, 9, 1))
    add_grade(world.counselor, 2024, "competent")
    low = add_grade(world.counselor, 2025, "basically_competent")
    add_grade(world.counselor, 2026, "excellent")
    rule = _grade_rule(world)

    result = _evaluate(rule, world.counselor, date(2027, 3, 1))
    assert result.unmet[0].message.startswith("2025: Basically competent graded below")

    # A correction replaces the low grade.
    add_entry(
        world.counselor,
        ProgressionKind.ASSESSMENT_GRADE,
        date(2026, 1, 10),
        {"year": 2025, "grade": "competent"},
        corrects=low,
    )
    assert _evaluate(rule, world.counselor, date(2027, 3, 1)).eligible


def test_excellent_grades_are_counted_in_the_checked_years(world):
    _lecturer_since(world, date(2020, 9, 1))
    add_grade(world.counselor, 2023, "excellent")  # outside the window in 2027
    for year in (2024, 2025, 2026):
        add_grade(world.counselor, year, "competent")
    rule = _grade_rule(world, min_excellent=1)

    result = _evaluate(rule, world.counselor, date(2027, 3, 1))
    assert [c.kind for c in result.unmet] == ["excellent"]
    assert result.unmet[0].message == "0 of 1 required Excellent grade in 2024–2026"

    # 2026 is graded already, so on 2026-03-01 the years end with 2026 too.
    early = _evaluate(rule, world.counselor, date(2026, 3, 1))
    assert early.unmet[0].message == "0 of 1 required Excellent grade in 2024–2026"


# Training-hour compliance


def _yearly_rule(world):
    rule = ComplianceRule(
        institution_id=world.uni.id,
        code="school-yearly",
        name="每年校级培训不少于16学时",
        roles=[Role.COUNSELOR],
        window_kind=WindowKind.CALENDAR_YEAR,
        min_hours=Decimal(16),
        tiers=[TrainingTier.SCHOOL],
    )
    db.session.add(rule)
    db.session.flush()
    return rule


def _hours(world, year: int, hours: str):
    db.session.add(
        HoursEntry(
            user_id=world.counselor.id,
            source_type="test",
            source_id=year,
            title=f"{year} 校级培训",
            occurred_on=date(year, 6, 1),
            year=year,
            tier=TrainingTier.SCHOOL,
            hours=Decimal(hours),
        )
    )
    db.session.flush()


def test_compliance_checks_last_year(world):
    _lecturer_since(world, date(2020, 9, 1))
    _yearly_rule(world)
    _hours(world, 2026, "12")
    rule = make_rule(world.uni.id, compliance_required=True)

    result = _evaluate(rule, world.counselor, date(2027, 6, 1))
    assert not result.eligible
    assert "每年校级培训不少于16学时" in result.unmet[0].message

    _hours(world, 2025, "0")  # unrelated year changes nothing
    db.session.query(HoursEntry).filter_by(year=2026).update({"hours": Decimal(16)})
    # 2027 has no hours yet, but its deadline is still ahead.
    assert _evaluate(rule, world.counselor, date(2027, 6, 1)).eligible


def test_compliance_skips_years_before_rule_in_force(world):
    _lecturer_since(world, date(2020, 9, 1))
    yearly = _yearly_rule(world)
    yearly.in_force_from = date(2027, 3, 1)
    _hours(world, 2026, "12")
    rule = make_rule(world.uni.id, compliance_required=True)

    result = _evaluate(rule, world.counselor, date(2027, 6, 1))

    assert result.eligible


def _hours_rule(world, **values):
    for year in (2024, 2025, 2026):
        add_grade(world.counselor, year, "competent")
    return make_rule(
        world.uni.id,
        compliance_required=True,
        assessment_years=3,
        min_grade="competent",
        **values,
    )


def test_compliance_checks_every_year_of_the_window(world):
    _lecturer_since(world, date(2020, 9, 1))
    _yearly_rule(world)
    _hours(world, 2024, "10")
    _hours(world, 2025, "16")
    _hours(world, 2026, "16")
    rule = _hours_rule(world)

    result = _evaluate(rule, world.counselor, date(2027, 6, 1))

    assert not result.eligible
    message = result.unmet[0].message
    assert message.startswith("Training-hour rules missed: 每年校级培训不少于16学时 (")
    # The verdicts are explained in the language of the whole message.
    assert "10 of 16 school-level hours in 2024" in message
    assert "2025" not in message
    assert "2026" not in message


def test_compliance_names_each_short_year(world):
    _lecturer_since(world, date(2020, 9, 1))
    _yearly_rule(world)
    _hours(world, 2024, "10")
    _hours(world, 2025, "16")
    _hours(world, 2026, "4.5")
    rule = _hours_rule(world)

    message = _evaluate(rule, world.counselor, date(2027, 6, 1)).unmet[0].message

    assert message.count("每年校级培训不少于16学时") == 1
    assert "10 of 16 school-level hours in 2024" in message
    assert "4.5 of 16 school-level hours in 2026" in message
    assert message.index("2024") < message.index("2026")


def test_compliance_window_ends_before_current_year(world):
    _lecturer_since(world, date(2020, 9, 1))
    _yearly_rule(world)
    for year in (2023, 2024, 2025, 2026):
        _hours(world, year, "16")
    rule = _hours_rule(world)

    # 2027 has no hours yet, and 2023 is outside the three checked years.
    db.session.query(HoursEntry).filter_by(year=2023).update({"hours": Decimal(0)})
    assert _evaluate(rule, world.counselor, date(2027, 6, 1)).eligible


def test_compliance_year_turn_shanghai(world):
    _lecturer_since(world, date(2020, 9, 1))
    _yearly_rule(world)
    _hours(world, 2025, "16")
    _hours(world, 2026, "10")
    rule = make_rule(world.uni.id, compliance_required=True)

    # 23:59 on 31 December 2026 in Shanghai: 2026 is short but not yet missed.
    assert _evaluate(
        rule, world.counselor, datetime(2026, 12, 31, 15, 59, tzinfo=timezone.utc)
    ).eligible
    # 00:00 on 1 January 2027 in Shanghai: 2026 is missed.
    assert not _evaluate(
        rule, world.counselor, datetime(2026, 12, 31, 16, 0, tzinfo=timezone.utc)
    ).eligible


# Certificates and competency levels


def test_certificate_of_the_programme_must_be_usable(world, monkeypatch):
    _lecturer_since(world, date(2020, 9, 1))
    held = []
    monkeypatch.setattr(engine, "_certificate_source", lambda user_id, today: held)
    # Not added to the session: programme 7 exists only in the fake source.
    rule = PromotionRule(
        institution_id=world.uni.id,
        code="level",
        name="初级晋升中级",
        track=PromotionTrack.PROFESSIONAL_TITLE,
        from_value="lecturer",
        to_value="associate_professor",
        min_years=0,
        required_programme_id=7,
    )

    titles = {7: "初级辅导员岗前培训"}
    today = date(2027, 1, 1)
    result = engine.evaluate(rule, world.counselor, today, programme_titles=titles)
    assert not result.eligible
    assert "初级辅导员岗前培训" in result.unmet[0].message

    held.append({"programme_id": 7, "serial": "SR-2026-000001", "status": "revoked"})
    assert not engine.evaluate(rule, world.counselor, date(2027, 1, 1)).eligible
    held.append({"programme_id": 8, "serial": "SR-2026-000002", "status": "valid"})
    assert not engine.evaluate(rule, world.counselor, date(2027, 1, 1)).eligible
    held.append(
        {"programme_id": 7, "serial": "SR-2026-000003", "status": "expiring_soon"}
    )
    assert engine.evaluate(rule, world.counselor, date(2027, 1, 1)).eligible


def test_competency_level_at_least_the_required_one(world):
    _lecturer_since(world, date(2020, 9, 1))
    rule = make_rule(world.uni.id, required_level="intermediate")

    result = _evaluate(rule, world.counselor, date(2027, 1, 1))
    assert "no level is on the record" in result.unmet[0].message

    set_level(world.counselor, "junior", date(2022, 1, 1))
    result = _evaluate(rule, world.counselor, date(2027, 1, 1))
    assert result.unmet[0].message.endswith("the recorded level is Junior")

    set_level(world.counselor, "senior", date(2025, 1, 1))
    assert _evaluate(rule, world.counselor, date(2027, 1, 1)).eligible


def test_rule_check_rejects_bad_steps(world):
    rule = make_rule(world.uni.id)
    rule.to_value = "teaching_assistant"
    with pytest.raises(ValueError):
        rule.check()
    rule.to_value = "section_chief"
    with pytest.raises(ValueError):
        rule.check()
