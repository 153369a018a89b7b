"""HR records Party and cadre rank dates on the profile, and the person reads them."""

from datetime import date, timedelta

import sqlalchemy as sa

from lms.accounts.models import User
from lms.audit import AuditEntry
from lms.compliance.models import CadreRank, PartyStatus, PersonProfile
from lms.compliance.windows import local_today
from lms.extensions import db
from lms.records.models import ProgressionEntry
from tests.records.test_bulk_records import _confirm, _upload


def _english(session):
    session.post("/language/en")
    return session


def _profile(user_id: int):
    db.session.expire_all()
    return db.session.get(PersonProfile, user_id)


def _audit(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)
        )
    )


def _today(world) -> date:
    return local_today(db.session.get(User, world.counselor).institution)


def _form(**values) -> dict:
    form = {
        "party_status": "member",
        "cadre_rank": "",
        "full_time": "",
        "post_started_on": "",
        "probation_started_on": "",
        "full_member_on": "",
        "rank_since": "",
    }
    form.update(values)
    return form


def _post_profile(session, world, **values):
    return session.post(f"/people/{world.counselor}/profile", data=_form(**values))


def test_hr_records_party_and_rank_dates(world, login):
    hr = _english(login("hr"))

    response = _post_profile(
        hr,
        world,
        probation_started_on="2023-06-20",
        full_member_on="2024-06-20",
        cadre_rank="division_deputy",
        rank_since="2025-03-01",
    )

    assert response.status_code == 302
    profile = _profile(world.counselor)
    assert profile.probation_started_on == date(2023, 6, 20)
    assert profile.full_member_on == date(2024, 6, 20)
    assert profile.rank_since == date(2025, 3, 1)
    [row] = _audit("profile.updated")
    assert row.actor_id == world.hr
    changes = row.data["changes"]
    assert changes["probation_started_on"] == [None, "2023-06-20"]
    assert changes["full_member_on"] == [None, "2024-06-20"]
    assert changes["rank_since"] == [None, "2025-03-01"]

    page = hr.get(f"/people/{world.counselor}/profile").get_data(as_text=True)
    assert 'value="2024-06-20"' in page


def test_profile_rejects_full_member_before_probation(world, login):
    hr = _english(login("hr"))

    response = _post_profile(
        hr, world, probation_started_on="2024-06-20", full_member_on="2023-06-20"
    )

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert (
        "Became a full Party member on: The full-member date 2023-06-20 is not"
        " after the probation start 2024-06-20." in page
    )
    assert _profile(world.counselor) is None


def test_profile_rejects_probation_under_a_year(world, login):
    hr = _english(login("hr"))

    response = _post_profile(
        hr, world, probation_started_on="2024-06-20", full_member_on="2025-01-20"
    )

    assert response.status_code == 400
    assert "ends on 2025-06-20 at the earliest" in response.get_data(as_text=True)


def test_profile_rejects_future_dates(world, login):
    hr = _english(login("hr"))
    tomorrow = (_today(world) + timedelta(days=1)).isoformat()

    response = _post_profile(
        hr,
        world,
        party_status="probationary",
        probation_started_on=tomorrow,
        cadre_rank="division_chief",
        rank_since=tomorrow,
    )

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    expected = f"{tomorrow} is not a plausible date. Enter a date from 1950-01-01 to today"
    assert f"Became a probationary Party member on: {expected}" in page
    assert f"Cadre rank held since: {expected}" in page


def test_profile_rejects_dates_of_non_member(world, login):
    hr = _english(login("hr"))

    response = _post_profile(hr, world, party_status="none", probation_started_on="2020-01-01")

    assert response.status_code == 400
    assert (
        "A person who is not a Party member has no Party dates."
        in response.get_data(as_text=True)
    )


def test_profile_rejects_full_date_of_probationary(world, login):
    hr = _english(login("hr"))

    response = _post_profile(
        hr,
        world,
        party_status="probationary",
        probation_started_on="2025-06-20",
        full_member_on="2026-06-20",
    )

    assert response.status_code == 400
    assert (
        "A probationary Party member has no full-member date yet."
        in response.get_data(as_text=True)
    )


def test_profile_rejects_probation_over_two_years(world, login):
    hr = _english(login("hr"))
    started = (_today(world) - timedelta(days=3 * 365)).isoformat()

    response = _post_profile(
        hr, world, party_status="probationary", probation_started_on=started
    )

    assert response.status_code == 400
    assert "A probation lasts one year, or two when extended" in response.get_data(
        as_text=True
    )


def test_profile_rejects_rank_date_without_rank(world, login):
    hr = _english(login("hr"))

    response = _post_profile(hr, world, rank_since="2024-01-01")

    assert response.status_code == 400
    assert (
        "A person without a cadre rank has no rank date."
        in response.get_data(as_text=True)
    )


def test_new_rank_needs_new_date(world, login):
    hr = _english(login("hr"))
    _post_profile(hr, world, cadre_rank="section_chief", rank_since="2020-01-01")

    kept = _post_profile(hr, world, cadre_rank="division_deputy", rank_since="2020-01-01")
    moved = _post_profile(hr, world, cadre_rank="division_deputy", rank_since="2025-09-01")

    assert kept.status_code == 400
    assert "this is the date of the previous rank" in kept.get_data(as_text=True)
    assert moved.status_code == 302
    profile = _profile(world.counselor)
    assert profile.cadre_rank is CadreRank.DIVISION_DEPUTY
    assert profile.rank_since == date(2025, 9, 1)


def test_other_institution_hr_cannot_edit_dates(world, login):
    data = _form(probation_started_on="2023-06-20")

    response = login("hr_b").post(f"/people/{world.counselor}/profile", data=data)

    assert response.status_code == 404
    assert _profile(world.counselor) is None


def test_counselor_cannot_edit_own_dates(world, login):
    counselor = login("counselor1")
    data = _form(probation_started_on="2023-06-20")

    assert counselor.get(f"/people/{world.counselor}/profile").status_code == 403
    response = counselor.post(f"/people/{world.counselor}/profile", data=data)

    assert response.status_code == 403
    assert _profile(world.counselor) is None


def test_counselor_sees_own_dates(world, login):
    db.session.add(
        PersonProfile(
            user_id=world.counselor,
            party_status=PartyStatus.MEMBER,
            probation_started_on=date(2023, 6, 20),
            full_member_on=date(2024, 6, 20),
            cadre_rank=CadreRank.DIVISION_DEPUTY,
            rank_since=date(2025, 3, 1),
        )
    )
    db.session.commit()
    counselor = _english(login("counselor1"))

    page = counselor.get(f"/people/{world.counselor}/record").get_data(as_text=True)

    assert 'id="profile-dates"' in page
    assert "2023-06-20" in page
    assert "2024-06-20" in page
    assert "2025-03-01" in page
    assert "Your HR office records these dates." in page


def test_other_counselor_cannot_see_dates(world, login):
    response = login("counselor2").get(f"/people/{world.counselor}/record")

    assert response.status_code == 404


def test_rank_change_sets_rank_date(world, login):
    hr = login("hr")
    url = f"/people/{world.counselor}/record/entries"
    rank = {"kind": "rank_change", "rank": "division_deputy"}

    hr.post(url, data={**rank, "occurred_on": "2024-09-01"})
    assert _profile(world.counselor).rank_since == date(2024, 9, 1)

    # Recording the same rank again does not move the date it was reached.
    hr.post(url, data={**rank, "occurred_on": "2025-09-01"})
    assert _profile(world.counselor).rank_since == date(2024, 9, 1)

    hr.post(url, data={**rank, "rank": "division_chief", "occurred_on": "2026-01-05"})
    profile = _profile(world.counselor)
    assert profile.cadre_rank is CadreRank.DIVISION_CHIEF
    assert profile.rank_since == date(2026, 1, 5)


def test_corrected_rank_change_moves_rank_date(world, login):
    hr = login("hr")
    url = f"/people/{world.counselor}/record/entries"
    hr.post(url, data={"kind": "rank_change", "rank": "division_deputy", "occurred_on": "2024-09-01"})
    entry_id = db.session.scalar(
        sa.select(ProgressionEntry.id).filter_by(user_id=world.counselor)
    )

    hr.post(
        url,
        data={
            "kind": "rank_change",
            "rank": "division_deputy",
            "occurred_on": "2024-10-08",
            "corrects": str(entry_id),
        },
    )

    assert _profile(world.counselor).rank_since == date(2024, 10, 8)


# Bulk upload ---------------------------------------------------------------


def _sheet(*rows: str) -> bytes:
    return ("工号,类型,日期,结果\n" + "".join(f"{row}\n" for row in rows)).encode("utf-8")


def test_upload_sets_party_dates(world, login):
    hr = _english(login("hr"))
    page = _upload(
        hr, _sheet("counselor1,入党,2023-06-20,", "counselor1,转正,2024-06-20,")
    ).get_data(as_text=True)

    assert "Became a probationary Party member" in page
    assert _confirm(hr, page).status_code == 302

    profile = _profile(world.counselor)
    assert profile.party_status is PartyStatus.MEMBER
    assert profile.probation_started_on == date(2023, 6, 20)
    assert profile.full_member_on == date(2024, 6, 20)
    assert db.session.scalars(sa.select(ProgressionEntry)).all() == []
    probation, full = _audit("profile.updated")
    assert probation.actor_id == world.hr
    assert probation.data["changes"]["party_status"] == ["none", "probationary"]
    assert full.data["changes"]["full_member_on"] == [None, "2024-06-20"]
    assert full.data["changes"]["party_status"] == ["probationary", "member"]


def test_upload_probation_makes_probationary(world, login):
    hr = _english(login("hr"))
    started = (_today(world) - timedelta(days=100)).isoformat()
    page = _upload(hr, _sheet(f"counselor1,入党,{started},")).get_data(as_text=True)

    assert _confirm(hr, page).status_code == 302

    profile = _profile(world.counselor)
    assert profile.party_status is PartyStatus.PROBATIONARY
    assert profile.probation_started_on.isoformat() == started


def test_upload_rejects_full_before_probation(world, login):
    hr = _english(login("hr"))

    response = _upload(
        hr, _sheet("counselor1,转正,2023-06-20,", "counselor1,入党,2024-06-20,")
    )

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The full-member date 2023-06-20 is not after the probation start" in page
    assert _profile(world.counselor) is None


def test_upload_checks_stored_probation(world, login):
    db.session.add(
        PersonProfile(
            user_id=world.counselor,
            party_status=PartyStatus.PROBATIONARY,
            probation_started_on=date(2025, 6, 20),
        )
    )
    db.session.commit()
    hr = _english(login("hr"))

    response = _upload(hr, _sheet("counselor1,转正,2025-12-01,"))

    assert response.status_code == 400
    assert "ends on 2026-06-20 at the earliest" in response.get_data(as_text=True)


def test_upload_rejects_future_party_date(world, login):
    hr = _english(login("hr"))
    tomorrow = (date.today() + timedelta(days=2)).isoformat()

    response = _upload(hr, _sheet(f"counselor1,入党,{tomorrow},"))

    assert response.status_code == 400
    assert "Write a date that is not in the future" in response.get_data(as_text=True)


def test_upload_rejects_ended_probation(world, login):
    hr = _english(login("hr"))

    response = _upload(hr, _sheet("counselor1,入党,2019-06-20,"))

    assert response.status_code == 400
    assert "Add a 转正 row with the full-member date." in response.get_data(as_text=True)


def test_upload_rejects_two_rows_of_a_kind(world, login):
    hr = _english(login("hr"))

    response = _upload(
        hr, _sheet("counselor1,入党,2023-06-20,", "counselor1,入党,2023-07-01,")
    )

    assert response.status_code == 400
    assert "The file has two rows of this kind for this person" in response.get_data(
        as_text=True
    )


def test_upload_rank_sets_rank_date(world, login):
    hr = login("hr")
    page = _upload(hr, _sheet("counselor1,职级,2024-07-01,副处级")).get_data(as_text=True)

    assert _confirm(hr, page).status_code == 302

    profile = _profile(world.counselor)
    assert profile.cadre_rank is CadreRank.DIVISION_DEPUTY
    assert profile.rank_since == date(2024, 7, 1)


def test_other_institution_hr_cannot_upload_dates(world, login):
    hr_b = _english(login("hr_b"))

    response = _upload(hr_b, _sheet("counselor1,入党,2023-06-20,"))

    assert response.status_code == 400
    assert "No person of your institution has this employee number" in response.get_data(
        as_text=True
    )
    assert _profile(world.counselor) is None


def test_counselor_cannot_upload_dates(world, login):
    response = _upload(login("counselor1"), _sheet("counselor1,入党,2023-06-20,"))

    assert response.status_code == 403


def test_profile_rank_changes_keep_periods(world, login):
    from lms.compliance.models import CadreRankPeriod

    hr = login("hr")
    _post_profile(hr, world, cadre_rank="clerk", rank_since="2023-03-01")
    response = _post_profile(
        hr, world, cadre_rank="section_deputy", rank_since="2025-09-01"
    )

    assert response.status_code == 302
    db.session.expire_all()
    periods = db.session.execute(
        sa.select(CadreRankPeriod.rank, CadreRankPeriod.since)
        .filter_by(user_id=world.counselor)
        .order_by(CadreRankPeriod.since)
    ).all()
    assert [tuple(row) for row in periods] == [
        (CadreRank.CLERK, date(2023, 3, 1)),
        (CadreRank.SECTION_DEPUTY, date(2025, 9, 1)),
    ]
