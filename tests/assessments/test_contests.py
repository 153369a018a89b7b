"""Contest standings: weighted totals, competition ranking with ties, award tiers."""

from decimal import Decimal
from fractions import Fraction

import pytest

from assessments import contests, moderation, tasks
from assessments import services as quiz_services
from assessments.contests import Standing
from assessments.models import Quiz
from assessments.tasks_models import AwardMode, Contest
from courses.authoring import AuthoringError
from lms.extensions import db
from tests.assessments.task_builders import make_task, score, user


def _standings(totals):
    return [
        Standing(user=None, scores=[], total=None if t is None else Fraction(t))
        for t in totals
    ]


def test_weighted_total_missing_event_zero():
    weights = [Decimal(30), Decimal(40), Decimal(30)]
    scores = [Fraction(80), Fraction(90), None]
    assert contests.weighted_total(weights, scores) == Fraction(60)
    assert contests.weighted_total(weights, [None, None, None]) is None
    uneven = contests.weighted_total(
        [Decimal(1), Decimal(2)], [Fraction(100), Fraction(50)]
    )
    assert uneven == Fraction(200, 3)


def test_ties_share_a_rank():
    rows = _standings([90, 95, 90, 80, None])
    contests.rank(rows)
    assert [r.rank for r in rows] == [2, 1, 2, 4, None]


def _contest(mode, first, second, third):
    return Contest(
        title="辅导员素质能力大赛",
        award_mode=mode,
        first_tier=Decimal(first),
        second_tier=Decimal(second),
        third_tier=Decimal(third),
    )


def test_awards_by_rank_share_with_ties():
    # 10 ranked entrants: 10 % -> rank 1, 30 % -> ranks up to 3, 60 % -> up to 6.
    rows = _standings([100, 95, 90, 90, 85, 80, 80, 70, 60, 50])
    contests.rank(rows)
    contests.assign_awards(_contest(AwardMode.RANK_SHARE, 10, 20, 30), rows)

    assert [r.award for r in rows] == [0, 1, 1, 1, 2, 2, 2, None, None, None]
    assert rows[0].award_label == "First prize"


def test_rank_share_rounding_and_empty_tier():
    rows = _standings([90, 80, 70, 60])
    contests.rank(rows)
    # 12.5 % of 4 = 0.5 rounds to 1; 0 % gives no second prize; 62.5 % -> 2.5 -> 3.
    contests.assign_awards(_contest(AwardMode.RANK_SHARE, "12.5", 0, 50), rows)

    assert [r.award for r in rows] == [0, 2, 2, None]


def test_awards_by_threshold():
    rows = _standings([95, 90, "89.99", 70, "69.5", None])
    contests.rank(rows)
    contests.assign_awards(_contest(AwardMode.THRESHOLD, 90, 80, 70), rows)

    assert [r.award for r in rows] == [0, 0, 1, 2, None, None]


def _form(mode, first, second, third):
    return {
        "title": "大赛",
        "award_mode": mode,
        "first_tier": first,
        "second_tier": second,
        "third_tier": third,
    }


def test_save_contest_checks_the_tiers(world):
    with pytest.raises(AuthoringError) as raised:
        contests.save_contest(
            world.uni_a,
            _form("rank_share", "50", "40", "30"),
            user("trainer"),
        )
    assert "third_tier" in raised.value.errors
    with pytest.raises(AuthoringError) as raised:
        contests.save_contest(
            world.uni_a,
            _form("threshold", "80", "90", "x"),
            user("trainer"),
        )
    assert set(raised.value.errors) == {"second_tier", "third_tier"}


def test_standings_combine_task_and_quiz(world):
    task = make_task(world, assessors=("trainer",))
    for username, levels in (("counselor1", [1, 1, 1]), ("counselor2", [2, 2, 2])):
        submission = tasks.submit(task, user(username), text="分析")
        score(submission, "trainer", levels)
        moderation.moderate(submission, "", "合议", "", user("admin"))
        moderation.release(submission, user("admin"))
    quiz = db.session.get(Quiz, world.quiz)
    attempt = quiz_services.start_attempt(user("counselor2"), quiz)
    quiz_services.submit_attempt(
        attempt,
        {q.id: {c.id for c in q.choices if c.is_correct} for q in quiz.questions},
    )

    contest = contests.save_contest(
        world.uni_a,
        _form("rank_share", "50", "50", "0"),
        user("trainer"),
    )
    contests.add_event(contest, f"task:{task.id}", "40", user("trainer"))
    contests.add_event(contest, f"quiz:{quiz.id}", "60", user("trainer"))
    for username in ("counselor1", "counselor2"):
        assert contests.add_entrant(contest, user(username), user("trainer")) is True
    assert contests.add_entrant(contest, user("counselor1"), user("trainer")) is False
    with pytest.raises(AuthoringError):
        contests.add_entrant(contest, user("hr"), user("trainer"))
    with pytest.raises(AuthoringError):
        contests.add_event(contest, "task:999999", "10", user("trainer"))

    rows = contests.standings(contest)

    # counselor2: task 3 of 4 = 75 %, quiz 100 % -> (40*75 + 60*100) / 100 = 90.
    # counselor1: task 100 %, no quiz -> 40.
    assert [(r.user.username, r.total, r.rank, r.award) for r in rows] == [
        ("counselor2", Fraction(90), 1, 0),
        ("counselor1", Fraction(40), 2, 1),
    ]
    assert rows[0].scores == [Fraction(75), Fraction(100)]

    task_event = contest.events[0]
    assert contests.remove_event(contest, task_event.id, user("trainer")) is True
    assert contests.remove_event(contest, task_event.id, user("trainer")) is False
    assert [(e.position, e.quiz_id) for e in contest.events] == [(1, quiz.id)]
    assert contests.remove_entrant(contest, world.counselor, user("trainer")) is True
    assert contests.remove_entrant(contest, world.counselor, user("trainer")) is False
    rows = contests.standings(contest)
    assert [(r.user.username, r.total) for r in rows] == [("counselor2", Fraction(100))]
