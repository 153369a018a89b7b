"""Notifications stored before their hours took plural forms read in the new wording."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from flask_babel import force_locale

from lms.stored_text import render_stored

CERTIFICATE = (
    "You received the certificate of %(title)s (%(hours)s hours). "
    "Download it under My certificates."
)
APPROVED = "%(title)s (%(hours)s hours) was approved, so its hours count."


@pytest.mark.parametrize(
    ("msgid", "hours", "expected"),
    [
        (CERTIFICATE, "1", "You received the certificate of 培训 (1 hour)."),
        (CERTIFICATE, "1.5", "You received the certificate of 培训 (1.5 hours)."),
        (APPROVED, "1", "培训 (1 hour) was approved, so its hour counts."),
        (APPROVED, "8", "培训 (8 hours) was approved, so its hours count."),
    ],
)
def test_old_hours_notice_reworded(app, msgid, hours, expected):
    stored = {"msgid": msgid, "params": {"title": "培训", "hours": hours}}

    with app.test_request_context(), force_locale("en"):
        english = render_stored(stored, "")

    assert english.startswith(expected)


def test_old_hours_notice_in_chinese(app):
    stored = {"msgid": APPROVED, "params": {"title": "培训", "hours": "1"}}

    with app.test_request_context(), force_locale("zh_CN"):
        chinese = render_stored(stored, "")

    assert chinese == "您的校外培训“培训”（1 学时）已审核通过，学时已计入。"


def test_capped_day_lists_one_hour(app):
    group = SimpleNamespace(
        days=1,
        first=date(2026, 9, 1),
        last=date(2026, 9, 1),
        max_hours=Decimal(8),
        trainings=[SimpleNamespace(title="心理健康讲座", hours=Decimal(1))],
        sessions=[
            SimpleNamespace(
                title="案例研讨", held_on=date(2026, 9, 1), hours=Decimal("1.0")
            )
        ],
    )
    template = app.jinja_env.from_string(
        '{% from "lms/records/_capped_days.html" import capped_days_list %}'
        "{{ capped_days_list(groups, 8) }}"
    )

    with app.test_request_context(), force_locale("en"):
        html = template.render(groups=[group])

    assert "心理健康讲座 (taken elsewhere, 1 hour)" in html
    assert "credited 1 hour)" in html
    assert "1 hours" not in html
