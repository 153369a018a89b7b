"""Backup and restore of one instance: its database and its stored files.

A backup is one ``.tar.gz`` archive holding ``manifest.json``, the database
(``database.sqlite3``, a consistent copy made with SQLite's online backup
API, or ``database.pgdump``, a ``pg_dump`` custom-format dump) and every
stored file under ``files/<folder>/``. The manifest lists each member with
its size and SHA-256, so a restore can prove the archive is complete before
it changes anything.

Restoring checks every member first: names must be relative and stay inside
the archive (no ``..``, no absolute paths), members must be regular files or
folders (no links or devices), and the total size must stay under
``BACKUP_MAX_BYTES``. Only then is the database replaced and are the files
put in place.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Optional

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from lms.extensions import db

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
#: Config keys of the folders that hold stored files, and their archive names.
FILE_FOLDERS = {
    "UPLOAD_DIR": "uploads",
    "EVIDENCE_DIR": "evidence",
    "CERTIFICATE_DIR": "certificates",
}
MAX_MEMBERS = 1_000_000


class BackupError(RuntimeError):
    """Error of a backup or restore; the message gives the cause and the next step."""


@dataclass
class BackupSummary:
    path: Path
    dialect: str
    files: int
    size: int


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _libpq_url(url: sa.URL) -> tuple[str, dict]:
    """Return a libpq connection URL without password, and the environment with it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(
            f"{command[0]} failed with exit code {result.returncode}: "
            f"{result.stderr.strip()[-1000:]}"
        )


def _dump_database(url: sa.URL, staging: Path) -> str:
    if url.get_backend_name() == "sqlite":
        source_path = url.database
        if not source_path or source_path == ":memory:":
            raise BackupError("an in-memory SQLite database cannot be backed up")
        target = staging / "database.sqlite3"
        source = sqlite3.connect(source_path)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return target.name
    if url.get_backend_name() == "postgresql":
        libpq, env = _libpq_url(url)
        target = staging / "database.pgdump"
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), libpq], env)
        return target.name
    raise BackupError(f"backup of {url.get_backend_name()} databases is not supported")


def _current_revision() -> Optional[str]:
    try:
        return db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    except sa.exc.DBAPIError:
        db.session.rollback()
        return None


def _unwritable(output: Path, error: OSError) -> BackupError:
    reason = error.strerror or str(error)
    return BackupError(
        f"cannot write {output}: {reason}. Choose a folder you can write to with "
        "--output. Nothing was written."
    )


def create_backup(app: Flask, output: Path) -> BackupSummary:
    """Write a backup archive of ``app``'s database and stored files to ``output``."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    output = Path(output)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _unwritable(output, error) from None
    members = []
    with tempfile.TemporaryDirectory(prefix="shuren-backup-") as staging_name:
        staging = Path(staging_name)
        database_member = _dump_database(url, staging)
        members.append(
            {
                "name": database_member,
                "size": (staging / database_member).stat().st_size,
                "sha256": _sha256(staging / database_member),
            }
        )
        folders = {}
        for key, folder in FILE_FOLDERS.items():
            configured = app.config.get(key)
            if configured and Path(configured).is_dir():
                folders[folder] = Path(configured)
        for folder, root in folders.items():
            for path in sorted(root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    name = f"files/{folder}/{path.relative_to(root).as_posix()}"
                    members.append(
                        {"name": name, "size": path.stat().st_size, "sha256": _sha256(path)}
                    )
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": datetime.now(timezone.utc).isoformat(),
            "dialect": url.get_backend_name(),
            "alembic_revision": _current_revision(),
            "members": members,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")

        partial = output.with_name(output.name + ".partial")
        try:
            with tarfile.open(partial, "w:gz") as archive:
                archive.add(staging / MANIFEST, arcname=MANIFEST)
                archive.add(staging / database_member, arcname=database_member)
                for member in members[1:]:
                    _files, folder, relative = member["name"].split("/", 2)
                    archive.add(folders[folder] / relative, arcname=member["name"])
            os.replace(partial, output)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise _unwritable(output, error) from None
    return BackupSummary(
        path=output,
        dialect=url.get_backend_name(),
        files=len(members) - 1,
        size=output.stat().st_size,
    )


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


def check_archive(archive: tarfile.TarFile, max_bytes: int) -> dict:
    """Return the verified manifest, or raise BackupError naming the bad member."""
    total = 0
    names = set()
    for count, member in enumerate(archive, start=1):
        if count > MAX_MEMBERS:
            raise BackupError(f"the archive has more than {MAX_MEMBERS} members")
        if not _safe_name(member.name):
            raise BackupError(f"unsafe path in archive: {member.name!r}")
        if not (member.isfile() or member.isdir()):
            raise BackupError(
                f"archive member {member.name!r} is a link or device; only files are allowed"
            )
        total += member.size
        if total > max_bytes:
            raise BackupError(
                f"the archive unpacks to more than {max_bytes} bytes; "
                "raise LMS_BACKUP_MAX_BYTES if this backup is genuine"
            )
        if member.isfile():
            names.add(member.name)
    if MANIFEST not in names:
        raise BackupError("the archive has no manifest.json: it is not a Shuren backup")
    manifest = json.load(archive.extractfile(MANIFEST))
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"unsupported backup format {manifest.get('format')!r}")
    listed = {m["name"] for m in manifest["members"]}
    if listed | {MANIFEST} != names:
        raise BackupError(
            "the archive's files differ from its manifest: "
            f"missing {sorted(listed - names)[:5]}, unlisted {sorted(names - listed - {MANIFEST})[:5]}"
        )
    for member in manifest["members"]:
        if not _safe_name(member["name"]):
            raise BackupError(f"unsafe path in manifest: {member['name']!r}")
    return manifest


def _verify_checksums(staging: Path, manifest: dict) -> None:
    for member in manifest["members"]:
        path = staging / member["name"]
        if path.stat().st_size != member["size"] or _sha256(path) != member["sha256"]:
            raise BackupError(f"checksum mismatch for {member['name']}: the archive is damaged")


def _database_is_empty() -> bool:
    inspector = sa.inspect(db.engine)
    for table in ("user", "institution"):
        if inspector.has_table(table):
            if db.session.scalar(sa.text(f'SELECT COUNT(*) FROM "{table}"')):
                return False
    return True


def _restore_sqlite(url: sa.URL, dump: Path) -> None:
    target = Path(url.database)
    target.parent.mkdir(parents=True, exist_ok=True)
    db.session.remove()
    db.engine.dispose()
    partial = target.with_name(target.name + ".restoring")
    shutil.copyfile(dump, partial)
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    os.replace(partial, target)


def _restore_postgresql(url: sa.URL, dump: Path) -> None:
    db.session.remove()
    db.engine.dispose()
    libpq, env = _libpq_url(url)
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--dbname",
            libpq,
            str(dump),
        ],
        env,
    )


def restore_backup(app: Flask, archive_path: Path, *, force: bool = False) -> dict:
    """Replace ``app``'s database and stored files with those of a backup archive.

    Raises BackupError for a database that already contains users, unless ``force`` is set.
    Returns the archive's manifest.
    """
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    max_bytes = int(app.config.get("BACKUP_MAX_BYTES", 20 * 1024**3))
    try:
        archive = tarfile.open(archive_path, "r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"cannot read {archive_path}: {exc}") from None
    with archive, tempfile.TemporaryDirectory(prefix="shuren-restore-") as staging_name:
        staging = Path(staging_name)
        manifest = check_archive(archive, max_bytes)
        if manifest["dialect"] != url.get_backend_name():
            raise BackupError(
                f"the backup is of a {manifest['dialect']} database but this instance "
                f"uses {url.get_backend_name()}"
            )
        if not force and not _database_is_empty():
            raise BackupError(
                "the target database already contains accounts; pass --force to replace it"
            )
        archive.extractall(staging, filter="data")
        _verify_checksums(staging, manifest)

        dump = staging / manifest["members"][0]["name"]
        if url.get_backend_name() == "sqlite":
            _restore_sqlite(url, dump)
        else:
            _restore_postgresql(url, dump)

        for key, folder in FILE_FOLDERS.items():
            source = staging / "files" / folder
            configured = app.config.get(key)
            if not configured:
                continue
            target = Path(configured)
            if target.exists():
                shutil.rmtree(target)
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                target.mkdir(parents=True, exist_ok=True)
    return manifest
