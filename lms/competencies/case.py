"""A framework as a 1EdTech CASE 1.0 package (CFPackage JSON).

The CFDocument is the framework. Levels, functional areas and competency
items are CFItems distinguished by ``CFItemType`` (Level, FunctionalArea,
Competency), each under its stored UUID. Each line of an item's work
content, ability and knowledge requirements is a child CFItem (WorkContent,
AbilityRequirement, KnowledgeRequirement) whose identifier is derived from
the item's, so exporting twice gives the same file.

Associations: levels and areas are ``isChildOf`` the document, an item is
``isChildOf`` its area and ``hasSkillLevel`` its level, a requirement line is
``isChildOf`` its item. An area mapping is ``exactMatchOf`` or
``isRelatedTo``. CASE 1.0 has no close-match type, so a close match is an
``isRelatedTo`` in the CFAssociationGrouping "closeMatch".

Values CASE 1.0 has no field for (the framework code, document number and
year, a level's years of service) go in an ``extensions`` object, as CASE
1.1 allows, and readers that do not know it ignore it. ``case_import``
reads the same layout back.
"""

import json
import uuid
from datetime import datetime, timezone
from typing import Optional

from lms.competencies.models import (
    CompetencyItem,
    Framework,
    FrameworkStatus,
    MappingRelation,
)
from lms.competencies.services import mappings_of

ADOPTION_STATUS = {
    FrameworkStatus.DRAFT: "Draft",
    FrameworkStatus.PUBLISHED: "Adopted",
    FrameworkStatus.RETIRED: "Deprecated",
}
#: Requirement field -> CFItemType of its lines.
REQUIREMENT_TYPES = {
    "work_content": "WorkContent",
    "ability_requirements": "AbilityRequirement",
    "knowledge_requirements": "KnowledgeRequirement",
}
ITEM_TYPES = ("Level", "FunctionalArea", "Competency", *REQUIREMENT_TYPES.values())
#: Namespace of identifiers derived from stored ones (requirement lines, associations).
_NAMESPACE = uuid.UUID("8a0f0f3e-5b7c-4c61-9a53-3c1f7f0d2a41")
CLOSE_MATCH_GROUPING = str(uuid.uuid5(_NAMESPACE, "grouping/closeMatch"))


def _derived(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _timestamp(value: Optional[datetime]) -> str:
    moment = value or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


# Export -------------------------------------------------------------------------


class _Exporter:
    def __init__(self, framework: Framework, base_url: str):
        self.framework = framework
        self.base = base_url.rstrip("/")
        self.changed = _timestamp(framework.updated_at)
        self.items: list[dict] = []
        self.associations: list[dict] = []

    def uri(self, identifier: str) -> str:
        return f"{self.base}/frameworks/uri/{identifier}"

    def link(self, identifier: str, title: str) -> dict:
        return {"title": title, "identifier": identifier, "uri": self.uri(identifier)}

    def document_link(self) -> dict:
        return self.link(self.framework.identifier, self.framework.title)

    def add_item(
        self, identifier: str, item_type: str, statement: str, **fields
    ) -> None:
        entry = {
            "identifier": identifier,
            "uri": self.uri(identifier),
            "CFDocumentURI": self.document_link(),
            "fullStatement": statement,
            "CFItemType": item_type,
            "language": "zh",
            "lastChangeDateTime": self.changed,
        }
        entry.update({key: value for key, value in fields.items() if value is not None})
        self.items.append(entry)

    def associate(
        self,
        kind: str,
        origin: dict,
        destination: dict,
        *,
        identifier: Optional[str] = None,
        sequence: Optional[int] = None,
        grouping: Optional[str] = None,
    ) -> None:
        if identifier is None:
            identifier = _derived(origin["identifier"], kind, destination["identifier"])
        entry = {
            "identifier": identifier,
            "uri": self.uri(identifier),
            "associationType": kind,
            "CFDocumentURI": self.document_link(),
            "originNodeURI": origin,
            "destinationNodeURI": destination,
            "lastChangeDateTime": self.changed,
        }
        if sequence is not None:
            entry["sequenceNumber"] = sequence
        if grouping is not None:
            entry["CFAssociationGroupingURI"] = self.link(grouping, "closeMatch")
        self.associations.append(entry)


def export_package(framework: Framework, base_url: str) -> dict:
    """Return the framework as a CASE 1.0 CFPackage."""
    out = _Exporter(framework, base_url)
    document = out.document_link()
    for level in framework.levels:
        out.add_item(
            level.identifier,
            "Level",
            level.name,
            humanCodingScheme=level.code,
            listEnumeration=str(level.position),
            extensions={"minYears": level.min_years, "maxYears": level.max_years},
        )
        out.associate("isChildOf", out.link(level.identifier, level.name), document)
    for area in framework.areas:
        out.add_item(
            area.identifier,
            "FunctionalArea",
            area.name,
            humanCodingScheme=area.code,
            listEnumeration=str(area.position),
        )
        node = out.link(area.identifier, area.name)
        out.associate("isChildOf", node, document, sequence=area.position)
    for item in framework.items:
        _export_item(out, item)
    for mapping in mappings_of(framework):
        _export_mapping(out, mapping)
    return {
        "CFDocument": _document(framework, out),
        "CFItems": out.items,
        "CFAssociations": out.associations,
        "CFDefinitions": _definitions(out),
    }


def _export_mapping(out: _Exporter, mapping) -> None:
    exact = mapping.relation is MappingRelation.EXACT_MATCH
    close = mapping.relation is MappingRelation.CLOSE_MATCH
    out.associate(
        "exactMatchOf" if exact else "isRelatedTo",
        out.link(mapping.source.identifier, mapping.source.name),
        out.link(mapping.target.identifier, mapping.target.name),
        identifier=mapping.identifier,
        grouping=CLOSE_MATCH_GROUPING if close else None,
    )


def _export_item(out: _Exporter, item: CompetencyItem) -> None:
    out.add_item(
        item.identifier, "Competency", item.summary, humanCodingScheme=item.code
    )
    node = out.link(item.identifier, item.code)
    area = out.link(item.area.identifier, item.area.name)
    level = out.link(item.level.identifier, item.level.name)
    out.associate("isChildOf", node, area)
    out.associate("hasSkillLevel", node, level)
    for field, item_type in REQUIREMENT_TYPES.items():
        lines = [line.strip() for line in (getattr(item, field) or "").splitlines()]
        lines = [line for line in lines if line]
        for number, line in enumerate(lines, start=1):
            identifier = _derived(item.identifier, item_type, str(number))
            out.add_item(identifier, item_type, line, listEnumeration=str(number))
            line_node = out.link(identifier, line[:60])
            out.associate("isChildOf", line_node, node, sequence=number)


def _document(framework: Framework, out: _Exporter) -> dict:
    document = {
        "identifier": framework.identifier,
        "uri": out.uri(framework.identifier),
        "creator": framework.issuer or "",
        "title": framework.title,
        "lastChangeDateTime": out.changed,
        "version": framework.version,
        "adoptionStatus": ADOPTION_STATUS[framework.status],
        "language": "zh",
        "extensions": {
            "code": framework.code,
            "documentNumber": framework.document_no,
            "year": framework.year,
            "versionNumber": framework.version_number,
        },
    }
    if framework.notes:
        document["notes"] = framework.notes
    return document


def _definitions(out: _Exporter) -> dict:
    return {
        "CFItemTypes": [
            {
                "identifier": _derived("item-type", name),
                "uri": out.uri(_derived("item-type", name)),
                "title": name,
                "description": name,
                "hierarchyCode": name,
                "lastChangeDateTime": out.changed,
            }
            for name in ITEM_TYPES
        ],
        "CFAssociationGroupings": [
            {
                "identifier": CLOSE_MATCH_GROUPING,
                "uri": out.uri(CLOSE_MATCH_GROUPING),
                "title": "closeMatch",
                "description": (
                    "SKOS closeMatch: the areas are close enough to be used"
                    " in place of each other in most cases."
                ),
                "lastChangeDateTime": out.changed,
            }
        ],
    }


def export_json(framework: Framework, base_url: str) -> bytes:
    """Return the CFPackage as indented UTF-8 JSON."""
    package = export_package(framework, base_url)
    return json.dumps(package, ensure_ascii=False, indent=2).encode("utf-8")
