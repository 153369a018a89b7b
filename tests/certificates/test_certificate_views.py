"""Certificate pages through the test client with real logins."""

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from certificates import services
from certificates.models import Certificate, CertificateStatus
from lms.accounts.models import Role, User
from lms.audit import AuditEntry
from lms.extensions import db
from lms.organisations.models import Institution
from tests.certificates.builders import (
    issue,
    make_institution,
    make_programme,
    make_user,
)

EN = {"Accept-Language": "en"}


@pytest.fixture
def world(app_ctx):
    """One certificate held by c1 at uni-a, plus people who may or may not see it."""
    institution = make_institution()
    holder = make_user(institution, "c1", full_name="欧阳明辉", employee_no="T2019001")
    make_user(institution, "c2", full_name="李喆")
    make_user(institution, "hr1", Role.HR)
    make_user(institution, "admin1", Role.ADMIN)
    make_user(institution, "trainer1", Role.TRAINER)
    other_school = make_institution("uni-b", "第二示范大学", prefix="DE")
    make_user(other_school, "hr-b", Role.HR)
    make_user(other_school, "admin-b", Role.ADMIN)
    cert = issue(holder, make_programme(institution))
    db.session.commit()
    return {
        "serial": cert.serial,
        "code": services.format_code(cert.verification_code),
        "raw_code": cert.verification_code,
        "id": cert.id,
    }


def reload(world) -> Certificate:
    db.session.expire_all()
    return db.session.get(Certificate, world["id"])


# --- my certificates -------------------------------------------------------


def test_mine_lists_own_certificates(world, login):
    page = login("c1").get("/certificates", headers=EN)
    text = page.get_data(as_text=True)

    assert page.status_code == 200
    assert world["serial"] in text
    assert "初级辅导员岗位培训" in text
    assert f"/certificates/{world['serial']}.pdf" in text
    assert "Valid" in text


def test_mine_hides_others_certificates(world, login):
    text = login("c2").get("/certificates", headers=EN).get_data(as_text=True)

    assert world["serial"] not in text
    assert "no certificates yet" in text


def test_mine_requires_login(world, client):
    response = client.get("/certificates")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# --- download --------------------------------------------------------------


@pytest.mark.parametrize("username", ["c1", "hr1", "admin1"])
def test_download_allowed(world, login, username):
    response = login(username).get(f"/certificates/{world['serial']}.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{world["serial"]}.pdf"'
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1
    assert "欧阳明辉" in reader.pages[0].extract_text()


@pytest.mark.parametrize("username", ["c2", "trainer1", "hr-b", "admin-b"])
def test_download_hidden_from_others(world, login, username):
    response = login(username).get(f"/certificates/{world['serial']}.pdf")

    assert response.status_code == 404


def test_download_unknown_serial_is_404(world, login):
    assert login("hr1").get("/certificates/SR-2026-999999.pdf").status_code == 404


def test_download_requires_login(world, client):
    response = client.get(f"/certificates/{world['serial']}.pdf")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_download_rerenders_missing_file(world, login):
    cert = reload(world)
    original = services.pdf_path(cert).read_bytes()
    services.pdf_path(cert).unlink()

    response = login("c1").get(f"/certificates/{world['serial']}.pdf")

    assert response.status_code == 200
    assert response.data == original
    assert services.pdf_path(reload(world)).exists()


# --- detail and revocation -------------------------------------------------


def test_detail_shows_revoke_form_to_hr_only(world, login):
    hr_page = login("hr1").get(f"/certificates/{world['serial']}", headers=EN)
    holder_page = login("c1").get(f"/certificates/{world['serial']}", headers=EN)

    assert hr_page.status_code == 200
    assert "Revoke this certificate" in hr_page.get_data(as_text=True)
    assert holder_page.status_code == 200
    assert "Revoke this certificate" not in holder_page.get_data(as_text=True)


@pytest.mark.parametrize("username", ["c2", "trainer1", "hr-b"])
def test_detail_hidden_from_others(world, login, username):
    assert login(username).get(f"/certificates/{world['serial']}").status_code == 404


@pytest.mark.parametrize("username", ["hr1", "admin1"])
def test_revoke_by_hr_or_admin(world, login, username):
    response = login(username).post(
        f"/certificates/{world['serial']}/revoke", data={"reason": "培训记录有误"}
    )

    assert response.status_code == 302
    cert = reload(world)
    assert cert.status is CertificateStatus.REVOKED
    assert cert.revoked_reason == "培训记录有误"
    actions = db.session.scalars(sa.select(AuditEntry.action)).all()
    assert actions.count("certificate.revoked") == 1


def test_revoked_detail_has_no_validity(world, login, english):
    hr = login("hr1")
    hr.post(f"/certificates/{world['serial']}/revoke", data={"reason": "培训记录有误"})

    page = hr.get(f"/certificates/{world['serial']}").get_data(as_text=True)

    assert "Revoked on" in page
    assert "Valid until" not in page


@pytest.mark.parametrize("reason", ["", "   "])
def test_revoke_requires_reason(world, login, reason):
    response = login("hr1").post(
        f"/certificates/{world['serial']}/revoke", data={"reason": reason}, headers=EN
    )

    assert response.status_code == 400
    assert "Reason for revocation: This field is required." in response.get_data(
        as_text=True
    )
    assert reload(world).status is CertificateStatus.VALID


def test_revoke_error_uses_chinese_colon(world, login):
    response = login("hr1").post(
        f"/certificates/{world['serial']}/revoke", data={"reason": ""}
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "撤销原因：" in page
    assert "撤销原因:" not in page


def test_revoke_rejects_long_reason(world, login):
    response = login("hr1").post(
        f"/certificates/{world['serial']}/revoke",
        data={"reason": "长" * 501},
        headers=EN,
    )

    assert response.status_code == 400
    assert "Reason for revocation:" in response.get_data(as_text=True)
    assert reload(world).status is CertificateStatus.VALID


def test_revoke_forbidden_for_holder(world, login):
    response = login("c1").post(
        f"/certificates/{world['serial']}/revoke", data={"reason": "自己撤销"}
    )

    assert response.status_code == 403
    assert reload(world).status is CertificateStatus.VALID


@pytest.mark.parametrize("username", ["c2", "trainer1", "hr-b", "admin-b"])
def test_revoke_hidden_from_others(world, login, username):
    response = login(username).post(
        f"/certificates/{world['serial']}/revoke", data={"reason": "越权"}
    )

    assert response.status_code == 404
    assert reload(world).status is CertificateStatus.VALID


def test_revoke_needs_csrf_token(world, login):
    hr = login("hr1")

    response = hr.client.post(
        f"/certificates/{world['serial']}/revoke", data={"reason": "无令牌"}
    )

    assert response.status_code == 400
    assert reload(world).status is CertificateStatus.VALID


# --- HR list -----------------------------------------------------------------


def test_issued_list_for_hr(world, login):
    hr = login("hr1")

    assert world["serial"] in hr.get("/certificates/issued").get_data(as_text=True)
    assert world["serial"] in hr.get("/certificates/issued?q=欧阳").get_data(
        as_text=True
    )
    assert world["serial"] not in hr.get("/certificates/issued?q=nobody").get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("title", "search", "found"),
    [
        ("初级辅导员岗位培训", "%", False),
        ("初级辅导员岗位培训", "_", False),
        ("初级辅导员岗位培训", "辅导员%培训", False),
        ("初级辅导员岗位培训", "\\", False),
        ("心理危_机干预 100% 达标", "100%", True),
        ("心理危_机干预 100% 达标", "危_机", True),
        ("心理危_机干预 100% 达标", "100_", False),
        ("心理危_机干预 100% 达标", "危%机", False),
    ],
)
def test_issued_search_treats_wildcards_literally(world, login, title, search, found):
    reload(world).title = title
    db.session.commit()

    page = login("hr1").get("/certificates/issued", query_string={"q": search})

    assert page.status_code == 200
    assert (world["serial"] in page.get_data(as_text=True)) is found


def test_issued_list_says_when_cut_off(world, login, english, monkeypatch):
    """Does the issued list state that it shows only the newest certificates?"""
    from certificates import views

    holder = db.session.scalar(sa.select(User).filter_by(username="c2"))
    issue(holder, make_programme(holder.institution, "second"))
    db.session.commit()
    hr = login("hr1")

    full = hr.get("/certificates/issued").get_data(as_text=True)
    monkeypatch.setattr(views, "ISSUED_LIST_LIMIT", 1)
    cut = hr.get("/certificates/issued").get_data(as_text=True)

    assert "Showing the newest" not in full
    assert "Showing the newest certificate only." in cut
    assert "Search by name, serial number or programme to find older ones." in cut


def test_issued_list_scoped_to_institution(world, login):
    text = login("hr-b").get("/certificates/issued").get_data(as_text=True)

    assert world["serial"] not in text


def test_issued_list_forbidden_for_counselor(world, login):
    assert login("c1").get("/certificates/issued").status_code == 403


# --- public verification ---------------------------------------------------


def test_verify_valid(world, client):
    response = client.get(f"/verify/{world['code']}", headers=EN)
    text = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Valid" in text
    for expected in (
        "欧阳明辉",
        "初级辅导员岗位培训",
        world["serial"],
        "树人示范大学",
        "40",
    ):
        assert expected in text, expected
    assert "T2019001" not in text
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"


@pytest.mark.parametrize(
    "spelling",
    ["raw", "lower", "spaced"],
)
def test_verify_accepts_code_spellings(world, client, spelling):
    code = {
        "raw": world["raw_code"],
        "lower": world["code"].lower(),
        "spaced": world["code"].replace("-", " "),
    }[spelling]

    response = client.get(f"/verify/{code}")

    assert response.status_code == 200
    assert world["serial"] in response.get_data(as_text=True)


def test_verify_expired(world, client):
    cert = reload(world)
    cert.expires_on = date(2020, 1, 31)
    db.session.commit()

    text = client.get(f"/verify/{world['code']}", headers=EN).get_data(as_text=True)

    assert "Expired" in text
    assert "expired on" in text
    assert "2020-01-31" in text


def test_verify_expiring_soon(world, client):
    cert = reload(world)
    cert.expires_on = services.institution_today(cert.institution) + timedelta(days=10)
    db.session.commit()

    text = client.get(f"/verify/{world['code']}", headers=EN).get_data(as_text=True)

    assert "Expiring soon" in text


def test_verify_revoked_shows_date_and_reason(world, login, client):
    login("hr1").post(
        f"/certificates/{world['serial']}/revoke", data={"reason": "培训记录有误"}
    )
    today = services.institution_today(reload(world).institution)

    text = client.get(f"/verify/{world['code']}", headers=EN).get_data(as_text=True)

    assert "Revoked" in text
    assert "培训记录有误" in text
    assert today.isoformat() in text


@pytest.mark.parametrize(
    ("headers", "expected"),
    [(EN, "<strong>Reason for revocation:</strong> 培训记录有误"), ({}, "<strong>撤销原因：</strong> 培训记录有误")],
)
def test_verify_revoked_reason_punctuation(world, login, client, headers, expected):
    login("hr1").post(
        f"/certificates/{world['serial']}/revoke", data={"reason": "培训记录有误"}
    )

    text = client.get(f"/verify/{world['code']}", headers=headers).get_data(as_text=True)

    assert expected in text


def test_verify_superseded(world, client):
    cert = reload(world)
    cert.status = CertificateStatus.SUPERSEDED
    db.session.commit()

    text = client.get(f"/verify/{world['code']}", headers=EN).get_data(as_text=True)

    assert "Superseded" in text


@pytest.mark.parametrize("code", ["ABCD-EFGH-JKMN", "not-a-code", "0000"])
def test_verify_unknown_code_is_404(world, client, code):
    response = client.get(f"/verify/{code}", headers=EN)
    text = response.get_data(as_text=True)

    assert response.status_code == 404
    assert "No certificate has the verification code" in text
    assert "欧阳明辉" not in text


def test_verify_lookup_form(client, app_ctx):
    response = client.get("/verify", headers=EN)

    assert response.status_code == 200
    assert 'name="code"' in response.get_data(as_text=True)


def test_verify_lookup_redirects_normalised_code(world, client):
    typed = "  " + world["code"].lower().replace("-", " ")

    response = client.get("/verify", query_string={"code": typed})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{world['code']}")


def test_verify_lookup_full_width_code(world, client):
    full_width = "".join(chr(ord(ch) + 0xFEE0) for ch in world["code"])

    response = client.get("/verify", query_string={"code": full_width})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{world['code']}")


@pytest.mark.parametrize(
    "typed",
    [
        "http://127.0.0.1:5000/verify/{code}",
        "https://training.shuren-demonstration-university.edu.cn/verify/{lower}?from=qr",
        # The whole line under the QR code, copied from the PDF.
        "扫码或访问以下网址核验：http://127.0.0.1:5000/verify/{code}",
    ],
)
def test_verify_lookup_takes_pasted_address(world, client, typed):
    """A verification address pasted from the certificate finds the certificate."""
    pasted = typed.format(code=world["code"], lower=world["code"].lower())

    response = client.get("/verify", query_string={"code": pasted})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{world['code']}")


def test_verify_lookup_address_with_bad_code(world, client, english):
    response = client.get(
        "/verify", query_string={"code": "http://127.0.0.1:5000/verify/ABCD-EFGH-JKM0"}
    )

    assert response.status_code == 400
    assert "Verification code: A code has 12 letters and digits" in response.get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    "typed, status, message",
    [
        ("", 400, "Verification code: This field is required."),
        ("ABC", 400, "Verification code: A code has 12 letters and digits"),
        ("ABCD-EFGH-JKM0", 400, "Verification code: A code has 12 letters and digits"),
        (
            "X" * 301,
            400,
            "Verification code: Enter at most 300 characters.",
        ),
        ("ABCD-EFGH-JKMN", 404, "Verification code: No certificate has this code."),
    ],
)
def test_verify_lookup_errors_name_the_field(world, client, typed, status, message):
    response = client.get("/verify", query_string={"code": typed}, headers=EN)

    assert response.status_code == status
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["{serial}", " {serial} ", "sr-2026-000001"])
def test_verify_lookup_explains_serial_is_not_code(world, client, english, typed):
    """Does a lookup by serial number ask the visitor for the verification code?"""
    response = client.get(
        "/verify", query_string={"code": typed.format(serial=world["serial"])}
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Verification code: A code has 12 letters and digits" in page
    assert "If you typed the certificate&#39;s serial number" in page


def test_verify_lookup_short_code_not_called_serial(world, client, english):
    response = client.get("/verify", query_string={"code": "ABCD-EFGH"})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "serial number" not in page


def test_verify_unknown_code_is_escaped(app_ctx, client):
    response = client.get("/verify/<script>alert(1)", headers=EN)
    text = response.get_data(as_text=True)

    assert response.status_code == 404
    assert "&lt;script&gt;alert(1)" in text
    assert "<script>alert(1)" not in text


# --- revoking twice and the public page of a revoked certificate --------------


def test_second_revoke_says_already_revoked(world, login, english):
    hr = login("hr1")
    hr.post(f"/certificates/{world['serial']}/revoke", data={"reason": "信息有误"})

    again = hr.post(
        f"/certificates/{world['serial']}/revoke",
        data={"reason": "再次撤销"},
        follow_redirects=True,
    )

    text = again.get_data(as_text=True)
    assert again.status_code == 200
    assert f"Certificate {world['serial']} was already revoked on" in text
    assert "by 测试hr1" in text
    assert reload(world).revoked_reason == "信息有误"
    revoked = db.session.scalars(
        sa.select(AuditEntry).filter_by(action="certificate.revoked")
    ).all()
    assert len(revoked) == 1


def test_second_revoke_by_another_names_first(world, login, english):
    login("hr1").post(f"/certificates/{world['serial']}/revoke", data={"reason": "信息有误"})

    text = login("admin1").post(
        f"/certificates/{world['serial']}/revoke", data={"reason": "x"}, follow_redirects=True
    ).get_data(as_text=True)

    assert "already revoked on" in text
    assert "by 测试hr1" in text
    assert reload(world).revoked_reason == "信息有误"


def test_verify_revoked_shows_revocation_not_validity(world, login, client, english):
    login("hr1").post(f"/certificates/{world['serial']}/revoke", data={"reason": "信息有误"})

    text = client.get(f"/verify/{world['code']}").get_data(as_text=True)

    assert "Revoked on" in text
    assert "Valid until" not in text
    assert "No expiry" not in text
    assert "信息有误" in text


# --- revoked certificates: downloads -----------------------------------------


def _revoke(world, login):
    login("hr1").post(
        f"/certificates/{world['serial']}/revoke", data={"reason": "培训记录有误"}
    )
    assert reload(world).status is CertificateStatus.REVOKED


def _archived_downloads() -> list[str]:
    return db.session.scalars(
        sa.select(AuditEntry.action).where(
            AuditEntry.action.like("certificate.archived_%")
        )
    ).all()


@pytest.mark.parametrize(
    "path", ["/certificates/{serial}.pdf", "/certificates/{serial}/credential.json"]
)
def test_holder_cannot_download_revoked_certificate(world, login, english, path):
    _revoke(world, login)
    holder = login("c1")

    response = holder.get(path.format(serial=world["serial"]))

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/certificates/{world['serial']}")
    page = holder.get(response.headers["Location"]).get_data(as_text=True)
    assert "was revoked on" in page
    assert "培训记录有误" in page
    assert "can no longer be downloaded" in page
    assert _archived_downloads() == []


def test_mine_shows_revoked_reason_without_download(world, login, english):
    _revoke(world, login)

    page = login("c1").get("/certificates").get_data(as_text=True)

    assert "Revoked" in page
    assert "培训记录有误" in page
    assert f"/certificates/{world['serial']}.pdf" not in page


def test_revoked_detail_offers_no_download_to_holder(world, login, english):
    _revoke(world, login)

    page = login("c1").get(f"/certificates/{world['serial']}").get_data(as_text=True)

    assert f"/certificates/{world['serial']}.pdf" not in page
    assert "credential.json" not in page
    assert "can no longer be downloaded" in page


@pytest.mark.parametrize("username", ["hr1", "admin1"])
def test_manager_downloads_archived_copy_with_audit(world, login, username):
    _revoke(world, login)
    archived = services.pdf_path(reload(world)).read_bytes()
    manager = login(username)

    detail = manager.get(f"/certificates/{world['serial']}").get_data(as_text=True)
    response = manager.get(f"/certificates/{world['serial']}.pdf")

    assert f"/certificates/{world['serial']}.pdf" in detail
    assert response.status_code == 200
    assert response.data == archived
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{world["serial"]}-revoked.pdf"'
    )
    assert _archived_downloads() == ["certificate.archived_pdf_downloaded"]


@pytest.mark.parametrize("username", ["c2", "trainer1", "hr-b"])
def test_revoked_download_hidden_from_others(world, login, username):
    _revoke(world, login)

    response = login(username).get(f"/certificates/{world['serial']}.pdf")

    assert response.status_code == 404
    assert _archived_downloads() == []


@pytest.mark.parametrize("username", ["hr1", "admin1"])
def test_manager_page_links_archived_credential(world, login, english, username):
    """Does a revoked certificate's page offer its managers the archived credential?"""
    _revoke(world, login)
    manager = login(username)

    detail = manager.get(f"/certificates/{world['serial']}").get_data(as_text=True)
    response = manager.get(f"/certificates/{world['serial']}/credential.json")

    assert f"/certificates/{world['serial']}/credential.json" in detail
    assert "Download the archived signed credential (JSON)" in detail
    assert response.status_code == 200
    assert _archived_downloads() == ["certificate.archived_credential_downloaded"]


def _unrenderable_certificate() -> str:
    """Issue a certificate whose long title needs a second page with its template."""
    from certificates import template_services

    institution = db.session.scalar(sa.select(Institution).filter_by(code="uni-a"))
    # 189 characters, so its courses, titled "… 第1单元", fit their 200-character column.
    programme = make_programme(institution, "long-title", title="辅导员专题研修" * 27)
    template = template_services.create_template(
        institution, None, "大字模板", page_size="A4", orientation="landscape",
        language="zh", body_html="<p>{{ holder_name }} {{ serial }}</p>"
        '<p class="big">{{ programme }}</p><p>{{ verification_code }}</p>',
        css=".big { font-size: 60pt; }", validity_months=None,
    )
    admin = db.session.scalar(sa.select(User).filter_by(username="admin1"))
    template_services.update_programme_settings(
        programme, admin, template_id=template.id, renews_programme_id=None
    )
    holder = db.session.scalar(sa.select(User).filter_by(username="c1"))
    cert = issue(holder, programme)
    db.session.commit()
    assert cert.pdf_sha256 is None
    return cert.serial


def test_download_unrenderable_pdf_explains(world, login, english):
    """Does a certificate that needs two pages give a message, not a server error?"""
    serial = _unrenderable_certificate()
    holder = login("c1")

    response = holder.get(f"/certificates/{serial}.pdf")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/certificates/{serial}")
    page = holder.get(response.headers["Location"]).get_data(as_text=True)
    assert f"The PDF of certificate {serial} cannot be produced" in page


def test_verify_names_institution_in_reader_language(world, client):
    institution = db.session.scalar(sa.select(Institution).filter_by(code="uni-a"))
    institution.name_en = "Demo University A"
    db.session.commit()
    url = f"/verify/{world['code']}"

    english_page = client.get(url, headers=EN).get_data(as_text=True)
    chinese_page = client.get(url).get_data(as_text=True)

    assert "This certificate was issued by Demo University A and is valid." in english_page
    assert f"Demo University A · {institution.name}</dd>" in english_page
    assert f"此证书由{institution.name}颁发" in chinese_page
