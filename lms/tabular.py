"""Reading the spreadsheets people upload: CSV in any common encoding, and XLSX.

Chinese HR systems export CSV as GBK/GB18030, UTF-8 with or without a byte
order mark, or UTF-16 (Excel's "Unicode text"). XLSX comes from Excel and WPS.
Each reader returns a ``Table`` whose rows keep their spreadsheet row number,
so a problem can be reported as "row 7, column 工号".
"""

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from typing import Optional

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l


class TableError(ValueError):
    """The file cannot be read as a table at all.

    ``code`` is "empty", "encoding", "binary" (CSV bytes that decode but
    contain control characters, so the file is not text), "quote" (a quoted
    CSV cell that the file never closes, whose line is ``detail``), "format",
    "too_many_rows", "too_many_columns" (a header row wider than
    ``MAX_COLUMNS``) or "too_large" (an XLSX archive that unpacks past
    ``MAX_XLSX_UNPACKED``).
    """

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code = code
        self.detail = detail


@dataclass
class Table:
    headers: list[str]
    #: (row number as the spreadsheet shows it, header -> cell text)
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    encoding: Optional[str] = None


def normalise(text: object) -> str:
    """Text as people mean it: NFKC (full-width letters and digits become
    half-width), no surrounding or repeated whitespace, no zero-width spaces."""
    if text is None:
        return ""
    value = unicodedata.normalize("NFKC", str(text))
    value = value.replace("\u200b", "").replace("\ufeff", "")
    return " ".join(value.split())


#: Share of NUL bytes at one parity above which BOM-less bytes are UTF-16.
#: Commas, digits and line breaks of a roster are ASCII, so each one puts a
#: NUL in the high byte of its UTF-16 code unit.
UTF16_NUL_SHARE = 0.2
#: Encodings of other regions that GBK decoding turns into garbled names.
FOREIGN_ENCODINGS = (("big5", "Big5"), ("shift_jis", "Shift-JIS"))
#: Above this share of non-ASCII characters outside GB2312, GB18030-decoded
#: text is taken for another encoding. A roster in GBK uses GB2312 characters
#: almost only (rare name characters such as 喆 or 堃 are the exception).
#: NOTE: the share is an estimate, so a GBK file written mostly in traditional
#: characters is rejected as well.
MAX_UNCOMMON_SHARE = 0.25
#: Minimum number of characters outside GB2312 before the share above is
#: checked, so a short file with one rare name character is not rejected.
MIN_UNCOMMON_CHARS = 3


def decode(content: bytes) -> tuple[str, str]:
    """Return (text, encoding) for CSV bytes, trying the encodings in real use.

    Raises ``TableError("encoding", detail)``. ``detail`` is the likely
    encoding ("Big5", "Shift-JIS" or "Big5/Shift-JIS") for bytes that
    decode as GB18030 only into garbled text, and "" when it is unknown.
    """
    try:
        if content.startswith(b"\xef\xbb\xbf"):
            return content[3:].decode("utf-8"), "utf-8-sig"
        if content.startswith((b"\xff\xfe", b"\xfe\xff")):
            return content.decode("utf-16"), "utf-16"
    except UnicodeDecodeError:
        # A byte order mark followed by bytes of another encoding, or an
        # odd number of UTF-16 bytes.
        raise TableError("encoding") from None
    utf16 = _utf16_without_bom(content)
    if utf16 is not None:
        try:
            return content.decode(utf16), utf16
        except UnicodeDecodeError:
            raise TableError("encoding") from None
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = content.decode("gb18030")
    except UnicodeDecodeError:
        raise TableError("encoding", _foreign_encoding(content)) from None
    if not _is_plausible_gbk(content, text):
        raise TableError("encoding", _foreign_encoding(content) or "Big5/Shift-JIS")
    return text, "gb18030"


def _utf16_without_bom(content: bytes) -> Optional[str]:
    """Return "utf-16-le" or "utf-16-be" when NULs fill one byte of many pairs, else None."""
    pairs = len(content) // 2
    if pairs < 2 or len(content) % 2:
        return None
    nul_even = content[0::2].count(0)
    nul_odd = content[1::2].count(0)
    if nul_odd >= UTF16_NUL_SHARE * pairs and nul_even * 10 <= nul_odd:
        return "utf-16-le"
    if nul_even >= UTF16_NUL_SHARE * pairs and nul_odd * 10 <= nul_even:
        return "utf-16-be"
    return None


def _is_plausible_gbk(content: bytes, text: str) -> bool:
    """Check whether GB18030-decoded text reads as a Chinese mainland file.

    Many Big5 characters land in GBK's user-defined area, which the GBK
    codec does not map, so bytes that decode as Big5 or Shift-JIS but not as
    GBK are not GBK. GB18030's four-byte sequences have a digit as second byte, which
    neither Big5 nor Shift-JIS allows, so real GB18030 text passes that test.
    Shift-JIS kanji and kana decode as rare GBK characters, which the share
    of characters outside GB2312 catches.
    """
    try:
        content.decode("gbk")
    except UnicodeDecodeError:
        if _foreign_encoding(content):
            return False
    wide = [char for char in text if ord(char) > 127]
    uncommon = sum(1 for char in wide if not _in_gb2312(char))
    if uncommon < MIN_UNCOMMON_CHARS:
        return True
    return uncommon <= MAX_UNCOMMON_SHARE * len(wide)


def _in_gb2312(char: str) -> bool:
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _foreign_encoding(content: bytes) -> str:
    """Name the encodings of ``FOREIGN_ENCODINGS`` that decode ``content``.

    Japanese text with kana is named Shift-JIS alone, because kana make
    Shift-JIS certain even when the bytes also happen to decode as Big5.
    """
    names = []
    for codec, name in FOREIGN_ENCODINGS:
        try:
            text = content.decode(codec)
        except UnicodeDecodeError:
            continue
        if codec == "shift_jis" and any("\u3040" <= char <= "\u30ff" for char in text):
            return name
        names.append(name)
    return "/".join(names)


def encoding_error_message(error: TableError) -> str:
    """Return the sentence for an encoding error, naming the likely encoding."""
    if error.detail:
        return _(
            "The file looks like %(encoding)s text, which would show garbled names. "
            "Save it as CSV in UTF-8 or GBK, or as XLSX, and upload it again.",
            encoding=error.detail,
        )
    return _("The file is not text in a known encoding. Save it as CSV (UTF-8 or GBK) or as XLSX.")


#: Names people know for the codecs ``decode`` returns, and for XLSX.
ENCODING_NAMES = {
    "utf-8": _l("UTF-8"),
    "utf-8-sig": _l("UTF-8 with a byte order mark"),
    "gb18030": _l("GBK (GB 18030)"),
    "utf-16": _l("UTF-16 with a byte order mark"),
    "utf-16-le": _l("UTF-16 (little-endian)"),
    "utf-16-be": _l("UTF-16 (big-endian)"),
    "xlsx": _l("XLSX workbook"),
}


def encoding_name(codec: Optional[str]) -> str:
    """Return the translated name of a codec from ``decode``, or the codec itself."""
    name = ENCODING_NAMES.get(codec or "")
    return str(name) if name is not None else (codec or "")


def columns_error_message() -> str:
    """Return the sentence for a header row wider than ``MAX_COLUMNS``."""
    return _(
        "The header row has more than %(max)s columns. Keep the columns this "
        "import reads, delete the others, and upload the file again.",
        max=MAX_COLUMNS,
    )


def quote_error_message(error: TableError) -> str:
    """Return the sentence for a quoted cell that is never closed, naming its line."""
    return _(
        'Line %(line)s: a quote (") opens a cell but is not closed, so the rest of '
        "the file would be read as one cell. Add the closing quote at the end of "
        "the cell, or delete the opening quote, and upload the file again.",
        line=error.detail,
    )


def unclosed_quote_line(text: str, delimiter: str) -> Optional[int]:
    """Return the line on which a quoted cell opens that the text never closes, or None.

    Without ``strict`` the csv module reads such a cell to the end of the
    file and swallows the rows after it, so the last record is parsed again
    with ``strict``, which reports the missing quote.
    """
    # NOTE: a stray quote that a later quote closes is not detected, because
    # a quoted cell may contain line breaks.
    lines = io.StringIO(text).readlines()
    reader = csv.reader(lines, delimiter=delimiter)
    record_start = next_start = 1
    for _cells in reader:
        record_start, next_start = next_start, reader.line_num + 1
    last_record = lines[record_start - 1:]
    try:
        for _cells in csv.reader(last_record, delimiter=delimiter, strict=True):
            pass
    except csv.Error as exc:
        # CPython's csv module words the end of text inside quotes this way.
        if "unexpected end of data" in str(exc):
            return record_start
    return None


def _sniff_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    return max(counts, key=counts.get) if any(counts.values()) else ","


def keep_text(text: object) -> str:
    """Cell text as written, with Unix line breaks and no surrounding whitespace.

    Used for cells such as question stems, whose line breaks and full-width
    punctuation belong to the content.
    """
    if text is None:
        return ""
    value = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\ufeff", "").strip()


#: Most columns a header row may have. Each row becomes a dict over the
#: headers, so rows times headers bounds the work and memory of a read.
#: NOTE: an estimate. The widest template of the importers, the question
#: sheet, has fewer than 20 columns.
MAX_COLUMNS = 200


def _build(
    header_cells: list, body: list[tuple[int, list]], max_rows: int, clean=normalise
) -> Table:
    headers = [normalise(h) for h in header_cells]
    while headers and not headers[-1]:
        headers.pop()
    if not any(headers):
        raise TableError("empty")
    if len(headers) > MAX_COLUMNS:
        raise TableError("too_many_columns", str(MAX_COLUMNS))
    table = Table(headers=headers)
    for number, cells in body:
        # Cells right of the last header belong to no column, so they are not read.
        values = [clean(c) for c in cells[: len(headers)]]
        if not any(value.strip() for value in values):
            continue
        if len(table.rows) >= max_rows:
            raise TableError("too_many_rows", str(max_rows))
        row = {h: (values[i] if i < len(values) else "") for i, h in enumerate(headers)}
        table.rows.append((number, row))
    return table


#: Control characters that a text file does not contain. Tab, line feed,
#: carriage return and form feed are text.
BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def read_csv(content: bytes, *, max_rows: int = 20000, clean=normalise) -> Table:
    """Read CSV bytes; ``clean`` (``normalise`` or ``keep_text``) turns cells into text."""
    text, encoding = decode(content)
    if not text.strip():
        raise TableError("empty")
    control = BINARY_CONTROLS.search(text)
    if control is not None:
        raise TableError("binary", f"U+{ord(control.group()):04X}")
    delimiter = _sniff_delimiter(text)
    try:
        lines = list(csv.reader(io.StringIO(text), delimiter=delimiter))
        unclosed = unclosed_quote_line(text, delimiter)
    except csv.Error as exc:
        raise TableError("format", str(exc)) from None
    if unclosed is not None:
        raise TableError("quote", str(unclosed))
    body = [(i + 2, r) for i, r in enumerate(lines[1:])]
    table = _build(lines[0], body, max_rows, clean)
    table.encoding = encoding
    return table


#: Limits on an XLSX archive, checked before openpyxl inflates any member.
#: A sheet of 20,000 rows of roster data unpacks to a few MB, so 100 MB leaves
#: room for styles and a second sheet while a zip bomb (kilobytes that
#: inflate to gigabytes of sharedStrings.xml) is rejected.
MAX_XLSX_UNPACKED = 100 * 1024 * 1024
MAX_XLSX_MEMBERS = 1000


def check_archive_size(content: bytes) -> None:
    """Raise ``TableError("too_large")`` if an XLSX archive unpacks past the limits.

    The sizes come from the central directory. CPython's ``zipfile`` never
    returns more bytes for a member than its declared ``file_size`` (and fails
    the CRC check if the data is longer), so a member that lies about its size
    cannot inflate past the sum checked here.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise TableError("format", str(exc)) from None
    if len(members) > MAX_XLSX_MEMBERS:
        raise TableError("too_large", f"{len(members)} members")
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_XLSX_UNPACKED:
        raise TableError("too_large", f"{unpacked} bytes unpacked")


def read_xlsx(content: bytes, *, max_rows: int = 20000, clean=normalise) -> Table:
    """Read the first sheet of an XLSX workbook; ``clean`` is as for ``read_csv``."""
    from openpyxl import load_workbook

    check_archive_size(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise TableError("format", str(exc)) from None
    try:
        sheet = workbook.worksheets[0]
        # openpyxl pads every row to the width the sheet declares, which may
        # be 16,384 columns, so one column past the limit is read at most.
        rows = sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True)
        header = next(rows, None)
        if header is None:
            raise TableError("empty")
        body = []
        for number, cells in enumerate(rows, start=2):
            body.append((number, [_cell_text(c) for c in cells]))
            if len(body) > max_rows * 2:
                raise TableError("too_many_rows", str(max_rows))
        return _build([_cell_text(c) for c in header], body, max_rows, clean)
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        # Employee numbers typed as numbers come back as 20230001.0.
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if getattr(value, "hour", 0) == 0 else value.isoformat()
    return str(value)


def read_upload(filename: str, content: bytes, *, max_rows: int = 20000) -> Table:
    """Read a .csv, .txt or .xlsx upload by its extension."""
    lowered = (filename or "").lower()
    if lowered.endswith(".xlsx"):
        return read_xlsx(content, max_rows=max_rows)
    if lowered.endswith((".csv", ".txt")):
        return read_csv(content, max_rows=max_rows)
    raise TableError("format", "extension")


def map_headers(table: Table, aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Map field names to the table's headers, accepting each field's aliases.

    ``aliases`` is field -> names people use for it (for example
    "employee_no" -> ("工号", "职工号", "employee no")). Comparison ignores case
    and spaces. Returns field -> header for the fields that were found.
    """
    def key(text: str) -> str:
        return normalise(text).replace(" ", "").lower()

    by_key = {key(h): h for h in table.headers}
    found = {}
    for name, names in aliases.items():
        for alias in (name, *names):
            header = by_key.get(key(alias))
            if header is not None:
                found[name] = header
                break
    return found
