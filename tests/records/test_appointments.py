"""Earlier posts (appointments) that HR records by hand or through a profile edit."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from courses.learning import counselor_service
from lms.accounts.models import Post, Role, User
from lms.audit import AuditEntry
from lms.compliance.models import PersonProfile
from lms.compliance.windows import local_today
from lms.extensions import db
from lms.records import events
from lms.records.models import ProgressionEntry, ProgressionKind
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("english")


def _appointment_form(**overrides) -> dict:
    form = {
        "kind": "appointment",
        "occurred_on": "2019-09-01",
        "post": "part_time_counselor",
        "ended_on": "2022-06-30",
        "unit": "物理学院",
        "note": "兼任班主任",
    }
    form.update(overrides)
    return form


def _appointments(user_id: int) -> list[ProgressionEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(ProgressionEntry)
            .where(
                ProgressionEntry.user_id == user_id,
                ProgressionEntry.kind == ProgressionKind.APPOINTMENT,
            )
            .order_by(ProgressionEntry.id)
        )
    )


def _audit(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(sa.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id))
    )


def _start_post(user_id: int, started_on: date) -> None:
    db.session.add(PersonProfile(user_id=user_id, post_started_on=started_on))
    db.session.commit()


def _department_hr(world) -> int:
    """Add an HR officer limited to the physics department, where counselor2 works."""
    institution = db.session.get(User, world.hr).institution
    officer = make_user(institution, "hr_phy", Role.HR, full_name="物理学院人事")
    officer.hr_department_id = world.physics
    db.session.commit()
    return officer.id


# Recording an earlier post by hand ----------------------------------------


def test_hr_records_earlier_post(world, login):
    hr = login("hr")

    response = hr.post(
        f"/people/{world.counselor}/record/entries", data=_appointment_form()
    )

    assert response.status_code == 302
    [entry] = _appointments(world.counselor)
    assert entry.title == "任职：兼职辅导员"
    assert entry.occurred_on == date(2019, 9, 1)
    assert entry.detail == {
        "post": "part_time_counselor",
        "ended_on": "2022-06-30",
        "unit": "物理学院",
        "note": "兼任班主任",
    }
    assert entry.created_by_id == world.hr
    [row] = _audit("progression.recorded")
    assert row.subject_id == entry.id
    assert row.data["kind"] == "appointment"


def test_recorded_post_counts_as_service(world, login):
    _start_post(world.counselor, date(2024, 9, 1))
    hr = login("hr")

    hr.post(f"/people/{world.counselor}/record/entries", data=_appointment_form())

    person = db.session.get(User, world.counselor)
    service = counselor_service(person, date(2026, 12, 5))
    assert [period.source for period in service.periods] == ["record", "profile"]
    assert service.periods[0].end == date(2022, 6, 30)
    page = hr.get(f"/people/{world.counselor}/record").get_data(as_text=True)
    assert "Part-time counselor · 2019-09-01 to 2022-06-30 · 1034 days · " in page
    assert "Last day in the post: 2022-06-30" in page
    assert "物理学院" in page


def test_post_without_last_day_is_recorded(world, login):
    hr = login("hr")

    response = hr.post(
        f"/people/{world.counselor}/record/entries",
        data=_appointment_form(ended_on="", unit=""),
    )

    assert response.status_code == 302
    [entry] = _appointments(world.counselor)
    assert entry.detail["ended_on"] is None
    assert entry.detail["unit"] == ""
    page = hr.get(f"/people/{world.counselor}/record").get_data(as_text=True)
    assert "Last day not recorded" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"post": ""}, "Post: Required for this kind of event."),
        ({"post": "dean"}, "Post: “dean” is not one of the listed options"),
        (
            {"ended_on": "2019-08-31"},
            "Last day in the post: The last day in the post is before its start "
            "date 2019-09-01. Enter a date on or after the start date.",
        ),
        (
            {"ended_on": "2022-02-30"},
            "Last day in the post: Enter a date as YYYY-MM-DD, e.g. 2026-09-01.",
        ),
        ({"unit": "院" * 201}, "Institution or unit: Enter at most 200 characters."),
    ],
)
def test_invalid_post_names_the_field(world, login, overrides, message):
    hr = login("hr")

    response = hr.post(
        f"/people/{world.counselor}/record/entries", data=_appointment_form(**overrides)
    )

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _appointments(world.counselor) == []


def test_last_day_in_future_is_rejected(world, login):
    institution = db.session.get(User, world.counselor).institution
    tomorrow = local_today(institution) + timedelta(days=1)
    hr = login("hr")

    response = hr.post(
        f"/people/{world.counselor}/record/entries",
        data=_appointment_form(ended_on=tomorrow.isoformat()),
    )

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Last day in the post: The last day in the post is after today" in page
    assert _appointments(world.counselor) == []


def test_department_hr_records_only_own_department(world, login):
    _department_hr(world)
    officer = login("hr_phy")

    inside = officer.post(
        f"/people/{world.counselor2}/record/entries", data=_appointment_form()
    )
    outside = officer.post(
        f"/people/{world.counselor}/record/entries", data=_appointment_form()
    )

    assert inside.status_code == 302
    assert len(_appointments(world.counselor2)) == 1
    assert outside.status_code == 404
    assert _appointments(world.counselor) == []


def test_counselor_cannot_record_post(world, login):
    counselor = login("counselor1")

    own = counselor.post(
        f"/people/{world.counselor}/record/entries", data=_appointment_form()
    )
    other = counselor.post(
        f"/people/{world.counselor2}/record/entries", data=_appointment_form()
    )

    assert own.status_code == 403
    assert other.status_code == 404
    assert _appointments(world.counselor) == []
    assert _appointments(world.counselor2) == []


def test_correction_replaces_post_in_service(world, login):
    _start_post(world.counselor, date(2024, 9, 1))
    hr = login("hr")
    url = f"/people/{world.counselor}/record/entries"
    hr.post(url, data=_appointment_form())
    [original] = _appointments(world.counselor)

    form_page = hr.get(f"/people/{world.counselor}/record?correct={original.id}")
    response = hr.post(
        url,
        data=_appointment_form(occurred_on="2020-09-01", corrects=str(original.id)),
    )

    correction_form = form_page.get_data(as_text=True)
    assert '<option selected value="part_time_counselor">' in correction_form
    assert 'name="ended_on" type="date" value="2022-06-30"' in correction_form
    assert response.status_code == 302
    [_, correction] = _appointments(world.counselor)
    assert correction.corrects_id == original.id
    [row] = _audit("progression.corrected")
    assert row.subject_id == correction.id
    person = db.session.get(User, world.counselor)
    service = counselor_service(person, date(2026, 12, 5))
    assert service.periods[0].start == date(2020, 9, 1)
    assert service.periods[0].entry_id == correction.id


def test_non_counselor_post_is_listed_as_not_counting(world, login):
    _start_post(world.counselor, date(2024, 9, 1))
    hr = login("hr")

    hr.post(
        f"/people/{world.counselor}/record/entries",
        data=_appointment_form(post="party_organiser"),
    )

    page = hr.get(f"/people/{world.counselor}/record").get_data(as_text=True)
    assert "Posts on the record that do not count:" in page
    assert "not a counselor post" in page


# The post left in a profile edit -------------------------------------------


def _profile_form(**overrides) -> dict:
    form = {
        "party_status": "none",
        "post": "full_time_counselor",
        "post_started_on": "2024-09-01",
        "keep_left_post": "y",
    }
    form.update(overrides)
    return {key: value for key, value in form.items() if value is not None}


def test_profile_edit_keeps_left_post(world, login):
    _start_post(world.counselor, date(2020, 9, 1))
    hr = login("hr")

    response = hr.post(
        f"/people/{world.counselor}/profile",
        data=_profile_form(post="part_time_counselor"),
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert "was added to the record as an earlier post" in response.get_data(as_text=True)
    [entry] = _appointments(world.counselor)
    assert entry.occurred_on == date(2020, 9, 1)
    assert entry.detail["post"] == "full_time_counselor"
    assert entry.detail["ended_on"] == "2024-08-31"
    assert entry.created_by_id == world.hr
    person = db.session.get(User, world.counselor)
    assert person.post is Post.PART_TIME_COUNSELOR
    [recorded] = _audit("progression.recorded")
    assert recorded.subject_id == entry.id
    [profile_row] = _audit("profile.updated")
    assert profile_row.data["changes"]["post"] == [
        "full_time_counselor",
        "part_time_counselor",
    ]
    service = counselor_service(person, date(2026, 12, 5))
    assert service.spans == [(date(2020, 9, 1), date(2026, 12, 5))]


def test_profile_edit_without_tick_keeps_nothing(world, login):
    _start_post(world.counselor, date(2020, 9, 1))
    hr = login("hr")

    response = hr.post(
        f"/people/{world.counselor}/profile",
        data=_profile_form(keep_left_post=None),
    )

    assert response.status_code == 302
    assert _appointments(world.counselor) == []
    db.session.expire_all()
    profile = db.session.get(PersonProfile, world.counselor)
    assert profile.post_started_on == date(2024, 9, 1)


def test_profile_edit_without_tick_flashes_saved_only(world, login):
    _start_post(world.counselor, date(2020, 9, 1))
    hr = login("hr")

    response = hr.post(
        f"/people/{world.counselor}/profile",
        data=_profile_form(keep_left_post=None),
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert "saved." in page
    assert "Nothing changed." not in page


def test_profile_unchanged_flashes_nothing_changed(world, login):
    _start_post(world.counselor, date(2024, 9, 1))
    hr = login("hr")

    response = hr.post(
        f"/people/{world.counselor}/profile",
        data=_profile_form(),
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert "Nothing changed." in page
    assert "saved." not in page


def test_profile_post_choices_follow_role(world, login):
    hr = login("hr")

    counselor_page = hr.get(f"/people/{world.counselor}/profile").get_data(as_text=True)
    response = hr.post(
        f"/people/{world.counselor}/profile",
        data=_profile_form(post="party_organiser"),
    )
    trainer_page = hr.get(f"/people/{world.trainer}/profile").get_data(as_text=True)

    assert 'value="part_time_counselor"' in counselor_page
    assert 'value="party_organiser"' not in counselor_page
    assert response.status_code == 400
    assert "Post: “party_organiser” is not one of the listed options" in response.get_data(as_text=True)
    assert 'name="post"' not in trainer_page


def test_profile_page_ticks_keep_left_post(world, login):
    page = login("hr").get(f"/people/{world.counselor}/profile").get_data(as_text=True)

    assert '<input checked id="keep_left_post" name="keep_left_post"' in page


# record_left_post edge cases -----------------------------------------------


@pytest.fixture
def counselor(world):
    return db.session.get(User, world.counselor)


@pytest.fixture
def hr(world):
    return db.session.get(User, world.hr)


def _left(person, actor, post, started_on, new_started_on):
    return events.record_left_post(
        person,
        actor,
        left_post=post,
        left_started_on=started_on,
        new_started_on=new_started_on,
    )


def test_left_post_ends_day_before_new_start(counselor, hr):
    entry = _left(counselor, hr, Post.FULL_TIME_COUNSELOR, date(2018, 9, 1), date(2023, 3, 1))

    assert entry.occurred_on == date(2018, 9, 1)
    assert entry.detail["ended_on"] == "2023-02-28"
    assert entry.title == "任职：专职辅导员"


def test_left_post_without_start_date_is_skipped(counselor, hr):
    assert _left(counselor, hr, Post.FULL_TIME_COUNSELOR, None, date(2023, 9, 1)) is None
    assert _left(counselor, hr, Post.FULL_TIME_COUNSELOR, date(2018, 9, 1), None) is None
    assert _appointments(counselor.id) == []


def test_left_post_without_post_is_skipped(counselor, hr):
    assert _left(counselor, hr, None, date(2018, 9, 1), date(2023, 9, 1)) is None


def test_same_post_and_date_is_skipped(counselor, hr):
    start = date(2018, 9, 1)

    assert _left(counselor, hr, Post.FULL_TIME_COUNSELOR, start, start) is None
    assert _appointments(counselor.id) == []


def test_same_post_later_start_is_kept(counselor, hr):
    entry = _left(counselor, hr, Post.FULL_TIME_COUNSELOR, date(2018, 9, 1), date(2021, 9, 1))

    assert entry.detail["post"] == "full_time_counselor"
    assert entry.detail["ended_on"] == "2021-08-31"


def test_start_moved_earlier_is_skipped(counselor, hr):
    result = _left(counselor, hr, Post.FULL_TIME_COUNSELOR, date(2021, 9, 1), date(2018, 9, 1))

    assert result is None
    assert _appointments(counselor.id) == []


def test_left_post_already_on_record_is_skipped(counselor, hr):
    first = _left(counselor, hr, Post.FULL_TIME_COUNSELOR, date(2018, 9, 1), date(2021, 9, 1))

    second = _left(counselor, hr, Post.FULL_TIME_COUNSELOR, date(2018, 9, 1), date(2022, 9, 1))

    assert first is not None
    assert second is None
    assert len(_appointments(counselor.id)) == 1


# Link to the annual assessment ----------------------------------------------


def test_record_links_to_annual_assessment(world, login):
    from lms.annual_assessment.services import seed_default_scheme
    from lms.records.services import current_year

    person = db.session.get(User, world.counselor)
    scheme = seed_default_scheme(world.uni_a, current_year(person))
    db.session.commit()
    link = f'href="/annual-assessment/schemes/{scheme.id}/people/{world.counselor}"'

    hr_page = login("hr").get(f"/people/{world.counselor}/record").get_data(as_text=True)
    own_page = login("counselor1").get(f"/people/{world.counselor}/record").get_data(
        as_text=True
    )
    trainer_record = login("hr").get(f"/people/{world.trainer}/record").get_data(
        as_text=True
    )

    assert link in hr_page
    assert link not in own_page
    assert "/annual-assessment/schemes/" not in trainer_record
    assert login("hr").get(link[6:-1]).status_code == 200


def test_department_hr_sees_assessment_link(world, login):
    from lms.annual_assessment.services import seed_default_scheme
    from lms.records.services import current_year

    _department_hr(world)
    person = db.session.get(User, world.counselor2)
    scheme = seed_default_scheme(world.uni_a, current_year(person))
    db.session.commit()
    link = f"/annual-assessment/schemes/{scheme.id}/people/{world.counselor2}"

    officer = login("hr_phy")
    page = officer.get(f"/people/{world.counselor2}/record").get_data(as_text=True)

    assert f'href="{link}"' in page
    assert officer.get(link).status_code == 200


# Overlapping posts ---------------------------------------------------------------


@pytest.fixture
def held(world, login):
    """Start counselor1's current post on 2023-09-01 after a recorded 2019-2021 post."""
    _start_post(world.counselor, date(2023, 9, 1))
    db.session.get(User, world.counselor).post = Post.FULL_TIME_COUNSELOR
    db.session.commit()
    hr = login("hr")
    recorded = hr.post(
        f"/people/{world.counselor}/record/entries",
        data=_appointment_form(occurred_on="2019-09-01", ended_on="2021-06-30"),
    )
    assert recorded.status_code == 302
    return hr


@pytest.mark.parametrize(
    "start, end, words",
    [
        (
            "2020-09-01",
            "2022-06-30",
            "First day in the post: 2020-09-01 falls within another post: "
            "Part-time counselor from 2019-09-01 to 2021-06-30.",
        ),
        (
            "2019-09-01",
            "",
            "First day in the post: 2019-09-01 falls within another post: "
            "Part-time counselor from 2019-09-01 to 2021-06-30.",
        ),
        (
            "2018-09-01",
            "2019-10-31",
            "Last day in the post: 2019-10-31 overlaps another post: Part-time "
            "counselor from 2019-09-01 to 2021-06-30. Enter a last day before "
            "2019-09-01",
        ),
        (
            "2021-09-01",
            "2023-09-30",
            "Last day in the post: 2023-09-30 is on or after 2023-09-01, when the "
            "current post (Full-time counselor) started.",
        ),
        (
            "2023-10-01",
            "",
            "First day in the post: 2023-10-01 is on or after 2023-09-01, when the "
            "current post (Full-time counselor) started.",
        ),
    ],
)
def test_overlapping_post_is_rejected(world, held, start, end, words):
    response = held.post(
        f"/people/{world.counselor}/record/entries",
        data=_appointment_form(occurred_on=start, ended_on=end),
    )

    assert response.status_code == 400
    assert words in response.get_data(as_text=True)
    assert len(_appointments(world.counselor)) == 1
    assert len(_audit("progression.recorded")) == 1


@pytest.mark.parametrize(
    "start, end",
    [("2021-07-01", "2023-08-31"), ("2015-09-01", ""), ("2015-09-01", "2019-08-31")],
)
def test_adjacent_post_is_recorded(world, held, start, end):
    response = held.post(
        f"/people/{world.counselor}/record/entries",
        data=_appointment_form(occurred_on=start, ended_on=end),
    )

    assert response.status_code == 302
    assert len(_appointments(world.counselor)) == 2


def test_correction_may_move_its_own_post(world, held):
    [entry] = _appointments(world.counselor)

    response = held.post(
        f"/people/{world.counselor}/record/entries",
        data=_appointment_form(
            occurred_on="2019-10-01", ended_on="2021-07-31", corrects=str(entry.id)
        ),
    )

    assert response.status_code == 302
    assert len(_appointments(world.counselor)) == 2
