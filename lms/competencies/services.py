"""Editing, versioning, publishing and mapping competency frameworks.

A framework of an institution is read and changed by that institution
alone; a national standard (no institution) is read by everyone and changed
by no one through the app. Only a draft framework is edited. Publishing a version retires the published
version it was copied from, so a lineage has at most one published version.
Courses may take items only from published frameworks; items a course already
has stay on it after their framework is retired.
"""

from typing import Iterable, Optional

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms.accounts.models import Role, User
from lms.audit import record
from lms.competencies import logger
from lms.competencies.models import (
    AreaMapping,
    CompetencyItem,
    Framework,
    FrameworkStatus,
    FunctionalArea,
    Level,
    MappingRelation,
)
from lms.competencies.year_ranges import (
    LevelYears,
    YearProblem,
    join_sentences,
    year_problems,
)
from lms.db import now_utc
from lms.extensions import db


class FrameworkError(ValueError):
    """A change was rejected; ``field`` names the form field it concerns, if any."""

    def __init__(self, message: str, field: Optional[str] = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


#: Roles that create and change their institution's frameworks.
EDITOR_ROLES = (Role.TRAINER, Role.ADMIN)


def may_read(user: User, framework: Framework) -> bool:
    """Return whether ``user`` may see ``framework``.

    National standards and the frameworks of the user's institution are
    visible; drafts only to those who may change them.
    """
    if framework.institution_id not in (None, user.institution_id):
        return False
    return not framework.is_draft or may_manage(user, framework)


def may_manage(user: User, framework: Framework) -> bool:
    """Return whether ``user`` may change ``framework`` (its own institution's only)."""
    return (
        user.role in EDITOR_ROLES
        and framework.institution_id is not None
        and framework.institution_id == user.institution_id
    )


def visible_to(user: User) -> sa.ColumnElement[bool]:
    """Return the filter of frameworks that ``user`` may see, for a SELECT."""
    own = Framework.institution_id == user.institution_id
    visible = sa.or_(Framework.institution_id.is_(None), own)
    if user.role in EDITOR_ROLES:
        return sa.and_(visible, sa.or_(Framework.status != FrameworkStatus.DRAFT, own))
    return sa.and_(visible, Framework.status != FrameworkStatus.DRAFT)


def normalise_lines(text: Optional[str]) -> str:
    """Return requirement text as one stripped, non-empty line per requirement."""
    lines = (line.strip() for line in (text or "").splitlines())
    return "\n".join(line for line in lines if line)


def _require_draft(framework: Framework) -> None:
    if not framework.is_draft:
        raise FrameworkError(
            _l("Only a draft can be changed. Create a new version to change it.")
        )


# Frameworks -------------------------------------------------------------------

FRAMEWORK_FIELDS = (
    "code",
    "title",
    "issuer",
    "document_no",
    "year",
    "version",
    "notes",
)
LEVEL_FIELDS = ("code", "name", "position", "min_years", "max_years")
AREA_FIELDS = ("code", "name", "position")


def code_taken(code: str, version_number: int, exclude_id: Optional[int]) -> bool:
    query = sa.select(Framework.id).filter_by(code=code, version_number=version_number)
    if exclude_id is not None:
        query = query.where(Framework.id != exclude_id)
    return db.session.scalar(query) is not None


def save_framework(
    data: dict, actor: User, framework: Optional[Framework] = None
) -> Framework:
    """Create a draft framework, or update a draft's details, from ``data``."""
    if framework is not None:
        _require_draft(framework)
        if data["code"] != framework.code and framework.version_number > 1:
            raise FrameworkError(
                _l("Every version keeps the code of its lineage."), "code"
            )
    version_number = framework.version_number if framework else 1
    if code_taken(data["code"], version_number, framework.id if framework else None):
        raise FrameworkError(
            _l("A framework with the code %(code)s already exists.", code=data["code"]),
            "code",
        )
    created = framework is None
    if created:
        framework = Framework(
            status=FrameworkStatus.DRAFT, institution_id=actor.institution_id
        )
        db.session.add(framework)
    for name in FRAMEWORK_FIELDS:
        setattr(framework, name, data.get(name))
    db.session.flush()
    verb = "created" if created else "updated"
    logger.info("Framework %r %s by %r", framework, verb, actor)
    return framework


def publish(framework: Framework, actor: User) -> None:
    """Publish a draft that has at least one item; retire its published predecessor."""
    _require_draft(framework)
    if not framework.items:
        raise FrameworkError(_l("Add at least one competency item before publishing."))
    problems = year_problems_of(framework)
    if problems:
        message = _l(
            "The framework cannot be published until each year of service is in "
            "exactly one level. %(problems)s",
            problems=join_sentences(problem.message for problem in problems),
        )
        raise FrameworkError(message)
    framework.status = FrameworkStatus.PUBLISHED
    framework.published_at = now_utc()
    predecessor = framework.predecessor
    if predecessor is not None and predecessor.status is FrameworkStatus.PUBLISHED:
        _retire(predecessor, actor, reason="superseded")
    db.session.flush()
    record(
        "framework.published",
        "framework",
        framework.id,
        f"{framework.title} ({framework.version})",
        actor_id=actor.id,
    )


def retire(framework: Framework, actor: User) -> None:
    """Retire a published framework; courses keep the items they already have."""
    if framework.status is not FrameworkStatus.PUBLISHED:
        raise FrameworkError(_l("Only a published framework can be retired."))
    _retire(framework, actor, reason="retired")
    db.session.flush()


def _retire(framework: Framework, actor: User, *, reason: str) -> None:
    framework.status = FrameworkStatus.RETIRED
    framework.retired_at = now_utc()
    record(
        "framework.retired",
        "framework",
        framework.id,
        f"{framework.title} ({framework.version})",
        actor_id=actor.id,
        data={"reason": reason},
    )


def delete_framework(framework: Framework, actor: User) -> None:
    """Delete a draft with its levels, areas, items and mappings."""
    _require_draft(framework)
    logger.info("Framework %r deleted by %r", framework, actor)
    db.session.delete(framework)
    db.session.flush()


def new_version(framework: Framework, actor: User, version_label: str) -> Framework:
    """Copy a published or retired framework as the next draft version of its lineage.

    The copy gets new identifiers, links each item to the item it copies and
    repeats the area mappings of the copied areas.
    """
    if framework.is_draft:
        raise FrameworkError(_l("This version is still a draft: edit it instead."))
    if framework.successor is not None:
        message = _l(
            "Version %(version)s already has a newer version.",
            version=framework.version,
        )
        raise FrameworkError(message)
    copy = Framework(
        code=framework.code,
        title=framework.title,
        issuer=framework.issuer,
        document_no=framework.document_no,
        year=framework.year,
        version=version_label,
        version_number=framework.version_number + 1,
        predecessor=framework,
        status=FrameworkStatus.DRAFT,
        notes=framework.notes,
        institution_id=framework.institution_id,
    )
    db.session.add(copy)
    levels = {lv.id: _copy(lv, Level, LEVEL_FIELDS) for lv in framework.levels}
    areas = {ar.id: _copy(ar, FunctionalArea, AREA_FIELDS) for ar in framework.areas}
    copy.levels = list(levels.values())
    copy.areas = list(areas.values())
    db.session.flush()
    for item in framework.items:
        db.session.add(
            CompetencyItem(
                framework=copy,
                level=levels[item.level_id],
                area=areas[item.area_id],
                code=item.code,
                summary=item.summary,
                work_content=item.work_content,
                ability_requirements=item.ability_requirements,
                knowledge_requirements=item.knowledge_requirements,
                predecessor_id=item.id,
            )
        )
    _copy_mappings(areas)
    db.session.flush()
    record(
        "framework.versioned",
        "framework",
        copy.id,
        f"{copy.title} ({copy.version})",
        actor_id=actor.id,
        data={"predecessor_id": framework.id},
    )
    return copy


def _copy(row, model, fields: tuple[str, ...]):
    return model(**{name: getattr(row, name) for name in fields})


def _copy_mappings(areas: dict[int, FunctionalArea]) -> None:
    old_ids = list(areas)
    mappings = db.session.scalars(
        sa.select(AreaMapping).where(
            sa.or_(
                AreaMapping.source_area_id.in_(old_ids),
                AreaMapping.target_area_id.in_(old_ids),
            )
        )
    ).all()
    for mapping in mappings:
        source = areas.get(mapping.source_area_id)
        target = areas.get(mapping.target_area_id)
        db.session.add(
            AreaMapping(
                source_area_id=source.id if source else mapping.source_area_id,
                target_area_id=target.id if target else mapping.target_area_id,
                relation=mapping.relation,
                note=mapping.note,
            )
        )


# Levels, areas and items --------------------------------------------------------


def _code_clash(model, framework: Framework, code: str, row) -> bool:
    query = sa.select(model.id).filter_by(framework_id=framework.id, code=code)
    if row is not None and row.id is not None:
        query = query.where(model.id != row.id)
    return db.session.scalar(query) is not None


def save_level(
    framework: Framework, data: dict, level: Optional[Level] = None
) -> Level:
    """Add a level to a draft framework, or change one."""
    _require_draft(framework)
    if _code_clash(Level, framework, data["code"], level):
        message = _l(
            "This framework already has a level with the code %(code)s.",
            code=data["code"],
        )
        raise FrameworkError(message, "code")
    _check_years(data.get("min_years"), data.get("max_years"))
    _check_year_overlaps(framework, data, level)
    if level is None:
        level = Level(framework_id=framework.id)
        db.session.add(level)
    for name in LEVEL_FIELDS:
        setattr(level, name, data.get(name))
    db.session.flush()
    return level


def _check_years(minimum: Optional[int], maximum: Optional[int]) -> None:
    if minimum is not None and maximum is not None and maximum < minimum:
        message = _l("The maximum years must not be less than the minimum years.")
        raise FrameworkError(message, "max_years")


def _level_years(level: Level) -> LevelYears:
    return LevelYears(level.id, level.name, level.min_years, level.max_years)


def _check_year_overlaps(
    framework: Framework, data: dict, level: Optional[Level]
) -> None:
    """Reject years that the saved level would share with another level.

    A gap is not rejected here: moving the boundary between two levels takes
    a save of each, and the first save leaves a gap without an overlap only
    if it is the one that shrinks its level. ``publish`` rejects gaps and
    overlaps alike.
    """
    saved = LevelYears(None, data["name"], data.get("min_years"), data.get("max_years"))
    others = [
        _level_years(row)
        for row in _levels_of(framework)
        if level is None or row.id != level.id
    ]
    for problem in year_problems([*others, saved]):
        if problem.kind != "overlap":
            continue
        if problem.level is saved:
            raise FrameworkError(problem.message, "min_years")
        if problem.other is saved:
            raise FrameworkError(problem.message, "max_years")


def year_problems_of(framework: Framework) -> list[YearProblem]:
    """Return the years of service that the framework's levels share or leave out."""
    return year_problems(_level_years(level) for level in _levels_of(framework))


def _levels_of(framework: Framework) -> list[Level]:
    """Return the framework's levels as stored, which ``framework.levels`` may not
    show yet when a level was added in this transaction."""
    return list(
        db.session.scalars(
            sa.select(Level).filter_by(framework_id=framework.id).order_by(Level.position)
        )
    )


def save_area(
    framework: Framework, data: dict, area: Optional[FunctionalArea] = None
) -> FunctionalArea:
    """Add a functional area to a draft framework, or change one."""
    _require_draft(framework)
    if _code_clash(FunctionalArea, framework, data["code"], area):
        message = _l(
            "This framework already has an area with the code %(code)s.",
            code=data["code"],
        )
        raise FrameworkError(message, "code")
    if area is None:
        area = FunctionalArea(framework_id=framework.id)
        db.session.add(area)
    for name in AREA_FIELDS:
        setattr(area, name, data.get(name))
    db.session.flush()
    return area


def save_item(
    framework: Framework, data: dict, item: Optional[CompetencyItem] = None
) -> CompetencyItem:
    """Add the item of one level x area cell to a draft framework, or change it."""
    _require_draft(framework)
    level = db.session.get(Level, data["level_id"])
    area = db.session.get(FunctionalArea, data["area_id"])
    if level is None or level.framework_id != framework.id:
        raise FrameworkError(_l("Choose a level of this framework."), "level_id")
    if area is None or area.framework_id != framework.id:
        raise FrameworkError(_l("Choose an area of this framework."), "area_id")
    clash = db.session.scalar(
        sa.select(CompetencyItem).filter_by(level_id=level.id, area_id=area.id)
    )
    if clash is not None and clash is not item:
        raise FrameworkError(
            _l("Item %(code)s already covers this level and area.", code=clash.code),
            "area_id",
        )
    if _code_clash(CompetencyItem, framework, data["code"], item):
        message = _l(
            "This framework already has an item with the code %(code)s.",
            code=data["code"],
        )
        raise FrameworkError(message, "code")

    if item is None:
        item = CompetencyItem(framework_id=framework.id)
        db.session.add(item)
    item.level_id = level.id
    item.area_id = area.id
    item.code = data["code"]
    item.summary = data["summary"].strip()
    for name in ("work_content", "ability_requirements", "knowledge_requirements"):
        setattr(item, name, normalise_lines(data.get(name)) or None)
    db.session.flush()
    return item


def delete_level(level: Level) -> None:
    """Delete a draft's level together with its items."""
    _require_draft(level.framework)
    _delete_items(CompetencyItem.level_id == level.id)
    level.framework.levels.remove(level)
    db.session.flush()


def delete_area(area: FunctionalArea) -> None:
    """Delete a draft's area together with its items and mappings."""
    _require_draft(area.framework)
    _delete_items(CompetencyItem.area_id == area.id)
    touches_area = sa.or_(
        AreaMapping.source_area_id == area.id, AreaMapping.target_area_id == area.id
    )
    db.session.execute(sa.delete(AreaMapping).where(touches_area))
    area.framework.areas.remove(area)
    db.session.flush()


def delete_item(item: CompetencyItem) -> None:
    _require_draft(item.framework)
    item.framework.items.remove(item)
    db.session.flush()


def _delete_items(condition) -> None:
    for item in db.session.scalars(sa.select(CompetencyItem).where(condition)):
        item.framework.items.remove(item)


# Area mappings ------------------------------------------------------------------


def mappings_of(framework: Framework) -> list[AreaMapping]:
    """Return the mappings whose source or target is an area of ``framework``."""
    area_ids = [area.id for area in framework.areas]
    return list(
        db.session.scalars(
            sa.select(AreaMapping)
            .where(
                sa.or_(
                    AreaMapping.source_area_id.in_(area_ids),
                    AreaMapping.target_area_id.in_(area_ids),
                )
            )
            .order_by(AreaMapping.id)
        )
    )


def add_mapping(
    source: FunctionalArea,
    target: FunctionalArea,
    relation: MappingRelation,
    note: Optional[str],
    actor: User,
) -> AreaMapping:
    """Record that ``source`` corresponds to ``target`` of another framework."""
    if source.framework_id == target.framework_id:
        message = _l("Choose an area of another framework.")
        raise FrameworkError(message, "target_area_id")
    for framework in (source.framework, target.framework):
        if framework.status is FrameworkStatus.RETIRED:
            message = _l(
                "%(title)s is retired and takes no new mappings.", title=framework.title
            )
            raise FrameworkError(message, "target_area_id")
    existing = db.session.scalar(
        sa.select(AreaMapping).where(
            sa.or_(
                sa.and_(
                    AreaMapping.source_area_id == source.id,
                    AreaMapping.target_area_id == target.id,
                ),
                sa.and_(
                    AreaMapping.source_area_id == target.id,
                    AreaMapping.target_area_id == source.id,
                ),
            )
        )
    )
    if existing is not None:
        message = _l(
            "%(source)s and %(target)s are already mapped.",
            source=source.name,
            target=target.name,
        )
        raise FrameworkError(message, "target_area_id")
    mapping = AreaMapping(
        source_area_id=source.id, target_area_id=target.id, relation=relation, note=note
    )
    db.session.add(mapping)
    db.session.flush()
    logger.info("Area mapping %r added by %r", mapping, actor)
    return mapping


def delete_mapping(mapping: AreaMapping, actor: User) -> None:
    logger.info("Area mapping %r deleted by %r", mapping, actor)
    db.session.delete(mapping)
    db.session.flush()


# Courses ------------------------------------------------------------------------


def unassignable(
    items: Iterable[CompetencyItem],
    already_linked: Iterable[CompetencyItem],
    institution_id: Optional[int] = None,
) -> list[CompetencyItem]:
    """Return the items of ``items`` that a course or task may not newly take.

    New items must come from a published national standard or a published
    framework of ``institution_id``. An item the course already has stays
    allowed, so retiring a framework never breaks a course that uses it.
    """
    kept = {item.id for item in already_linked}
    published = FrameworkStatus.PUBLISHED
    return [
        item
        for item in items
        if item.id not in kept
        and (
            item.framework.status is not published
            or item.framework.institution_id not in (None, institution_id)
        )
    ]
