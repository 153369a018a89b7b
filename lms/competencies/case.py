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
1.1 allows; readers that do not know it ignore it.
"""

import json
import uuid
from datetime import datetime, timezone
from typing import Any, Optional

from flask_babel import gettext as _

from lms.competencies.models import (
    CompetencyItem,
    Framework,
    FrameworkStatus,
    MappingRelation,
)
from lms.competencies.services import mappings_of
from lms.competencies.transfer import (
    AreaData,
    FrameworkData,
    ImportRejected,
    ItemData,
    LevelData,
    MappingData,
    Problem,
    check_structure,
    is_uuid,
)

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
MAX_BYTES = 10 * 1024 * 1024


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

    def add_item(self, identifier: str, item_type: str, statement: str, **fields) -> None:
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
        identifier = identifier or _derived(origin["identifier"], kind, destination["identifier"])
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
        out.associate("isChildOf", out.link(area.identifier, area.name), document, sequence=area.position)
    for item in framework.items:
        _export_item(out, item)
    for mapping in mappings_of(framework):
        kind = "exactMatchOf" if mapping.relation is MappingRelation.EXACT_MATCH else "isRelatedTo"
        out.associate(
            kind,
            out.link(mapping.source.identifier, mapping.source.name),
            out.link(mapping.target.identifier, mapping.target.name),
            identifier=mapping.identifier,
            grouping=CLOSE_MATCH_GROUPING if mapping.relation is MappingRelation.CLOSE_MATCH else None,
        )
    return {
        "CFDocument": _document(framework, out),
        "CFItems": out.items,
        "CFAssociations": out.associations,
        "CFDefinitions": _definitions(out),
    }


def _export_item(out: _Exporter, item: CompetencyItem) -> None:
    out.add_item(item.identifier, "Competency", item.summary, humanCodingScheme=item.code)
    node = out.link(item.identifier, item.code)
    out.associate("isChildOf", node, out.link(item.area.identifier, item.area.name))
    out.associate("hasSkillLevel", node, out.link(item.level.identifier, item.level.name))
    for field, item_type in REQUIREMENT_TYPES.items():
        lines = [line.strip() for line in (getattr(item, field) or "").splitlines()]
        lines = [line for line in lines if line]
        for number, line in enumerate(lines, start=1):
            identifier = _derived(item.identifier, item_type, str(number))
            out.add_item(identifier, item_type, line, listEnumeration=str(number))
            out.associate("isChildOf", out.link(identifier, line[:60]), node, sequence=number)


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
                "description": "SKOS closeMatch: the areas are close enough to be used in place of each other in most cases.",
                "lastChangeDateTime": out.changed,
            }
        ],
    }


def export_json(framework: Framework, base_url: str) -> bytes:
    return json.dumps(export_package(framework, base_url), ensure_ascii=False, indent=2).encode("utf-8")


# Import -------------------------------------------------------------------------


class _Reader:
    """Collects problems while reading typed values out of the JSON tree."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: str, field: str, message: str) -> None:
        self.problems.append(Problem(path, field, message))

    def text(self, node: dict, path: str, key: str, *, required: bool = True) -> Optional[str]:
        value = node.get(key)
        if value is None or value == "":
            if required:
                self.fail(path, key, _("This field is required."))
            return None
        if not isinstance(value, str):
            self.fail(path, key, _("Must be a string."))
            return None
        return value.strip()

    def integer(self, node: Any, path: str, key: str) -> Optional[int]:
        value = node.get(key) if isinstance(node, dict) else None
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            self.fail(path, key, _("Must be a whole number."))
            return None
        try:
            number = int(value)
        except (TypeError, ValueError):
            self.fail(path, key, _("Must be a whole number."))
            return None
        if not 0 <= number <= 100000:
            self.fail(path, key, _("Must be between 0 and 100000."))
            return None
        return number

    def identifier(self, node: dict, path: str, key: str = "identifier") -> Optional[str]:
        value = node.get(key)
        if not is_uuid(value):
            self.fail(path, key, _("Must be a UUID such as 123e4567-e89b-12d3-a456-426614174000."))
            return None
        return value


def _load(content: bytes) -> Any:
    try:
        return json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ImportRejected([Problem("$", _("encoding"), _("The file is not UTF-8 text."))]) from None
    except (json.JSONDecodeError, RecursionError) as exc:
        message = getattr(exc, "msg", "nesting too deep")
        position = f"line {exc.lineno}, column {exc.colno}" if hasattr(exc, "lineno") else ""
        raise ImportRejected(
            [Problem("$", "JSON", _("The file is not valid JSON (%(error)s %(position)s).", error=message, position=position))]
        ) from None


def parse_package(content: bytes, overrides: Optional[dict] = None) -> FrameworkData:
    """Read a CFPackage; ``overrides`` (code, title, ...) replace the document's values.

    Raises ImportRejected listing every problem with its JSON path and field.
    """
    tree = _load(content)
    reader = _Reader()
    if not isinstance(tree, dict):
        raise ImportRejected([Problem("$", "CFPackage", _("Must be a JSON object."))])
    document = tree.get("CFDocument")
    if not isinstance(document, dict):
        raise ImportRejected([Problem("$", "CFDocument", _("Must be a JSON object."))])
    data = _read_document(reader, document, overrides or {})
    nodes = _read_items(reader, tree.get("CFItems"))
    _read_associations(reader, tree.get("CFAssociations"), nodes, data)
    _assemble(reader, nodes, data)
    check_structure(
        data,
        reader.problems,
        {
            "level_code": "humanCodingScheme",
            "area_code": "humanCodingScheme",
            "item_code": "humanCodingScheme",
        },
    )
    if reader.problems:
        raise ImportRejected(reader.problems)
    return data


def _read_document(reader: _Reader, document: dict, overrides: dict) -> FrameworkData:
    path = "$.CFDocument"
    extensions = document.get("extensions") if isinstance(document.get("extensions"), dict) else {}
    code = overrides.get("code") or reader.text(extensions, f"{path}.extensions", "code", required=False)
    if not code:
        reader.fail(f"{path}.extensions", "code", _("Missing: enter a code in the import form."))
    title = overrides.get("title") or reader.text(document, path, "title")
    return FrameworkData(
        code=code or "",
        title=title or "",
        location=path,
        identifier=reader.identifier(document, path),
        issuer=reader.text(document, path, "creator", required=False),
        document_no=reader.text(extensions, f"{path}.extensions", "documentNumber", required=False),
        year=reader.integer(extensions, f"{path}.extensions", "year"),
        version=overrides.get("version") or reader.text(document, path, "version", required=False) or "1",
        notes=reader.text(document, path, "notes", required=False),
    )


class _Node:
    def __init__(self, path: str, item_type: str, raw: dict):
        self.path = path
        self.type = item_type
        self.raw = raw
        self.parent: Optional[str] = None
        self.level: Optional[str] = None
        self.sequence: Optional[int] = None


def _read_items(reader: _Reader, items: Any) -> dict[str, _Node]:
    if not isinstance(items, list):
        reader.fail("$", "CFItems", _("Must be a JSON array."))
        return {}
    nodes: dict[str, _Node] = {}
    for index, raw in enumerate(items):
        path = f"$.CFItems[{index}]"
        if not isinstance(raw, dict):
            reader.fail(path, "CFItem", _("Must be a JSON object."))
            continue
        identifier = reader.identifier(raw, path)
        item_type = raw.get("CFItemType")
        if item_type not in ITEM_TYPES:
            reader.fail(path, "CFItemType", _("Must be one of %(types)s.", types=", ".join(ITEM_TYPES)))
            continue
        statement = reader.text(raw, path, "fullStatement")
        if identifier is None or statement is None:
            continue
        if identifier in nodes:
            reader.fail(path, "identifier", _("Used by %(path)s too.", path=nodes[identifier].path))
            continue
        nodes[identifier] = _Node(path, item_type, raw)
    return nodes


def _end(reader: _Reader, association: dict, path: str, key: str) -> Optional[str]:
    node = association.get(key)
    if not isinstance(node, dict):
        reader.fail(path, key, _("Must be a JSON object with an identifier."))
        return None
    return reader.identifier(node, f"{path}.{key}")


def _read_associations(reader: _Reader, associations: Any, nodes: dict[str, _Node], data: FrameworkData) -> None:
    if associations is None:
        associations = []
    if not isinstance(associations, list):
        reader.fail("$", "CFAssociations", _("Must be a JSON array."))
        return
    for index, raw in enumerate(associations):
        path = f"$.CFAssociations[{index}]"
        if not isinstance(raw, dict):
            reader.fail(path, "CFAssociation", _("Must be a JSON object."))
            continue
        kind = raw.get("associationType")
        origin = _end(reader, raw, path, "originNodeURI")
        destination = _end(reader, raw, path, "destinationNodeURI")
        if origin is None or destination is None:
            continue
        if kind in ("exactMatchOf", "isRelatedTo"):
            data.mappings.append(_mapping(raw, kind, origin, destination, path))
        elif kind in ("isChildOf", "hasSkillLevel"):
            _link(reader, raw, kind, nodes, origin, destination, path)
        else:
            reader.fail(path, "associationType", _("Unsupported type %(type)s: use isChildOf, hasSkillLevel, exactMatchOf or isRelatedTo.", type=str(kind)[:40]))


def _mapping(raw: dict, kind: str, origin: str, destination: str, path: str) -> MappingData:
    grouping = raw.get("CFAssociationGroupingURI")
    close = isinstance(grouping, dict) and grouping.get("identifier") == CLOSE_MATCH_GROUPING
    if kind == "exactMatchOf":
        relation = MappingRelation.EXACT_MATCH
    else:
        relation = MappingRelation.CLOSE_MATCH if close else MappingRelation.RELATED
    identifier = raw.get("identifier")
    return MappingData(
        origin,
        destination,
        relation,
        path,
        identifier=identifier if is_uuid(identifier) else None,
    )


def _link(reader: _Reader, raw: dict, kind: str, nodes: dict[str, _Node], origin: str, destination: str, path: str) -> None:
    node = nodes.get(origin)
    if node is None:
        reader.fail(path, "originNodeURI", _("No CFItem has the identifier %(identifier)s.", identifier=origin))
        return
    if node.type in ("Level", "FunctionalArea"):
        return
    target = nodes.get(destination)
    expected = {
        ("Competency", "isChildOf"): "FunctionalArea",
        ("Competency", "hasSkillLevel"): "Level",
    }.get((node.type, kind), "Competency" if kind == "isChildOf" else None)
    if target is None or target.type != expected:
        reader.fail(path, "destinationNodeURI", _("Must be a CFItem of type %(type)s.", type=expected or "-"))
        return
    if kind == "hasSkillLevel":
        node.level = destination
    else:
        node.parent = destination
        node.sequence = reader.integer(raw, path, "sequenceNumber")


def _position(reader: _Reader, node: _Node, fallback: int) -> int:
    value = reader.integer(node.raw, node.path, "listEnumeration")
    return value if value is not None else fallback


def _assemble(reader: _Reader, nodes: dict[str, _Node], data: FrameworkData) -> None:
    by_type: dict[str, list[tuple[str, _Node]]] = {}
    for identifier, node in nodes.items():
        by_type.setdefault(node.type, []).append((identifier, node))
    for number, (identifier, node) in enumerate(by_type.get("Level", []), start=1):
        extensions = node.raw.get("extensions") if isinstance(node.raw.get("extensions"), dict) else {}
        data.levels.append(
            LevelData(
                code=reader.text(node.raw, node.path, "humanCodingScheme") or "",
                name=node.raw["fullStatement"].strip(),
                position=_position(reader, node, number),
                location=node.path,
                min_years=reader.integer(extensions, f"{node.path}.extensions", "minYears"),
                max_years=reader.integer(extensions, f"{node.path}.extensions", "maxYears"),
                identifier=identifier,
            )
        )
    for number, (identifier, node) in enumerate(by_type.get("FunctionalArea", []), start=1):
        data.areas.append(
            AreaData(
                code=reader.text(node.raw, node.path, "humanCodingScheme") or "",
                name=node.raw["fullStatement"].strip(),
                position=_position(reader, node, number),
                location=node.path,
                identifier=identifier,
            )
        )
    _assemble_items(reader, nodes, by_type, data)


def _assemble_items(reader: _Reader, nodes: dict[str, _Node], by_type: dict, data: FrameworkData) -> None:
    lines: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for item_type in REQUIREMENT_TYPES.values():
        for number, (_identifier, node) in enumerate(by_type.get(item_type, []), start=1):
            if node.parent is None:
                reader.fail(node.path, "isChildOf", _("The line belongs to no Competency item."))
                continue
            order = node.sequence if node.sequence is not None else _position(reader, node, number)
            lines.setdefault((node.parent, item_type), []).append((order, node.raw["fullStatement"].strip()))
    codes = {level.identifier: level.code for level in data.levels}
    codes.update({area.identifier: area.code for area in data.areas})
    for identifier, node in by_type.get("Competency", []):
        if node.parent is None:
            reader.fail(node.path, "isChildOf", _("The item belongs to no FunctionalArea."))
        if node.level is None:
            reader.fail(node.path, "hasSkillLevel", _("The item has no Level."))
        if node.parent is None or node.level is None:
            continue
        texts = {
            field: "\n".join(text for _order, text in sorted(lines.get((identifier, item_type), [])))
            for field, item_type in REQUIREMENT_TYPES.items()
        }
        data.items.append(
            ItemData(
                level_code=codes[node.level],
                area_code=codes[node.parent],
                code=reader.text(node.raw, node.path, "humanCodingScheme") or "",
                summary=node.raw["fullStatement"].strip(),
                location=node.path,
                identifier=identifier,
                **texts,
            )
        )
