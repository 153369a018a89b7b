"""Ed25519 issuer keys, one active key per institution, with rotation.

Each key has a verification method id ``{base_url}/issuers/{code}#key-{n}``.
The part before ``#`` is the issuer Profile id of the credentials it signs,
so a verifier can check that the key belongs to the issuer.

Private keys at rest: the PKCS#8 DER encoding of the key is encrypted with
AES-256-GCM under a key derived from the app's ``SECRET_KEY`` by HKDF-SHA256.
The verification method id is the GCM associated data, so a ciphertext copied
onto another row fails to decrypt. Changing ``SECRET_KEY`` makes stored private
keys unreadable: signing then fails until ``rotate_key`` creates a new key,
while verification keeps working because it needs only public keys.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_der_private_key,
)
from flask import current_app

from certificates.signing import public_key_from_multibase, public_key_to_multibase
from lms.db import UTCDateTime, now_utc
from lms.extensions import db
from lms.organisations.models import Institution

logger = logging.getLogger("lms.certificates.keys")

#: HKDF ``info`` label. Changing it derives another key, so stored private keys
#: become unreadable.
_KEK_INFO = b"shuren issuer-key encryption v1"
#: First byte of every stored ciphertext, so the format can change later.
_FORMAT_VERSION = b"\x01"
_NONCE_BYTES = 12


class IssuerKeyError(RuntimeError):
    """An issuer key cannot be used for signing."""


class IssuerKey(db.Model):
    """An Ed25519 signing key of an institution, published as a Multikey.

    ``retired_at`` is None for the active key; a partial unique index allows
    one active key per institution. A retired key keeps its public key so
    credentials it signed stay verifiable, and loses its private key.
    """

    __tablename__ = "issuer_key"
    __table_args__ = (
        sa.Index(
            "uq_issuer_key_active_institution",
            "institution_id",
            unique=True,
            sqlite_where=sa.text("retired_at IS NULL"),
            postgresql_where=sa.text("retired_at IS NULL"),
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id"), index=True
    )
    #: Verification method id, e.g. https://lms.example.cn/issuers/PKU#key-1.
    key_id: so.Mapped[str] = so.mapped_column(sa.String(300), unique=True)
    public_key_multibase: so.Mapped[str] = so.mapped_column(sa.String(64))
    #: Version byte + 12-byte nonce + AES-GCM ciphertext of the PKCS#8 DER key;
    #: None once the key is retired.
    private_key_encrypted: so.Mapped[Optional[bytes]] = so.mapped_column(sa.LargeBinary)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    retired_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)

    institution: so.Mapped[Institution] = so.relationship()

    @property
    def controller(self) -> str:
        """The issuer Profile id this key signs for (the id before ``#``)."""
        return self.key_id.partition("#")[0]

    @property
    def is_active(self) -> bool:
        return self.retired_at is None

    def public_key(self) -> Ed25519PublicKey:
        return public_key_from_multibase(self.public_key_multibase)

    def private_key(self) -> Ed25519PrivateKey:
        """Decrypt the private key with the current ``SECRET_KEY``.

        Raises IssuerKeyError for a retired key or when decryption fails.
        """
        if self.private_key_encrypted is None:
            raise IssuerKeyError(f"issuer key {self.key_id} is retired and cannot sign")
        return _decrypt_private_key(self.private_key_encrypted, self.key_id)

    def verification_method(self) -> dict:
        """Return the key as a Multikey verification method object."""
        return {
            "id": self.key_id,
            "type": "Multikey",
            "controller": self.controller,
            "publicKeyMultibase": self.public_key_multibase,
        }

    def __repr__(self) -> str:
        state = "active" if self.is_active else "retired"
        return f"<IssuerKey {self.id} {self.key_id} {state}>"


# --- encryption at rest -------------------------------------------------------


def _key_encryption_key() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not secret:
        raise IssuerKeyError("SECRET_KEY is empty: set LMS_SECRET_KEY")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEK_INFO)
    return hkdf.derive(secret)


def _encrypt_private_key(private_key: Ed25519PrivateKey, key_id: str) -> bytes:
    der = private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    nonce = os.urandom(_NONCE_BYTES)
    ciphertext = AESGCM(_key_encryption_key()).encrypt(nonce, der, key_id.encode())
    return _FORMAT_VERSION + nonce + ciphertext


def _decrypt_private_key(blob: bytes, key_id: str) -> Ed25519PrivateKey:
    if blob[:1] != _FORMAT_VERSION:
        raise IssuerKeyError(f"issuer key {key_id}: unknown storage format")
    nonce = blob[1 : 1 + _NONCE_BYTES]
    ciphertext = blob[1 + _NONCE_BYTES :]
    try:
        der = AESGCM(_key_encryption_key()).decrypt(nonce, ciphertext, key_id.encode())
    except InvalidTag:
        raise IssuerKeyError(
            f"cannot decrypt the private key of {key_id}: SECRET_KEY changed since "
            "the key was created; rotate the institution's key to sign again"
        ) from None
    private_key = load_der_private_key(der, password=None)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise IssuerKeyError(f"issuer key {key_id} is not an Ed25519 key")
    return private_key


# --- key lifecycle --------------------------------------------------------------


def public_base_url(base_url: Optional[str] = None) -> str:
    """Return ``base_url``, or else ``PUBLIC_URL``, without a trailing slash."""
    return (base_url or current_app.config["PUBLIC_URL"]).rstrip("/")


def issuer_id(institution: Institution, base_url: Optional[str] = None) -> str:
    """Return the issuer Profile id, ``{base_url}/issuers/{code}``."""
    return f"{public_base_url(base_url)}/issuers/{institution.code}"


def _select_active(institution: Institution) -> Optional[IssuerKey]:
    return db.session.scalar(
        sa.select(IssuerKey).where(
            IssuerKey.institution_id == institution.id,
            IssuerKey.retired_at.is_(None),
        )
    )


def _create_key(institution: Institution, controller: str) -> IssuerKey:
    """Insert a new active key. The caller must retire the previous one first."""
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(IssuerKey)
        .where(IssuerKey.institution_id == institution.id)
    )
    private_key = Ed25519PrivateKey.generate()
    key_id = f"{controller}#key-{count + 1}"
    key = IssuerKey(
        institution_id=institution.id,
        key_id=key_id,
        public_key_multibase=public_key_to_multibase(private_key.public_key()),
        private_key_encrypted=_encrypt_private_key(private_key, key_id),
    )
    db.session.add(key)
    db.session.flush()
    logger.info("created issuer key %s for institution %s", key_id, institution.id)
    return key


def _retire(key: IssuerKey) -> None:
    key.retired_at = now_utc()
    key.private_key_encrypted = None
    db.session.flush()
    logger.info("retired issuer key %s", key.key_id)


def active_key(institution: Institution, base_url: Optional[str] = None) -> IssuerKey:
    """Return the institution's active key, creating one if it has none.

    If the active key was created under another public URL (its controller is
    not the current issuer id), it is retired and a new one is created, so the
    key always belongs to the issuer named in new credentials. Flushes only.
    """
    controller = issuer_id(institution, base_url)
    key = _select_active(institution)
    if key is not None and key.controller == controller:
        return key
    if key is not None:
        logger.warning(
            "issuer key %s does not match issuer id %s; rotating",
            key.key_id,
            controller,
        )
        _retire(key)
    try:
        with db.session.begin_nested():
            return _create_key(institution, controller)
    except sa.exc.IntegrityError:
        # A concurrent request created the active key first; use that one.
        key = _select_active(institution)
        if key is None:
            raise
        return key


def rotate_key(institution: Institution, base_url: Optional[str] = None) -> IssuerKey:
    """Retire the institution's active key and return a new active key.

    Credentials signed with the old key stay verifiable because
    ``resolve_public_key`` finds retired keys too. Flushes only.
    """
    old = _select_active(institution)
    if old is not None:
        _retire(old)
    return _create_key(institution, issuer_id(institution, base_url))


def find_key(verification_method: str) -> Optional[IssuerKey]:
    """Return the key with this verification method id, active or retired."""
    return db.session.scalar(
        sa.select(IssuerKey).where(IssuerKey.key_id == verification_method)
    )


def resolve_public_key(verification_method: str) -> Optional[str]:
    """Return the ``publicKeyMultibase`` of one of this platform's keys, or None.

    Suitable as the ``resolve_public_key`` callback of
    ``certificates.signing.verify_credential``.
    """
    key = find_key(verification_method)
    return key.public_key_multibase if key is not None else None


def controller_document(
    institution: Institution, base_url: Optional[str] = None
) -> dict:
    """Return the issuer's controlled identifier document with all its keys.

    Retired keys stay listed under ``assertionMethod`` because credentials
    they signed are still valid; only the active key signs new ones.
    """
    controller = issuer_id(institution, base_url)
    keys = db.session.scalars(
        sa.select(IssuerKey)
        .where(IssuerKey.institution_id == institution.id)
        .order_by(IssuerKey.id)
    ).all()
    methods = [
        key.verification_method() for key in keys if key.controller == controller
    ]
    return {
        "@context": ["https://www.w3.org/ns/cid/v1"],
        "id": controller,
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }
