"""Certificate templates designed in the browser, their versions, and per-institution
and per-programme certificate settings."""

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from lms.accounts.models import User
from lms.db import UTCDateTime, enum_column, now_utc
from lms.extensions import db
from lms.revisions import Versioned

#: Serial pattern used until an admin sets another one.
DEFAULT_SERIAL_PATTERN = "{prefix}-{year}-{seq:06d}"
#: Days before expiry in which a holder may renew, unless the institution sets another.
DEFAULT_RENEWAL_WINDOW_DAYS = 90


class PageSize(enum.Enum):
    A4 = "A4"
    A5 = "A5"
    LETTER = "Letter"


class Orientation(enum.Enum):
    LANDSCAPE = "landscape"
    PORTRAIT = "portrait"


class TemplateLanguage(enum.Enum):
    ZH = "zh"
    EN = "en"


class CertificateTemplate(Versioned, db.Model):
    """A named certificate design of one institution; its content lives in versions.

    ``code`` is set on the seeded defaults ("default-zh", "default-en") so
    seeding finds them again; templates made in the browser have none.
    """

    __tablename__ = "certificate_template"
    __table_args__ = (
        sa.UniqueConstraint("institution_id", "name"),
        sa.UniqueConstraint("institution_id", "code"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id")
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    code: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    versions: so.Mapped[list["TemplateVersion"]] = so.relationship(
        back_populates="template",
        order_by="TemplateVersion.number.desc()",
        cascade="all, delete-orphan",
    )

    @property
    def current_version(self) -> Optional["TemplateVersion"]:
        return self.versions[0] if self.versions else None

    def __repr__(self) -> str:
        return f"<CertificateTemplate {self.id} {self.name!r}>"


class TemplateVersion(db.Model):
    """One saved, immutable state of a template.

    Saving a template adds a version and never edits an old one, so a
    certificate that names a version re-renders as it was issued. Images are
    stored through ``lms.uploads`` in the ``certificate_assets`` area and
    named here together with their SHA-256.
    """

    __tablename__ = "certificate_template_version"
    __table_args__ = (
        sa.UniqueConstraint("template_id", "number"),
        sa.CheckConstraint("number >= 1", name="number_positive"),
        sa.CheckConstraint(
            "validity_months IS NULL OR validity_months BETWEEN 1 AND 600",
            name="validity_months_range",
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    template_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("certificate_template.id", ondelete="CASCADE")
    )
    number: so.Mapped[int]
    page_size: so.Mapped[PageSize] = so.mapped_column(enum_column(PageSize))
    orientation: so.Mapped[Orientation] = so.mapped_column(enum_column(Orientation))
    language: so.Mapped[TemplateLanguage] = so.mapped_column(
        enum_column(TemplateLanguage)
    )
    body_html: so.Mapped[str] = so.mapped_column(sa.Text)
    css: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    #: Months a certificate stays valid when its programme sets no validity.
    validity_months: so.Mapped[Optional[int]]
    #: Stored upload names and SHA-256 (hex) of the images, or None.
    background_file: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    background_sha256: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    logo_file: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    logo_sha256: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    signature_file: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    signature_sha256: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    seal_file: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    seal_sha256: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("user.id")
    )

    template: so.Mapped[CertificateTemplate] = so.relationship(
        back_populates="versions"
    )
    created_by: so.Mapped[Optional[User]] = so.relationship()

    def __repr__(self) -> str:
        return f"<TemplateVersion {self.id} template={self.template_id} v{self.number}>"


class InstitutionCertificateSettings(Versioned, db.Model):
    """Serial pattern and renewal window of one institution.

    An institution without a row uses DEFAULT_SERIAL_PATTERN and
    DEFAULT_RENEWAL_WINDOW_DAYS. The serial prefix itself is
    ``Institution.serial_prefix``.
    """

    __tablename__ = "certificate_institution_settings"
    __table_args__ = (
        sa.CheckConstraint(
            "renewal_window_days BETWEEN 0 AND 3650", name="renewal_window_range"
        ),
    )

    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id", ondelete="CASCADE"), primary_key=True
    )
    serial_pattern: so.Mapped[str] = so.mapped_column(
        sa.String(80), default=DEFAULT_SERIAL_PATTERN
    )
    renewal_window_days: so.Mapped[int] = so.mapped_column(
        default=DEFAULT_RENEWAL_WINDOW_DAYS
    )


class ProgrammeCertificateSettings(Versioned, db.Model):
    """Certificate template and renewal target of one programme.

    A programme with ``renews_programme_id`` is a refresher: completing it
    within the renewal window of a valid certificate of that programme
    issues a certificate that supersedes the old one.
    """

    __tablename__ = "certificate_programme_settings"
    __table_args__ = (
        sa.CheckConstraint(
            "renews_programme_id IS NULL OR renews_programme_id <> programme_id",
            name="renews_other_programme",
        ),
    )

    programme_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True
    )
    template_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("certificate_template.id", ondelete="SET NULL")
    )
    renews_programme_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("programme.id", ondelete="SET NULL")
    )

    template: so.Mapped[Optional[CertificateTemplate]] = so.relationship()
