"""The credential verification page speaks the reader's language, Chinese by default."""

import io
import json

import pytest

from certificates import services
from certificates.credentials import loads_credential
from certificates.models import Certificate
from lms.extensions import db
from tests.certificates.builders import issue, make_institution, make_programme, make_user


@pytest.fixture
def credential_json(app_ctx):
    institution = make_institution()
    holder = make_user(institution, "c1", full_name="欧阳明辉")
    cert = issue(holder, make_programme(institution))
    db.session.commit()
    return db.session.get(Certificate, cert.id).credential_json


def _upload(session, content: bytes):
    return session.post(
        "/verify/credential",
        data={"credential_file": (io.BytesIO(content), "c.json"), "employee_no": ""},
        content_type="multipart/form-data",
    )


def _without_proof(credential_json: str) -> bytes:
    credential = loads_credential(credential_json)
    del credential["proof"]
    return json.dumps(credential).encode("utf-8")


def test_missing_proof_in_chinese(credential_json, login):
    text = _upload(login("c1"), _without_proof(credential_json)).get_data(as_text=True)

    assert "该电子证书没有签名证明（proof）。" in text
    assert "credential has no proof" not in text
    assert "The credential has no proof" not in text


def test_tampered_signature_in_chinese(credential_json, login):
    tampered = credential_json.replace("欧阳明辉", "欧阳明晖", 1).encode("utf-8")

    text = _upload(login("c1"), tampered).get_data(as_text=True)

    assert "签名与电子证书不符" in text
    assert "凭证" not in text
    assert "signature does not match" not in text


def test_valid_signature_in_chinese(credential_json, login):
    text = _upload(login("c1"), credential_json.encode("utf-8")).get_data(as_text=True)

    assert "签名有效。" in text
    assert "signature is valid" not in text


@pytest.mark.parametrize(
    "content, chinese, english",
    [
        (b"{not json", "此处应为带双引号的属性名", "Expecting property name"),
        (b'{"a": 1, "a": 2}', "同一对象中键 a 出现了两次", "duplicate JSON key"),
        (b"[1, 2]", "顶层值不是 JSON 对象", "is not an object"),
        (b'{"a": NaN}', "NaN 不是有效的 JSON 数字", "invalid JSON number"),
    ],
)
def test_bad_json_in_chinese(credential_json, login, content, chinese, english):
    response = _upload(login("c1"), content)
    text = response.get_data(as_text=True)

    assert response.status_code == 400
    assert chinese in text
    assert english not in text


def test_missing_proof_in_english(credential_json, login, english):
    text = _upload(login("c1"), _without_proof(credential_json)).get_data(as_text=True)

    assert "The credential has no proof." in text


def test_unknown_detail_shows_reason():
    from certificates.credential_messages import verification_detail
    from certificates.signing import VerificationResult

    result = VerificationResult(False, "malformed", "some English reason", detail="new_check")

    assert verification_detail(result) == "some English reason"


def _csrf_token(client) -> str:
    from tests.conftest import csrf_from

    return csrf_from(client.get("/verify/credential").get_data(as_text=True))


def test_employee_no_sent_as_file(credential_json, client, english):
    response = client.post(
        "/verify/credential",
        data={
            "csrf_token": _csrf_token(client),
            "credential_file": (io.BytesIO(credential_json.encode("utf-8")), "c.json"),
            "employee_no": (io.BytesIO(b"c1"), "employee.txt"),
        },
        content_type="multipart/form-data",
    )
    text = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "Employee number (optional): This field takes text, but a file was sent." in text


def test_credential_file_sent_as_text(credential_json, client, english):
    response = client.post(
        "/verify/credential",
        data={
            "csrf_token": _csrf_token(client),
            "credential_file": credential_json,
            "employee_no": "c1",
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "Credential file (JSON): Choose the credential" in response.get_data(as_text=True)


def test_csrf_token_sent_as_file(client, english):
    response = client.post(
        "/verify/credential",
        data={
            "csrf_token": (io.BytesIO(_csrf_token(client).encode()), "token.txt"),
            "credential_file": (io.BytesIO(b"{}"), "c.json"),
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert "The form expired" in response.get_data(as_text=True)


def test_result_code_shown_as_label(credential_json, login, english):
    text = _upload(login("c1"), credential_json.encode("utf-8")).get_data(as_text=True)

    assert "Technical detail: signature valid.</p>" in text
    assert "signature valid. The signature is valid." not in text
    assert "<code>ok</code>" not in text


def test_technical_detail_punctuation_in_chinese(credential_json, login):
    text = _upload(login("c1"), credential_json.encode("utf-8")).get_data(as_text=True)

    assert "技术细节：签名有效。</p>" in text
    assert "签名有效。签名有效。" not in text
    assert "Technical detail" not in text
    assert "技术细节:" not in text


def test_mismatch_code_not_shown_raw(credential_json, login):
    tampered = credential_json.replace("欧阳明辉", "欧阳明晖", 1).encode("utf-8")

    text = _upload(login("c1"), tampered).get_data(as_text=True)

    assert "<code>invalid_signature</code>" not in text
    assert 'data-result-code="invalid_signature"' in text
