"""Reading a framework from a 1EdTech CASE 1.0 package (CFPackage JSON).

The reader expects the layout that ``case`` writes: CFItems typed Level,
FunctionalArea, Competency and requirement lines, tied together by
isChildOf and hasSkillLevel associations. It checks every value before
anything is written and reports each problem with its JSON path and key.
"""

import json
from typing import Any, Optional

from flask_babel import gettext as _

from lms.competencies.case import CLOSE_MATCH_GROUPING, ITEM_TYPES, REQUIREMENT_TYPES
from lms.competencies.models import MappingRelation
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
from lms.parser_messages import json_error
from lms.i18n import join_names

MAPPING_TYPES = ("exactMatchOf", "isRelatedTo")
STRUCTURE_TYPES = ("isChildOf", "hasSkillLevel")
#: (origin CFItemType, association type) -> CFItemType the destination must have.
EXPECTED_PARENT = {
    ("Competency", "isChildOf"): "FunctionalArea",
    ("Competency", "hasSkillLevel"): "Level",
    **{(kind, "isChildOf"): "Competency" for kind in REQUIREMENT_TYPES.values()},
}


class _Reader:
    """Collects problems while reading typed values out of the JSON tree."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: str, key: str, message: str) -> None:
        self.problems.append(Problem(path, key, message))

    def text(
        self, node: dict, path: str, key: str, *, required: bool = True
    ) -> Optional[str]:
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
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            self.fail(path, key, _("Must be a whole number."))
            return None
        try:
            number = int(value)
        except ValueError:
            self.fail(path, key, _("Must be a whole number."))
            return None
        if not 0 <= number <= 100000:
            self.fail(path, key, _("Must be between 0 and 100000."))
            return None
        return number

    def identifier(
        self, node: dict, path: str, key: str = "identifier"
    ) -> Optional[str]:
        value = node.get(key)
        if isinstance(value, str):
            # CASE identifiers are compared case-insensitively; store lower case.
            value = value.strip().lower()
        if not is_uuid(value):
            message = _("Must be a UUID such as 123e4567-e89b-12d3-a456-426614174000.")
            self.fail(path, key, message)
            return None
        return value


class _Node:
    """A CFItem with the links its associations give it."""

    def __init__(self, path: str, item_type: str, raw: dict):
        self.path = path
        self.type = item_type
        self.raw = raw
        self.statement = raw["fullStatement"].strip()
        self.parent: Optional[str] = None
        self.level: Optional[str] = None
        self.sequence: Optional[int] = None


def _load(content: bytes) -> Any:
    try:
        return json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError:
        message = _("The file is not UTF-8 text.")
        raise ImportRejected([Problem("$", _("encoding"), message)]) from None
    except json.JSONDecodeError as exc:
        message = _(
            "The file is not valid JSON: %(error)s at line %(line)d, column %(column)d.",
            error=json_error(exc),
            line=exc.lineno,
            column=exc.colno,
        )
        raise ImportRejected([Problem("$", "JSON", message)]) from None
    except RecursionError:
        message = _("The file nests JSON too deeply to be read.")
        raise ImportRejected([Problem("$", "JSON", message)]) from None


def _object(value: Any, path: str, key: str) -> dict:
    if not isinstance(value, dict):
        raise ImportRejected([Problem(path, key, _("Must be a JSON object."))])
    return value


def parse_package(content: bytes, overrides: Optional[dict] = None) -> FrameworkData:
    """Read a CFPackage; ``overrides`` (code, title, ...) replace the document's values.

    Raises ImportRejected listing every problem with its JSON path and key.
    """
    tree = _object(_load(content), "$", "CFPackage")
    document = _object(tree.get("CFDocument"), "$", "CFDocument")
    reader = _Reader()
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
            "min_years": "extensions.minYears",
            "max_years": "extensions.maxYears",
        },
    )
    if reader.problems:
        raise ImportRejected(reader.problems)
    return data


def _extensions(node: dict) -> dict:
    value = node.get("extensions")
    return value if isinstance(value, dict) else {}


def _read_document(reader: _Reader, document: dict, overrides: dict) -> FrameworkData:
    path = "$.CFDocument"
    extensions = _extensions(document)
    extensions_path = f"{path}.extensions"
    code = overrides.get("code") or reader.text(
        extensions, extensions_path, "code", required=False
    )
    if not code:
        reader.fail(
            extensions_path, "code", _("Missing: enter a code in the import form.")
        )
    title = overrides.get("title") or reader.text(document, path, "title")
    version = overrides.get("version") or reader.text(
        document, path, "version", required=False
    )
    return FrameworkData(
        code=code or "",
        title=title or "",
        location=path,
        identifier=reader.identifier(document, path),
        issuer=overrides.get("issuer")
        or reader.text(document, path, "creator", required=False),
        document_no=reader.text(
            extensions, extensions_path, "documentNumber", required=False
        ),
        year=reader.integer(extensions, extensions_path, "year"),
        version=version or "1",
        notes=reader.text(document, path, "notes", required=False),
    )


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
            message = _("Must be one of %(types)s.", types=join_names(ITEM_TYPES))
            reader.fail(path, "CFItemType", message)
            continue
        statement = reader.text(raw, path, "fullStatement")
        if identifier is None or statement is None:
            continue
        if identifier in nodes:
            message = _("Used by %(path)s too.", path=nodes[identifier].path)
            reader.fail(path, "identifier", message)
            continue
        nodes[identifier] = _Node(path, item_type, raw)
    return nodes


def _end(reader: _Reader, association: dict, path: str, key: str) -> Optional[str]:
    node = association.get(key)
    if not isinstance(node, dict):
        reader.fail(path, key, _("Must be a JSON object with an identifier."))
        return None
    return reader.identifier(node, f"{path}.{key}")


def _read_associations(
    reader: _Reader, associations: Any, nodes: dict[str, _Node], data: FrameworkData
) -> None:
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
        if kind in MAPPING_TYPES:
            data.mappings.append(_mapping(raw, kind, origin, destination, path))
        elif kind in STRUCTURE_TYPES:
            _link(reader, raw, nodes, (origin, kind, destination), path)
        else:
            message = _(
                "Unsupported type %(type)s: use isChildOf, hasSkillLevel,"
                " exactMatchOf or isRelatedTo.",
                type=str(kind)[:40],
            )
            reader.fail(path, "associationType", message)


def _mapping(
    raw: dict, kind: str, origin: str, destination: str, path: str
) -> MappingData:
    grouping = raw.get("CFAssociationGroupingURI")
    close = (
        isinstance(grouping, dict)
        and grouping.get("identifier") == CLOSE_MATCH_GROUPING
    )
    if kind == "exactMatchOf":
        relation = MappingRelation.EXACT_MATCH
    elif close:
        relation = MappingRelation.CLOSE_MATCH
    else:
        relation = MappingRelation.RELATED
    identifier = raw.get("identifier")
    return MappingData(
        origin,
        destination,
        relation,
        path,
        identifier=identifier if is_uuid(identifier) else None,
    )


def _link(
    reader: _Reader,
    raw: dict,
    nodes: dict[str, _Node],
    triple: tuple[str, str, str],
    path: str,
) -> None:
    """Record on the origin node the parent or level an association gives it."""
    origin, kind, destination = triple
    node = nodes.get(origin)
    if node is None:
        message = _("No CFItem has the identifier %(identifier)s.", identifier=origin)
        reader.fail(path, "originNodeURI", message)
        return
    if node.type in ("Level", "FunctionalArea"):
        # Levels and areas are children of the document, which needs no link.
        return
    expected = EXPECTED_PARENT.get((node.type, kind))
    target = nodes.get(destination)
    if expected is None or target is None or target.type != expected:
        message = _("Must be a CFItem of type %(type)s.", type=expected or "-")
        reader.fail(path, "destinationNodeURI", message)
        return
    if kind == "hasSkillLevel":
        node.level = destination
    else:
        node.parent = destination
        node.sequence = reader.integer(raw, path, "sequenceNumber")


def _position(reader: _Reader, node: _Node, fallback: int) -> int:
    value = reader.integer(node.raw, node.path, "listEnumeration")
    return value if value is not None else fallback


def _of_type(nodes: dict[str, _Node], item_type: str) -> list[tuple[str, _Node]]:
    return [(key, node) for key, node in nodes.items() if node.type == item_type]


def _assemble(reader: _Reader, nodes: dict[str, _Node], data: FrameworkData) -> None:
    """Build levels, areas and items from the nodes and their links."""
    for number, (identifier, node) in enumerate(_of_type(nodes, "Level"), start=1):
        extensions = _extensions(node.raw)
        extensions_path = f"{node.path}.extensions"
        data.levels.append(
            LevelData(
                code=reader.text(node.raw, node.path, "humanCodingScheme") or "",
                name=node.statement,
                position=_position(reader, node, number),
                location=node.path,
                min_years=reader.integer(extensions, extensions_path, "minYears"),
                max_years=reader.integer(extensions, extensions_path, "maxYears"),
                identifier=identifier,
            )
        )
    areas = _of_type(nodes, "FunctionalArea")
    for number, (identifier, node) in enumerate(areas, start=1):
        data.areas.append(
            AreaData(
                code=reader.text(node.raw, node.path, "humanCodingScheme") or "",
                name=node.statement,
                position=_position(reader, node, number),
                location=node.path,
                identifier=identifier,
            )
        )
    _assemble_items(reader, nodes, data)


def _requirement_lines(
    reader: _Reader, nodes: dict[str, _Node]
) -> dict[tuple[str, str], list[tuple[int, str]]]:
    """Return (item identifier, line type) -> [(order, text)]."""
    lines: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for item_type in REQUIREMENT_TYPES.values():
        for number, (_key, node) in enumerate(_of_type(nodes, item_type), start=1):
            if node.parent is None:
                message = _("The line belongs to no Competency item.")
                reader.fail(node.path, "isChildOf", message)
                continue
            order = node.sequence
            if order is None:
                order = _position(reader, node, number)
            key = (node.parent, item_type)
            lines.setdefault(key, []).append((order, node.statement))
    return lines


def _assemble_items(
    reader: _Reader, nodes: dict[str, _Node], data: FrameworkData
) -> None:
    lines = _requirement_lines(reader, nodes)
    codes = {level.identifier: level.code for level in data.levels}
    codes.update({area.identifier: area.code for area in data.areas})
    for identifier, node in _of_type(nodes, "Competency"):
        if node.parent is None:
            message = _("The item belongs to no FunctionalArea.")
            reader.fail(node.path, "isChildOf", message)
        if node.level is None:
            reader.fail(node.path, "hasSkillLevel", _("The item has no Level."))
        if node.parent is None or node.level is None:
            continue
        texts = {}
        for field_name, item_type in REQUIREMENT_TYPES.items():
            ordered = sorted(lines.get((identifier, item_type), []))
            texts[field_name] = "\n".join(text for _order, text in ordered)
        data.items.append(
            ItemData(
                level_code=codes[node.level],
                area_code=codes[node.parent],
                code=reader.text(node.raw, node.path, "humanCodingScheme") or "",
                summary=node.statement,
                location=node.path,
                identifier=identifier,
                **texts,
            )
        )
