"""Cleanup jobs: ended login sessions and old temporary uploads."""

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from lms.accounts.models import UserSession
from lms.extensions import db
from lms.notifications import tasks
from lms.scheduler import run_job_once
from tests.factories import build_learning_world
from tests.notifications.conftest import make_person
from tests.conftest import database_sessions

UTC = timezone.utc
NOW = datetime(2026, 6, 1, 3, 45, tzinfo=UTC)
NOTHING_DELETED = {
    "files_deleted": 0,
    "folders_deleted": 0,
    "hr_record_previews_deleted": 0,
    "score_sheet_previews_deleted": 0,
    "roster_previews_deleted": 0,
    "question_import_previews_deleted": 0,
    "framework_import_previews_deleted": 0,
    "lesson_images_deleted": 0,
}


def _session(user, name: str, *, created, last_seen, expires, revoked=None) -> None:
    db.session.add(
        UserSession(
            id=name.ljust(64, "0"),
            user_id=user.id,
            created_at=created,
            last_seen_at=last_seen,
            expires_at=expires,
            revoked_at=revoked,
        )
    )


@database_sessions
def test_ended_sessions_deleted_after_retention(institution):
    user = make_person(institution, "sessions")
    long_ago = NOW - timedelta(days=40)
    recent = NOW - timedelta(days=2)
    _session(user, "a-expired-long-ago", created=long_ago, last_seen=long_ago,
             expires=long_ago + timedelta(hours=12))
    _session(user, "b-revoked-long-ago", created=NOW - timedelta(hours=1),
             last_seen=NOW - timedelta(hours=1), expires=NOW + timedelta(hours=11),
             revoked=long_ago)
    _session(user, "c-idle-long-ago", created=long_ago, last_seen=long_ago,
             expires=NOW + timedelta(days=1))
    _session(user, "d-expired-recently", created=recent, last_seen=recent,
             expires=recent + timedelta(hours=12))
    _session(user, "e-active", created=NOW - timedelta(minutes=5),
             last_seen=NOW - timedelta(minutes=1), expires=NOW + timedelta(hours=11))
    db.session.commit()

    run = run_job_once("cleanup_sessions", now=NOW)

    assert run.ok, run.error
    assert run.result == {"sessions_deleted": 3}
    remaining = db.session.scalars(sa.select(UserSession.id).order_by(UserSession.id)).all()
    assert [session_id.rstrip("0") for session_id in remaining] == ["d-expired-recently", "e-active"]


def _write(path: Path, age: timedelta) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"data")
    stamp = (NOW - age).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def test_old_temporary_uploads_deleted(app, app_ctx, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "LMS_TEMP_UPLOAD_MAX_AGE_HOURS", 24)
    old_tmp = _write(tmp_path / "tmp" / "upload-1.pdf", timedelta(hours=30))
    new_tmp = _write(tmp_path / "tmp" / "upload-2.pdf", timedelta(hours=2))
    old_import = _write(tmp_path / "imports" / "batch" / "people.xlsx", timedelta(days=3))
    os.utime(old_import.parent, ((NOW - timedelta(days=3)).timestamp(),) * 2)
    lesson_file = _write(tmp_path / "lessons" / "slides.pdf", timedelta(days=300))
    outside = _write(tmp_path.parent / f"{tmp_path.name}-outside.txt", timedelta(days=300))
    link = tmp_path / "tmp" / "link-out"
    link.symlink_to(outside)
    os.utime(link, ((NOW - timedelta(days=3)).timestamp(),) * 2, follow_symlinks=False)

    result = tasks.cleanup_temp_uploads(NOW)

    assert result == {**NOTHING_DELETED, "files_deleted": 3, "folders_deleted": 1}
    assert not old_tmp.exists()
    assert new_tmp.exists()
    assert not old_import.parent.exists()
    assert (tmp_path / "imports").is_dir()
    assert lesson_file.exists()
    assert not link.is_symlink()
    assert outside.exists()


def test_temp_upload_age_is_configurable(app, app_ctx, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "LMS_TEMP_UPLOAD_MAX_AGE_HOURS", 1)
    two_hours = _write(tmp_path / "tmp" / "a.csv", timedelta(hours=2))

    assert tasks.cleanup_temp_uploads(NOW)["files_deleted"] == 1
    assert not two_hours.exists()


def test_missing_temporary_folders_are_fine(app, app_ctx, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "none"))

    assert tasks.cleanup_temp_uploads(NOW) == NOTHING_DELETED


def test_every_cleanup_count_has_label():
    from lms.notifications.views import RESULT_LABELS

    assert set(tasks.CLEANUP_COUNTS) <= set(RESULT_LABELS)


def test_jobs_page_names_preview_counts(app, app_ctx, login, monkeypatch, tmp_path):
    build_learning_world()
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    run_job_once("cleanup_temp_uploads")
    admin = login("admin")
    admin.post("/language/en")

    page = admin.get("/admin/jobs").get_data(as_text=True)

    row = page.split('id="job-cleanup_temp_uploads"')[1].split("</tr>")[0]
    assert "Delete temporary uploads, unconfirmed import previews and unused lesson" in row
    for label in (
        "files deleted: 0",
        "HR record upload previews deleted: 0",
        "score sheet previews deleted: 0",
        "class roster previews deleted: 0",
        "question import previews deleted: 0",
        "framework import previews deleted: 0",
        "unused lesson images deleted: 0",
    ):
        assert label in row
    assert "_previews_deleted" not in row
    assert "lesson_images_deleted" not in row
