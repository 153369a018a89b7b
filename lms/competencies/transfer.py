"""Import of a whole framework, shared by the CSV and CASE readers.

A reader turns a file into ``FrameworkData`` and collects every problem it
finds, each with its location (a CSV row or a JSON path) and field.
``validate`` adds the checks against the database, and ``write`` creates the
draft framework only when no problem is left, inside the caller's
transaction, so a rejected file writes nothing.
"""

import uuid
from dataclasses import dataclass, field
from typing import Optional

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.accounts.models import User
from lms.audit import record
from lms.column_lengths import max_length
from lms.competencies import logger
from lms.competencies.year_ranges import LevelYears, year_problems
from lms.competencies.models import (
    AreaMapping,
    CompetencyItem,
    Framework,
    FrameworkStatus,
    FunctionalArea,
    Level,
    MappingRelation,
)
from lms.extensions import db

#: Column lengths of the models, checked before anything is written.
MAX_LENGTHS = {
    "framework.code": max_length(Framework.code),
    "framework.title": max_length(Framework.title),
    "framework.issuer": max_length(Framework.issuer),
    "framework.document_no": max_length(Framework.document_no),
    "framework.version": max_length(Framework.version),
    "level.code": max_length(Level.code),
    "level.name": max_length(Level.name),
    "area.code": max_length(FunctionalArea.code),
    "area.name": max_length(FunctionalArea.name),
    "item.code": max_length(CompetencyItem.code),
}


@dataclass
class Problem:
    """One reason a file is rejected: where (row or JSON path), which field, what."""

    location: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}, {self.field}: {self.message}"


class ImportRejected(ValueError):
    """The file cannot be imported; ``problems`` lists every reason found."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems[:5]))
        self.problems = problems


@dataclass
class LevelData:
    code: str
    name: str
    position: int
    location: str
    min_years: Optional[int] = None
    max_years: Optional[int] = None
    identifier: Optional[str] = None


@dataclass
class AreaData:
    code: str
    name: str
    position: int
    location: str
    identifier: Optional[str] = None


@dataclass
class ItemData:
    level_code: str
    area_code: str
    code: str
    summary: str
    location: str
    work_content: str = ""
    ability_requirements: str = ""
    knowledge_requirements: str = ""
    identifier: Optional[str] = None


@dataclass
class MappingData:
    """A mapping between an imported area and an area already on the platform."""

    source_identifier: str
    target_identifier: str
    relation: MappingRelation
    location: str
    note: Optional[str] = None
    identifier: Optional[str] = None


@dataclass
class FrameworkData:
    code: str
    title: str
    location: str
    issuer: Optional[str] = None
    document_no: Optional[str] = None
    year: Optional[int] = None
    version: str = "1"
    notes: Optional[str] = None
    identifier: Optional[str] = None
    levels: list[LevelData] = field(default_factory=list)
    areas: list[AreaData] = field(default_factory=list)
    items: list[ItemData] = field(default_factory=list)
    mappings: list[MappingData] = field(default_factory=list)
    #: Mappings left out because their other area is not on the platform.
    skipped_mappings: list[str] = field(default_factory=list)
    #: Whether the file's identifiers were already on the platform, so it is
    #: imported as a copy under fresh identifiers.
    is_copy: bool = False


def is_uuid(value: object) -> bool:
    """Return whether ``value`` is a UUID in canonical lower-case text form."""
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def validate(data: FrameworkData) -> list[Problem]:
    """Return every problem that would stop ``data`` from being written."""
    problems: list[Problem] = []
    _check_lengths(data, problems)
    if not data.levels:
        message = str(_l("The file has no levels."))
        problems.append(Problem(data.location, "levels", message))
    if not data.areas:
        message = str(_l("The file has no areas."))
        problems.append(Problem(data.location, "areas", message))
    code_taken = bool(data.code) and _code_exists(data.code)
    if code_taken:
        message = _l(
            "A framework with the code %(code)s already exists; enter another code.",
            code=data.code,
        )
        problems.append(Problem(data.location, "code", str(message)))
    _check_identifiers(data, problems, code_taken)
    _check_mappings(data, problems)
    return problems


def _check_lengths(data: FrameworkData, problems: list[Problem]) -> None:
    rows = [("framework", data)]
    rows += [("level", level) for level in data.levels]
    rows += [("area", area) for area in data.areas]
    rows += [("item", item) for item in data.items]
    for kind, row in rows:
        for key, limit in MAX_LENGTHS.items():
            prefix, name = key.split(".")
            value = getattr(row, name, None)
            if prefix == kind and value and len(value) > limit:
                problems.append(
                    Problem(
                        row.location,
                        name,
                        str(_l("Longer than %(limit)d characters.", limit=limit)),
                    )
                )


def _code_exists(code: str) -> bool:
    query = sa.select(Framework.id).filter_by(code=code, version_number=1)
    return db.session.scalar(query) is not None


def _identified_rows(data: FrameworkData) -> list[tuple[type, object]]:
    """Return (model, row) for the framework and each of its levels, areas and items."""
    rows: list[tuple[type, object]] = [(Framework, data)]
    rows += [(Level, level) for level in data.levels]
    rows += [(FunctionalArea, area) for area in data.areas]
    rows += [(CompetencyItem, item) for item in data.items]
    return rows


def _identifiers_taken(data: FrameworkData) -> bool:
    for model, row in _identified_rows(data):
        if row.identifier and db.session.scalar(
            sa.select(model.id).filter_by(identifier=row.identifier)
        ):
            return True
    return False


def _check_identifiers(
    data: FrameworkData, problems: list[Problem], code_taken: bool
) -> None:
    """Turn a file imported before into a copy, unless its code is taken too.

    A file whose identifiers are already on the platform is imported as a
    copy under fresh identifiers when it comes with a code of its own. With
    a code that is taken as well, it is the same framework imported again.
    """
    if not _identifiers_taken(data):
        return
    if code_taken:
        message = _l(
            "This framework was imported before: its identifiers are already on"
            " the platform. To import a copy with new identifiers, enter a code"
            " that no framework uses."
        )
        problems.append(Problem(data.location, "identifier", str(message)))
        return
    renew_identifiers(data)


def renew_identifiers(data: FrameworkData) -> None:
    """Give the framework and every level, area and item a fresh identifier.

    Mappings follow their areas to the new identifiers and get fresh
    identifiers of their own when written.
    """
    renamed = {}
    for _model, row in _identified_rows(data):
        fresh = str(uuid.uuid4())
        if row.identifier:
            renamed[row.identifier] = fresh
        row.identifier = fresh
    for mapping in data.mappings:
        source, target = mapping.source_identifier, mapping.target_identifier
        mapping.source_identifier = renamed.get(source, source)
        mapping.target_identifier = renamed.get(target, target)
        mapping.identifier = None
    data.is_copy = True


def _check_mappings(data: FrameworkData, problems: list[Problem]) -> None:
    own = {area.identifier for area in data.areas if area.identifier}
    kept = []
    for mapping in data.mappings:
        ends = (mapping.source_identifier, mapping.target_identifier)
        inside = [end for end in ends if end in own]
        if not inside:
            problems.append(
                Problem(
                    mapping.location,
                    "originNodeURI",
                    str(_l("Neither end of the mapping is an area of this framework.")),
                )
            )
            continue
        if len(inside) == 2:
            problems.append(
                Problem(
                    mapping.location,
                    "destinationNodeURI",
                    str(_l("A mapping must join areas of two different frameworks.")),
                )
            )
            continue
        other = ends[1] if ends[0] in own else ends[0]
        if _area_by_identifier(other) is None:
            data.skipped_mappings.append(other)
            continue
        kept.append(mapping)
    data.mappings = kept


def _mapping_exists(identifier: str) -> bool:
    query = sa.select(AreaMapping.id).filter_by(identifier=identifier)
    return db.session.scalar(query) is not None


def _area_by_identifier(identifier: str) -> Optional[FunctionalArea]:
    return db.session.scalar(sa.select(FunctionalArea).filter_by(identifier=identifier))


#: Default names of the fields that ``check_structure`` reports on.
STRUCTURE_FIELDS = {
    "level_code": "level_code",
    "area_code": "area_code",
    "item_code": "item_code",
    "min_years": "min_years",
    "max_years": "max_years",
}


def check_structure(
    data: FrameworkData, problems: list[Problem], fields: Optional[dict] = None
) -> None:
    """Add problems for duplicate codes, items whose level or area is unknown,
    and years of service that levels share or leave out.

    ``fields`` maps level_code, area_code, item_code, min_years and
    max_years to the name the file format uses for that field, so each
    problem names the column or key.
    """
    names = {**STRUCTURE_FIELDS, **(fields or {})}
    levels = [(level.code, level.location) for level in data.levels]
    areas = [(area.code, area.location) for area in data.areas]
    items = [(item.code, item.location) for item in data.items]
    _duplicates(levels, names["level_code"], problems)
    _duplicates(areas, names["area_code"], problems)
    _duplicates(items, names["item_code"], problems)

    known_levels = {code for code, _location in levels}
    known_areas = {code for code, _location in areas}
    cells: dict[tuple[str, str], str] = {}
    for item in data.items:
        if item.level_code not in known_levels:
            message = _l("Unknown level %(code)s.", code=item.level_code)
            problems.append(Problem(item.location, names["level_code"], str(message)))
        if item.area_code not in known_areas:
            message = _l("Unknown area %(code)s.", code=item.area_code)
            problems.append(Problem(item.location, names["area_code"], str(message)))
        cell = (item.level_code, item.area_code)
        if cell in cells:
            # The 2014 counselor competency standard sets out one set of work
            # content, abilities and knowledge per level and area, so
            # CompetencyItem has a unique constraint on (level_id, area_id).
            message = _l(
                "Level %(level)s and area %(area)s already have item %(code)s, "
                "and a framework has one item per level and functional area. "
                "Merge this item into item %(code)s, with each requirement on its "
                "own line, or correct its level or area code.",
                level=item.level_code,
                area=item.area_code,
                code=cells[cell],
            )
            problems.append(Problem(item.location, names["area_code"], str(message)))
        cells.setdefault(cell, item.code)
    _check_year_ranges(data, problems, names)


def _check_year_ranges(data: FrameworkData, problems: list[Problem], names: dict) -> None:
    """Add a problem for each year of service in two levels or in none (``year_ranges``)."""
    levels = [
        LevelYears(level, level.name, level.min_years, level.max_years)
        for level in data.levels
    ]
    for problem in year_problems(levels):
        level = problem.level.key
        problems.append(Problem(level.location, names[problem.field], problem.message))


def _duplicates(
    values: list[tuple[str, str]], field_name: str, problems: list[Problem]
) -> None:
    seen: set[str] = set()
    for value, location in values:
        if value in seen:
            message = _l("Duplicate code %(code)s.", code=value)
            problems.append(Problem(location, field_name, str(message)))
        seen.add(value)


def write(data: FrameworkData, actor: User) -> Framework:
    """Create ``data`` as a draft framework after checking it against the database.

    Raises ImportRejected, and writes nothing, when any problem remains.
    """
    problems = validate(data)
    if problems:
        raise ImportRejected(problems)
    framework = Framework(
        code=data.code,
        title=data.title,
        issuer=data.issuer,
        document_no=data.document_no,
        year=data.year,
        version=data.version or "1",
        notes=data.notes,
        status=FrameworkStatus.DRAFT,
        institution_id=actor.institution_id,
    )
    if data.identifier:
        framework.identifier = data.identifier
    db.session.add(framework)
    levels = {level.code: _level(level) for level in data.levels}
    areas = {area.code: _area(area) for area in data.areas}
    framework.levels = list(levels.values())
    framework.areas = list(areas.values())
    for item in data.items:
        framework.items.append(_item(item, levels, areas))
    db.session.flush()
    for mapping in data.mappings:
        row = AreaMapping(
            source_area_id=_area_by_identifier(mapping.source_identifier).id,
            target_area_id=_area_by_identifier(mapping.target_identifier).id,
            relation=mapping.relation,
            note=mapping.note,
        )
        if mapping.identifier and not _mapping_exists(mapping.identifier):
            row.identifier = mapping.identifier
        db.session.add(row)
    db.session.flush()
    record(
        "framework.imported",
        "framework",
        framework.id,
        f"{framework.title} ({framework.version})",
        actor_id=actor.id,
        data={"items": len(data.items), "copy": data.is_copy},
    )
    logger.info("Framework %r imported by %r", framework, actor)
    return framework


def _level(data: LevelData) -> Level:
    level = Level(
        code=data.code,
        name=data.name,
        position=data.position,
        min_years=data.min_years,
        max_years=data.max_years,
    )
    if data.identifier:
        level.identifier = data.identifier
    return level


def _area(data: AreaData) -> FunctionalArea:
    area = FunctionalArea(code=data.code, name=data.name, position=data.position)
    if data.identifier:
        area.identifier = data.identifier
    return area


def _item(data: ItemData, levels: dict, areas: dict) -> CompetencyItem:
    item = CompetencyItem(
        level=levels[data.level_code],
        area=areas[data.area_code],
        code=data.code,
        summary=data.summary,
        work_content=data.work_content or None,
        ability_requirements=data.ability_requirements or None,
        knowledge_requirements=data.knowledge_requirements or None,
    )
    if data.identifier:
        item.identifier = data.identifier
    return item
