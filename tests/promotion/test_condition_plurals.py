"""Condition messages take the English singular for a count of one.

Snapshots filed before the messages had plural forms stored the gettext
msgid, and they render in the plural wording too.
"""

from datetime import date

from flask_babel import force_locale

from lms.promotion import engine
from lms.stored_text import render_stored
from tests.promotion.conftest import add_entry, add_grade, make_rule
from lms.records.models import ProgressionKind


def _lecturer_since(world, day: date):
    add_entry(world.counselor, ProgressionKind.TITLE_CHANGE, day, {"title": "lecturer"})


def _messages(rule, user, today) -> list[str]:
    with force_locale("en"):
        return [c.message for c in engine.evaluate(rule, user, today).conditions]


def test_one_year_met_is_singular(world):
    rule = make_rule(world.uni.id, min_years=1)
    _lecturer_since(world, date(2025, 9, 1))

    messages = _messages(rule, world.counselor, date(2026, 9, 1))

    assert "1 year as Lecturer (1 required)" in messages


def test_one_required_year_is_singular(world):
    rule = make_rule(world.uni.id, min_years=1)
    _lecturer_since(world, date(2026, 3, 1))

    messages = _messages(rule, world.counselor, date(2026, 9, 1))

    assert "0 of 1 required year as Lecturer; eligible from 2027-03-01" in messages


def test_one_required_excellent_grade_is_singular(world):
    _lecturer_since(world, date(2020, 9, 1))
    for year in (2024, 2025, 2026):
        add_grade(world.counselor, year, "competent")
    rule = make_rule(world.uni.id, assessment_years=3, min_excellent=1)

    messages = _messages(rule, world.counselor, date(2027, 3, 1))

    assert "0 of 1 required Excellent grade in 2024–2026" in messages


def test_old_snapshot_message_reworded(app):
    stored = {
        "msgid": "%(done)s years as %(step)s (%(required)s required)",
        "params": {"done": 1, "step": "Lecturer", "required": 1},
    }
    with app.test_request_context():
        with force_locale("en"):
            english = render_stored(stored, "已任讲师 1年（要求1年）")
        with force_locale("zh_CN"):
            chinese = render_stored(stored, "已任讲师 1年（要求1年）")

    assert english == "1 year as Lecturer (1 required)"
    assert chinese == "已任Lecturer 1年（要求1年）"


def test_old_snapshot_plural_kept(app):
    stored = {
        "msgid": "%(count)s of %(required)s required %(grade)s grades in %(span)s",
        "params": {
            "count": 0,
            "required": 2,
            "grade": "Excellent",
            "span": "2024–2026",
        },
    }
    with app.test_request_context(), force_locale("en"):
        english = render_stored(stored, "")

    assert english == "0 of 2 required Excellent grades in 2024–2026"
