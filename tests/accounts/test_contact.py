"""Own mobile number on the record page, and HR edits of gender and phone with audit."""

import pytest
import sqlalchemy as sa

from lms.accounts.models import Gender, User
from lms.audit import AuditEntry
from lms.audit_summaries import describe
from lms.extensions import db
from tests.factories import build_learning_world


@pytest.fixture
def world(app_ctx):
    return build_learning_world()


def _profile_audits() -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEntry).filter_by(action="profile.updated")))


def test_own_phone_saved_without_audit(world, login):
    counselor = login("counselor1")

    response = counselor.post("/account/phone", data={"phone": "+86 139-1234-5678"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/people/{world.counselor}/record#contact")
    db.session.expire_all()
    assert db.session.get(User, world.counselor).phone == "13912345678"
    assert _profile_audits() == []
    page = counselor.get(f"/people/{world.counselor}/record").get_data(as_text=True)
    assert 'value="13912345678"' in page


def test_own_phone_invalid_gives_field_error(world, login, english):
    counselor = login("counselor1")

    response = counselor.post("/account/phone", data={"phone": "12345"})

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<p class="field-error">Mobile phone: 12345 is not a mobile number.' in page
    db.session.expire_all()
    assert db.session.get(User, world.counselor).phone is None


def test_own_phone_full_width_digits(world, login):
    counselor = login("counselor1")

    response = counselor.post("/account/phone", data={"phone": "１３９－１２３４－５６７８"})

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, world.counselor).phone == "13912345678"


@pytest.mark.parametrize("typed", ["1٣٩١٢٣٤٥٦٧٨", "139١٢٣٤٥٦٧٨", "१३९१२३४५६७८"])
def test_own_phone_foreign_digits_rejected(world, login, english, typed):
    counselor = login("counselor1")

    response = counselor.post("/account/phone", data={"phone": typed})

    assert response.status_code == 400
    assert "is not a mobile number" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, world.counselor).phone is None


def test_own_phone_error_keeps_typed_text(world, login):
    counselor = login("counselor1")

    response = counselor.post("/account/phone", data={"phone": "010-12345678"})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="010-12345678"' in page
    assert 'value="01012345678"' not in page


def test_own_phone_empty_clears_it(world, login):
    db.session.get(User, world.counselor).phone = "13912345678"
    db.session.commit()

    response = login("counselor1").post("/account/phone", data={"phone": ""})

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, world.counselor).phone is None


def test_hr_edits_contact_with_one_audit_row(world, login, english):
    hr = login("hr")
    url = f"/people/{world.counselor}/profile"
    data = {
        "party_status": "member",
        "cadre_rank": "",
        "full_time": "",
        "post_started_on": "",
        "gender": "female",
        "phone": "13800138000",
    }

    response = hr.post(url, data=data)

    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(User, world.counselor)
    assert person.gender is Gender.FEMALE
    assert person.phone == "13800138000"
    [row] = _profile_audits()
    assert row.actor_id == world.hr
    assert row.data["changes"]["gender"] == [None, "female"]
    assert row.data["changes"]["phone"] == [None, "*******8000"]
    assert row.data["changes"]["party_status"] == ["none", "member"]
    assert "13800138000" not in row.summary
    summary = describe(row, "hr")
    assert "Gender" in summary
    assert "Mobile phone" in summary
    record = hr.get(f"/people/{world.counselor}/record").get_data(as_text=True)
    assert "13800138000" in record
    assert "Female" in record


def test_hr_profile_rejects_bad_phone(world, login, english):
    hr = login("hr")
    data = {"party_status": "none", "gender": "", "phone": "23800138000"}

    response = hr.post(f"/people/{world.counselor}/profile", data=data)

    assert response.status_code == 400
    assert "23800138000 is not a mobile number." in response.get_data(as_text=True)
    assert _profile_audits() == []
