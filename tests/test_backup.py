"""`flask lms backup` and `flask lms restore` into a new instance, and archive checks."""

import io
import json
import os
import tarfile
import uuid

import pytest
import sqlalchemy as sa

from lms import create_app
from lms.backup import BackupError, check_archive
from lms.extensions import db
from tests.conftest import TEST_PASSWORD


@pytest.fixture
def urls(tmp_path):
    """Return (source, target) database URLs on the backend the suite runs on."""
    base = os.environ.get("LMS_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path}/a/db.sqlite3", f"sqlite:///{tmp_path}/b/db.sqlite3"
        return
    base = sa.engine.make_url(base)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    names = [f"shuren_backup_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    with admin.connect() as connection:
        for name in names:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield tuple(base.set(database=name).render_as_string(False) for name in names)
    with admin.connect() as connection:
        for name in names:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


_apps = []


@pytest.fixture(autouse=True)
def _dispose_engines():
    """Close every pooled connection of the instances a test created."""
    yield
    while _apps:
        with _apps.pop().app_context():
            db.session.remove()
            db.engine.dispose()


def _instance(url: str, root):
    root.mkdir(parents=True, exist_ok=True)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "UPLOAD_DIR": str(root / "uploads"),
            "EVIDENCE_DIR": str(root / "evidence"),
            "CERTIFICATE_DIR": str(root / "certificates"),
            "SESSION_STORE_URL": None,
        }
    )
    _apps.append(app)
    return app


def _snapshot(app) -> dict:
    with app.app_context():
        rows = {}
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            result = db.session.execute(sa.select(table).order_by(*order))
            rows[table.name] = [tuple(row) for row in result]
        db.session.remove()
        db.engine.dispose()
        return rows


def test_restore_gives_same_rows_and_files(urls, tmp_path):
    source_url, target_url = urls
    source = _instance(source_url, tmp_path / "a")
    with source.app_context():
        db.create_all()
        from lms.seed import seed_demo

        seed_demo(password=TEST_PASSWORD)
        db.session.commit()
    upload = tmp_path / "a" / "uploads" / "lessons" / "讲义.pdf"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"%PDF-1.7 lesson handout")
    expected = _snapshot(source)
    assert expected["user"], "the seed should have created accounts"

    archive = tmp_path / "backup.tar.gz"
    result = source.test_cli_runner().invoke(args=["lms", "backup", "--output", str(archive)])
    assert result.exit_code == 0, result.output
    assert "written to" in result.output

    target = _instance(target_url, tmp_path / "b")
    result = target.test_cli_runner().invoke(args=["lms", "restore", str(archive)])
    assert result.exit_code == 0, result.output

    assert _snapshot(target) == expected
    restored = tmp_path / "b" / "uploads" / "lessons" / "讲义.pdf"
    assert restored.read_bytes() == b"%PDF-1.7 lesson handout"


def test_restore_refuses_database_with_data_unless_forced(urls, tmp_path):
    source_url, target_url = urls
    source = _instance(source_url, tmp_path / "a")
    with source.app_context():
        db.create_all()
        from lms.seed import seed_demo

        seed_demo(password=TEST_PASSWORD)
        db.session.commit()
        db.engine.dispose()
    archive = tmp_path / "backup.tar.gz"
    assert source.test_cli_runner().invoke(args=["lms", "backup", "-o", str(archive)]).exit_code == 0

    # Restoring onto the instance itself: it already holds accounts.
    result = source.test_cli_runner().invoke(args=["lms", "restore", str(archive)])
    assert result.exit_code != 0
    assert "--force" in result.output
    result = source.test_cli_runner().invoke(args=["lms", "restore", str(archive), "--force"])
    assert result.exit_code == 0, result.output


def _tar(members: list[tarfile.TarInfo | tuple[str, bytes]]) -> tarfile.TarFile:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                archive.addfile(member)
            else:
                name, content = member
                info = tarfile.TarInfo(name)
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    buffer.seek(0)
    return tarfile.open(fileobj=buffer, mode="r:gz")


def _manifest(*names: str) -> tuple[str, bytes]:
    members = [{"name": n, "size": 1, "sha256": ""} for n in names]
    return "manifest.json", json.dumps({"format": 1, "members": members}).encode()


def _link(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    return info


@pytest.mark.parametrize(
    "members, message",
    [
        ([_manifest(), ("../escape.txt", b"x")], "unsafe path"),
        ([_manifest(), ("/etc/cron.d/x", b"x")], "unsafe path"),
        ([_manifest(), _link("files/uploads/a", "/etc/passwd")], "link or device"),
        ([("files/uploads/a", b"x")], "no manifest"),
        ([_manifest("database.sqlite3"), ("other.bin", b"x")], "differ from its manifest"),
        ([_manifest(), ("files/big.bin", b"x" * 2048)], "more than 1024 bytes"),
    ],
)
def test_archive_checks_reject_unsafe_members(members, message):
    with pytest.raises(BackupError) as error:
        check_archive(_tar(members), max_bytes=1024)
    assert message in str(error.value)


def test_damaged_archive_changes_nothing(tmp_path):
    app = _instance(f"sqlite:///{tmp_path}/db.sqlite3", tmp_path)
    archive = tmp_path / "bad.tar.gz"
    archive.write_bytes(b"not a tar file")
    result = app.test_cli_runner().invoke(args=["lms", "restore", str(archive)])
    assert result.exit_code != 0
    assert "Nothing was changed" in result.output
    assert not (tmp_path / "db.sqlite3").exists() or (tmp_path / "db.sqlite3").stat().st_size == 0


def test_backup_unwritable_output(app, tmp_path):
    """An output path that cannot be written ends with a message, not a traceback."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    target = blocker / "shuren.tar.gz"

    result = app.test_cli_runner().invoke(args=["lms", "backup", "-o", str(target)])

    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert str(target) in result.output
    assert "Nothing was written" in result.output
    assert not list(tmp_path.rglob("*.partial"))
