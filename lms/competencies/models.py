import uuid
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from lms.extensions import db


def _new_identifier() -> str:
    return str(uuid.uuid4())


class Framework(db.Model):
    """A competency standard, e.g. the 2014 counselor competency standard.

    Identifiers are UUIDs so that a framework maps onto a 1EdTech CASE
    CFDocument and its items onto CFItems.
    """

    __tablename__ = "competency_framework"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    identifier: so.Mapped[str] = so.mapped_column(
        sa.String(36), unique=True, default=_new_identifier
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    issuer: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))
    document_no: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    year: so.Mapped[Optional[int]]
    version: so.Mapped[str] = so.mapped_column(sa.String(32), default="1")
    notes: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)

    levels: so.Mapped[list["Level"]] = so.relationship(
        back_populates="framework", order_by="Level.position"
    )
    areas: so.Mapped[list["FunctionalArea"]] = so.relationship(
        back_populates="framework", order_by="FunctionalArea.position"
    )

    def __repr__(self) -> str:
        return f"<Framework {self.id} {self.code}>"


class Level(db.Model):
    """A career stage of a framework (初级, 中级, 高级)."""

    __tablename__ = "competency_level"
    __table_args__ = (sa.UniqueConstraint("framework_id", "code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    framework_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("competency_framework.id", ondelete="CASCADE")
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(32))
    name: so.Mapped[str] = so.mapped_column(sa.String(64))
    position: so.Mapped[int]
    #: Years of counselor service the level usually spans; editable data
    #: because the official values could not be confirmed.
    min_years: so.Mapped[Optional[int]]
    max_years: so.Mapped[Optional[int]]

    framework: so.Mapped[Framework] = so.relationship(back_populates="levels")


class FunctionalArea(db.Model):
    """A 职业功能 of a framework, e.g. 心理健康教育与咨询工作."""

    __tablename__ = "competency_area"
    __table_args__ = (sa.UniqueConstraint("framework_id", "code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    framework_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("competency_framework.id", ondelete="CASCADE")
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(32))
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    position: so.Mapped[int]

    framework: so.Mapped[Framework] = so.relationship(back_populates="areas")


class CompetencyItem(db.Model):
    """One cell of level x area: work content, ability and knowledge required."""

    __tablename__ = "competency_item"
    __table_args__ = (sa.UniqueConstraint("level_id", "area_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    identifier: so.Mapped[str] = so.mapped_column(
        sa.String(36), unique=True, default=_new_identifier
    )
    framework_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("competency_framework.id", ondelete="CASCADE"), index=True
    )
    level_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("competency_level.id", ondelete="CASCADE")
    )
    area_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("competency_area.id", ondelete="CASCADE")
    )
    #: Dotted code such as "1.5" (level 1, area 5), CASE humanCodingScheme.
    code: so.Mapped[str] = so.mapped_column(sa.String(32))
    summary: so.Mapped[str] = so.mapped_column(sa.Text)
    work_content: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    ability_requirements: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    knowledge_requirements: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)

    level: so.Mapped[Level] = so.relationship()
    area: so.Mapped[FunctionalArea] = so.relationship()

    def __repr__(self) -> str:
        return f"<CompetencyItem {self.id} {self.code}>"
