"""Signed credentials: issuance, public URLs, download rules, upload verification, PDF."""

import io
import json

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from certificates import keys, services
from certificates.credentials import loads_credential, verify_open_badge
from certificates.forms import MAX_CREDENTIAL_BYTES
from certificates.models import Certificate
from lms.accounts.models import Role, User
from lms.extensions import db
from tests.certificates.builders import (
    issue,
    make_institution,
    make_programme,
    make_user,
)
from tests.conftest import csrf_from

EN = {"Accept-Language": "en"}
BASE_URL = "http://127.0.0.1:5000"  # PUBLIC_URL in tests/conftest.py


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
    cert = issue(holder, make_programme(institution))
    db.session.commit()
    return {
        "serial": cert.serial,
        "code": services.format_code(cert.verification_code),
        "id": cert.id,
        "institution": institution.code,
    }


def reload(world) -> Certificate:
    db.session.expire_all()
    return db.session.get(Certificate, world["id"])


def revoke(world) -> None:
    cert = reload(world)
    hr = db.session.scalar(sa.select(User).filter_by(username="hr1"))
    services.revoke(cert, "培训记录有误", hr)
    db.session.commit()


def upload(client, content: bytes, employee_no: str = "", filename="c.json"):
    """Post ``content`` to the upload form as a guest, with a fresh CSRF token."""
    page = client.get("/verify/credential", headers=EN)
    token = csrf_from(page.get_data(as_text=True))
    return client.post(
        "/verify/credential",
        data={
            "csrf_token": token,
            "employee_no": employee_no,
            "credential_file": (io.BytesIO(content), filename),
        },
        headers=EN,
    )


def tamper(text: str) -> bytes:
    """Change one character of the holder name, keeping the JSON valid."""
    changed = text.replace("欧阳明辉", "欧阳明晖", 1)
    assert changed != text
    return changed.encode("utf-8")


# --- issuance ----------------------------------------------------------------


def test_issue_stores_verifying_credential(world):
    cert = reload(world)

    assert cert.credential_json is not None
    credential = loads_credential(cert.credential_json)
    result = verify_open_badge(credential)
    assert result.ok, result.reason
    assert credential["id"] == f"{BASE_URL}/credentials/{world['code']}"
    assert credential["issuer"]["id"] == f"{BASE_URL}/issuers/uni-a"
    assert credential["credentialSubject"]["creditsEarned"] == 40
    assert "欧阳明辉" in cert.credential_json  # Chinese kept unescaped


def test_issue_again_keeps_credential(world):
    cert = reload(world)
    first = cert.credential_json
    programme = cert.programme

    again = issue(cert.holder, programme)

    assert again.id == cert.id
    assert again.credential_json == first


def test_lazy_credential_for_old_certificate(world, client):
    cert = reload(world)
    cert.credential_json = None
    db.session.commit()

    response = client.get(f"/credentials/{world['code']}")

    assert response.status_code == 200
    stored = reload(world).credential_json
    assert stored is not None
    assert response.get_data(as_text=True) == stored
    assert verify_open_badge(loads_credential(stored)).ok
    # The PDF stored before the credential existed is rendered again.
    assert reload(world).pdf_sha256 is None


# --- public credential URL and issuer profile ---------------------------------


def test_public_credential_url(world, client):
    response = client.get(f"/credentials/{world['code']}")

    assert response.status_code == 200
    assert response.mimetype == "application/vc+ld+json"
    assert response.mimetype_params["charset"] == "utf-8"
    body = response.get_data(as_text=True)
    assert "欧阳明辉" in body
    assert "\\u" not in body
    assert body == reload(world).credential_json


def test_public_credential_as_json(world, client):
    response = client.get(f"/credentials/{world['code']}?format=json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert verify_open_badge(json.loads(response.get_data())).ok


def test_public_credential_unknown_format(world, client):
    response = client.get(f"/credentials/{world['code']}?format=xml")

    assert response.status_code == 400


def test_public_credential_unknown_serial(world, client):
    assert client.get("/credentials/ABCD-EFGH-JKMN").status_code == 404


def test_credential_url_not_by_serial(world, client):
    """The sequential serial must not reach the credential and the holder's name."""
    assert client.get(f"/credentials/{world['serial']}").status_code == 404


def test_revoked_certificate_serves_credential(world, client):
    revoke(world)

    response = client.get(f"/credentials/{world['code']}")

    assert response.status_code == 200
    assert verify_open_badge(json.loads(response.get_data())).ok


def test_issuer_profile_lists_keys(world, client):
    response = client.get(f"/issuers/{world['institution']}")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    assert document["id"] == f"{BASE_URL}/issuers/uni-a"
    assert [m["id"] for m in document["verificationMethod"]] == [
        f"{BASE_URL}/issuers/uni-a#key-1"
    ]
    assert document["assertionMethod"] == [f"{BASE_URL}/issuers/uni-a#key-1"]


def test_issuer_profile_unknown_code(world, client):
    assert client.get("/issuers/no-such-school").status_code == 404


def test_rotation_keeps_old_credential_verifiable(world, client, login):
    old_text = reload(world).credential_json
    institution = reload(world).institution
    keys.rotate_key(institution)
    db.session.commit()

    document = client.get(f"/issuers/{world['institution']}").get_json()

    key_ids = [m["id"] for m in document["verificationMethod"]]
    assert key_ids == [
        f"{BASE_URL}/issuers/uni-a#key-1",
        f"{BASE_URL}/issuers/uni-a#key-2",
    ]
    assert document["assertionMethod"] == key_ids
    assert verify_open_badge(loads_credential(old_text)).ok
    page = upload(client, old_text.encode("utf-8"))
    assert page.status_code == 200
    assert "Signature valid" in page.get_data(as_text=True)

    # A certificate issued after the rotation is signed with the new key.
    holder = db.session.scalar(sa.select(User).filter_by(username="c2"))
    second = issue(holder, reload(world).programme)
    db.session.commit()
    proof = loads_credential(second.credential_json)["proof"]
    assert proof["verificationMethod"] == f"{BASE_URL}/issuers/uni-a#key-2"


# --- download for people who may see the certificate ----------------------------


@pytest.mark.parametrize("username", ["c1", "hr1", "admin1"])
def test_download_allowed(world, login, username):
    response = login(username).get(f"/certificates/{world['serial']}/credential.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="{world["serial"]}.credential.json"'
    assert response.get_data(as_text=True) == reload(world).credential_json


@pytest.mark.parametrize("username", ["c2", "trainer1", "hr-b"])
def test_download_hidden_from_others(world, login, username):
    response = login(username).get(f"/certificates/{world['serial']}/credential.json")

    assert response.status_code == 404


def test_download_needs_login(world, client):
    response = client.get(f"/certificates/{world['serial']}/credential.json")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_detail_links_download(world, login):
    page = login("c1").get(f"/certificates/{world['serial']}", headers=EN)

    assert f"/certificates/{world['serial']}/credential.json" in page.get_data(
        as_text=True
    )


def test_verify_page_links_credential(world, client):
    code = services.format_code(reload(world).verification_code)

    text = client.get(f"/verify/{code}", headers=EN).get_data(as_text=True)

    assert f"/credentials/{world['code']}?format=json" in text
    assert "/verify/credential" in text


# --- upload page ---------------------------------------------------------------


def test_upload_valid_credential(world, client):
    response = upload(client, reload(world).credential_json.encode("utf-8"))
    text = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Signature valid" in text
    assert "The certificate is valid." in text
    assert "欧阳明辉" in text
    assert "初级辅导员岗位培训" in text
    assert "树人示范大学" in text
    assert world["serial"] in text
    assert "<dd>40</dd>" in text
    assert response.headers["Cache-Control"] == "no-store"


def test_upload_one_byte_changed(world, client):
    response = upload(client, tamper(reload(world).credential_json))
    text = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Signature invalid" in text
    assert "invalid_signature" in text
    assert "Signature valid" not in text
    assert "Contents as uploaded (not verified)" in text


def test_upload_revoked_shows_revoked(world, client):
    revoke(world)

    response = upload(client, reload(world).credential_json.encode("utf-8"))
    text = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Signature valid" in text
    assert "status-revoked" in text
    assert "培训记录有误" in text
    assert "The certificate is valid." not in text


def test_upload_checks_employee_number(world, client):
    content = reload(world).credential_json.encode("utf-8")

    matching = upload(client, content, employee_no="T2019001").get_data(as_text=True)
    other = upload(client, content, employee_no="T2019002").get_data(as_text=True)

    assert "Employee number matches" in matching
    assert "Employee number does not match" in other


def test_upload_matches_full_width_employee_number(world, client):
    """Does an employee number typed with a Chinese input method still match?"""
    content = reload(world).credential_json.encode("utf-8")

    page = upload(client, content, employee_no="Ｔ２０１９００１").get_data(as_text=True)

    assert "Employee number matches" in page
    assert "Employee number does not match" not in page


@pytest.mark.parametrize(
    "content, message",
    [
        (b"{not json", "The file is not valid JSON"),
        (b'{"a": 1, "a": 2}', "the key a appears twice in one object"),
        (b"[1, 2]", "The file is not a credential"),
        (b"", "The file is empty"),
        (b"\xff\xfe{}", "The file is not UTF-8 text"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "save credential.json and upload that file"),
        (b"[" * 100_000 + b"]" * 100_000, "nests JSON too deeply"),
        (b'{"type": ["VerifiableCredential"]}', "not an Open Badges credential"),
    ],
)
def test_upload_rejects_bad_file(world, client, content, message):
    response = upload(client, content)
    text = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "Credential file (JSON): " in text
    assert message in text


def test_upload_without_file(world, client):
    page = client.get("/verify/credential", headers=EN)
    token = csrf_from(page.get_data(as_text=True))

    response = client.post("/verify/credential", data={"csrf_token": token}, headers=EN)

    assert response.status_code == 400
    assert "Credential file (JSON): Choose the credential" in response.get_data(
        as_text=True
    )


def test_upload_rejects_oversized_file(world, client):
    credential = loads_credential(reload(world).credential_json)
    credential["padding"] = "x" * MAX_CREDENTIAL_BYTES

    response = upload(client, json.dumps(credential).encode("utf-8"))
    text = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "Credential file (JSON): The file is larger than 256 KB" in text


def test_upload_without_proof(world, client):
    credential = loads_credential(reload(world).credential_json)
    del credential["proof"]

    response = upload(client, json.dumps(credential).encode("utf-8"))
    text = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Signature invalid" in text
    assert "The credential has no proof." in text


def test_upload_needs_csrf(world, client):
    response = client.post(
        "/verify/credential",
        data={"credential_file": (io.BytesIO(b"{}"), "c.json")},
        headers=EN,
    )

    assert response.status_code == 400


# --- PDF attachment --------------------------------------------------------------


def test_pdf_embeds_credential(world, login):
    response = login("c1").get(f"/certificates/{world['serial']}.pdf")
    reader = PdfReader(io.BytesIO(response.get_data()))

    assert len(reader.pages) == 1
    name = f"{world['serial']}.credential.json"
    assert list(reader.attachments) == [name]
    embedded = reader.attachments[name][0].decode("utf-8")
    assert embedded == reload(world).credential_json
    assert verify_open_badge(loads_credential(embedded)).ok


def test_pdf_with_credential_is_reproducible(world):
    cert = reload(world)
    stored = services.pdf_path(cert).read_bytes()

    rendered = services.render_stored(cert)

    assert rendered == stored


def test_old_pdf_gets_attachment(world, login):
    cert = reload(world)
    cert.credential_json = None
    services.store_pdf(cert)
    db.session.commit()
    before = PdfReader(io.BytesIO(services.pdf_path(cert).read_bytes()))
    assert list(before.attachments) == []

    response = login("c1").get(f"/certificates/{world['serial']}.pdf")
    reader = PdfReader(io.BytesIO(response.get_data()))

    assert len(reader.pages) == 1
    assert list(reader.attachments) == [f"{world['serial']}.credential.json"]
    assert reload(world).credential_json is not None
