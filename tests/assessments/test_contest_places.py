"""Contest awards by a fixed number of places: 1 first, 2 second, 5 third prizes.

Competitions often give prizes by place rather than by a share of the
entrants: first place 一等奖, second and third 二等奖, fourth to eighth 三等奖.
"""

from decimal import Decimal
from fractions import Fraction

import pytest

from assessments import contests
from assessments.contests import Standing
from assessments.tasks_models import AwardMode, Contest
from lms.extensions import db

pytestmark = pytest.mark.usefixtures("english")


def _ranked(totals):
    rows = [Standing(user=None, scores=[], total=Fraction(t)) for t in totals]
    contests.rank(rows)
    return rows


def _by_places(first, second, third):
    return Contest(
        title="辅导员素质能力大赛",
        award_mode=AwardMode.RANK_COUNT,
        first_tier=Decimal(first),
        second_tier=Decimal(second),
        third_tier=Decimal(third),
    )


def test_places_give_one_two_and_five_prizes():
    rows = _ranked([99, 95, 94, 90, 89, 88, 87, 86, 80, 70])

    contests.assign_awards(_by_places(1, 2, 5), rows)

    assert [r.award for r in rows] == [0, 1, 1, 2, 2, 2, 2, 2, None, None]


def test_places_ignore_entrant_count():
    rows = _ranked([99, 95, 94, 90, 89, 88, 87, 86, 80, 70, 60, 50, 40, 30, 20])

    contests.assign_awards(_by_places(1, 2, 5), rows)

    assert [r.award for r in rows][:9] == [0, 1, 1, 2, 2, 2, 2, 2, None]
    assert all(r.award is None for r in rows[8:])


def test_tied_entrants_share_the_place_and_its_prize():
    # Two entrants tie for first place; the next one is third and still second prize.
    rows = _ranked([99, 99, 95, 90])

    contests.assign_awards(_by_places(1, 2, 1), rows)

    assert [r.rank for r in rows] == [1, 1, 3, 4]
    assert [r.award for r in rows] == [0, 0, 1, 2]


def test_trainer_creates_a_contest_by_places(world, login):
    session = login("trainer")

    created = session.post(
        "/manage/contests/new",
        data={
            "title": "第一届辅导员素质能力大赛",
            "award_mode": "rank_count",
            "first_tier": "1",
            "second_tier": "2",
            "third_tier": "5",
        },
    )

    assert created.status_code == 302, created.get_data(as_text=True)
    contest_id = int(created.headers["Location"].rsplit("/", 1)[1])
    contest = db.session.get(Contest, contest_id)
    assert contest.award_mode is AwardMode.RANK_COUNT
    page = session.get(f"/contests/{contest_id}").get_data(as_text=True)
    assert "number of places" in page


def test_places_must_be_whole_numbers(world, login):
    session = login("trainer")

    response = session.post(
        "/manage/contests/new",
        data={
            "title": "第一届辅导员素质能力大赛",
            "award_mode": "rank_count",
            "first_tier": "1.5",
            "second_tier": "2",
            "third_tier": "5",
        },
    )

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter a whole number of places" in page
    assert db.session.query(Contest).count() == 0
