"""Lists and dates inside Chinese condition messages follow Chinese usage."""

from datetime import date

from flask_babel import force_locale

from lms.promotion import engine
from tests.promotion.conftest import add_grade, make_rule
from tests.promotion.test_eligibility import (
    _hours,
    _hours_rule,
    _lecturer_since,
    _yearly_rule,
)


def _chinese(condition) -> str:
    return condition.text.render("zh_CN")


def _english(condition) -> str:
    return condition.text.render("en")


def test_missing_years_listed_with_comma(world):
    """Two years without a grade are joined by 、 in Chinese."""
    _lecturer_since(world, date(2020, 9, 1))
    add_grade(world.counselor, 2026, "competent")
    rule = make_rule(world.uni.id, assessment_years=3, min_grade="competent")

    with force_locale("zh_CN"):
        [condition] = engine.evaluate(rule, world.counselor, date(2027, 3, 1)).unmet

    assert _chinese(condition).startswith("2024、2025年无年度考核结果记录")
    assert _english(condition).startswith(
        "No annual assessment grade on record for 2024, 2025;"
    )


def test_low_grades_listed_in_chinese(world):
    """Years graded too low read as years with the grade in brackets."""
    _lecturer_since(world, date(2020, 9, 1))
    add_grade(world.counselor, 2024, "basically_competent")
    add_grade(world.counselor, 2025, "incompetent")
    add_grade(world.counselor, 2026, "competent")
    rule = make_rule(world.uni.id, assessment_years=3, min_grade="competent")

    [condition] = engine.evaluate(rule, world.counselor, date(2027, 3, 1)).unmet

    assert _chinese(condition).startswith("2024年（基本合格）、2025年（不合格）低于合格")
    assert _english(condition).startswith(
        "2024: Basically competent, 2025: Incompetent graded below"
    )


def test_missed_rules_bracketed_in_chinese(world):
    """A missed training-hour rule and its years use Chinese brackets and semicolons."""
    _lecturer_since(world, date(2020, 9, 1))
    _yearly_rule(world)
    _hours(world, 2024, "10")
    _hours(world, 2025, "16")
    _hours(world, 2026, "4.5")
    rule = _hours_rule(world)

    [condition] = engine.evaluate(rule, world.counselor, date(2027, 6, 1)).unmet

    chinese = _chinese(condition)
    assert chinese.startswith("未达标的学时规则：每年校级培训不少于16学时（")
    assert chinese.endswith("）")
    assert "；" in chinese
    assert " (" not in chinese
    assert "; " not in chinese
    assert _english(condition).startswith(
        "Training-hour rules missed: 每年校级培训不少于16学时 ("
    )


def test_eligible_from_date_in_reader_format(world):
    """The day the years condition is met reads as a Chinese date in Chinese."""
    _lecturer_since(world, date(2024, 9, 1))
    rule = make_rule(world.uni.id, min_years=3)

    [condition] = engine.evaluate(rule, world.counselor, date(2026, 3, 1)).unmet

    assert _chinese(condition).endswith("2027年9月1日起符合条件")
    assert _english(condition).endswith("eligible from 2027-09-01")
