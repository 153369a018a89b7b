"""Notifications show in the reader's current language, not the one they were made in."""

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.extensions import db
from lms.notifications import services
from lms.notifications.models import Notification
from lms.records.external import REVIEW_DUE_KIND, notify_reviewers
from lms.records.models import ExternalTraining, TrainingKind, TrainingTier
from lms.stored_text import stored_gettext
from tests.factories import build_learning_world

SENDER = "Shuren <noreply@example.edu.cn>"


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def _result_released(user: User) -> Notification:
    return services.enqueue(
        user,
        "task_result",
        "task_submission",
        1,
        stored_gettext("Result released: %(task)s", task="案例分析"),
        stored_gettext(
            "Your score is %(score)s of %(max)s. Open the task to read the feedback.",
            score="90",
            max="100",
        ),
        link="/tasks/1",
    )


def _outside_training(user_id: int) -> ExternalTraining:
    training = ExternalTraining(
        user_id=user_id,
        title="心理危机干预专题培训",
        organiser="省教育厅",
        tier=TrainingTier.PROVINCIAL,
        kind=TrainingKind.THEMATIC,
        start_date=date(2026, 5, 10),
        end_date=date(2026, 5, 12),
        hours=Decimal("24.0"),
        evidence_path="a" * 32 + ".pdf",
        evidence_name="结业证书.pdf",
        evidence_type="application/pdf",
    )
    db.session.add(training)
    db.session.flush()
    return training


def _inbox(session, language: str) -> str:
    session.post(f"/language/{language}")
    return session.get("/notifications").get_data(as_text=True)


def test_made_in_english_read_in_chinese(world, login):
    counselor = db.session.get(User, world.counselor)
    counselor.locale = "en"
    notification = _result_released(counselor)
    db.session.commit()
    assert notification.title == "Result released: 案例分析"

    page = _inbox(login("counselor1"), "zh_CN")

    assert "成绩已发布：案例分析" in page
    assert "您的成绩为 90 分（满分 100）" in page
    assert "Result released" not in page


def test_made_in_chinese_read_in_english(world, login):
    notify_reviewers(_outside_training(world.counselor))
    db.session.commit()
    stored = db.session.scalars(
        sa.select(Notification).where(Notification.kind == REVIEW_DUE_KIND)
    ).one()
    assert stored.title == "有一项校外培训等待您审核"

    page = _inbox(login("hr"), "en")

    assert "An outside training waits for your review" in page
    assert "张老师 submitted 心理危机干预专题培训 (24 hours) with evidence." in page
    assert "有一项校外培训等待您审核" not in page


def test_switching_back_renders_again(world, login):
    _result_released(db.session.get(User, world.counselor))
    db.session.commit()
    session = login("counselor1")

    english = _inbox(session, "en")
    chinese = _inbox(session, "zh_CN")

    assert "Result released: 案例分析" in english
    assert "成绩已发布：案例分析" in chinese


def test_plain_text_row_shows_stored_text(world, login):
    counselor = db.session.get(User, world.counselor)
    services.enqueue(counselor, "certificate_expiring_30", "certificate", 1, "证书将到期", "正文")
    db.session.commit()

    page = _inbox(login("counselor1"), "en")

    assert "证书将到期" in page
    assert "正文" in page


def test_email_uses_language_at_send_time(world):
    counselor = db.session.get(User, world.counselor)
    counselor.email = "zhang@example.edu.cn"
    counselor.locale = "en"
    notification = _result_released(counselor)
    counselor.locale = "zh_CN"
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)

    message = services.build_message(notification, counselor, SENDER, now)

    assert message["Subject"] == "成绩已发布：案例分析"
    assert "您的成绩为 90 分" in message.get_content()


def test_email_of_plain_text_row(world):
    counselor = db.session.get(User, world.counselor)
    counselor.email = "zhang@example.edu.cn"
    counselor.locale = "en"
    notification = services.enqueue(
        counselor, "certificate_expiring_30", "certificate", 1, "证书将到期", "正文"
    )
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)

    message = services.build_message(notification, counselor, SENDER, now)

    assert message["Subject"] == "证书将到期"
    assert message.get_content().startswith("正文")
