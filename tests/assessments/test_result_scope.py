"""Department HR reads task results and contest standings of its department only."""

import pytest

from assessments import contests, moderation, tasks
from lms.accounts.models import Role
from lms.extensions import db
from tests.assessments.task_builders import make_task, score, user
from tests.factories import make_user


@pytest.fixture
def released(world):
    """Add a task with released results of counselor1 and counselor2, and a contest.

    counselor1 works in the 教育学院 and counselor2 in the 物理学院, whose HR
    officer ``hr_phy`` is added too.
    """
    task = make_task(world, assessors=("trainer",))
    for username, levels in (("counselor1", [1, 1, 1]), ("counselor2", [2, 2, 2])):
        submission = tasks.submit(task, user(username), text="分析")
        score(submission, "trainer", levels)
        moderation.moderate(submission, "", "合议", "", user("admin"))
        moderation.release(submission, user("admin"))
    contest = contests.save_contest(
        world.uni_a,
        {
            "title": "辅导员素质能力大赛",
            "award_mode": "rank_share",
            "first_tier": "50",
            "second_tier": "50",
            "third_tier": "0",
        },
        user("trainer"),
    )
    contests.add_event(contest, f"task:{task.id}", "100", user("trainer"))
    for username in ("counselor1", "counselor2"):
        contests.add_entrant(contest, user(username), user("trainer"))
    officer = make_user(user("hr").institution, "hr_phy", Role.HR, full_name="物理人事")
    officer.hr_department_id = world.physics
    db.session.commit()
    return task.id, contest.id


def test_task_results_page_department_hr(released, login):
    task_id, _contest_id = released

    page = login("hr_phy").get(f"/tasks/{task_id}/results")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "李老师" in text
    assert "张老师" not in text


def test_task_results_csv_department_hr(released, login):
    task_id, _contest_id = released

    export = login("hr_phy").get(f"/tasks/{task_id}/results.csv")

    assert export.status_code == 200
    rows = export.data.decode("utf-8-sig").splitlines()[1:]
    assert [row.split(",")[0] for row in rows] == ["李老师"]


def test_task_result_index_counts_department(released, login):
    task_id, _contest_id = released

    page = login("hr_phy").get("/results/tasks").get_data(as_text=True)

    assert f'<a href="/tasks/{task_id}/results">' in page
    assert "<td>1</td>" in page
    assert "<td>2</td>" not in page


def test_task_results_institution_hr_sees_all(released, login):
    task_id, _contest_id = released

    text = login("hr").get(f"/tasks/{task_id}/results").get_data(as_text=True)
    export = login("hr").get(f"/tasks/{task_id}/results.csv")

    assert "李老师" in text
    assert "张老师" in text
    assert len(export.data.decode("utf-8-sig").splitlines()) == 3


def test_contest_page_department_hr(released, login):
    _task_id, contest_id = released

    page = login("hr_phy").get(f"/contests/{contest_id}")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "李老师" in text
    assert "张老师" not in text


def test_contest_standings_csv_department_hr(released, login):
    _task_id, contest_id = released

    export = login("hr_phy").get(f"/contests/{contest_id}/standings.csv")

    assert export.status_code == 200
    rows = [row.split(",") for row in export.data.decode("utf-8-sig").splitlines()[1:]]
    # counselor2 scored 75 % against counselor1's 100 %, so keeps rank 2.
    assert [(row[0], row[1]) for row in rows] == [("2", "李老师")]


def test_contest_standings_institution_hr_sees_all(released, login):
    _task_id, contest_id = released

    text = login("hr").get(f"/contests/{contest_id}").get_data(as_text=True)
    export = login("hr").get(f"/contests/{contest_id}/standings.csv")

    assert "李老师" in text
    assert "张老师" in text
    assert len(export.data.decode("utf-8-sig").splitlines()) == 3
