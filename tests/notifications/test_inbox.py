"""The in-app notification list, marking read, and e-mail settings, through real logins."""

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.extensions import db
from lms.notifications import services
from lms.notifications.models import EmailPreference, EmailStatus, Notification
from tests.factories import build_learning_world


@pytest.fixture
def world(app_ctx):
    world = build_learning_world()
    counselor = db.session.get(User, world.counselor)
    counselor.email = "zhang@example.edu.cn"
    world.first = services.enqueue(
        counselor, "certificate_expiring_30", "certificate", 1, "证书将到期", "正文\n第二行",
        link="/certificates",
    ).id
    world.second = services.enqueue(
        counselor, "lesson_session_starts", "lesson", 2, "线下课程明天开始", "地点", link="//evil.example"
    ).id
    world.foreign = services.enqueue(
        world.counselor2, "certificate_expiring_30", "certificate", 3, "别人的通知", "x"
    ).id
    db.session.commit()
    return world


def _read_at(notification_id):
    db.session.expire_all()
    return db.session.get(Notification, notification_id).read_at


def test_inbox_lists_own_notifications(world, login):
    page = login("counselor1").get("/notifications").get_data(as_text=True)

    assert "证书将到期" in page
    assert "线下课程明天开始" in page
    assert "别人的通知" not in page
    assert page.index("线下课程明天开始") < page.index("证书将到期")
    assert '<span class="badge badge-warn">2</span>' in page


def test_open_marks_read_and_follows_local_link(world, login):
    session = login("counselor1")

    response = session.post(f"/notifications/{world.first}/read", data={"open": "1"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/certificates"
    assert _read_at(world.first) is not None


def test_open_ignores_foreign_link(world, login):
    response = login("counselor1").post(f"/notifications/{world.second}/read", data={"open": "1"})

    assert response.headers["Location"] == "/notifications"
    assert _read_at(world.second) is not None


def test_other_users_notification_is_404(world, login):
    response = login("counselor1").post(f"/notifications/{world.foreign}/read")

    assert response.status_code == 404
    assert _read_at(world.foreign) is None


def test_mark_all_read_only_own(world, login):
    session = login("counselor1")

    assert session.post("/notifications/read-all").status_code == 302

    assert _read_at(world.first) is not None
    assert _read_at(world.second) is not None
    assert _read_at(world.foreign) is None
    assert '<span class="badge badge-warn">' not in session.get("/notifications").get_data(as_text=True)


def test_settings_turn_email_off_per_group(world, login):
    session = login("counselor1")
    page = session.get("/notifications/settings").get_data(as_text=True)
    assert 'value="certificate_expiry" checked' in page
    assert 'value="lesson_session_starts" checked' in page
    assert 'value="compliance_hr_summary"' not in page

    response = session.post("/notifications/settings", data={"email": ["lesson_session_starts"]})

    assert response.status_code == 302
    counselor = db.session.get(User, world.counselor)
    off = db.session.scalars(
        sa.select(EmailPreference.kind).where(
            EmailPreference.user_id == counselor.id, EmailPreference.email_enabled.is_(False)
        )
    ).all()
    assert set(off) == {
        "certificate_expiring_90",
        "certificate_expiring_30",
        "certificate_expiring_7",
        "certificate_expired",
        "compliance_at_risk",
        "compliance_year_reminder",
        "quiz_closes",
        "task_due",
        "class_starts",
        "class_session_held",
    }
    later = services.enqueue(counselor, "certificate_expiring_7", "certificate", 9, "t", "b")
    assert later.email_status is EmailStatus.SKIPPED
    page = session.get("/notifications/settings").get_data(as_text=True)
    assert 'value="certificate_expiry" checked' not in page


def test_settings_for_hr_include_summary(world, login):
    page = login("hr").get("/notifications/settings").get_data(as_text=True)

    assert 'value="compliance_hr_summary"' in page
    assert 'value="compliance"' not in page


def test_settings_post_needs_csrf(world, login):
    session = login("counselor1")

    assert session.client.post("/notifications/settings", data={}).status_code == 400
    assert session.client.post("/notifications/read-all", data={}).status_code == 400


@pytest.mark.parametrize(
    "page", ["999999999999999999999", "99999", "0", "-1", "abc", "²"]
)
def test_inbox_page_out_of_range_redirects(world, login, english, page):
    session = login("counselor1")
    response = session.get(f"/notifications?page={page}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/notifications"
    shown = session.get("/notifications").get_data(as_text=True)
    assert f"Page {page} does not exist: the notifications fill pages 1 to 1" in shown
    assert "证书将到期" in shown


def test_inbox_second_page_kept(world, login):
    counselor = db.session.get(User, world.counselor)
    for number in range(31):
        services.enqueue(counselor, "certificate_expiring_30", "certificate", 100 + number, f"第{number}条", "x")
    db.session.commit()
    response = login("counselor1").get("/notifications?page=2")
    assert response.status_code == 200
    assert "第0条" in response.get_data(as_text=True)
