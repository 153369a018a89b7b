"""Who adds contest events, and what entrants and department HR see of a contest."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from assessments import contests, moderation, tasks
from assessments.tasks_models import Contest, ContestEvent
from lms import audit
from lms.accounts.models import Role
from lms.extensions import db
from lms.organisations.models import Institution
from tests.assessments.task_builders import make_task, score, user
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("english")

CONTEST_FORM = {
    "title": "辅导员素质能力大赛",
    "award_mode": "rank_share",
    "first_tier": "50",
    "second_tier": "50",
    "third_tier": "0",
}


@pytest.fixture
def outsider(world):
    """Add ``trainer2``, a trainer of institution A who teaches no course."""
    institution = db.session.get(Institution, world.uni_a)
    make_user(institution, "trainer2", Role.TRAINER, full_name="王培训师")
    db.session.commit()
    return "trainer2"


@pytest.fixture
def task_id(world) -> int:
    """A task on course 1, which ``trainer`` authors."""
    task = make_task(world, assessors=("trainer",))
    db.session.commit()
    return task.id


def _new_contest(session) -> int:
    created = session.post("/manage/contests/new", data=CONTEST_FORM)
    assert created.status_code == 302
    return int(created.headers["Location"].rsplit("/", 1)[1])


def _events(contest_id: int) -> list[ContestEvent]:
    db.session.expire_all()
    return list(db.session.get(Contest, contest_id).events)


def test_outsider_offered_no_events(world, outsider, task_id, login):
    session = login(outsider)
    contest_id = _new_contest(session)

    page = session.get(f"/contests/{contest_id}").get_data(as_text=True)

    assert f'value="quiz:{world.quiz}"' not in page
    assert f'value="task:{task_id}"' not in page


@pytest.mark.parametrize("source", ["quiz", "task"])
def test_outsider_cannot_add_event(world, outsider, task_id, login, source):
    session = login(outsider)
    contest_id = _new_contest(session)
    source_id = world.quiz if source == "quiz" else task_id

    added = session.post(
        f"/manage/contests/{contest_id}/events",
        data={"source": f"{source}:{source_id}", "weight": "40"},
    )

    assert added.status_code == 400
    assert "choose one from the list" in added.get_data(as_text=True)
    assert _events(contest_id) == []


@pytest.mark.parametrize("username", ["trainer", "admin"])
def test_teacher_and_admin_add_events(world, task_id, login, username):
    session = login(username)
    contest_id = _new_contest(session)
    page = session.get(f"/contests/{contest_id}").get_data(as_text=True)

    quiz_added = session.post(
        f"/manage/contests/{contest_id}/events",
        data={"source": f"quiz:{world.quiz}", "weight": "40"},
    )
    task_added = session.post(
        f"/manage/contests/{contest_id}/events",
        data={"source": f"task:{task_id}", "weight": "60"},
    )

    assert f'value="quiz:{world.quiz}"' in page
    assert f'value="task:{task_id}"' in page
    assert quiz_added.status_code == 302
    assert task_added.status_code == 302
    assert len(_events(contest_id)) == 2


def test_full_width_weight_accepted(world, login):
    session = login("trainer")
    contest_id = _new_contest(session)

    added = session.post(
        f"/manage/contests/{contest_id}/events",
        data={"source": f"quiz:{world.quiz}", "weight": "４０．５"},
    )

    assert added.status_code == 302
    assert [event.weight for event in _events(contest_id)] == [Decimal("40.5")]


def test_full_width_tiers_accepted(world, login):
    session = login("trainer")

    created = session.post(
        "/manage/contests/new",
        data={**CONTEST_FORM, "first_tier": "１２．５", "second_tier": "３０"},
    )

    assert created.status_code == 302
    contest = db.session.scalar(sa.select(Contest))
    assert contest.first_tier == Decimal("12.5")
    assert contest.second_tier == Decimal("30")


@pytest.mark.parametrize("source", ["quiz", "task"])
def test_same_event_rejected_twice(world, task_id, login, source):
    session = login("trainer")
    contest_id = _new_contest(session)
    source_id = world.quiz if source == "quiz" else task_id
    data = {"source": f"{source}:{source_id}", "weight": "40"}

    first = session.post(f"/manage/contests/{contest_id}/events", data=data)
    second = session.post(f"/manage/contests/{contest_id}/events", data=data)

    assert first.status_code == 302
    assert second.status_code == 400
    text = second.get_data(as_text=True)
    assert "Task or quiz:" in text
    assert "is already an event of this contest" in text
    assert len(_events(contest_id)) == 1


def test_page_offers_only_what_is_not_added(world, login):
    session = login("trainer")
    contest_id = _new_contest(session)
    learner = user("counselor1")
    page = session.get(f"/contests/{contest_id}").get_data(as_text=True)
    assert f'value="quiz:{world.quiz}"' in page
    assert f'value="{learner.id}"' in page

    session.post(
        f"/manage/contests/{contest_id}/events",
        data={"source": f"quiz:{world.quiz}", "weight": "40"},
    )
    session.post(f"/manage/contests/{contest_id}/entrants", data={"user_id": str(learner.id)})
    page = session.get(f"/contests/{contest_id}").get_data(as_text=True)

    assert f'value="quiz:{world.quiz}"' not in page
    assert f'<option value="{learner.id}"' not in page


@pytest.fixture
def awarded(world, task_id) -> int:
    """A contest on the task: counselor1 scores best and wins the first prize."""
    task = db.session.get(tasks.PerformanceTask, task_id)
    for username, levels in (("counselor1", [1, 1, 1]), ("counselor2", [3, 3, 3])):
        submission = tasks.submit(task, user(username), text="分析")
        score(submission, "trainer", levels)
        moderation.moderate(submission, "", "合议", "", user("admin"))
        moderation.release(submission, user("admin"))
    contest = contests.save_contest(world.uni_a, CONTEST_FORM, user("admin"))
    contests.add_event(contest, f"task:{task.id}", "100", user("admin"))
    for username in ("counselor1", "counselor2"):
        contests.add_entrant(contest, user(username), user("admin"))
    db.session.commit()
    return contest.id


def test_entrant_sees_own_standing(awarded, login):
    session = login("counselor1")

    page = session.get("/contests/mine")
    contest_page = session.get(f"/contests/{awarded}")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "辅导员素质能力大赛" in text
    assert "Rank 1 of 2 ranked entrants" in text
    assert "First prize" in text
    assert "李老师" not in text
    assert 'href="/contests/mine"' in text
    assert contest_page.status_code == 403


def test_entrant_sees_no_other_score(awarded, login):
    text = login("counselor2").get("/contests/mine").get_data(as_text=True)

    assert "Rank 2 of 2 ranked entrants" in text
    assert "张老师" not in text
    assert "First prize" not in text


def test_non_entrant_sees_no_contest(awarded, world, login):
    organiser = login("organiser")

    text = organiser.get("/contests/mine").get_data(as_text=True)

    assert "辅导员素质能力大赛" not in text
    assert "You have not been entered in any contest." in text


def test_demo_department_hr_sees_own_department(app_ctx, seeded, login):
    """``hr_cs`` (计算机科学与技术学院) sees no entrant of another department."""
    admin = user("admin")
    quiz = db.session.scalars(
        sa.select(contests.Quiz).where(
            contests.Quiz.course.has(institution_id=admin.institution_id)
        )
    ).first()
    contest = contests.save_contest(admin.institution_id, CONTEST_FORM, admin)
    contests.add_event(contest, f"quiz:{quiz.id}", "100", admin)
    contests.add_entrant(contest, user("counselor1"), admin)
    db.session.commit()
    officer = login("hr_cs")

    page = officer.get(f"/contests/{contest.id}")
    export = officer.get(f"/contests/{contest.id}/standings.csv")
    institution_page = login("hr").get(f"/contests/{contest.id}")

    assert page.status_code == 200
    assert user("counselor1").full_name not in page.get_data(as_text=True)
    assert export.status_code == 200
    assert len(export.data.decode("utf-8-sig").splitlines()) == 1
    assert user("counselor1").full_name in institution_page.get_data(as_text=True)


# Contest owners ---------------------------------------------------------------


def _contest(contest_id: int) -> Contest:
    db.session.expire_all()
    return db.session.get(Contest, contest_id)


def test_creator_recorded_as_owner(world, login):
    session = login("trainer")
    contest_id = _new_contest(session)

    page = session.get(f"/contests/{contest_id}").get_data(as_text=True)

    assert _contest(contest_id).owner_id == user("trainer").id
    assert user("trainer").full_name in page
    assert "Save contest" in page


def test_other_trainer_cannot_change_contest(world, outsider, login):
    contest_id = _new_contest(login("trainer"))
    contests.add_entrant(_contest(contest_id), user("counselor1"), user("admin"))
    db.session.commit()
    session = login(outsider)
    base = f"/manage/contests/{contest_id}"

    page = session.get(f"/contests/{contest_id}")
    edited = session.post(base, data={**CONTEST_FORM, "title": "改名"})
    entered = session.post(f"{base}/entrants", data={"user_id": user("counselor2").id})
    withdrawn = session.post(f"{base}/entrants/{user('counselor1').id}/remove")
    event_removed = session.post(f"{base}/events/1/remove")

    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Save contest" not in text
    assert "Only the owner of this contest and administrators" in text
    assert edited.status_code == 403
    assert entered.status_code == 403
    assert withdrawn.status_code == 403
    assert event_removed.status_code == 403
    contest = _contest(contest_id)
    assert contest.title == CONTEST_FORM["title"]
    assert [entrant.user_id for entrant in contest.entrants] == [user("counselor1").id]


def test_admin_manages_trainer_contest(world, login):
    contest_id = _new_contest(login("trainer"))
    session = login("admin")

    edited = session.post(
        f"/manage/contests/{contest_id}", data={**CONTEST_FORM, "title": "改名"}
    )
    entered = session.post(
        f"/manage/contests/{contest_id}/entrants", data={"user_id": user("counselor2").id}
    )

    assert edited.status_code == 302
    assert entered.status_code == 302
    contest = _contest(contest_id)
    assert contest.title == "改名"
    assert [entrant.user_id for entrant in contest.entrants] == [user("counselor2").id]


def test_standings_hidden_from_non_teacher(awarded, outsider, login):
    session = login(outsider)

    page = session.get(f"/contests/{awarded}")
    export = session.get(f"/contests/{awarded}/standings.csv")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert user("counselor1").full_name not in text
    assert "courses you do not teach" in text
    assert export.status_code == 403


def test_standings_shown_to_event_teacher(awarded, login):
    session = login("trainer")

    page = session.get(f"/contests/{awarded}")
    export = session.get(f"/contests/{awarded}/standings.csv")

    assert user("counselor1").full_name in page.get_data(as_text=True)
    assert "Save contest" not in page.get_data(as_text=True)
    assert export.status_code == 200
    assert len(export.data.decode("utf-8-sig").splitlines()) == 3


def test_admin_changes_owner(world, outsider, login):
    contest_id = _new_contest(login("trainer"))
    admin = login("admin")

    changed = admin.post(
        f"/manage/contests/{contest_id}/owner", data={"owner_username": outsider}
    )
    edited = login(outsider).post(
        f"/manage/contests/{contest_id}", data={**CONTEST_FORM, "title": "改名"}
    )
    previous = login("trainer").post(
        f"/manage/contests/{contest_id}", data={**CONTEST_FORM, "title": "再改"}
    )

    assert changed.status_code == 302
    assert edited.status_code == 302
    assert previous.status_code == 403
    assert _contest(contest_id).owner_id == user(outsider).id
    entry = db.session.scalars(
        sa.select(audit.AuditEntry).filter_by(action="contest.owner_changed")
    ).one()
    assert entry.data["previous_owner_id"] == user("trainer").id
    assert entry.data["owner_id"] == user(outsider).id


def test_owner_change_rejects_learner(world, login):
    contest_id = _new_contest(login("trainer"))

    rejected = login("admin").post(
        f"/manage/contests/{contest_id}/owner", data={"owner_username": "counselor1"}
    )

    assert rejected.status_code == 400
    assert "cannot own a contest" in rejected.get_data(as_text=True)
    assert _contest(contest_id).owner_id == user("trainer").id


def test_trainer_cannot_change_owner(world, outsider, login):
    contest_id = _new_contest(login("trainer"))

    refused = login("trainer").post(
        f"/manage/contests/{contest_id}/owner", data={"owner_username": outsider}
    )

    assert refused.status_code == 403
    assert _contest(contest_id).owner_id == user("trainer").id
