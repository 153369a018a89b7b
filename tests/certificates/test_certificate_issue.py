"""Issuing certificates: idempotence, serials, codes, status, revocation, PDFs."""

import hashlib
import io
import json
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from certificates import services
from certificates.models import Certificate, CertificateStatus, SerialCounter
from certificates.services import DisplayStatus
from lms import signals
from lms.accounts.models import Role
from lms.audit import AuditEntry
from lms.extensions import db
from lms.records.models import ProgressionEntry, ProgressionKind
from tests.certificates.builders import (
    COMPLETED_AT,
    issue,
    make_institution,
    make_programme,
    make_user,
)
from tests.conftest import count


@pytest.fixture
def school(app_ctx):
    institution = make_institution()
    return {
        "institution": institution,
        "counselor": make_user(
            institution, "c1", full_name="欧阳明辉", employee_no="T2019001"
        ),
        "other": make_user(institution, "c2", full_name="李喆"),
        "hr": make_user(institution, "hr1", Role.HR),
        "admin": make_user(institution, "admin1", Role.ADMIN),
        "trainer": make_user(institution, "trainer1", Role.TRAINER),
        "programme": make_programme(institution),
    }


def audit_actions(action: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(sa.select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id))
    )


def test_issue_fills_certificate(school):
    cert = issue(school["counselor"], school["programme"])

    assert cert.holder_id == school["counselor"].id
    assert cert.institution_id == school["institution"].id
    assert cert.programme_id == school["programme"].id
    assert cert.holder_name == "欧阳明辉"
    assert cert.title == "初级辅导员岗位培训"
    assert cert.hours == Decimal("40")
    assert cert.issued_on == date(2026, 5, 1)
    assert cert.expires_on == date(2029, 4, 30)
    assert cert.status is CertificateStatus.VALID
    assert (
        cert.achievement_key
        == f"programme:{school['programme'].id}:user:{school['counselor'].id}"
    )


def test_render_data_is_plain_values(school):
    cert = issue(school["counselor"], school["programme"])
    data = cert.render_data

    assert json.loads(json.dumps(data)) == data
    assert data["holder_name"] == "欧阳明辉"
    assert data["employee_no"] == "T2019001"
    assert data["institution_name"] == "树人示范大学"
    assert data["programme_title"] == "初级辅导员岗位培训"
    assert data["level"] == "junior"
    assert Decimal(data["hours"]) == Decimal("40")
    assert data["issued_on"] == "2026-05-01"
    assert data["expires_on"] == "2029-04-30"
    assert data["serial"] == cert.serial
    assert data["verification_code"] == services.format_code(cert.verification_code)
    assert data["verification_url"] == (
        f"http://127.0.0.1:5000/verify/{services.format_code(cert.verification_code)}"
    )


def test_issue_twice_returns_same_certificate(school):
    first = issue(school["counselor"], school["programme"])
    second = issue(school["counselor"], school["programme"])

    assert second.id == first.id
    assert count(Certificate) == 1
    assert len(audit_actions("certificate.issued")) == 1
    entries = db.session.scalars(
        sa.select(ProgressionEntry).filter_by(kind=ProgressionKind.CERTIFICATE)
    ).all()
    assert len(entries) == 1
    assert entries[0].detail["serial"] == first.serial


def test_concurrent_insert_returns_existing_without_serial_gap(school, monkeypatch):
    """A second request that missed the first one's row hits the unique key."""
    first = issue(school["counselor"], school["programme"])
    real_find = services.find_by_achievement
    calls = []

    def find_missing_once(key):
        calls.append(key)
        return None if len(calls) == 1 else real_find(key)

    monkeypatch.setattr(services, "find_by_achievement", find_missing_once)
    again = issue(school["counselor"], school["programme"])

    assert again.id == first.id
    assert len(calls) == 2
    assert count(Certificate) == 1
    monkeypatch.setattr(services, "find_by_achievement", real_find)
    other = issue(school["other"], school["programme"])
    assert other.serial == "SR-2026-000002"


def test_serials_count_per_institution_and_year(school):
    second_school = make_institution("uni-b", "第二示范大学", prefix="DE")
    outsider = make_user(second_school, "b1")
    outsider_programme = make_programme(second_school, "b-prog")

    first = issue(school["counselor"], school["programme"])
    second = issue(school["other"], school["programme"])
    elsewhere = issue(outsider, outsider_programme)
    next_year = issue(
        school["hr"], school["programme"], datetime(2027, 3, 1, tzinfo=timezone.utc)
    )

    assert first.serial == "SR-2026-000001"
    assert second.serial == "SR-2026-000002"
    assert elsewhere.serial == "DE-2026-000001"
    assert next_year.serial == "SR-2027-000001"
    assert re.fullmatch(r"[A-Z]+-\d{4}-\d{6}", first.serial)
    counters = {
        (c.institution_id, c.year): c.last_value
        for c in db.session.scalars(sa.select(SerialCounter))
    }
    assert counters[(school["institution"].id, 2026)] == 2
    assert counters[(school["institution"].id, 2027)] == 1


def test_next_serial_value_increments(school):
    institution_id = school["institution"].id

    values = [services.next_serial_value(institution_id, 2030) for _ in range(3)]

    assert values == [1, 2, 3]


def test_issue_date_uses_institution_zone(school):
    # 17:30 UTC on 31 December is 01:30 on 1 January in Shanghai.
    late = datetime(2026, 12, 31, 17, 30, tzinfo=timezone.utc)

    cert = issue(school["counselor"], school["programme"], late)

    assert cert.issued_on == date(2027, 1, 1)
    assert cert.serial == "SR-2027-000001"


def test_programme_without_validity_never_expires(school):
    programme = make_programme(school["institution"], "open", validity_months=None)

    cert = issue(school["counselor"], programme)

    assert cert.expires_on is None
    assert cert.render_data["expires_on"] is None
    assert services.status_of(cert, date(2099, 1, 1)) is DisplayStatus.VALID


@pytest.mark.parametrize(
    "issued, months, expected",
    [
        (date(2026, 5, 1), 36, date(2029, 4, 30)),
        (date(2026, 1, 31), 1, date(2026, 2, 27)),
        (date(2024, 1, 31), 1, date(2024, 2, 28)),
        (date(2026, 11, 15), 2, date(2027, 1, 14)),
    ],
)
def test_expiry_date(issued, months, expected):
    assert services.expiry_date(issued, months) == expected


def test_verification_code_shape(school):
    cert = issue(school["counselor"], school["programme"])
    code = cert.verification_code

    assert len(code) == 12
    assert set(code) <= set(services.CODE_ALPHABET)
    assert not set("0O1IL") & set(services.CODE_ALPHABET)
    assert re.fullmatch(
        r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", services.format_code(code)
    )


def test_verification_codes_differ():
    codes = {services.new_verification_code() for _ in range(200)}

    assert len(codes) == 200


@pytest.mark.parametrize(
    "typed",
    [
        "ABCD-EFGH-JKMN",
        "ABCDEFGHJKMN",
        "abcd-efgh-jkmn",
        " abcd efgh jkmn ",
        "ＡＢＣＤ－ＥＦＧＨ－ＪＫＭＮ",
        "ａｂｃｄ ｅｆｇｈ ｊｋｍｎ",
        "ABCD–EFGH—JKMN",
        "ABCD\u3000EFGH\tJKMN",
    ],
)
def test_normalise_code_accepts_typed_forms(typed):
    assert services.normalise_code(typed) == "ABCDEFGHJKMN"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        None,
        "ABCD-EFGH-JKM",
        "ABCD-EFGH-JKMNP",
        "ABCD-EFGH-JKM0",
        "OBCD-EFGH-JKMN",
        "ABCD-EFGH-JKM1",
        "ABCD-EFGH-JKMI",
        "ABCD-EFGH-JKML",
        "ABCD/EFGH/JKMN",
    ],
)
def test_normalise_code_rejects_malformed(typed):
    assert services.normalise_code(typed) is None


def test_find_by_code_normalises(school):
    cert = issue(school["counselor"], school["programme"])
    typed = " " + services.format_code(cert.verification_code).lower().replace("-", " ")

    assert services.find_by_code(typed).id == cert.id
    assert services.find_by_code("ABCD-EFGH-JKMN") is None


def test_status_of_dates(school):
    cert = issue(school["counselor"], school["programme"])
    expiry = cert.expires_on

    assert services.status_of(cert, expiry - timedelta(days=31)) is DisplayStatus.VALID
    assert (
        services.status_of(cert, expiry - timedelta(days=30))
        is DisplayStatus.EXPIRING_SOON
    )
    assert services.status_of(cert, expiry) is DisplayStatus.EXPIRING_SOON
    assert services.status_of(cert, expiry + timedelta(days=1)) is DisplayStatus.EXPIRED


def test_status_of_defaults_to_institution_today(school):
    cert = issue(school["counselor"], school["programme"])
    today = services.institution_today(school["institution"])

    cert.expires_on = today - timedelta(days=1)
    assert services.status_of(cert) is DisplayStatus.EXPIRED
    cert.expires_on = today
    assert services.status_of(cert) is DisplayStatus.EXPIRING_SOON
    cert.expires_on = today + timedelta(days=400)
    assert services.status_of(cert) is DisplayStatus.VALID


def test_status_of_stored_states_win_over_dates(school):
    cert = issue(school["counselor"], school["programme"])
    day = cert.issued_on

    cert.status = CertificateStatus.SUPERSEDED
    assert services.status_of(cert, day) is DisplayStatus.SUPERSEDED
    services.revoke(cert, "培训记录有误", school["hr"])
    assert services.status_of(cert, day) is DisplayStatus.REVOKED


def test_revoke_by_hr(school):
    cert = issue(school["counselor"], school["programme"])

    services.revoke(cert, "  培训记录有误，需重新审核  ", school["hr"])

    assert cert.status is CertificateStatus.REVOKED
    assert cert.revoked_reason == "培训记录有误，需重新审核"
    assert cert.revoked_at is not None
    assert services.revoked_on(cert) == services.institution_today(
        school["institution"]
    )
    entries = audit_actions("certificate.revoked")
    assert len(entries) == 1
    assert entries[0].actor_id == school["hr"].id
    assert entries[0].subject_id == cert.id
    assert entries[0].data["reason"] == "培训记录有误，需重新审核"


def test_revoke_by_admin(school):
    cert = issue(school["counselor"], school["programme"])

    services.revoke(cert, "重复发放", school["admin"])

    assert cert.status is CertificateStatus.REVOKED


def test_revoke_twice_keeps_first_reason(school):
    cert = issue(school["counselor"], school["programme"])
    services.revoke(cert, "第一次", school["hr"])

    services.revoke(cert, "第二次", school["hr"])

    assert cert.revoked_reason == "第一次"
    assert len(audit_actions("certificate.revoked")) == 1


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 501])
def test_revoke_rejects_bad_reason(school, reason):
    cert = issue(school["counselor"], school["programme"])

    with pytest.raises(services.CertificateError):
        services.revoke(cert, reason, school["hr"])

    assert cert.status is CertificateStatus.VALID


@pytest.mark.parametrize("who", ["counselor", "other", "trainer"])
def test_revoke_rejects_non_hr(school, who):
    cert = issue(school["counselor"], school["programme"])

    with pytest.raises(services.CertificatePermissionError):
        services.revoke(cert, "无权限", school[who])

    assert cert.status is CertificateStatus.VALID


def test_revoke_rejects_hr_of_other_institution(school):
    cert = issue(school["counselor"], school["programme"])
    foreign_hr = make_user(
        make_institution("uni-b", "第二示范大学", "DE"), "hr-b", Role.HR
    )

    with pytest.raises(services.CertificatePermissionError):
        services.revoke(cert, "越权", foreign_hr)

    assert audit_actions("certificate.revoked") == []


def test_issue_stores_pdf_with_hash(school, app):
    cert = issue(school["counselor"], school["programme"])
    path = services.pdf_path(cert)

    assert path.parent == Path(app.config["CERTIFICATE_DIR"])
    assert path.name == f"{cert.serial}.pdf"
    stored = path.read_bytes()
    assert stored.startswith(b"%PDF")
    assert hashlib.sha256(stored).hexdigest() == cert.pdf_sha256
    assert "欧阳明辉" in PdfReader(io.BytesIO(stored)).pages[0].extract_text()


def test_pdf_bytes_rerenders_missing_file(school):
    cert = issue(school["counselor"], school["programme"])
    path = services.pdf_path(cert)
    original = path.read_bytes()
    path.unlink()

    again = services.pdf_bytes(cert)

    assert again == original
    assert path.read_bytes() == original
    assert hashlib.sha256(again).hexdigest() == cert.pdf_sha256


def test_pdf_bytes_rerenders_from_render_data(school):
    cert = issue(school["counselor"], school["programme"])
    services.pdf_path(cert).unlink()
    # Renaming the account later must not change the issued document.
    school["counselor"].full_name = "改名后"
    school["programme"].title = "改名后的项目"

    text = PdfReader(io.BytesIO(services.pdf_bytes(cert))).pages[0].extract_text()

    assert "欧阳明辉" in text
    assert "初级辅导员岗位培训" in text
    assert "改名后" not in text


def test_pdf_bytes_replaces_file_with_wrong_hash(school):
    cert = issue(school["counselor"], school["programme"])
    path = services.pdf_path(cert)
    original = path.read_bytes()
    path.write_bytes(b"%PDF-1.7 left over from a rolled-back transaction")

    assert services.pdf_bytes(cert) == original
    assert path.read_bytes() == original


def test_programme_completed_signal_issues_certificate(school):
    enrolment_stub = object()

    signals.programme_completed.send(
        enrolment_stub,
        user_id=school["counselor"].id,
        programme_id=school["programme"].id,
        completed_at=COMPLETED_AT,
        programme_title=school["programme"].title,
        tier=school["programme"].tier,
        kind=school["programme"].kind,
    )
    signals.programme_completed.send(
        enrolment_stub,
        user_id=school["counselor"].id,
        programme_id=school["programme"].id,
        completed_at=COMPLETED_AT,
        programme_title=school["programme"].title,
        tier=school["programme"].tier,
        kind=school["programme"].kind,
    )

    certs = db.session.scalars(sa.select(Certificate)).all()
    assert len(certs) == 1
    assert certs[0].holder_id == school["counselor"].id
