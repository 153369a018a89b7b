import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from courses.models import Programme
from lms.accounts.models import User
from lms.db import UTCDateTime, enum_column, now_utc
from lms.extensions import db
from lms.organisations.models import Institution


class CertificateStatus(enum.Enum):
    VALID = "valid"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class SerialCounter(db.Model):
    """Last serial number used per institution and year."""

    __tablename__ = "certificate_serial_counter"

    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id"), primary_key=True
    )
    year: so.Mapped[int] = so.mapped_column(primary_key=True)
    last_value: so.Mapped[int] = so.mapped_column(default=0)


class Certificate(db.Model):
    """An issued certificate with the data it was rendered from.

    Holder name, programme title and hours are copied at issue time, so the
    document and the verification page keep showing what was certified even
    if the account or the programme changes later. ``achievement_key`` is
    unique, so the same achievement yields one certificate, plus one reissue
    per revoked certificate under the key ``<key>:reissue:<revoked id>``.
    """

    __tablename__ = "certificate"
    __table_args__ = (
        sa.CheckConstraint(
            "(status = 'revoked') = (revoked_at IS NOT NULL)", name="revoked_iff_revoked_at"
        ),
        sa.CheckConstraint(
            "superseded_by_id IS NULL OR status IN ('superseded', 'revoked')",
            name="superseded_by_needs_status",
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    serial: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    verification_code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    achievement_key: so.Mapped[str] = so.mapped_column(sa.String(100), unique=True)
    holder_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"), index=True)
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id"), index=True
    )
    programme_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("programme.id"), index=True
    )
    holder_name: so.Mapped[str] = so.mapped_column(sa.String(100))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    hours: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(7, 1))
    issued_on: so.Mapped[date]
    expires_on: so.Mapped[Optional[date]]
    status: so.Mapped[CertificateStatus] = so.mapped_column(
        enum_column(CertificateStatus), default=CertificateStatus.VALID
    )
    revoked_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    revoked_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
    #: Plain values the PDF was rendered from, kept so a re-render matches.
    render_data: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    #: SHA-256 of the stored PDF, hex.
    pdf_sha256: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    #: Signed Open Badges 3.0 credential, stored as the exact JSON text served
    #: and attached to the PDF; None until it is built (see certificates.badges).
    credential_json: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    #: Template version the PDF is rendered with; None renders with the
    #: built-in layout of certificates issued before templates existed.
    template_version_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("certificate_template_version.id"), index=True
    )
    #: The certificate this one renewed, and the one that renewed this one.
    supersedes_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("certificate.id"), unique=True
    )
    superseded_by_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("certificate.id"), unique=True
    )
    superseded_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    holder: so.Mapped[User] = so.relationship()
    institution: so.Mapped[Institution] = so.relationship()
    programme: so.Mapped[Optional[Programme]] = so.relationship()
    supersedes: so.Mapped[Optional["Certificate"]] = so.relationship(
        foreign_keys=[supersedes_id], remote_side=[id], post_update=True
    )
    superseded_by: so.Mapped[Optional["Certificate"]] = so.relationship(
        foreign_keys=[superseded_by_id], remote_side=[id], post_update=True
    )

    def __repr__(self) -> str:
        return f"<Certificate {self.id} {self.serial}>"
