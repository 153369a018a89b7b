"""CSV and XLSX downloads that a spreadsheet opens correctly and safely.

CSV is written as UTF-8 with a byte order mark, which Excel and WPS need to
show Chinese. Every text cell that a spreadsheet would evaluate as a formula
(starting with =, +, -, @, a tab or a carriage return) is prefixed with an
apostrophe, in both formats.
"""

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Iterable, Sequence
from urllib.parse import quote

from flask import Response

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: Characters that Excel and openpyxl reject in a sheet title.
SHEET_TITLE_FORBIDDEN = str.maketrans({character: "_" for character in "\\/?*[]:"})


def neutralise(value: object) -> object:
    """A cell value that no spreadsheet runs as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(neutralise(value) if isinstance(value, str) else value)


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_csv_cell(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_cell(c) for c in row])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def _xlsx_cell(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return neutralise(value)


def xlsx_bytes(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, sheet_title: str = "Sheet1"
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    # Titles come from codes people type, such as a course code "A/B".
    title = sheet_title.translate(SHEET_TITLE_FORBIDDEN)[:31] or "Sheet1"
    sheet = workbook.create_sheet(title=title)
    header_cells = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=_xlsx_cell(str(header)))
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=_xlsx_cell(value))
            if isinstance(value, str):
                # Stored as text: never parsed as a number or a formula.
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _disposition(filename: str) -> str:
    """Return an attachment header with an ASCII fallback name and the UTF-8 name.

    Non-ASCII characters are dropped from the fallback, with the separators
    they leave at its ends. A stem with nothing left becomes ``export``, so
    the fallback is never a bare ``.csv``.
    """
    ascii_name = filename.encode("ascii", "ignore").decode()
    stem, dot, extension = ascii_name.rpartition(".")
    if not dot:
        stem, extension = ascii_name, ""
    stem = stem.strip(" ._-") or "export"
    ascii_name = f"{stem}.{extension}" if extension else stem
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def csv_response(filename: str, headers, rows) -> Response:
    response = Response(csv_bytes(headers, rows), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = _disposition(filename)
    return response


def xlsx_response(filename: str, headers, rows, *, sheet_title: str = "Sheet1") -> Response:
    response = Response(
        xlsx_bytes(headers, rows, sheet_title=sheet_title),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response.headers["Content-Disposition"] = _disposition(filename)
    return response
