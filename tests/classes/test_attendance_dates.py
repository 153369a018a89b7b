"""Attendance credits 学时 at once, so it cannot be marked before the session's day."""

import sqlalchemy as sa

from courses.class_models import Attendance, ClassMember, ClassSession, MemberStatus
from lms.accounts.models import User
from lms.extensions import db


def test_future_session_cannot_be_marked(app_ctx, seeded, login):
    session = db.session.scalar(sa.select(ClassSession).order_by(ClassSession.id))
    counselor = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    db.session.add(
        ClassMember(class_id=session.class_id, user_id=counselor.id, status=MemberStatus.ENROLLED)
    )
    db.session.commit()
    trainer = login("trainer")
    url = f"/classes/{session.class_id}/sessions/{session.id}/attendance"

    response = trainer.client.post(
        url, data={"csrf_token": trainer.csrf, f"mark-{counselor.id}": "present"}
    )

    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 0
    page = trainer.client.get(url).get_data(as_text=True)
    assert "学时" in page


def test_future_session_sheet_says_so_before_marking(app_ctx, seeded, login, english):
    session = db.session.scalar(sa.select(ClassSession).order_by(ClassSession.id))
    counselor = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    db.session.add(
        ClassMember(class_id=session.class_id, user_id=counselor.id, status=MemberStatus.ENROLLED)
    )
    db.session.commit()
    trainer = login("trainer")
    trainer.post("/language/en")
    url = f"/classes/{session.class_id}/sessions/{session.id}/attendance"

    page = trainer.get(url).get_data(as_text=True)

    assert "Attendance can be recorded from the day of the session" in page
    assert "Save attendance" not in page


def test_held_session_sheet_can_be_saved(app_ctx, seeded, login, english):
    from datetime import date

    session = db.session.scalar(sa.select(ClassSession).order_by(ClassSession.id))
    session.held_on = date(2026, 1, 5)
    counselor = db.session.scalar(sa.select(User).filter_by(username="counselor1"))
    db.session.add(
        ClassMember(class_id=session.class_id, user_id=counselor.id, status=MemberStatus.ENROLLED)
    )
    db.session.commit()
    trainer = login("trainer")
    trainer.post("/language/en")

    page = trainer.get(
        f"/classes/{session.class_id}/sessions/{session.id}/attendance"
    ).get_data(as_text=True)

    assert "Attendance can be recorded from the day of the session" not in page
    assert "Save attendance" in page
