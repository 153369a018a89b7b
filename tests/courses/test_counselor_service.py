"""Counselor service counted over every counselor post on the record."""

from datetime import date

import pytest
import sqlalchemy as sa

from courses.learning import counselor_service, person_level, years_of_service
from courses.models import TargetLevel
from lms.accounts.models import Post
from lms.extensions import db
from lms.records.models import ProgressionEntry, ProgressionKind
from tests.compliance.test_engine import make_institution, make_person
from tests.courses.test_person_level import NATIONAL_BOUNDS, add_framework

TODAY = date(2026, 12, 5)
#: Full time since this day: the second year of service on TODAY.
FULL_TIME_START = date(2025, 9, 1)


def appoint(person, post: Post, start: date, **detail) -> ProgressionEntry:
    entry = ProgressionEntry(
        user_id=person.id,
        kind=ProgressionKind.APPOINTMENT,
        occurred_on=start,
        title=f"聘任 {post.value}",
        detail={"post": post.value, **detail},
    )
    db.session.add(entry)
    db.session.flush()
    return entry


@pytest.fixture
def person(app_ctx):
    home = make_institution("home")
    add_framework("national", NATIONAL_BOUNDS)
    return make_person(home, "c1", post_started_on=FULL_TIME_START)


def test_current_post_alone_counts_from_its_start(person):
    assert years_of_service(person, TODAY) == 2
    assert person_level(person, TODAY) is TargetLevel.JUNIOR


def test_part_time_years_count_in_full_time(person):
    appoint(person, Post.PART_TIME_COUNSELOR, date(2020, 9, 1))

    service = counselor_service(person, TODAY)

    # 2020-09-01 to today without a gap: the seventh year.
    assert service.year == 7
    assert [period.source for period in service.periods] == ["record", "profile"]
    assert service.periods[0].end == date(2025, 8, 31)
    assert service.spans == [(date(2020, 9, 1), TODAY)]
    assert person_level(person, TODAY) is TargetLevel.INTERMEDIATE


def test_overlapping_posts_count_once(person):
    # A part-time post at another institution overlapping the full-time one.
    appoint(person, Post.PART_TIME_COUNSELOR, date(2023, 9, 1), ended_on="2026-06-30")

    service = counselor_service(person, TODAY)

    assert service.spans == [(date(2023, 9, 1), TODAY)]
    assert service.days == (TODAY - date(2023, 9, 1)).days + 1
    assert service.year == 4


def test_gap_between_posts_is_not_counted(person):
    appoint(person, Post.PART_TIME_COUNSELOR, date(2019, 9, 1), ended_on="2021-08-31")
    appoint(person, Post.PARTY_ORGANISER, date(2021, 9, 1))

    service = counselor_service(person, TODAY)

    # Two years part time and one year and three months full time.
    assert service.spans == [
        (date(2019, 9, 1), date(2021, 8, 31)),
        (FULL_TIME_START, TODAY),
    ]
    assert service.year == 4
    assert person_level(person, TODAY) is TargetLevel.INTERMEDIATE


def test_corrected_appointment_is_ignored(person):
    wrong = appoint(person, Post.PART_TIME_COUNSELOR, date(2010, 9, 1))
    db.session.add(
        ProgressionEntry(
            user_id=person.id,
            kind=ProgressionKind.APPOINTMENT,
            occurred_on=date(2024, 9, 1),
            title="更正",
            detail={"post": Post.PART_TIME_COUNSELOR.value},
            corrects_id=wrong.id,
        )
    )
    db.session.flush()

    assert counselor_service(person, TODAY).spans == [(date(2024, 9, 1), TODAY)]


def test_appointment_without_counselor_post_ignored(person):
    appoint(person, Post.PARTY_ORGANISER, date(2015, 9, 1), ended_on="2025-08-31")
    db.session.add(
        ProgressionEntry(
            user_id=person.id,
            kind=ProgressionKind.APPOINTMENT,
            occurred_on=date(2012, 9, 1),
            title="聘任为辅导员",
            detail={},
        )
    )
    db.session.flush()

    assert years_of_service(person, TODAY) == 2


def test_record_page_shows_how_years_were_counted(app_ctx, login, english):
    from tests.factories import make_institution as make_uni, make_user
    from lms.accounts.models import Role
    from lms.compliance.models import PersonProfile

    uni = make_uni("uni-a", "甲大学")
    add_framework("national", NATIONAL_BOUNDS)
    counselor = make_user(uni, "counselor1", full_name="林晓雯")
    counselor.post = Post.FULL_TIME_COUNSELOR
    make_user(uni, "hr", Role.HR, full_name="赵静")
    db.session.add(PersonProfile(user_id=counselor.id, post_started_on=date(2024, 9, 1)))
    appoint(counselor, Post.PART_TIME_COUNSELOR, date(2019, 9, 1), ended_on="2022-06-30")
    db.session.commit()

    page = login("hr").get(f"/people/{counselor.id}/record").get_data(as_text=True)

    assert "Counselor service" in page
    assert "in the counselor posts below. Days in two overlapping posts count once." in page
    assert "Part-time counselor · 2019-09-01 to 2022-06-30 · 1034 days · " in page
    assert "earlier post, from the progression record</a>" in page
    assert "Full-time counselor · 2024-09-01 to" in page
    assert "current post, from the profile" in page


def test_appointments_read_once_per_get(app, person):
    """The dashboard computes the level once per programme; the record is read once."""
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    appoint(person, Post.PART_TIME_COUNSELOR, date(2020, 9, 1))
    db.session.commit()
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        with app.test_request_context("/learning"):
            levels = {person_level(person, TODAY) for _ in range(3)}
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)

    assert levels == {TargetLevel.INTERMEDIATE}
    assert sum("FROM progression_entry" in each for each in statements) == 1


def test_appointments_read_each_time_in_post(app, person):
    """A POST may change the record between two reads, so nothing is kept."""
    with app.test_request_context("/learning", method="POST"):
        assert person_level(person, TODAY) is TargetLevel.JUNIOR
        appoint(person, Post.PART_TIME_COUNSELOR, date(2020, 9, 1))
        assert person_level(person, TODAY) is TargetLevel.INTERMEDIATE


def test_record_page_single_post_mentions_no_overlap(app_ctx, login):
    from tests.factories import make_institution as make_uni, make_user
    from lms.compliance.models import PersonProfile

    uni = make_uni("uni-a", "甲大学")
    add_framework("national", NATIONAL_BOUNDS)
    counselor = make_user(uni, "counselor1", full_name="林晓雯")
    counselor.post = Post.FULL_TIME_COUNSELOR
    db.session.add(PersonProfile(user_id=counselor.id, post_started_on=date(2024, 9, 1)))
    db.session.commit()

    page = login("counselor1").get(f"/people/{counselor.id}/record").get_data(as_text=True)

    assert "以下辅导员岗位共计" in page
    assert "重叠" not in page
