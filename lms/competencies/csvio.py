"""A framework as CSV: one row per competency item.

Columns: level code and name, area code and name, item code, summary, work
content, ability and knowledge requirements, and the minimum and maximum
years of service of the level. A requirement cell contains one requirement
per line, and the years columns may be absent or blank. Levels and areas take the order in which the rows
first name them, so an export (sorted by level, then area) reads back in the
same order. The file carries no framework details (title, issuer, version),
so the import form supplies them.

NOTE: levels and areas without any item are not representable in this
format; CASE JSON carries them.
"""

import csv
import io
from typing import Optional

from flask_babel import gettext as _

from lms import tabular
from lms.competencies.models import CompetencyItem, Framework, FunctionalArea, Level
from lms.competencies.transfer import (
    AreaData,
    FrameworkData,
    ImportRejected,
    ItemData,
    LevelData,
    Problem,
    check_structure,
)
from lms.exports import FORMULA_PREFIXES, csv_bytes
from lms.extensions import db

#: Field -> (header written on export, other headers accepted on import).
COLUMNS = {
    "level_code": ("等级代码", ("level code", "level_code")),
    "level_name": ("等级", ("等级名称", "level", "level name", "level_name")),
    "area_code": ("职业功能代码", ("功能代码", "area code", "area_code")),
    "area_name": ("职业功能", ("功能名称", "area", "area name", "area_name")),
    "item_code": ("条目代码", ("编码", "item code", "item_code", "code")),
    "summary": ("概述", ("summary", "能力概述")),
    "work_content": ("工作内容", ("work content", "work_content")),
    "ability_requirements": (
        "能力要求",
        ("ability", "ability requirements", "ability_requirements"),
    ),
    "knowledge_requirements": (
        "理论知识要求",
        ("知识要求", "knowledge", "knowledge requirements", "knowledge_requirements"),
    ),
    "min_years": ("最短工作年限", ("min years", "minimum years", "min_years")),
    "max_years": ("最长工作年限", ("max years", "maximum years", "max_years")),
}
#: Largest number of years of service a level may give, as in the level form.
MAX_YEARS = 60
REQUIRED = (
    "level_code",
    "level_name",
    "area_code",
    "area_name",
    "item_code",
    "summary",
)
MAX_ROWS = 5000


def export_rows(framework: Framework) -> list[list[str]]:
    items = db.session.scalars(
        db.select(CompetencyItem)
        .join(Level, Level.id == CompetencyItem.level_id)
        .join(FunctionalArea, FunctionalArea.id == CompetencyItem.area_id)
        .where(CompetencyItem.framework_id == framework.id)
        .order_by(Level.position, FunctionalArea.position, CompetencyItem.code)
    )
    return [
        [
            item.level.code,
            item.level.name,
            item.area.code,
            item.area.name,
            item.code,
            item.summary,
            item.work_content or "",
            item.ability_requirements or "",
            item.knowledge_requirements or "",
            _years_cell(item.level.min_years),
            _years_cell(item.level.max_years),
        ]
        for item in items
    ]


def _years_cell(years: Optional[int]) -> str:
    return "" if years is None else str(years)


def headers() -> list[str]:
    return [header for header, _aliases in COLUMNS.values()]


def export_csv(framework: Framework) -> bytes:
    """Return the framework's items as CSV in UTF-8 with a byte order mark."""
    return csv_bytes(headers(), export_rows(framework))


def _key(text: str) -> str:
    return tabular.normalise(text).replace(" ", "").lower()


def _map_headers(header_row: list[str]) -> dict[str, int]:
    by_key = {_key(cell): index for index, cell in enumerate(header_row)}
    found = {}
    for name, (header, aliases) in COLUMNS.items():
        for alias in (name, header, *aliases):
            if _key(alias) in by_key:
                found[name] = by_key[_key(alias)]
                break
    return found


def _clean_line(text: str) -> str:
    """Strip a line of text and collapse its whitespace, keeping full-width punctuation.

    ``tabular.normalise`` applies NFKC, which would turn "，" into ",", so it
    is used only for codes.
    """
    text = text.replace("\u200b", "").replace("\ufeff", "")
    return " ".join(text.split())


def _cell(cells: list[str], index: Optional[int], kind: str) -> str:
    if index is None or index >= len(cells):
        return ""
    value = cells[index]
    # Undo the apostrophe that the export puts before formula-like text.
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        value = value[1:]
    if kind == "code":
        return tabular.normalise(value)
    if kind == "text":
        return _clean_line(value)
    lines = (_clean_line(line) for line in value.splitlines())
    return "\n".join(line for line in lines if line)


def _kind(name: str) -> str:
    if name.endswith(("code", "years")):
        return "code"
    return "lines" if name.endswith(("content", "requirements")) else "text"


def _file_problem(field_name: str, message: str) -> ImportRejected:
    return ImportRejected([Problem(_("File"), field_name, message)])


def _records(content: bytes) -> list[list[str]]:
    try:
        text, _encoding = tabular.decode(content)
    except tabular.TableError as error:
        message = _("The file is not UTF-8 or GBK text.")
        if error.detail:
            message = tabular.encoding_error_message(error)
        raise _file_problem(_("encoding"), message) from None

    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        unclosed = tabular.unclosed_quote_line(text, delimiter)
    except csv.Error as exc:
        message = _("The file is not valid CSV: %(error)s", error=str(exc))
        raise _file_problem(_("format"), message) from None
    if unclosed is not None:
        error = tabular.TableError("quote", str(unclosed))
        raise _file_problem(_("format"), tabular.quote_error_message(error))
    return records


def _header_columns(records: list[list[str]]) -> dict[str, int]:
    """Return field -> column index, or raise when the file or a column is missing."""
    if not records:
        raise _file_problem(_("content"), _("The file is empty."))
    columns = _map_headers(records[0])
    missing = [COLUMNS[name][0] for name in REQUIRED if name not in columns]
    if missing:
        message = _("Column missing from the header row.")
        location = _("Row %(row)d", row=1)
        raise ImportRejected([Problem(location, name, message) for name in missing])
    if len(records) - 1 > MAX_ROWS:
        message = _("More than %(limit)d rows.", limit=MAX_ROWS)
        raise _file_problem(_("rows"), message)
    return columns


def parse_csv(content: bytes, details: dict) -> FrameworkData:
    """Read a framework from CSV bytes; ``details`` gives code, title and the rest.

    Raises ImportRejected with every problem found, each naming the row and
    the column.
    """
    records = [r for r in _records(content) if any(cell.strip() for cell in r)]
    columns = _header_columns(records)
    data = FrameworkData(location=_("Import form"), **details)
    problems: list[Problem] = []
    levels: dict[str, LevelData] = {}
    areas: dict[str, AreaData] = {}

    # Row numbers count records, as a spreadsheet shows them, so a cell with
    # line breaks still counts as one row.
    for number, cells in enumerate(records[1:], start=2):
        values = {
            name: _cell(cells, columns.get(name), _kind(name)) for name in COLUMNS
        }
        location = _("Row %(row)d", row=number)
        blank = [COLUMNS[name][0] for name in REQUIRED if not values[name]]
        for header in blank:
            problems.append(Problem(location, header, _("This field is required.")))
        if blank:
            continue
        _collect(levels, LevelData, values, "level", location, problems)
        _collect_years(levels[values["level_code"]], values, location, problems)
        _collect(areas, AreaData, values, "area", location, problems)
        data.items.append(_item(values, location))

    data.levels = list(levels.values())
    data.areas = list(areas.values())
    code_headers = {
        name: COLUMNS[name][0]
        for name in ("level_code", "area_code", "item_code", "min_years", "max_years")
    }
    check_structure(data, problems, code_headers)
    if problems:
        raise ImportRejected(problems)
    return data


def _item(values: dict, location: str) -> ItemData:
    return ItemData(
        level_code=values["level_code"],
        area_code=values["area_code"],
        code=values["item_code"],
        summary=values["summary"],
        location=location,
        work_content=values["work_content"],
        ability_requirements=values["ability_requirements"],
        knowledge_requirements=values["knowledge_requirements"],
    )


def _collect(
    found: dict, model, values: dict, prefix: str, location: str, problems: list
) -> None:
    """Add a level or area the first time a row names it; later rows must agree."""
    code = values[f"{prefix}_code"]
    name = values[f"{prefix}_name"]
    known = found.get(code)
    if known is None:
        position = len(found) + 1
        found[code] = model(code=code, name=name, position=position, location=location)
    elif known.name != name:
        message = _(
            "Code %(code)s is named %(name)s in an earlier row.",
            code=code,
            name=known.name,
        )
        problems.append(Problem(location, COLUMNS[f"{prefix}_name"][0], message))


def _read_years(
    values: dict, name: str, location: str, problems: list
) -> Optional[int]:
    text = values[name]
    if not text:
        return None
    if not text.isdecimal() or int(text) > MAX_YEARS:
        message = _(
            "Enter a whole number of years from 0 to %(max)d, or leave the cell blank.",
            max=MAX_YEARS,
        )
        problems.append(Problem(location, COLUMNS[name][0], message))
        return None
    return int(text)


def _collect_years(
    level: LevelData, values: dict, location: str, problems: list
) -> None:
    """Take a level's years from its first row; later rows must agree or be blank."""
    first = level.location == location
    for name in ("min_years", "max_years"):
        years = _read_years(values, name, location, problems)
        if first:
            setattr(level, name, years)
        elif years is not None and years != getattr(level, name):
            message = _(
                "Level %(code)s has %(years)s here but another value in an earlier row.",
                code=level.code,
                years=years,
            )
            problems.append(Problem(location, COLUMNS[name][0], message))
    if first and level.min_years is not None and level.max_years is not None:
        if level.max_years < level.min_years:
            message = _("The maximum years must not be less than the minimum years.")
            problems.append(Problem(location, COLUMNS["max_years"][0], message))
