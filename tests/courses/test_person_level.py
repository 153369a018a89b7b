"""A counselor's level by years of service, read from one applicable framework."""

from datetime import date
from typing import Optional

import pytest

from courses.learning import person_level
from courses.models import TargetLevel
from lms.competencies.models import Framework, FrameworkStatus, Level
from lms.db import now_utc
from lms.extensions import db
from tests.compliance.test_engine import make_institution, make_person

TODAY = date(2026, 12, 5)
#: In the fifth year of service on TODAY.
POST_START = date(2022, 9, 1)

NATIONAL_BOUNDS = [("junior", 1, 3), ("intermediate", 4, 8), ("senior", 8, None)]


def add_framework(
    code: str,
    bounds: list,
    *,
    institution_id: Optional[int] = None,
    status: FrameworkStatus = FrameworkStatus.PUBLISHED,
) -> Framework:
    framework = Framework(
        code=code,
        title=code,
        status=status,
        published_at=None if status is FrameworkStatus.DRAFT else now_utc(),
        retired_at=now_utc() if status is FrameworkStatus.RETIRED else None,
        institution_id=institution_id,
    )
    db.session.add(framework)
    db.session.flush()
    for position, (level_code, min_years, max_years) in enumerate(bounds, 1):
        db.session.add(
            Level(
                framework_id=framework.id,
                code=level_code,
                name=level_code,
                position=position,
                min_years=min_years,
                max_years=max_years,
            )
        )
    db.session.flush()
    return framework


@pytest.fixture
def world(app_ctx):
    home = make_institution("home")
    other = make_institution("other")
    add_framework("national", NATIONAL_BOUNDS)
    person = make_person(home, "c1", post_started_on=POST_START)
    return home, other, person


def test_national_bounds_apply(world):
    _home, _other, person = world

    assert person_level(person, TODAY) is TargetLevel.INTERMEDIATE


@pytest.mark.parametrize(
    "status", [FrameworkStatus.DRAFT, FrameworkStatus.PUBLISHED, FrameworkStatus.RETIRED]
)
def test_other_institution_ignored(world, status):
    _home, other, person = world
    add_framework("theirs", [("junior", 1, 10)], institution_id=other.id, status=status)

    assert person_level(person, TODAY) is TargetLevel.INTERMEDIATE


@pytest.mark.parametrize("status", [FrameworkStatus.DRAFT, FrameworkStatus.RETIRED])
def test_unpublished_own_framework_ignored(world, status):
    home, _other, person = world
    add_framework("ours", [("junior", 1, 10)], institution_id=home.id, status=status)

    assert person_level(person, TODAY) is TargetLevel.INTERMEDIATE


def test_own_published_framework_wins(world):
    home, _other, person = world
    add_framework(
        "ours",
        [("junior", 1, 5), ("intermediate", 6, 10)],
        institution_id=home.id,
    )

    assert person_level(person, TODAY) is TargetLevel.JUNIOR


def test_levels_of_two_frameworks_not_mixed(world):
    home, _other, person = world
    # The institution's framework bounds only the junior level, so a fifth
    # year falls in none of its levels and the national bounds do not fill in.
    add_framework("ours", [("junior", 1, 3)], institution_id=home.id)

    assert person_level(person, TODAY) is None
