from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from lms.extensions import db


class Institution(db.Model):
    """A university whose staff train on the platform."""

    __tablename__ = "institution"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    name_en: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))
    #: Province-level division (省, 自治区, 直辖市) for provincial reports.
    province: so.Mapped[Optional[str]] = so.mapped_column(sa.String(32), index=True)
    #: IANA zone in which deadlines, yearly quotas and expiries are computed.
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64), default="Asia/Shanghai")
    #: Prefix of certificate serial numbers, e.g. "SR" gives SR-2026-000123.
    serial_prefix: so.Mapped[str] = so.mapped_column(sa.String(16), default="SR")

    departments: so.Mapped[list["Department"]] = so.relationship(
        back_populates="institution", order_by="Department.code"
    )

    def __repr__(self) -> str:
        return f"<Institution {self.id} {self.code}>"


class Department(db.Model):
    """A 院系 (school or department) inside an institution."""

    __tablename__ = "department"
    __table_args__ = (sa.UniqueConstraint("institution_id", "code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    institution_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("institution.id", ondelete="CASCADE")
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(32))
    name: so.Mapped[str] = so.mapped_column(sa.String(200))

    institution: so.Mapped[Institution] = so.relationship(back_populates="departments")

    def __repr__(self) -> str:
        return f"<Department {self.id} {self.code}>"
