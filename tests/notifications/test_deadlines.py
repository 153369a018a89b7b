"""Deadline reminders: the source registry, the offsets and the offline-session source."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from courses.models import Enrolment, Lesson, LessonProgress
from lms.accounts.models import User
from lms.extensions import db
from lms.notifications import deadlines
from lms.notifications.deadlines import Deadline
from lms.notifications.models import Notification
from lms.scheduler import run_job_once
from tests.factories import build_learning_world
from tests.notifications.conftest import make_person

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: 14:00 on 2026-03-10 in Asia/Shanghai.
DUE = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)


def _at_local(day: int, hour: int = 8) -> datetime:
    """Return ``hour``:00 on 2026-03-``day`` in Asia/Shanghai, as UTC."""
    return datetime(2026, 3, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


def _notifications(user_id=None) -> list[Notification]:
    query = sa.select(Notification).order_by(Notification.id)
    if user_id is not None:
        query = query.where(Notification.recipient_id == user_id)
    return list(db.session.scalars(query))


@pytest.fixture
def fixed_source():
    """Register a test source with one deadline per listed user; yield the list."""
    items: list[Deadline] = []

    def fetch(start, end):
        return [item for item in items if start < item.due_at <= end]

    deadlines.register_deadline_source(
        "test_due",
        fetch,
        title="Task %(title)s is due %(when)s",
        body="The task %(title)s is due at %(due)s.",
    )
    yield items
    deadlines.unregister_deadline_source("test_due")


@pytest.mark.parametrize(
    ("days_left", "offset"),
    [(5, None), (4, None), (3, 3), (2, 3), (1, 1), (0, 1), (-1, None)],
)
def test_offset_for_days_left(days_left, offset):
    assert deadlines.reminder_offset(days_left, (3, 1)) == offset


def test_offsets_from_config(app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "LMS_DEADLINE_REMINDER_DAYS", "1, 7,3")
    assert deadlines.reminder_offsets() == (7, 3, 1)

    monkeypatch.setitem(app.config, "LMS_DEADLINE_REMINDER_DAYS", "three")
    with pytest.raises(ValueError, match="LMS_DEADLINE_REMINDER_DAYS"):
        deadlines.reminder_offsets()


def test_offline_session_source_is_registered(app):
    assert "lesson_session_starts" in {s.kind for s in deadlines.registered_sources()}


def test_reminders_3_and_1_days_before_once(institution, fixed_source):
    person = make_person(institution, "due1", locale="en")
    db.session.commit()
    fixed_source.append(Deadline(person.id, "task", 7, DUE, {"title": "Essay"}, "/tasks/7"))

    assert deadlines.deadline_reminders(_at_local(6))["queued"] == 0
    assert deadlines.deadline_reminders(_at_local(7)) == {"checked": 1, "queued": 1}
    db.session.commit()
    assert deadlines.deadline_reminders(_at_local(7, 20))["queued"] == 0
    assert deadlines.deadline_reminders(_at_local(8))["queued"] == 0
    assert deadlines.deadline_reminders(_at_local(9))["queued"] == 1
    assert deadlines.deadline_reminders(_at_local(10, 9))["queued"] == 0
    db.session.commit()

    rows = _notifications(person.id)
    assert [row.dedupe_key for row in rows] == [
        f"{person.id}:test_due:task:7:3d",
        f"{person.id}:test_due:task:7:1d",
    ]
    assert rows[0].title == "Task Essay is due in 3 days"
    assert rows[1].title == "Task Essay is due tomorrow"
    assert rows[1].body == "The task Essay is due at 2026-03-10 14:00."
    assert rows[0].link == "/tasks/7"


def test_missed_reminder_sent_next_run(institution, fixed_source):
    person = make_person(institution, "due2", locale="zh_CN")
    db.session.commit()
    fixed_source.append(Deadline(person.id, "task", 8, DUE, {"title": "论文"}))

    assert deadlines.deadline_reminders(_at_local(8))["queued"] == 1
    db.session.commit()

    (row,) = _notifications(person.id)
    assert row.dedupe_key.endswith(":3d")
    assert "2" in row.title
    assert "论文" in row.title


def test_no_reminder_after_due_or_for_inactive(institution, fixed_source):
    person = make_person(institution, "due3")
    inactive = make_person(institution, "due4")
    inactive.active = False
    db.session.commit()
    fixed_source.append(Deadline(person.id, "task", 9, DUE, {"title": "x"}))
    fixed_source.append(Deadline(inactive.id, "task", 9, DUE, {"title": "x"}))

    assert deadlines.deadline_reminders(_at_local(10, 15))["queued"] == 0
    assert deadlines.deadline_reminders(_at_local(9))["queued"] == 1
    db.session.commit()
    assert [row.recipient_id for row in _notifications()] == [person.id]


def test_days_counted_in_recipient_zone(institution, fixed_source):
    """At 23:30 UTC on 6 March it is already 7 March in Shanghai: 3 local days left."""
    person = make_person(institution, "due5")
    db.session.commit()
    fixed_source.append(Deadline(person.id, "task", 10, DUE, {"title": "x"}))

    assert deadlines.deadline_reminders(datetime(2026, 3, 6, 15, 30, tzinfo=UTC))["queued"] == 0
    assert deadlines.deadline_reminders(datetime(2026, 3, 6, 16, 30, tzinfo=UTC))["queued"] == 1


def test_offline_session_reminds_enrolled_learners(app_ctx):
    world = build_learning_world()
    lesson = db.session.get(Lesson, world.lessons1[0])
    lesson.session_starts_at = DUE
    lesson.session_place = "主楼201"
    enrolled = db.session.get(User, world.counselor)
    finished = db.session.get(User, world.counselor2)
    db.session.add_all(
        [
            Enrolment(user_id=enrolled.id, programme_id=world.programme),
            Enrolment(user_id=finished.id, programme_id=world.programme),
            LessonProgress(user_id=finished.id, lesson_id=lesson.id),
        ]
    )
    db.session.commit()

    run = run_job_once("deadline_reminders", now=_at_local(9))
    assert run.ok, run.error
    assert run.result["queued"] == 1
    rerun = run_job_once("deadline_reminders", now=_at_local(9, 12))
    assert rerun.result["queued"] == 0

    (row,) = _notifications()
    assert row.recipient_id == enrolled.id
    assert row.kind == "lesson_session_starts"
    assert row.subject_type == "lesson"
    assert "主楼201" in row.body
    assert row.link == f"/courses/{lesson.course_id}/lessons/{lesson.id}"


def test_broken_source_does_not_stop_others(institution, fixed_source):
    person = make_person(institution, "due6")
    db.session.commit()
    fixed_source.append(Deadline(person.id, "task", 11, DUE, {"title": "x"}))

    def broken(start, end):
        raise RuntimeError("source database is down")

    deadlines.register_deadline_source("aaa_broken", broken, title="t", body="b")
    try:
        result = deadlines.deadline_reminders(_at_local(9))
    finally:
        deadlines.unregister_deadline_source("aaa_broken")

    assert result["queued"] == 1
    assert result["failed_sources"] == ["aaa_broken"]
