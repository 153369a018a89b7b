"""Translated messages of the credential verification page.

The signing and credential modules report failures with stable keys and
English log sentences. This module turns the keys into messages in the
reader's language.
"""

from flask_babel import lazy_gettext as _l

from certificates.credentials import CredentialJSONError
from certificates.signing import VerificationResult

#: Technical detail per ``VerificationResult.detail``. Placeholders are keys of
#: ``detail_values``.
DETAIL_MESSAGES = {
    "valid": _l("The signature is valid."),
    "not_object": _l("The credential is not a JSON object."),
    "no_proof": _l("The credential has no proof."),
    "proof_set": _l("The credential has a list of proofs; this page checks a single proof."),
    "proof_not_object": _l("The proof is not a JSON object."),
    "no_method": _l("The proof has no verificationMethod."),
    "wrong_suite": _l(
        "The proof has type %(type)s and cryptosuite %(cryptosuite)s; this page checks "
        "only DataIntegrityProof with eddsa-jcs-2022."
    ),
    "bad_created": _l("The proof's created time %(created)s is not a valid date and time."),
    "bad_proof_value": _l("The proofValue is not valid base58btc multibase."),
    "signature_length": _l(
        "The proofValue decodes to %(length)s bytes, but an Ed25519 signature has 64."
    ),
    "context_mismatch": _l("The credential's @context does not start with the proof's @context."),
    "bad_key": _l("The key %(method)s is not an Ed25519 Multikey."),
    "key_not_found": _l("The verification method %(method)s was not found."),
    "not_canonical": _l("The credential cannot be canonicalised with RFC 8785 (JCS)."),
    "signature_mismatch": _l(
        "The signature does not match the credential: it was changed after signing, "
        "or signed with another key."
    ),
    "wrong_type": _l("The credential's type does not contain OpenBadgeCredential."),
    "wrong_purpose": _l("The proof purpose is %(purpose)s; expected assertionMethod."),
    "issuer_mismatch": _l("The key %(method)s does not belong to the issuer %(issuer)s."),
    "too_deep": _l("The credential nests JSON too deeply to verify."),
}

#: Short label per ``VerificationResult.code``, shown in place of the code.
RESULT_LABELS = {
    "ok": _l("signature valid"),
    "invalid_signature": _l("signature mismatch"),
    "unknown_key": _l("unknown signing key"),
    "malformed": _l("malformed credential"),
    "unsupported": _l("unsupported signature format"),
    "context_mismatch": _l("@context mismatch"),
    "issuer_mismatch": _l("issuer mismatch"),
    "wrong_type": _l("not an Open Badges credential"),
    "wrong_purpose": _l("wrong proof purpose"),
}

CREDENTIAL_JSON_MESSAGES = {
    "duplicate_key": _l("the key %(value)s appears twice in one object"),
    "constant": _l("%(value)s is not a valid JSON number"),
    "not_object": _l("the top-level value is not a JSON object"),
}


def verification_detail(result: VerificationResult) -> str:
    """Return the translated technical detail of a result, or its English reason."""
    template = DETAIL_MESSAGES.get(result.detail)
    if template is None:
        return result.reason
    try:
        return str(template) % result.detail_values
    except (KeyError, TypeError, ValueError):
        return result.reason


def result_label(result: VerificationResult) -> str:
    """Return the translated label of a result's code, or the code when it has none."""
    label = RESULT_LABELS.get(result.code)
    return str(label) if label is not None else result.code


def credential_json_error(error: ValueError) -> str:
    """Return why credential JSON was rejected, in the reader's language."""
    if isinstance(error, CredentialJSONError):
        template = CREDENTIAL_JSON_MESSAGES.get(error.detail)
        if template is not None:
            return str(template) % {"value": error.value}
    return str(error)
