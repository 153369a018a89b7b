"""Open Badges 3.0 credentials: building, issuer keys, rotation and verification."""

import copy
import hashlib
import json
from datetime import date

import pytest
import sqlalchemy as sa

from certificates import keys
from certificates.credentials import (
    OB_CONTEXT,
    VC_CONTEXT,
    build_open_badge,
    check_open_badge,
    dumps_credential,
    format_hours,
    issue_open_badge,
    issuer_profile,
    loads_credential,
    sign_open_badge,
    subject_has_identifier,
    verify_open_badge,
)
from certificates.keys import IssuerKey, IssuerKeyError, active_key, rotate_key
from certificates.signing import resolve_did_key, sign_credential
from lms.extensions import db
from lms.organisations.models import Institution

BASE_URL = "http://127.0.0.1:5000"  # PUBLIC_URL in tests/conftest.py
SALT = "5f1c0a9e2b7d4c3a8e6f1b2d3c4a5e6f"
CFITEMS = f"{BASE_URL}/ims/case/v1p0/CFItems"


@pytest.fixture
def institution(app_ctx):
    institution = Institution(code="BNU", name="北京师范大学", serial_prefix="BNU")
    db.session.add(institution)
    db.session.commit()
    return institution


@pytest.fixture
def other_institution(app_ctx):
    institution = Institution(code="ECNU", name="华东师范大学", serial_prefix="ECNU")
    db.session.add(institution)
    db.session.commit()
    return institution


@pytest.fixture
def data():
    return {
        "holder_name": "张三",
        "employee_no": "20190123",
        "institution_name": "北京师范大学",
        "institution_code": "BNU",
        "programme_title": "辅导员职业能力初级培训",
        "hours": "32.0",
        "issued_on": "2025-06-30",
        "expires_on": "2028-06-30",
        "serial": "BNU-2025-000017",
        "verification_url": "http://127.0.0.1:5000/v/K7Q2M9XA",
        "competencies": [
            {
                "name": "思想政治教育",
                "identifier": "7d0f2c1e-3b4a-4c5d-8e6f-9a0b1c2d3e4f",
                "code": "1.1",
            },
            {
                "name": "心理健康教育与咨询工作",
                "identifier": "0c9b8a7f-6e5d-4c3b-a291-8f7e6d5c4b3a",
            },
        ],
    }


def count_keys(institution=None) -> int:
    query = sa.select(sa.func.count()).select_from(IssuerKey)
    if institution is not None:
        query = query.where(IssuerKey.institution_id == institution.id)
    return db.session.scalar(query)


# --- build_open_badge -----------------------------------------------------------


def test_build_credential_envelope(data):
    credential = build_open_badge(data, {}, BASE_URL, salt=SALT)
    assert credential["@context"] == [VC_CONTEXT, OB_CONTEXT]
    assert credential["@context"][1].endswith("context-3.0.3.json")
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["id"] == f"{BASE_URL}/credentials/BNU-2025-000017"
    assert credential["name"] == "辅导员职业能力初级培训结业证书"
    assert "issuanceDate" not in credential
    assert "expirationDate" not in credential


def test_credential_id_uses_verification_code(data):
    data = {**data, "verification_code": "ABCD-EFGH-JKMN"}

    credential = build_open_badge(data, {}, BASE_URL, salt=SALT)

    assert credential["id"] == f"{BASE_URL}/credentials/ABCD-EFGH-JKMN"


def test_build_dates_in_shanghai_zone(data):
    credential = build_open_badge(data, {}, BASE_URL, salt=SALT)
    # Midnight of 2025-06-30 in Asia/Shanghai (UTC+8).
    assert credential["validFrom"] == "2025-06-29T16:00:00Z"
    # Valid through the whole expiry day, i.e. until midnight after it.
    assert credential["validUntil"] == "2028-06-30T16:00:00Z"


def test_build_without_expiry_omits_valid_until(data):
    data["expires_on"] = None
    credential = build_open_badge(data, {}, BASE_URL, salt=SALT)
    assert "validUntil" not in credential


def test_build_uses_given_timezone(data):
    data["timezone"] = "Asia/Urumqi"  # UTC+6
    credential = build_open_badge(data, {}, BASE_URL, salt=SALT)
    assert credential["validFrom"] == "2025-06-29T18:00:00Z"


def test_build_accepts_date_objects(data):
    data["issued_on"] = date(2025, 6, 30)
    data["expires_on"] = date(2028, 6, 30)
    credential = build_open_badge(data, {}, BASE_URL, salt=SALT)
    assert credential["validFrom"] == "2025-06-29T16:00:00Z"
    assert credential["validUntil"] == "2028-06-30T16:00:00Z"


def test_build_issuer_profile(data):
    credential = build_open_badge(
        data, {"url": "https://www.bnu.edu.cn"}, BASE_URL + "/", salt=SALT
    )
    assert credential["issuer"] == {
        "id": f"{BASE_URL}/issuers/BNU",
        "type": ["Profile"],
        "name": "北京师范大学",
        "url": "https://www.bnu.edu.cn",
    }


def test_build_rejects_foreign_issuer_id(data):
    with pytest.raises(ValueError, match="issuer id"):
        build_open_badge(data, {"id": f"{BASE_URL}/issuers/ECNU"}, BASE_URL)


def test_build_hashes_employee_number(data):
    credential = build_open_badge(data, {}, BASE_URL, salt=SALT)
    identifiers = credential["credentialSubject"]["identifier"]
    hashed = [item for item in identifiers if item["hashed"]]
    assert len(hashed) == 1
    expected = hashlib.sha256(("20190123" + SALT).encode()).hexdigest()
    assert hashed[0]["identityHash"] == "sha256$" + expected
    assert hashed[0]["salt"] == SALT
    assert hashed[0]["type"] == "IdentityObject"
    assert "20190123" not in json.dumps(credential, ensure_ascii=False)


def test_build_keeps_holder_name(data):
    credential = build_open_badge(data, {}, BASE_URL, salt=SALT)
    subject = credential["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    names = [item for item in subject["identifier"] if item["identityType"] == "name"]
    assert names == [
        {
            "type": "IdentityObject",
            "identityType": "name",
            "hashed": False,
            "identityHash": "张三",
        }
    ]


def test_build_random_salt_per_credential(data):
    first = build_open_badge(data, {}, BASE_URL)
    second = build_open_badge(data, {}, BASE_URL)
    first_hash = first["credentialSubject"]["identifier"][1]["identityHash"]
    second_hash = second["credentialSubject"]["identifier"][1]["identityHash"]
    assert first_hash != second_hash
    assert subject_has_identifier(first, "20190123")
    assert subject_has_identifier(second, "20190123")


def test_build_without_employee_number(data):
    data["employee_no"] = ""
    credential = build_open_badge(data, {}, BASE_URL, salt=SALT)
    identifiers = credential["credentialSubject"]["identifier"]
    assert [item["identityType"] for item in identifiers] == ["name"]


def test_build_achievement(data):
    credential = build_open_badge(data, {}, BASE_URL, salt=SALT)
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["type"] == ["Achievement"]
    assert achievement["name"] == "辅导员职业能力初级培训"
    assert "32学时" in achievement["description"]
    assert "32.0" not in achievement["description"]
    assert "32学时" in achievement["criteria"]["narrative"]
    assert achievement["id"].startswith("urn:uuid:")


def test_build_achievement_id_shared_by_holders(data):
    first = build_open_badge(data, {}, BASE_URL, salt=SALT)
    data.update(holder_name="李四", employee_no="20200456", serial="BNU-2025-000018")
    second = build_open_badge(data, {}, BASE_URL, salt=SALT)
    first_id = first["credentialSubject"]["achievement"]["id"]
    assert first_id == second["credentialSubject"]["achievement"]["id"]
    data["programme_title"] = "辅导员职业能力中级培训"
    third = build_open_badge(data, {}, BASE_URL, salt=SALT)
    assert third["credentialSubject"]["achievement"]["id"] != first_id


def test_build_alignments_to_cfitems(data):
    credential = build_open_badge(data, {}, BASE_URL, salt=SALT)
    alignment = credential["credentialSubject"]["achievement"]["alignment"]
    assert alignment == [
        {
            "type": ["Alignment"],
            "targetName": "思想政治教育",
            "targetUrl": f"{CFITEMS}/7d0f2c1e-3b4a-4c5d-8e6f-9a0b1c2d3e4f",
            "targetType": "CFItem",
            "targetCode": "1.1",
        },
        {
            "type": ["Alignment"],
            "targetName": "心理健康教育与咨询工作",
            "targetUrl": f"{CFITEMS}/0c9b8a7f-6e5d-4c3b-a291-8f7e6d5c4b3a",
            "targetType": "CFItem",
        },
    ]


def test_build_without_competencies_has_no_alignment(data):
    data["competencies"] = []
    credential = build_open_badge(data, {}, BASE_URL, salt=SALT)
    assert "alignment" not in credential["credentialSubject"]["achievement"]


def test_build_rejects_incomplete_competency(data):
    data["competencies"] = [{"name": "思想政治教育"}]
    with pytest.raises(ValueError, match="identifier"):
        build_open_badge(data, {}, BASE_URL)


@pytest.mark.parametrize("field", ["holder_name", "serial", "hours", "issued_on"])
def test_build_names_missing_field(data, field):
    del data[field]
    with pytest.raises(ValueError, match=field):
        build_open_badge(data, {}, BASE_URL)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("hours", "三十二", "hours"),
        ("hours", "-4", "hours"),
        ("hours", "NaN", "hours"),
        ("issued_on", "2025/06/30", "issued_on"),
        ("expires_on", "soon", "expires_on"),
        ("expires_on", "2024-01-01", "before issued_on"),
        ("timezone", "Mars/Olympus_Mons", "timezone"),
        ("timezone", "../etc/passwd", "timezone"),
    ],
)
def test_build_rejects_invalid_values(data, field, value, message):
    data[field] = value
    with pytest.raises(ValueError, match=message):
        build_open_badge(data, {}, BASE_URL)


@pytest.mark.parametrize(
    "hours, text",
    [
        ("32.0", "32"),
        (32, "32"),
        ("40", "40"),
        ("12.50", "12.5"),
        (1.5, "1.5"),
        ("0", "0"),
    ],
)
def test_format_hours(hours, text):
    assert format_hours(hours) == text


def test_dumps_keeps_chinese(data):
    text = dumps_credential(build_open_badge(data, {}, BASE_URL, salt=SALT))
    assert "张三" in text
    assert "北京师范大学" in text
    assert "\\u" not in text


def test_loads_rejects_duplicate_keys():
    with pytest.raises(ValueError, match="duplicate"):
        loads_credential('{"id": "a", "id": "b"}')


def test_loads_rejects_nan_and_non_objects():
    with pytest.raises(ValueError, match="NaN"):
        loads_credential('{"hours": NaN}')
    with pytest.raises(ValueError, match="not an object"):
        loads_credential("[]")


# --- issuer keys --------------------------------------------------------------------


def test_active_key_created_lazily(institution):
    assert count_keys(institution) == 0
    key = active_key(institution)
    db.session.commit()
    assert count_keys(institution) == 1
    assert key.key_id == f"{BASE_URL}/issuers/BNU#key-1"
    assert key.controller == f"{BASE_URL}/issuers/BNU"
    assert key.public_key_multibase.startswith("z6Mk")
    assert key.retired_at is None
    assert active_key(institution).id == key.id
    assert count_keys(institution) == 1


def test_private_key_encrypted_at_rest(institution):
    key = active_key(institution)
    private_key = key.private_key()
    assert (
        keys.public_key_to_multibase(private_key.public_key())
        == key.public_key_multibase
    )
    seed = private_key.private_bytes_raw()
    assert seed not in key.private_key_encrypted
    assert b"PRIVATE KEY" not in key.private_key_encrypted


def test_changed_secret_key_blocks_signing_not_verifying(app, institution, data):
    credential = issue_open_badge(data, institution)
    key = active_key(institution)
    original = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "a-different-secret"
    try:
        with pytest.raises(IssuerKeyError, match="SECRET_KEY changed"):
            key.private_key()
        assert verify_open_badge(credential).ok
    finally:
        app.config["SECRET_KEY"] = original
    assert key.private_key() is not None


def test_ciphertext_bound_to_key_id(institution, other_institution):
    first = active_key(institution)
    second = active_key(other_institution)
    second.private_key_encrypted = first.private_key_encrypted
    with pytest.raises(IssuerKeyError, match="cannot decrypt"):
        second.private_key()


def test_one_active_key_per_institution(institution):
    key = active_key(institution)
    db.session.commit()
    db.session.add(
        IssuerKey(
            institution_id=institution.id,
            key_id=f"{key.controller}#key-99",
            public_key_multibase=key.public_key_multibase,
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_active_key_concurrent_creation(institution, monkeypatch):
    """A key created by another request between lookup and insert is reused."""
    existing = active_key(institution)
    db.session.commit()
    real_select = keys._select_active
    calls = []

    def miss_first_lookup(lookup_institution):
        calls.append(lookup_institution)
        if len(calls) == 1:
            return None
        return real_select(lookup_institution)

    monkeypatch.setattr(keys, "_select_active", miss_first_lookup)
    key = active_key(institution)
    assert key.id == existing.id
    assert len(calls) == 2
    assert count_keys(institution) == 1


def test_rotate_key_retires_active(institution):
    old = active_key(institution)
    new = rotate_key(institution)
    db.session.commit()
    assert new.id != old.id
    assert new.key_id == f"{BASE_URL}/issuers/BNU#key-2"
    assert old.retired_at is not None
    assert old.private_key_encrypted is None
    assert new.retired_at is None
    assert active_key(institution).id == new.id
    with pytest.raises(IssuerKeyError, match="retired"):
        old.private_key()


def test_rotate_without_active_key_creates_one(institution):
    key = rotate_key(institution)
    assert key.key_id.endswith("#key-1")
    assert count_keys(institution) == 1


def test_public_url_change_rotates_key(institution):
    old = active_key(institution)
    new = active_key(institution, base_url="https://lms.example.cn/")
    assert new.id != old.id
    assert new.key_id == "https://lms.example.cn/issuers/BNU#key-2"
    assert old.retired_at is not None


def test_keys_are_per_institution(institution, other_institution):
    first = active_key(institution)
    second = active_key(other_institution)
    assert first.public_key_multibase != second.public_key_multibase
    assert second.key_id == f"{BASE_URL}/issuers/ECNU#key-1"


def test_controller_document_lists_all_keys(institution):
    old = active_key(institution)
    new = rotate_key(institution)
    document = keys.controller_document(institution)
    assert document["id"] == f"{BASE_URL}/issuers/BNU"
    assert [method["id"] for method in document["verificationMethod"]] == [
        old.key_id,
        new.key_id,
    ]
    assert document["assertionMethod"] == [old.key_id, new.key_id]
    assert document["verificationMethod"][0] == {
        "id": old.key_id,
        "type": "Multikey",
        "controller": f"{BASE_URL}/issuers/BNU",
        "publicKeyMultibase": old.public_key_multibase,
    }


# --- issue, verify, rotate -----------------------------------------------------------


def test_issue_and_verify_chinese_name(institution, data):
    credential = issue_open_badge(data, institution)
    db.session.commit()
    proof = credential["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-jcs-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"] == f"{BASE_URL}/issuers/BNU#key-1"
    assert proof["@context"] == credential["@context"]

    text = dumps_credential(credential)
    assert "张三" in text
    result = verify_open_badge(loads_credential(text))
    assert result.ok, result.reason
    subject = result.document["credentialSubject"]
    assert subject["identifier"][0]["identityHash"] == "张三"
    assert "proof" not in result.document


def test_issue_matches_institution_profile(institution, data):
    credential = issue_open_badge(data, institution)
    assert credential["issuer"] == issuer_profile(institution, BASE_URL)


def test_rotation_keeps_old_credentials_verifiable(institution, data):
    old_credential = issue_open_badge(data, institution)
    rotate_key(institution)
    data["serial"] = "BNU-2025-000018"
    new_credential = issue_open_badge(data, institution)
    db.session.commit()

    old_method = old_credential["proof"]["verificationMethod"]
    new_method = new_credential["proof"]["verificationMethod"]
    assert old_method.endswith("#key-1")
    assert new_method.endswith("#key-2")
    assert verify_open_badge(old_credential).ok
    assert verify_open_badge(new_credential).ok


def test_retired_key_credential_verifies_until_hours_change(institution, data):
    credential = issue_open_badge(data, institution)
    rotate_key(institution)
    rotate_key(institution)
    db.session.commit()
    signing_key = keys.find_key(credential["proof"]["verificationMethod"])
    assert signing_key.retired_at is not None

    assert verify_open_badge(credential).ok

    tampered = copy.deepcopy(credential)
    achievement = tampered["credentialSubject"]["achievement"]
    achievement["description"] = achievement["description"].replace("32学时", "64学时")
    assert (
        achievement["description"]
        != credential["credentialSubject"]["achievement"]["description"]
    )
    result = verify_open_badge(tampered)
    assert not result.ok
    assert result.code == "invalid_signature"


def test_rebuilt_with_other_hours_fails(institution, data):
    credential = issue_open_badge(data, institution, base_url=BASE_URL)
    data["hours"] = "40"
    rebuilt = build_open_badge(data, {}, BASE_URL, salt=SALT)
    # Keep the holder identifiers so that only the hours differ.
    rebuilt["credentialSubject"]["identifier"] = credential["credentialSubject"][
        "identifier"
    ]
    rebuilt["proof"] = credential["proof"]
    result = verify_open_badge(rebuilt)
    assert not result.ok
    assert result.code == "invalid_signature"


def test_unknown_key_rejected(institution, data):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    unsigned = build_open_badge(data, {}, BASE_URL)
    forged = sign_open_badge(
        unsigned, Ed25519PrivateKey.generate(), f"{BASE_URL}/issuers/BNU#key-7"
    )
    result = verify_open_badge(forged)
    assert not result.ok
    assert result.code == "unknown_key"


def test_other_institution_key_rejected(institution, other_institution, data):
    """A key of one institution cannot vouch for a credential of another."""
    foreign_key = active_key(other_institution)
    unsigned = build_open_badge(data, {}, BASE_URL)
    credential = sign_open_badge(
        unsigned, foreign_key.private_key(), foreign_key.key_id
    )
    result = verify_open_badge(credential)
    assert not result.ok
    assert result.code == "issuer_mismatch"


def test_check_requires_open_badge_type(institution, data):
    key = active_key(institution)
    unsigned = build_open_badge(data, {}, BASE_URL)
    unsigned["type"] = ["VerifiableCredential"]
    credential = sign_open_badge(unsigned, key.private_key(), key.key_id)
    result = verify_open_badge(credential)
    assert not result.ok
    assert result.code == "wrong_type"


def test_check_requires_assertion_method(institution, data):
    key = active_key(institution)
    unsigned = build_open_badge(data, {}, BASE_URL)
    credential = sign_open_badge(unsigned, key.private_key(), key.key_id)
    credential["proof"]["proofPurpose"] = "authentication"
    assert verify_open_badge(credential).code == "invalid_signature"

    proof_config = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2025-06-30T08:00:00Z",
        "verificationMethod": key.key_id,
        "proofPurpose": "authentication",
    }
    credential = sign_credential(unsigned, proof_config, key.private_key())
    result = verify_open_badge(credential)
    assert not result.ok
    assert result.code == "wrong_purpose"


def test_check_with_did_key_resolver_needs_matching_issuer(data):
    """check_open_badge also works without the database, given a resolver."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from certificates.signing import public_key_to_multibase

    private_key = Ed25519PrivateKey.generate()
    did = "did:key:" + public_key_to_multibase(private_key.public_key())
    unsigned = build_open_badge(data, {}, BASE_URL)
    credential = sign_open_badge(unsigned, private_key, f"{did}#{did[8:]}")
    assert check_open_badge(credential, resolve_did_key).code == "issuer_mismatch"

    unsigned["issuer"]["id"] = did
    credential = sign_open_badge(unsigned, private_key, f"{did}#{did[8:]}")
    assert check_open_badge(credential, resolve_did_key).ok


def test_subject_has_identifier(data):
    credential = build_open_badge(data, {}, BASE_URL, salt=SALT)
    assert subject_has_identifier(credential, "20190123")
    assert subject_has_identifier(credential, " 20190123 ")
    assert not subject_has_identifier(credential, "20190124")
    assert not subject_has_identifier(credential, "张三")
