"""Messages write dates in the reader's language: 2026年9月1日 in Chinese.

English keeps the ISO form that the English pages use (lms.i18n.ENGLISH_DATE).
"""

import ast
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from flask_babel import force_locale

from courses.class_import import problem_message
from lms import PROJECT_ROOT
from lms.input_ranges import (
    class_date_problem,
    date_range_problem,
    post_start_problem,
    scheduled_time_problem,
    training_date_problem,
)
from lms.records.appointments import HeldPost, describe
from lms.records.events import full_member_date_problem

TODAY = date(2026, 9, 1)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
CHINESE_DATE = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")

#: Functions whose keyword arguments fill the placeholders of a message.
MESSAGE_FUNCTIONS = {
    "_",
    "gettext",
    "ngettext",
    "_l",
    "lazy_gettext",
    "lazy_ngettext",
    "stored_gettext",
    "stored_ngettext",
}
SOURCE_PACKAGES = ("lms", "courses", "assessments", "certificates")


def _function_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _iso_arguments(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            not isinstance(node, ast.Call)
            or _function_name(node) not in MESSAGE_FUNCTIONS
        ):
            continue
        for keyword in node.keywords:
            text = ast.get_source_segment(source, keyword.value) or ""
            if "isoformat(" in text or "strftime(" in text:
                found.append(
                    f"{path.relative_to(PROJECT_ROOT)}:{keyword.value.lineno}: {text}"
                )
    return found


def test_no_message_gets_iso_dates():
    found = []
    for package in SOURCE_PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            found.extend(_iso_arguments(path))

    assert found == []


@pytest.mark.parametrize(
    "problem",
    [
        lambda: post_start_problem(date(1949, 9, 1), TODAY),
        lambda: training_date_problem(date(1999, 9, 1), TODAY),
        lambda: class_date_problem(date(1999, 9, 1), TODAY, "开始日期"),
        lambda: date_range_problem(date(1899, 9, 1)),
        lambda: full_member_date_problem(date(2026, 9, 1), date(2026, 3, 1)),
        lambda: full_member_date_problem(date(2026, 3, 1), date(2026, 9, 1)),
    ],
)
def test_date_problems_in_chinese(app, problem):
    with app.test_request_context(), force_locale("zh_CN"):
        message = problem()

    assert CHINESE_DATE.search(message) is not None
    assert ISO_DATE.search(message) is None


def test_date_problem_in_english(app):
    with app.test_request_context(), force_locale("en"):
        message = post_start_problem(date(1949, 9, 1), TODAY)

    assert "1949-09-01" in message
    assert "from 1950-01-01 to 2027-09-01" in message


def test_datetime_problems_at_calendar_ends(app):
    # A typed value at the end of the calendar must not overflow when shown.
    last = datetime(9999, 12, 31, 23, 59)
    with app.test_request_context():
        with force_locale("zh_CN"):
            chinese = date_range_problem(last)
            planned = scheduled_time_problem(
                datetime(1999, 9, 1, 8, 0), TODAY, "截止时间"
            )
        with force_locale("en"):
            english = date_range_problem(last)

    assert "9999/12/31 23:59" in chinese
    assert "1999/9/1 08:00" in planned
    assert "9999-12-31 23:59" in english
    assert "T" not in english.split(" is out of range")[0]


def test_held_post_named_with_local_dates(app):
    held = HeldPost(
        post="part_time_counselor",
        started_on=date(2019, 9, 1),
        ended_on=date(2022, 6, 30),
        row=None,
    )

    with app.test_request_context(), force_locale("zh_CN"):
        text = describe(held)

    assert "2019年9月1日" in text
    assert "2022年6月30日" in text


def test_roster_problem_formats_stored_iso_range(app):
    problem = {
        "row": 3,
        "column": "上岗日期",
        "code": "post_start_implausible",
        "value": "1900-01-01",
        "min": "1950-01-01",
        "max": "2027-09-01",
    }

    with app.test_request_context(), force_locale("zh_CN"):
        message = problem_message(problem)

    assert "1950年1月1日" in message
    assert "2027年9月1日" in message
    # The cell is quoted as the file has it.
    assert "1900-01-01" in message
