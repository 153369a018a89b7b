"""HR-recorded progression events, corrections and the person profile, through real logins."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.audit import AuditEntry
from lms.compliance.engine import evaluate
from lms.compliance.models import CadreRank, ComplianceRule, PartyStatus, PersonProfile
from lms.compliance.seed import seed_rules
from lms.compliance.windows import local_today
from lms.extensions import db
from lms.records.models import ProgressionEntry, ProgressionKind
from tests.conftest import count


def _english(session):
    session.post("/language/en")
    return session


def _grade_form(**overrides) -> dict:
    form = {
        "kind": "assessment_grade",
        "occurred_on": "2026-01-15",
        "grade": "excellent",
        "year": "2025",
        "note": "学院考核小组评定",
    }
    form.update(overrides)
    return form


def _entries(user_id: int) -> list[ProgressionEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(ProgressionEntry)
            .where(ProgressionEntry.user_id == user_id)
            .order_by(ProgressionEntry.id)
        )
    )


def _audit(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(sa.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id))
    )


# Recording events ---------------------------------------------------------


def test_hr_records_assessment_grade(world, login):
    hr = login("hr")

    response = hr.post(f"/people/{world.counselor}/record/entries", data=_grade_form())

    assert response.status_code == 302
    [entry] = _entries(world.counselor)
    assert entry.kind is ProgressionKind.ASSESSMENT_GRADE
    assert entry.title == "2025年度考核：优秀"
    assert entry.detail == {
        "grade": "excellent",
        "year": 2025,
        "note": "学院考核小组评定",
    }
    assert entry.occurred_on == date(2026, 1, 15)
    assert entry.created_by_id == world.hr
    [row] = _audit("progression.recorded")
    assert row.actor_id == world.hr
    assert row.subject_id == entry.id
    assert row.institution_id == world.uni_a


def test_every_hr_kind_is_recorded_and_shown(world, login):
    hr = _english(login("admin"))
    forms = [
        _grade_form(grade="basically_competent"),
        {
            "kind": "honour",
            "occurred_on": "2025-09-10",
            "honour_name": "优秀辅导员",
            "honour_level": "provincial",
            "year": "2025",
        },
        {
            "kind": "title_change",
            "occurred_on": "2025-07-01",
            "professional_title": "lecturer",
        },
        {"kind": "rank_change", "occurred_on": "2025-08-01", "rank": "section_deputy"},
    ]
    for form in forms:
        response = hr.post(f"/people/{world.counselor}/record/entries", data=form)
        assert response.status_code == 302, form["kind"]

    titles = [entry.title for entry in _entries(world.counselor)]
    assert titles == [
        "2025年度考核：基本合格",
        "2025年省级荣誉：优秀辅导员",
        "专业技术职务：讲师",
        "职级：副科级",
    ]
    assert len(_audit("progression.recorded")) == 4
    page = hr.get(f"/people/{world.counselor}/record").get_data(as_text=True)
    assert "Basically competent" in page
    assert "Lecturer" in page
    assert "Deputy section level" in page
    assert "Provincial level" in page


def test_missing_grade_names_the_field(world, login):
    hr = _english(login("hr"))

    response = hr.post(
        f"/people/{world.counselor}/record/entries", data=_grade_form(grade="")
    )

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Assessment grade: Required for this kind of event." in page
    assert _entries(world.counselor) == []
    assert _audit("progression.recorded") == []


def test_invalid_values_are_rejected_by_field(world, login):
    hr = _english(login("hr"))
    url = f"/people/{world.counselor}/record/entries"
    cases = [
        (_grade_form(grade="perfect"), "Assessment grade: “perfect” is not one of the listed options"),
        (_grade_form(year="abc"), "Year: Enter a whole number from 1950 to 2100."),
        (_grade_form(occurred_on="2026-13-40"), "Date: Enter a date as YYYY-MM-DD, e.g. 2026-09-01."),
        (_grade_form(kind="training"), "Kind of event: “training” is not one of the listed options"),
            (_grade_form(kind="appointment"), "Post: Required for this kind of event."),
        (_grade_form(corrects="x1"), "Not a valid entry number."),
        (_grade_form(corrects="²"), "Not a valid entry number."),
        (
            {
                "kind": "rank_change",
                "occurred_on": "2026-01-01",
                "rank": "bureau_chief",
            },
            "Administrative rank: “bureau_chief” is not one of the listed options",
        ),
    ]
    for form, message in cases:
        response = hr.post(url, data=form)
        assert response.status_code == 400, form
        assert message in response.get_data(as_text=True), form
    assert _entries(world.counselor) == []


def test_record_entries_access(world, login):
    url = f"/people/{world.counselor}/record/entries"

    assert login("counselor1").post(url, data=_grade_form()).status_code == 403
    for username in ["counselor2", "trainer", "hr_b"]:
        assert login(username).post(url, data=_grade_form()).status_code == 404, (
            username
        )
    assert (
        login("hr")
        .post("/people/987654/record/entries", data=_grade_form())
        .status_code
        == 404
    )
    assert _entries(world.counselor) == []


# Corrections --------------------------------------------------------------


def test_correction_appends_and_keeps_original(world, login):
    hr = _english(login("hr"))
    url = f"/people/{world.counselor}/record/entries"
    hr.post(url, data=_grade_form(grade="competent"))
    [original] = _entries(world.counselor)
    before = (
        original.title,
        dict(original.detail),
        original.occurred_on,
        original.created_at,
    )

    response = hr.post(
        url, data=_grade_form(grade="excellent", corrects=str(original.id))
    )

    assert response.status_code == 302
    first, correction = _entries(world.counselor)
    assert first.id == original.id
    assert (first.title, first.detail, first.occurred_on, first.created_at) == before
    assert first.corrects_id is None
    assert correction.corrects_id == original.id
    assert correction.title == "2025年度考核：优秀"
    [row] = _audit("progression.corrected")
    assert row.data["corrects_id"] == original.id

    page = hr.get(f"/people/{world.counselor}/record").get_data(as_text=True)
    assert f'<tr id="entry-{original.id}">' in page
    assert "<del>Annual assessment 2025: Competent</del>" in page
    assert f'href="#entry-{correction.id}">Corrected: see the correction</a>' in page
    assert f'<a class="badge" href="#entry-{original.id}">Correction</a>' in page


def test_correction_form_is_prefilled(world, login):
    hr = _english(login("hr"))
    hr.post(
        f"/people/{world.counselor}/record/entries", data=_grade_form(grade="competent")
    )
    [original] = _entries(world.counselor)

    page = hr.get(f"/people/{world.counselor}/record?correct={original.id}").get_data(
        as_text=True
    )

    assert f"Correct entry {original.id}" in page
    assert f'name="corrects" type="hidden" value="{original.id}"' in page
    assert '<option selected value="competent">' in page


def test_second_correction_of_same_entry_rejected(world, login):
    hr = _english(login("hr"))
    url = f"/people/{world.counselor}/record/entries"
    hr.post(url, data=_grade_form())
    [original] = _entries(world.counselor)
    hr.post(url, data=_grade_form(grade="competent", corrects=str(original.id)))

    response = hr.post(
        url, data=_grade_form(grade="incompetent", corrects=str(original.id))
    )

    assert response.status_code == 400
    assert "already has a correction" in response.get_data(as_text=True)
    assert len(_entries(world.counselor)) == 2


def test_correction_targets_are_checked(world, login):
    hr = _english(login("hr"))
    url = f"/people/{world.counselor}/record/entries"
    training = ProgressionEntry(
        user_id=world.counselor,
        kind=ProgressionKind.TRAINING,
        occurred_on=date(2026, 3, 1),
        title="心理危机识别",
        detail={},
    )
    foreign = ProgressionEntry(
        user_id=world.counselor2,
        kind=ProgressionKind.ASSESSMENT_GRADE,
        occurred_on=date(2026, 1, 1),
        title="2025年度考核：合格",
        detail={"grade": "competent", "year": 2025},
    )
    db.session.add_all([training, foreign])
    db.session.commit()
    hr.post(
        url,
        data={
            "kind": "honour",
            "occurred_on": "2025-09-10",
            "honour_name": "优秀辅导员",
            "honour_level": "school",
            "year": "2025",
        },
    )
    honour = _entries(world.counselor)[-1]
    cases = [
        (training.id, "can be corrected here"),
        (foreign.id, "not on this record"),
        (987654, "not on this record"),
        (99999999999999999999999, "not on this record"),
        (honour.id, "same kind"),
    ]
    for target, message in cases:
        response = hr.post(url, data=_grade_form(corrects=str(target)))
        assert response.status_code == 400, target
        assert message in response.get_data(as_text=True), target
    assert count(ProgressionEntry) == 3


# Person profile -----------------------------------------------------------


def test_hr_edits_profile_with_audit(world, login):
    hr = _english(login("hr"))
    url = f"/people/{world.counselor}/profile"
    assert hr.get(url).status_code == 200

    response = hr.post(
        url,
        data={
            "party_status": "member",
            "party_committee_member": "y",
            "cadre_rank": "section_chief",
            "full_time": "yes",
            "post_started_on": "2024-09-01",
        },
    )

    assert response.status_code == 302
    db.session.expire_all()
    profile = db.session.get(PersonProfile, world.counselor)
    assert profile.party_status is PartyStatus.MEMBER
    assert profile.party_committee_member is True
    assert profile.cadre_rank is CadreRank.SECTION_CHIEF
    assert profile.full_time is True
    assert profile.post_started_on == date(2024, 9, 1)
    [row] = _audit("profile.updated")
    assert row.actor_id == world.hr
    assert row.data["changes"]["party_status"] == ["none", "member"]
    assert row.data["changes"]["cadre_rank"] == [None, "section_chief"]

    page = hr.get(url).get_data(as_text=True)
    assert '<option selected value="member">' in page
    assert '<option selected value="section_chief">' in page


def test_unchanged_profile_is_not_audited(world, login):
    hr = login("hr")
    data = {
        "party_status": "none",
        "cadre_rank": "",
        "full_time": "",
        "post_started_on": "",
    }

    assert hr.post(f"/people/{world.counselor}/profile", data=data).status_code == 302

    assert _audit("profile.updated") == []


def test_profile_rejects_bad_values(world, login):
    hr = _english(login("hr"))
    response = hr.post(
        f"/people/{world.counselor}/profile",
        data={"party_status": "leader", "post_started_on": "yesterday"},
    )

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Party status: “leader” is not one of the listed options" in page
    assert "Post start date: Enter a date as YYYY-MM-DD, e.g. 2026-09-01." in page
    assert db.session.get(PersonProfile, world.counselor) is None


def test_profile_access(world, login):
    url = f"/people/{world.counselor}/profile"
    data = {"party_status": "member"}

    assert login("counselor1").get(url).status_code == 403
    assert login("counselor1").post(url, data=data).status_code == 403
    for username in ["counselor2", "trainer", "hr_b"]:
        assert login(username).get(url).status_code == 404, username
        assert login(username).post(url, data=data).status_code == 404, username
    assert login("admin").get(url).status_code == 200
    assert db.session.get(PersonProfile, world.counselor) is None


def test_profile_rejects_out_of_range_date(world, login):
    hr = _english(login("hr"))

    response = hr.post(
        f"/people/{world.counselor}/profile",
        data={"party_status": "member", "post_started_on": "0001-01-01"},
    )

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Post start date: 0001-01-01 is not a plausible post start date." in page
    assert "1900-01-01" not in page
    assert db.session.get(PersonProfile, world.counselor) is None


@pytest.mark.parametrize("value", ["1900-01-01", "1949-12-31", "2099-01-01"])
def test_profile_rejects_implausible_post_start(world, login, value):
    hr = _english(login("hr"))

    response = hr.post(
        f"/people/{world.counselor}/profile",
        data={"party_status": "member", "post_started_on": value},
    )

    page = response.get_data(as_text=True)
    institution = db.session.get(User, world.counselor).institution
    latest = (local_today(institution) + timedelta(days=365)).isoformat()
    assert response.status_code == 400
    assert f"Post start date: {value} is not a plausible post start date." in page
    assert f"Enter a date from 1950-01-01 to {latest} (one year after today)." in page
    assert db.session.get(PersonProfile, world.counselor) is None


def test_profile_accepts_post_start_bounds(world, login):
    hr = _english(login("hr"))
    url = f"/people/{world.counselor}/profile"

    earliest = hr.post(url, data={"party_status": "member", "post_started_on": "1950-01-01"})
    assert earliest.status_code == 302
    assert db.session.get(PersonProfile, world.counselor).post_started_on == date(1950, 1, 1)

    ahead = date.today() + timedelta(days=200)
    planned = hr.post(url, data={"party_status": "member", "post_started_on": ahead.isoformat()})
    assert planned.status_code == 302
    db.session.expire_all()
    assert db.session.get(PersonProfile, world.counselor).post_started_on == ahead


# Rank changes and the cadre training rules ----------------------------------


def _rank_form(rank: str, occurred_on: str, **extra) -> dict:
    return {"kind": "rank_change", "occurred_on": occurred_on, "rank": rank, **extra}


def _cadre_rank(user_id: int):
    db.session.expire_all()
    profile = db.session.get(PersonProfile, user_id)
    return profile.cadre_rank if profile else None


def test_rank_change_sets_cadre_rank(world, login):
    seed_rules()
    db.session.commit()
    hr = login("hr")

    response = hr.post(
        f"/people/{world.counselor}/record/entries",
        data=_rank_form("section_deputy", "2025-08-01"),
    )

    assert response.status_code == 302
    assert _cadre_rank(world.counselor) is CadreRank.SECTION_DEPUTY
    [row] = _audit("profile.updated")
    assert row.actor_id == world.hr
    assert row.data["changes"] == {
        "cadre_rank": [None, "section_deputy"],
        "rank_since": [None, "2025-08-01"],
    }
    cadre_rule = db.session.scalar(
        sa.select(ComplianceRule).filter_by(code="cadre-section-yearly")
    )
    person = db.session.get(User, world.counselor)
    assert evaluate(person, cadre_rule, date(2026, 12, 5)).applies


def test_older_rank_change_keeps_latest(world, login):
    hr = login("hr")
    url = f"/people/{world.counselor}/record/entries"
    hr.post(url, data=_rank_form("section_chief", "2025-08-01"))

    hr.post(url, data=_rank_form("clerk", "2019-08-01"))

    assert _cadre_rank(world.counselor) is CadreRank.SECTION_CHIEF
    assert len(_audit("profile.updated")) == 1


def test_rank_correction_updates_cadre_rank(world, login):
    hr = login("hr")
    url = f"/people/{world.counselor}/record/entries"
    hr.post(url, data=_rank_form("division_deputy", "2025-08-01"))
    [original] = _entries(world.counselor)

    hr.post(url, data=_rank_form("section_chief", "2025-08-01", corrects=str(original.id)))

    assert _cadre_rank(world.counselor) is CadreRank.SECTION_CHIEF


def test_rank_change_keeps_other_profile_fields(world, login):
    hr = login("hr")
    hr.post(
        f"/people/{world.counselor}/profile",
        data={
            "party_status": "member",
            "party_committee_member": "y",
            "cadre_rank": "",
            "full_time": "",
            "post_started_on": "2020-09-01",
        },
    )

    hr.post(
        f"/people/{world.counselor}/record/entries",
        data=_rank_form("clerk", "2021-08-01"),
    )

    db.session.expire_all()
    profile = db.session.get(PersonProfile, world.counselor)
    assert profile.cadre_rank is CadreRank.CLERK
    assert profile.party_status is PartyStatus.MEMBER
    assert profile.party_committee_member is True
    assert profile.post_started_on == date(2020, 9, 1)
