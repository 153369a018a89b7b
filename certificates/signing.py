"""Data Integrity proofs with the ``eddsa-jcs-2022`` cryptosuite.

The algorithm follows the W3C "Data Integrity EdDSA Cryptosuites v1.0"
specification (vc-di-eddsa), section 3.3:

* the proof configuration (the proof without ``proofValue``) and the document
  (without ``proof``) are each canonicalised with the JSON Canonicalization
  Scheme (RFC 8785) and hashed with SHA-256;
* Ed25519 signs ``proofConfigHash || documentHash`` (64 bytes);
* ``proofValue`` is the signature in multibase base58btc, i.e. ``"z"`` followed
  by the Bitcoin base58 alphabet.

Keys travel as Multikey values: ``publicKeyMultibase`` is base58btc of the
multicodec prefix ``0xed01`` (ed25519-pub) plus the 32-byte public key, and a
secret key is ``0x8026`` (ed25519-priv) plus the 32-byte seed.

This module has no Flask or database dependency: callers pass the private key
to sign and a ``resolve_public_key`` callback to verify.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Optional, Union

import base58
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"

#: Multicodec varint prefixes of Ed25519 public and private keys.
ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"

_BASE58BTC_RE = re.compile(r"z[1-9A-HJ-NP-Za-km-z]+")
# xsd:dateTimeStamp: a dateTime that must carry a zone ("Z" or +hh:mm).
_DATE_TIME_STAMP_RE = re.compile(
    r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"
)

#: Return type of ``resolve_public_key``: a key object, a ``publicKeyMultibase``
#: string, or None when the verification method is unknown.
ResolvedKey = Union[Ed25519PublicKey, str, None]


class MultibaseError(ValueError):
    """A multibase or Multikey value is malformed."""


@dataclass(frozen=True)
class VerificationResult:
    """Outcome of verifying one proof.

    ``code`` is a stable machine-readable value for views and the CLI to map
    onto translated messages: ``"ok"``, ``"malformed"``, ``"unsupported"``,
    ``"unknown_key"``, ``"context_mismatch"``, ``"invalid_signature"``, or
    ``"issuer_mismatch"``, ``"wrong_type"`` and ``"wrong_purpose"`` (set by the
    Open Badge checks in ``certificates.credentials``). ``reason`` is an
    English sentence for logs. ``detail`` is a stable key of the check that
    failed, or ``"valid"``, and ``detail_values`` contains its parameters, for
    views to show a translated technical detail.
    ``document`` is the verified document without its proof, set only when
    ``ok`` is true.
    """

    ok: bool
    code: str
    reason: str
    verification_method: Optional[str] = None
    document: Optional[dict] = None
    detail: str = ""
    detail_values: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.ok


def _fail(
    code: str,
    reason: str,
    verification_method: Optional[str] = None,
    *,
    detail: str,
    **detail_values: str,
) -> VerificationResult:
    return VerificationResult(
        False, code, reason, verification_method, detail=detail, detail_values=detail_values
    )


# --- multibase and Multikey -------------------------------------------------


def multibase_encode(data: bytes) -> str:
    """Encode bytes as multibase base58btc (``"z"`` prefix)."""
    return "z" + base58.b58encode(data).decode("ascii")


def multibase_decode(value: str) -> bytes:
    """Decode a multibase base58btc string.

    Raises MultibaseError for another base, an empty payload or a character
    outside the base58btc alphabet (whitespace included, which the base58
    package would otherwise strip silently).
    """
    if not isinstance(value, str) or not _BASE58BTC_RE.fullmatch(value):
        raise MultibaseError(f"not a multibase base58btc string: {value!r}")
    return base58.b58decode(value[1:])


def public_key_to_multibase(public_key: Ed25519PublicKey) -> str:
    """Encode an Ed25519 public key as a Multikey ``publicKeyMultibase``."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return multibase_encode(ED25519_PUB_PREFIX + raw)


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    """Decode a Multikey ``publicKeyMultibase`` holding an Ed25519 key."""
    data = multibase_decode(value)
    if not data.startswith(ED25519_PUB_PREFIX) or len(data) != 34:
        raise MultibaseError(
            f"not an Ed25519 public key (multicodec 0xed01 + 32 bytes): {value!r}"
        )
    return Ed25519PublicKey.from_public_bytes(data[2:])


def private_key_to_multibase(private_key: Ed25519PrivateKey) -> str:
    """Encode an Ed25519 private key as a Multikey ``secretKeyMultibase``."""
    seed = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return multibase_encode(ED25519_PRIV_PREFIX + seed)


def private_key_from_multibase(value: str) -> Ed25519PrivateKey:
    """Decode a Multikey ``secretKeyMultibase`` holding an Ed25519 seed."""
    data = multibase_decode(value)
    if not data.startswith(ED25519_PRIV_PREFIX) or len(data) != 34:
        raise MultibaseError(
            "not an Ed25519 private key (multicodec 0x8026 + 32 bytes)"
        )
    return Ed25519PrivateKey.from_private_bytes(data[2:])


def resolve_did_key(verification_method: str) -> Optional[Ed25519PublicKey]:
    """Resolve an Ed25519 ``did:key`` verification method offline.

    Accepts ``did:key:<mb>`` and ``did:key:<mb>#<mb>`` with both parts equal.
    Returns None for anything else, so callers can chain other resolvers.
    """
    if not verification_method.startswith("did:key:"):
        return None
    did, _, fragment = verification_method.partition("#")
    multibase = did[len("did:key:") :]
    if fragment and fragment != multibase:
        return None
    try:
        return public_key_from_multibase(multibase)
    except MultibaseError:
        return None


# --- hashing ----------------------------------------------------------------


def canonicalize(value: Any) -> bytes:
    """Serialise a JSON value with RFC 8785 (JCS), as UTF-8 bytes.

    Raises ``rfc8785.CanonicalizationError`` (a ValueError) for values JCS
    cannot represent: NaN or infinite floats, integers beyond 2**53, non-string
    object keys.
    """
    return rfc8785.dumps(value)


def hash_data(document: dict, proof_config: dict) -> bytes:
    """Return ``sha256(JCS(proof_config)) || sha256(JCS(document))``.

    ``document`` must not contain ``proof`` and ``proof_config`` must not
    contain ``proofValue``. The result is the 64-byte message Ed25519 signs.
    """
    proof_hash = hashlib.sha256(canonicalize(proof_config)).digest()
    document_hash = hashlib.sha256(canonicalize(document)).digest()
    return proof_hash + document_hash


def _check_proof_config(proof_config: dict) -> None:
    """Raise ValueError unless the proof configuration is usable for signing."""
    if proof_config.get("type") != PROOF_TYPE:
        raise ValueError(f"proof type must be {PROOF_TYPE!r}")
    if proof_config.get("cryptosuite") != CRYPTOSUITE:
        raise ValueError(f"proof cryptosuite must be {CRYPTOSUITE!r}")
    for field in ("verificationMethod", "proofPurpose"):
        value = proof_config.get(field)
        if not isinstance(value, str) or not value:
            raise ValueError(f"proof {field} is missing")
    if "created" in proof_config and not is_date_time_stamp(proof_config["created"]):
        raise ValueError(
            f"proof created is not an XML Schema dateTimeStamp: "
            f"{proof_config['created']!r}"
        )
    if "proofValue" in proof_config:
        raise ValueError("proof configuration must not contain proofValue")


def is_date_time_stamp(value: Any) -> bool:
    """Return whether ``value`` is an xsd:dateTimeStamp, e.g. 2025-06-30T08:00:00Z."""
    if not isinstance(value, str) or not _DATE_TIME_STAMP_RE.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


# --- sign and verify ----------------------------------------------------------


def sign_credential(
    unsigned: dict, proof_config: dict, private_key: Ed25519PrivateKey
) -> dict:
    """Return a copy of ``unsigned`` with an ``eddsa-jcs-2022`` proof added.

    ``proof_config`` contains the proof options (type, cryptosuite, created,
    verificationMethod, proofPurpose, optional challenge or domain). As the
    specification requires, the document's ``@context`` is copied into the
    proof before hashing. Raises ValueError for an invalid configuration, a
    document that already has a proof (proof sets are not supported) or a
    value JCS cannot canonicalise.
    """
    if "proof" in unsigned:
        raise ValueError("document already has a proof; proof sets are not supported")
    _check_proof_config(proof_config)

    proof = copy.deepcopy(proof_config)
    if "@context" in unsigned:
        proof["@context"] = copy.deepcopy(unsigned["@context"])
    document = copy.deepcopy(unsigned)

    signature = private_key.sign(hash_data(document, proof))
    proof["proofValue"] = multibase_encode(signature)
    document["proof"] = proof
    return document


def _context_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _load_public_key(resolved: ResolvedKey) -> Optional[Ed25519PublicKey]:
    if resolved is None or isinstance(resolved, Ed25519PublicKey):
        return resolved
    return public_key_from_multibase(resolved)


def verify_credential(
    signed: dict, resolve_public_key: Callable[[str], ResolvedKey]
) -> VerificationResult:
    """Verify the ``eddsa-jcs-2022`` proof of ``signed``.

    ``resolve_public_key(verification_method)`` returns the Ed25519 public key
    (object or ``publicKeyMultibase``) for that verification method, or None if
    it is unknown. A malformed credential does not raise: every failure is a
    result with ``ok`` false and a reason. Exceptions raised by
    ``resolve_public_key`` propagate.

    NOTE: like the specification, this accepts a document whose ``@context``
    starts with the proof's ``@context`` and has further entries after it. The
    hash then covers the proof's list, so ``result.document`` carries that list.
    """
    if not isinstance(signed, dict):
        return _fail("malformed", "credential is not a JSON object", detail="not_object")
    proof = signed.get("proof")
    if proof is None:
        return _fail("malformed", "credential has no proof", detail="no_proof")
    if isinstance(proof, list):
        return _fail(
            "unsupported", "proof sets (a list of proofs) are not supported", detail="proof_set"
        )
    if not isinstance(proof, dict):
        return _fail("malformed", "proof is not a JSON object", detail="proof_not_object")

    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        return _fail("malformed", "proof verificationMethod is missing", detail="no_method")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return _fail(
            "unsupported",
            f"proof is not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}: "
            f"type={proof.get('type')!r}, cryptosuite={proof.get('cryptosuite')!r}",
            method,
            detail="wrong_suite",
            type=str(proof.get("type")),
            cryptosuite=str(proof.get("cryptosuite")),
        )
    if "created" in proof and not is_date_time_stamp(proof["created"]):
        return _fail(
            "malformed",
            f"proof created is invalid: {proof['created']!r}",
            method,
            detail="bad_created",
            created=str(proof["created"]),
        )

    try:
        signature = multibase_decode(proof.get("proofValue"))
    except MultibaseError as exc:
        return _fail(
            "malformed", f"proofValue is invalid: {exc}", method, detail="bad_proof_value"
        )
    if len(signature) != 64:
        return _fail(
            "malformed",
            f"proofValue decodes to {len(signature)} bytes, "
            "but an Ed25519 signature has 64",
            method,
            detail="signature_length",
            length=str(len(signature)),
        )

    document = {key: value for key, value in signed.items() if key != "proof"}
    proof_options = {key: value for key, value in proof.items() if key != "proofValue"}
    if "@context" in proof_options:
        proof_context = _context_list(proof_options["@context"])
        document_context = _context_list(document.get("@context", []))
        if document_context[: len(proof_context)] != proof_context:
            return _fail(
                "context_mismatch",
                "document @context does not start with the proof @context",
                method,
                detail="context_mismatch",
            )
        document["@context"] = proof_options["@context"]

    try:
        public_key = _load_public_key(resolve_public_key(method))
    except MultibaseError as exc:
        return _fail(
            "unknown_key",
            f"key for {method} is not an Ed25519 Multikey: {exc}",
            method,
            detail="bad_key",
            method=method,
        )
    if public_key is None:
        return _fail(
            "unknown_key",
            f"verification method not found: {method}",
            method,
            detail="key_not_found",
            method=method,
        )

    try:
        message = hash_data(document, proof_options)
    except rfc8785.CanonicalizationError as exc:
        return _fail(
            "malformed",
            f"credential cannot be canonicalised: {exc}",
            method,
            detail="not_canonical",
        )
    try:
        public_key.verify(signature, message)
    except InvalidSignature:
        return _fail(
            "invalid_signature",
            "signature does not match the credential: it was changed after "
            "signing or signed with another key",
            method,
            detail="signature_mismatch",
        )
    return VerificationResult(
        True, "ok", "signature is valid", method, copy.deepcopy(document), detail="valid"
    )
