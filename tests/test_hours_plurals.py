"""Notifications stored before their hours took plural forms read in the new wording."""

from datetime import date
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

import pytest
from flask_babel import force_locale

from courses.class_models import ClassMember, MemberStatus
from courses.class_notices import announce_leave_withdrawal
from lms.extensions import db
from lms.notifications.models import Notification
from lms.stored_text import render_stored
from tests.classes.helpers import make_class
from tests.factories import build_learning_world

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


LEAVE_WITHDRAWAL = (
    "You missed %(missed)s of the %(scheduled)s hours of the class's sessions "
    "(excused or absent), more than the %(limit)s of its time that the class "
    "allows. If a mark is wrong, ask the trainers of the class to correct it "
    "and reinstate you."
)


def _withdrawal_notice(hours: str) -> dict:
    world = build_learning_world()
    klass = make_class(world)
    member = ClassMember(
        class_id=klass.id, user_id=world.counselor, status=MemberStatus.WITHDRAWN
    )
    db.session.add(member)
    db.session.flush()
    standing = SimpleNamespace(
        missed_hours=Decimal(hours), scheduled_hours=Decimal(hours), limit=Fraction(1, 7)
    )
    announce_leave_withdrawal(member, standing, key="test")
    notice = db.session.query(Notification).filter_by(kind="class_withdrawn_leave").one()
    return notice.body_data


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ("1", "You missed 1 of the 1 hour of the class's sessions"),
        ("1.5", "You missed 1.5 of the 1.5 hours of the class's sessions"),
    ],
)
def test_leave_withdrawal_notice_hours(app_ctx, hours, expected):
    body = _withdrawal_notice(hours)

    with force_locale("en"):
        english = render_stored(body, "")

    assert english.startswith(expected)


def test_leave_withdrawal_notice_in_chinese(app_ctx):
    body = _withdrawal_notice("1")

    with force_locale("zh_CN"):
        chinese = render_stored(body, "")

    assert chinese.startswith("您在本班 1 学时的场次中缺勤（事假或缺勤）1 学时，超过本班允许的 1/7。")


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "You missed 1 of the 1 hour of the class's sessions"),
        ("zh_CN", "您在本班 1 学时的场次中缺勤（事假或缺勤）1 学时，超过本班允许的 1/7。"),
    ],
)
def test_old_leave_withdrawal_notice_reworded(app, locale, expected):
    stored = {
        "msgid": LEAVE_WITHDRAWAL,
        "params": {"missed": "1", "scheduled": "1", "limit": "1/7"},
    }

    with app.test_request_context(), force_locale(locale):
        text = render_stored(stored, "")

    assert text.startswith(expected)


def _capped_one_hour_day(app, locale: str) -> str:
    group = SimpleNamespace(
        days=1,
        first=date(2026, 9, 1),
        last=date(2026, 9, 1),
        max_hours=Decimal(1),
        trainings=[SimpleNamespace(title="心理健康讲座", hours=Decimal(1))],
        sessions=[],
    )
    template = app.jinja_env.from_string(
        '{% from "lms/records/_capped_days.html" import capped_days_list %}'
        "{{ capped_days_list(groups, 1) }}"
    )
    with app.test_request_context(), force_locale(locale):
        return template.render(groups=[group])


def test_capped_one_hour_day_singular(app):
    html = _capped_one_hour_day(app, "en")

    assert "A day of training counts at most 1 hour, from trainings" in html
    assert ", 1 day: at most 1 hour" in html
    assert "1 hours" not in html


def test_capped_one_hour_day_in_chinese(app):
    html = _capped_one_hour_day(app, "zh_CN")

    assert "共 1 天：最多 1 学时" in html
