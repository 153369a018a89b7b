"""eddsa-jcs-2022 signing against the W3C vc-di-eddsa test vectors.

The vectors in tests/conformance/vc-di-eddsa-jcs-2022 come unchanged from the
w3c/vc-di-eddsa repository (TestVectors/, W3C Software and Document License).
"""

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certificates.signing import (
    MultibaseError,
    canonicalize,
    hash_data,
    multibase_decode,
    private_key_from_multibase,
    private_key_to_multibase,
    public_key_from_multibase,
    public_key_to_multibase,
    resolve_did_key,
    sign_credential,
    verify_credential,
)

VECTORS = (
    Path(__file__).resolve().parent.parent / "conformance" / "vc-di-eddsa-jcs-2022"
)
#: proofValue of signedJCS.json, which the byte-flip tests locate in the file.
PROOF_VALUE = (VECTORS / "sigBTC58JCS.txt").read_text(encoding="ascii").strip()


def vector_text(name: str) -> str:
    return (VECTORS / name).read_text(encoding="utf-8").strip()


def vector_json(name: str) -> dict:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


@pytest.fixture
def unsigned():
    return vector_json("unsigned.json")


@pytest.fixture
def proof_config():
    return vector_json("proofConfigJCS.json")


@pytest.fixture
def private_key():
    return private_key_from_multibase(
        vector_json("keyPair.json")["privateKeyMultibase"]
    )


@pytest.fixture
def signed_text():
    return (VECTORS / "signedJCS.json").read_text(encoding="utf-8")


# --- every intermediate value of the vectors -----------------------------------


def test_vector_licence_present():
    licence = (VECTORS / "LICENSE.md").read_text(encoding="utf-8")
    assert "W3C" in licence
    assert "Software and Document License" in licence


def test_key_pair_multikey_round_trip(private_key):
    key_pair = vector_json("keyPair.json")
    public = public_key_to_multibase(private_key.public_key())
    assert public == key_pair["publicKeyMultibase"]
    assert private_key_to_multibase(private_key) == key_pair["privateKeyMultibase"]
    decoded = public_key_from_multibase(key_pair["publicKeyMultibase"])
    assert public_key_to_multibase(decoded) == key_pair["publicKeyMultibase"]


def test_canonical_document(unsigned):
    assert canonicalize(unsigned).decode("utf-8") == vector_text("canonDocJCS.txt")


def test_document_hash(unsigned):
    digest = hashlib.sha256(canonicalize(unsigned)).hexdigest()
    assert digest == vector_text("docHashJCS.txt")


def test_canonical_proof_config(proof_config):
    canonical = canonicalize(proof_config).decode("utf-8")
    assert canonical == vector_text("proofCanonJCS.txt")


def test_proof_config_hash(proof_config):
    digest = hashlib.sha256(canonicalize(proof_config)).hexdigest()
    assert digest == vector_text("proofHashJCS.txt")


def test_combined_hash(unsigned, proof_config):
    combined = hash_data(unsigned, proof_config)
    assert len(combined) == 64
    assert combined.hex() == vector_text("combinedHashJCS.txt")


def test_signature_hex(unsigned, proof_config, private_key):
    signature = private_key.sign(hash_data(unsigned, proof_config))
    assert signature.hex() == vector_text("sigHexJCS.txt")


def test_signature_base58btc(unsigned, proof_config, private_key):
    signed = sign_credential(unsigned, proof_config, private_key)
    assert signed["proof"]["proofValue"] == vector_text("sigBTC58JCS.txt")
    decoded = multibase_decode(signed["proof"]["proofValue"])
    assert decoded.hex() == vector_text("sigHexJCS.txt")


def test_signed_document_matches_vector(
    unsigned, proof_config, private_key, signed_text
):
    signed = sign_credential(unsigned, proof_config, private_key)
    assert signed == json.loads(signed_text)
    # Key order follows the inputs, so the vector's own layout is reproduced.
    assert json.dumps(signed, indent=2) == signed_text


def test_sign_leaves_inputs_unchanged(unsigned, proof_config, private_key):
    unsigned_before = json.dumps(unsigned)
    config_before = json.dumps(proof_config)
    sign_credential(unsigned, proof_config, private_key)
    assert json.dumps(unsigned) == unsigned_before
    assert json.dumps(proof_config) == config_before


def test_sign_copies_document_context_into_proof(unsigned, proof_config, private_key):
    del proof_config["@context"]
    signed = sign_credential(unsigned, proof_config, private_key)
    assert signed["proof"]["@context"] == unsigned["@context"]
    assert signed["proof"]["proofValue"] == vector_text("sigBTC58JCS.txt")


# --- verification -----------------------------------------------------------------


def test_verifier_accepts_vector(signed_text):
    result = verify_credential(json.loads(signed_text), resolve_did_key)
    assert result.ok, result.reason
    assert result.code == "ok"
    assert result.document == vector_json("unsigned.json")
    assert "proof" not in result.document


def test_verifier_accepts_multibase_from_resolver(signed_text):
    public = vector_json("keyPair.json")["publicKeyMultibase"]
    result = verify_credential(json.loads(signed_text), lambda method: public)
    assert result.ok, result.reason


def flip_byte(text: str, index: int) -> bytes:
    data = bytearray(text.encode("utf-8"))
    data[index] ^= 0x01
    return bytes(data)


def position_in(text: str, needle: str, offset: int) -> int:
    start = text.index(needle)
    assert 0 <= offset < len(needle)
    return start + offset


@pytest.mark.parametrize(
    "needle, offset",
    [
        ("The School of Examples", 0),
        ("The School of Examples", 11),
        ("The School of Examples", 21),
        ('"2023-02-24T23:36:38Z"', 4),
        ('"2023-02-24T23:36:38Z"', 10),
        ('"2023-02-24T23:36:38Z"', 19),
        (PROOF_VALUE, 0),
        (PROOF_VALUE, 2),
        (PROOF_VALUE, 44),
        (PROOF_VALUE, 88),
        ("did:example:abcdefgh", 12),
        ("Alumni Credential", 0),
        ('"assertionMethod"', 1),
    ],
)
def test_single_byte_flip_rejected(signed_text, needle, offset):
    tampered = flip_byte(signed_text, position_in(signed_text, needle, offset))
    document = json.loads(tampered)  # each chosen flip keeps the JSON valid
    assert document != json.loads(signed_text)
    result = verify_credential(document, resolve_did_key)
    assert not result.ok
    assert result.code != "ok"


def test_every_single_byte_flip_rejected(signed_text):
    """Flip each byte of the signed file in turn; none may still verify."""
    still_valid = []
    for index in range(len(signed_text.encode("utf-8"))):
        try:
            document = json.loads(flip_byte(signed_text, index))
        except ValueError:
            continue  # no longer JSON, so there is no credential to verify
        if verify_credential(document, resolve_did_key).ok:
            still_valid.append(index)
    assert still_valid == []


def test_tampered_subject_reports_invalid_signature(signed_text):
    document = json.loads(signed_text)
    document["credentialSubject"]["alumniOf"] = "The School of Counterfeits"
    result = verify_credential(document, resolve_did_key)
    assert not result.ok
    assert result.code == "invalid_signature"


def test_unknown_verification_method(signed_text):
    result = verify_credential(json.loads(signed_text), lambda method: None)
    assert not result.ok
    assert result.code == "unknown_key"


def test_other_key_rejected(signed_text):
    other = Ed25519PrivateKey.generate().public_key()
    result = verify_credential(json.loads(signed_text), lambda method: other)
    assert not result.ok
    assert result.code == "invalid_signature"


@pytest.mark.parametrize(
    "change, code",
    [
        (lambda doc: doc.pop("proof"), "malformed"),
        (lambda doc: doc.update(proof=[doc["proof"]]), "unsupported"),
        (lambda doc: doc["proof"].update(cryptosuite="eddsa-rdfc-2022"), "unsupported"),
        (lambda doc: doc["proof"].update(type="Ed25519Signature2020"), "unsupported"),
        (lambda doc: doc["proof"].pop("verificationMethod"), "malformed"),
        (lambda doc: doc["proof"].pop("proofValue"), "malformed"),
        (lambda doc: doc["proof"].update(created="2023-02-24"), "malformed"),
        (
            lambda doc: doc["proof"].update(
                proofValue=doc["proof"]["proofValue"] + " "
            ),
            "malformed",
        ),
        (
            lambda doc: doc["proof"].update(
                proofValue="u" + doc["proof"]["proofValue"][1:]
            ),
            "malformed",
        ),
        (
            lambda doc: doc["proof"].update(proofValue=doc["proof"]["proofValue"][:-4]),
            "malformed",
        ),
        (
            lambda doc: doc.update({"@context": ["https://example.org/v1"]}),
            "context_mismatch",
        ),
        (lambda doc: doc.update(extra=float("nan")), "malformed"),
    ],
)
def test_malformed_credentials_rejected(signed_text, change, code):
    document = json.loads(signed_text)
    change(document)
    result = verify_credential(document, resolve_did_key)
    assert not result.ok
    assert result.code == code, result.reason


def test_non_object_rejected():
    result = verify_credential(["not", "a", "credential"], resolve_did_key)
    assert not result.ok
    assert result.code == "malformed"


def test_appended_context_verifies_with_proof_context(signed_text):
    """The specification lets later proofs add contexts after the signed ones."""
    document = json.loads(signed_text)
    document["@context"].append("https://example.org/extra/v1")
    result = verify_credential(document, resolve_did_key)
    assert result.ok, result.reason
    assert result.document["@context"] == vector_json("unsigned.json")["@context"]


# --- signing input checks and helpers ------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda config: config.update(type="Ed25519Signature2020"), "type"),
        (lambda config: config.update(cryptosuite="eddsa-rdfc-2022"), "cryptosuite"),
        (lambda config: config.pop("verificationMethod"), "verificationMethod"),
        (lambda config: config.pop("proofPurpose"), "proofPurpose"),
        (lambda config: config.update(created="yesterday"), "created"),
        (lambda config: config.update(proofValue="z1"), "proofValue"),
    ],
)
def test_sign_rejects_bad_proof_config(
    unsigned, proof_config, private_key, change, message
):
    change(proof_config)
    with pytest.raises(ValueError, match=message):
        sign_credential(unsigned, proof_config, private_key)


def test_sign_rejects_document_with_proof(unsigned, proof_config, private_key):
    signed = sign_credential(unsigned, proof_config, private_key)
    with pytest.raises(ValueError, match="already has a proof"):
        sign_credential(signed, proof_config, private_key)


def test_canonicalize_numbers_and_utf16_key_order():
    # RFC 8785 sorts keys by UTF-16 code units, so U+1F600 (D83D DE00) sorts
    # before U+FB33, and writes numbers as ECMAScript does.
    value = {"\ufb33": 1, "\U0001f600": 2, "b": 1.0, "a": [1e21, 0.1, -0.0, 1e-7]}
    expected = '{"a":[1e+21,0.1,0,1e-7],"b":1,"\U0001f600":2,"\ufb33":1}'
    assert canonicalize(value).decode("utf-8") == expected


def test_canonicalize_keeps_chinese_as_utf8():
    assert canonicalize({"name": "张三"}) == '{"name":"张三"}'.encode("utf-8")


@pytest.mark.parametrize(
    "value",
    ["", "z", "f00", "z0OIl", "z6Mk rJV", 42],
)
def test_multibase_decode_rejects(value):
    with pytest.raises(MultibaseError):
        multibase_decode(value)


def test_public_key_multibase_rejects_private_prefix():
    secret = vector_json("keyPair.json")["privateKeyMultibase"]
    with pytest.raises(MultibaseError, match="public key"):
        public_key_from_multibase(secret)


def test_resolve_did_key_checks_fragment():
    public = vector_json("keyPair.json")["publicKeyMultibase"]
    assert resolve_did_key(f"did:key:{public}#{public}") is not None
    assert resolve_did_key(f"did:key:{public}") is not None
    assert resolve_did_key(f"did:key:{public}#other") is None
    assert resolve_did_key(f"did:web:example.org#{public}") is None
