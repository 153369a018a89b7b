"""Uploaded files: checked for type, content and size, stored outside the web root.

Every upload goes into ``UPLOAD_DIR/<area>/`` under a generated name; the
original name is kept only as data by the caller. A file is accepted when its
extension is one the area allows, its content matches that type, and its
size is within the area's limit. The content check reads leading bytes, and
for ZIP-based types the archive's central directory as well. Files are served back with
``Content-Disposition: attachment`` and ``X-Content-Type-Options: nosniff``
so a browser never runs an uploaded page.
"""

import io
import json
import math
import os
import re
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Optional
from urllib.parse import quote

from flask import Flask, Response, current_app, send_file
from flask_babel import gettext as _
from markupsafe import Markup

MB = 1024 * 1024


@dataclass(frozen=True)
class FileType:
    extension: str
    media_type: str
    #: Accepted leading byte strings; empty means "any content" (plain text).
    magic: tuple[bytes, ...]


#: Every type the platform accepts somewhere. Areas choose a subset.
FILE_TYPES = {
    t.extension: t
    for t in (
        FileType("pdf", "application/pdf", (b"%PDF-",)),
        FileType("jpg", "image/jpeg", (b"\xff\xd8\xff",)),
        FileType("jpeg", "image/jpeg", (b"\xff\xd8\xff",)),
        FileType("png", "image/png", (b"\x89PNG\r\n\x1a\n",)),
        FileType("mp4", "video/mp4", ()),
        FileType("webm", "video/webm", (b"\x1a\x45\xdf\xa3",)),
        FileType("docx", "application/vnd.openxmlformats-officedocument."
                 "wordprocessingml.document", (b"PK\x03\x04",)),
        FileType("xlsx", "application/vnd.openxmlformats-officedocument."
                 "spreadsheetml.sheet", (b"PK\x03\x04",)),
        FileType("pptx", "application/vnd.openxmlformats-officedocument."
                 "presentationml.presentation", (b"PK\x03\x04",)),
        FileType("zip", "application/zip", (b"PK\x03\x04",)),
        FileType("csv", "text/csv", ()),
        FileType("txt", "text/plain", ()),
        FileType("gift", "text/plain", ()),
        FileType("xml", "application/xml", ()),
        FileType("json", "application/json", ()),
    )
}


#: Main part of an Office Open XML package of each type. Every package
#: also contains ``[Content_Types].xml``.
#: NOTE: the package's relationships may name the main part differently.
#: Microsoft Office, LibreOffice and openpyxl write these names, so a
#: package with another name is rejected as not matching its type.
OOXML_MAIN_PARTS = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
}


class UploadError(ValueError):
    """An upload was refused. ``code`` is "missing", "extension", "content" or "size".

    ``allowed`` and ``limit`` let the view say what would have been accepted.
    """

    def __init__(self, code: str, allowed: Iterable[str] = (), limit: int = 0):
        super().__init__(code)
        self.code = code
        self.allowed = tuple(allowed)
        self.limit = limit


def old_excel_message(filename: str) -> Optional[str]:
    """Return how to convert an Excel 97-2003 workbook (.xls), or None for other names.

    Spreadsheet imports read .xlsx and CSV only, and .xls is what older
    Excel and WPS versions save by default.
    """
    if not (filename or "").lower().endswith(".xls"):
        return None
    return _(
        "%(name)s is an Excel 97-2003 workbook (.xls), which cannot be read. Open it "
        "in Excel or WPS, save it as an Excel workbook (.xlsx) or as CSV, and upload "
        "that file.",
        name=filename,
    )


@dataclass(frozen=True)
class StoredFile:
    area: str
    name: str
    original_name: str
    media_type: str
    size: int


#: Characters removed from client file names: ASCII and C1 control
#: characters, which may not appear in an HTTP header value.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def client_filename(filename: str, max_length: int = 255) -> str:
    """Return the last path component of a file name sent by a client.

    Old browsers on Windows send a full path such as ``C:\\Users\\a\\x.pdf``
    and crafted requests may send ``../../x.pdf``, so both ``/`` and ``\\``
    count as separators. Control characters are dropped, and a name longer
    than ``max_length`` is shortened before its extension. Returns "" when no
    usable name is left, for the caller to put a generated name in its place.
    """
    name = _CONTROL_CHARACTERS.sub("", filename or "")
    name = re.split(r"[/\\]", name)[-1].strip()
    if name in ("", ".", ".."):
        return ""
    if len(name) <= max_length:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension) >= max_length // 2:
        return name[:max_length]
    return stem[: max_length - len(extension) - 1] + "." + extension


def extension_of(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _mp4_signature(content: bytes) -> bool:
    # An ISO base media file starts with a box whose type, at offset 4, is ftyp.
    return content[4:8] == b"ftyp"


def _zip_members(content: bytes) -> set[str] | None:
    """Return the member names of a ZIP archive, or None if it is not readable.

    ``ZipFile`` reads only the central directory here and inflates no
    member, so a zip bomb costs no more than its own size.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        return None


def _zip_content_matches(extension: str, content: bytes) -> bool:
    """Return whether ``content`` is a readable ZIP with the parts ``extension`` needs."""
    members = _zip_members(content)
    if members is None:
        return False
    main_part = OOXML_MAIN_PARTS.get(extension)
    if main_part is None:
        return True
    return "[Content_Types].xml" in members and main_part in members


def check(
    filename: str, stream: BinaryIO, *, allowed: Iterable[str], max_bytes: int
) -> tuple[FileType, bytes]:
    """Return the file's type and content, or raise UploadError."""
    allowed = tuple(allowed)
    if not filename:
        raise UploadError("missing", allowed, max_bytes)
    extension = extension_of(filename)
    if extension not in allowed or extension not in FILE_TYPES:
        raise UploadError("extension", allowed, max_bytes)
    content = stream.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise UploadError("size", allowed, max_bytes)
    if not content:
        raise UploadError("missing", allowed, max_bytes)
    file_type = FILE_TYPES[extension]
    if extension == "mp4":
        matches = _mp4_signature(content)
    elif file_type.magic == (b"PK\x03\x04",):
        matches = content.startswith(b"PK\x03\x04") and _zip_content_matches(
            extension, content
        )
    elif file_type.magic:
        matches = any(content.startswith(m) for m in file_type.magic)
    elif content.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-16 text (Excel's "Unicode text") has a byte order mark and NULs.
        matches = True
    else:
        matches = b"\x00" not in content[:4096]
    if not matches:
        raise UploadError("content", allowed, max_bytes)
    return file_type, content


def request_limit() -> int:
    """Return the largest request body accepted, ``MAX_CONTENT_LENGTH`` (``LMS_MAX_UPLOAD_BYTES``)."""
    return int(current_app.config.get("MAX_CONTENT_LENGTH") or 50 * MB)


def megabytes(size: int) -> str:
    """Return a byte count in MB, rounded down to one decimal place: "50", "9.5"."""
    tenths = math.floor(size * 10 / MB) / 10
    return f"{tenths:g}"


#: Size limits of each upload field, by the name its template passes to
#: ``size_limit_data`` or ``size_limit_attributes``. Each value returns extension -> bytes, with
#: "*" for every other extension. It is called per page, because some limits
#: come from the app config.
FIELD_LIMITS: dict[str, Callable[[], dict[str, int]]] = {}


def register_field(name: str, limits: Callable[[], dict[str, int]]) -> None:
    """Name an upload field's size limits, so its template can pass them to the page."""
    FIELD_LIMITS[name] = limits


def size_limit_data(field: str) -> dict[str, str]:
    """Return the data attributes with which ``static/js/file-size.js`` checks a file input.

    ``field`` is a name given to ``register_field``. Each limit is capped at
    ``request_limit()``, because a larger file cannot reach the server. The
    messages carry ``{name}``, ``{size}`` and ``{limit}``, which the script
    fills in.
    """
    request_bytes = request_limit()
    limits = {
        extension: min(limit, request_bytes)
        for extension, limit in FIELD_LIMITS[field]().items()
    }
    file_message = _(
        "%(name)s is %(size)s MB, more than the %(limit)s MB this field accepts. "
        "Choose a smaller file. The other fields keep what was typed.",
        name="{name}",
        size="{size}",
        limit="{limit}",
    )
    total_message = _(
        "The chosen files add up to %(size)s MB, more than the %(limit)s MB one "
        "form can send. Choose fewer or smaller files.",
        size="{size}",
        limit="{limit}",
    )
    return {
        "data-max-bytes": json.dumps(limits),
        "data-max-request-bytes": str(request_bytes),
        "data-too-large": file_message,
        "data-request-too-large": total_message,
    }


def size_limit_attributes(field: str) -> Markup:
    """Return ``size_limit_data(field)`` as escaped HTML attributes."""
    return Markup(" ").join(
        Markup('{}="{}"').format(Markup(name), value)
        for name, value in size_limit_data(field).items()
    )


def init_app(app: Flask) -> None:
    app.add_template_global(size_limit_data)
    app.add_template_global(size_limit_attributes)


def upload_root() -> Path:
    configured = current_app.config.get("UPLOAD_DIR")
    return Path(configured or os.path.join(current_app.instance_path, "uploads"))


def _area_dir(area: str) -> Path:
    if not area.isidentifier():
        raise ValueError(f"upload area must be a plain name: {area!r}")
    return upload_root() / area


def store(
    area: str,
    filename: str,
    stream: BinaryIO,
    *,
    allowed: Iterable[str],
    max_bytes: int = 10 * MB,
) -> StoredFile:
    """Check an upload and write it under a generated name in ``area``."""
    file_type, content = check(filename, stream, allowed=allowed, max_bytes=max_bytes)
    directory = _area_dir(area)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{file_type.extension}"
    path = directory / name
    with open(path, "xb") as handle:
        handle.write(content)
    return StoredFile(
        area=area,
        name=name,
        original_name=client_filename(filename) or name,
        media_type=file_type.media_type,
        size=len(content),
    )


def path_of(area: str, name: str) -> Optional[Path]:
    """The stored file's path, or None when the name is not a stored name."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = _area_dir(area) / name
    return path if path.is_file() else None


def remove(area: str, name: str) -> None:
    path = path_of(area, name)
    if path is not None:
        path.unlink(missing_ok=True)


def send(
    area: str,
    name: str,
    download_name: str,
    *,
    inline: bool = False,
    fallback_stem: str = "download",
) -> Response:
    """Serve a stored file; attachment by default, never sniffed.

    A non-ASCII ``download_name`` goes out as the RFC 6266 ``filename*``
    parameter. The plain ``filename`` parameter, which older clients use,
    is then ``fallback_stem`` plus the stored file's extension, because
    dropping the non-ASCII letters could leave only ".pdf". Only the last
    path component of ``download_name`` is sent, because rows stored before
    names were cut to it may still hold a path.
    """
    download_name = client_filename(download_name)
    path = path_of(area, name)
    if path is None:
        from flask import abort

        abort(404)
    media_type = FILE_TYPES.get(extension_of(name))
    response = send_file(
        path,
        mimetype=media_type.media_type if media_type else "application/octet-stream",
        as_attachment=not inline,
        download_name=download_name or name,
        conditional=True,
    )
    if download_name:
        extension = extension_of(name)
        set_disposition(
            response,
            download_name,
            f"{fallback_stem}.{extension}" if extension else fallback_stem,
            inline=inline,
        )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def set_disposition(
    response: Response, download_name: str, fallback: str, *, inline: bool = False
) -> None:
    """Set Content-Disposition so that a non-ASCII ``download_name`` survives.

    An ASCII name goes out as the plain ``filename`` parameter. Any other
    name goes out as the RFC 6266 ``filename*`` parameter, with the ASCII
    ``fallback`` as ``filename`` for older clients, because dropping the
    non-ASCII letters could leave only ".pdf".
    """
    disposition = "inline" if inline else "attachment"
    if download_name.isascii():
        response.headers.set("Content-Disposition", disposition, filename=download_name)
        return
    response.headers.set(
        "Content-Disposition",
        disposition,
        filename=fallback,
        **{"filename*": "UTF-8''" + quote(download_name, safe="")},
    )
