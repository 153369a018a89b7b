"""Competency frameworks: levels x functional areas, and the items in each cell.

A framework moves draft -> published -> retired. Only a draft is edited. To
change a published framework, create a new version: a copy with
``version_number + 1`` that links to its predecessor. Every version has
its own CASE identifiers (UUIDs) for the document, levels, areas and items,
because CASE identifiers are globally unique and both versions stay in the
database. The framework ``code`` and each item's human code ("1.5") stay
the same across a lineage. ``CompetencyItem.predecessor_id`` links an item
to the item it was copied from.
"""

import enum
import uuid
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from lms.db import UTCDateTime, enum_column, now_utc
from lms.extensions import db
from lms.revisions import Versioned


def new_identifier() -> str:
    """Return a fresh CASE identifier (a UUID in canonical text form)."""
    return str(uuid.uuid4())


class FrameworkStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class MappingRelation(enum.Enum):
    """Correspondence between areas of two frameworks, in SKOS mapping terms."""

    EXACT_MATCH = "exact_match"
    CLOSE_MATCH = "close_match"
    RELATED = "related"


class Framework(Versioned, db.Model):
    """A competency standard, e.g. the 2014 counselor competency standard.

    Identifiers are UUIDs so that a framework maps onto a 1EdTech CASE
    CFDocument and its levels, areas and items onto CFItems.
    """

    __tablename__ = "competency_framework"
    __table_args__ = (
        sa.UniqueConstraint("code", "version_number"),
        sa.CheckConstraint("version_number >= 1", name="version_number_positive"),
        sa.CheckConstraint(
            "status = 'draft' OR published_at IS NOT NULL", name="published_has_date"
        ),
        sa.CheckConstraint(
            "status != 'retired' OR retired_at IS NOT NULL", name="retired_has_date"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    identifier: so.Mapped[str] = so.mapped_column(
        sa.String(36), unique=True, default=new_identifier
    )
    #: Short name shared by every version of the framework.
    code: so.Mapped[str] = so.mapped_column(sa.String(64))
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    issuer: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))
    document_no: so.Mapped[Optional[str]] = so.mapped_column(sa.String(100))
    year: so.Mapped[Optional[int]]
    #: Version label shown to people and exported as CASE ``version``.
    version: so.Mapped[str] = so.mapped_column(sa.String(32), default="1")
    #: Position in the lineage: 1 for the first version, predecessor's + 1 after.
    version_number: so.Mapped[int] = so.mapped_column(default=1)
    predecessor_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("competency_framework.id", ondelete="SET NULL"), unique=True
    )
    status: so.Mapped[FrameworkStatus] = so.mapped_column(
        enum_column(FrameworkStatus), default=FrameworkStatus.DRAFT
    )
    published_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    retired_at: so.Mapped[Optional[datetime]] = so.mapped_column(UTCDateTime)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime, default=now_utc, onupdate=now_utc
    )
    notes: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    #: The institution whose trainers and administrators maintain the
    #: framework. None for a national standard shared by every institution,
    #: which the platform's operators load (seed and CLI) and no
    #: institution changes.
    institution_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("institution.id"), index=True
    )

    levels: so.Mapped[list["Level"]] = so.relationship(
        back_populates="framework",
        order_by="Level.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    areas: so.Mapped[list["FunctionalArea"]] = so.relationship(
        back_populates="framework",
        order_by="FunctionalArea.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    items: so.Mapped[list["CompetencyItem"]] = so.relationship(
        back_populates="framework",
        order_by="CompetencyItem.code",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    predecessor: so.Mapped[Optional["Framework"]] = so.relationship(
        remote_side=[id], back_populates="successor"
    )
    successor: so.Mapped[Optional["Framework"]] = so.relationship(
        back_populates="predecessor", uselist=False
    )

    @property
    def is_draft(self) -> bool:
        return self.status is FrameworkStatus.DRAFT

    def __repr__(self) -> str:
        return f"<Framework {self.id} {self.code} v{self.version_number}>"


class Level(Versioned, db.Model):
    """A career stage of a framework (初级, 中级, 高级)."""

    __tablename__ = "competency_level"
    __table_args__ = (sa.UniqueConstraint("framework_id", "code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    identifier: so.Mapped[str] = so.mapped_column(
        sa.String(36), unique=True, default=new_identifier
    )
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

    def __repr__(self) -> str:
        return f"<Level {self.id} {self.code}>"


class FunctionalArea(Versioned, db.Model):
    """A 职业功能 of a framework, e.g. 心理健康教育与咨询工作."""

    __tablename__ = "competency_area"
    __table_args__ = (sa.UniqueConstraint("framework_id", "code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    identifier: so.Mapped[str] = so.mapped_column(
        sa.String(36), unique=True, default=new_identifier
    )
    framework_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("competency_framework.id", ondelete="CASCADE")
    )
    code: so.Mapped[str] = so.mapped_column(sa.String(32))
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    position: so.Mapped[int]

    framework: so.Mapped[Framework] = so.relationship(back_populates="areas")

    def __repr__(self) -> str:
        return f"<FunctionalArea {self.id} {self.code}>"


class CompetencyItem(Versioned, db.Model):
    """One cell of level x area: work content, ability and knowledge required.

    The three requirement texts hold one requirement per line.
    """

    __tablename__ = "competency_item"
    __table_args__ = (sa.UniqueConstraint("level_id", "area_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    identifier: so.Mapped[str] = so.mapped_column(
        sa.String(36), unique=True, default=new_identifier
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
    #: The item of the previous framework version this one was copied from.
    predecessor_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("competency_item.id", ondelete="SET NULL")
    )

    framework: so.Mapped[Framework] = so.relationship(back_populates="items")
    level: so.Mapped[Level] = so.relationship()
    area: so.Mapped[FunctionalArea] = so.relationship()

    def __repr__(self) -> str:
        return f"<CompetencyItem {self.id} {self.code}>"


class AreaMapping(db.Model):
    """Area ``source`` of one framework corresponds to area ``target`` of another."""

    __tablename__ = "competency_area_mapping"
    __table_args__ = (
        sa.UniqueConstraint("source_area_id", "target_area_id"),
        sa.CheckConstraint("source_area_id != target_area_id", name="distinct_areas"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    identifier: so.Mapped[str] = so.mapped_column(
        sa.String(36), unique=True, default=new_identifier
    )
    source_area_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("competency_area.id", ondelete="CASCADE")
    )
    target_area_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("competency_area.id", ondelete="CASCADE"), index=True
    )
    relation: so.Mapped[MappingRelation] = so.mapped_column(
        enum_column(MappingRelation)
    )
    note: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=now_utc)

    source: so.Mapped[FunctionalArea] = so.relationship(foreign_keys=[source_area_id])
    target: so.Mapped[FunctionalArea] = so.relationship(foreign_keys=[target_area_id])

    def __repr__(self) -> str:
        return (
            f"<AreaMapping {self.id} {self.source_area_id}"
            f" {self.relation.value} {self.target_area_id}>"
        )
