"""Helpers for tests of the job that deletes abandoned upload previews."""

import os
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from lms.db import now_utc
from lms.extensions import db
from lms.scheduler import run_job_once

#: Age of an abandoned preview in these tests, past the 24 hours that
#: ``use_empty_upload_dir`` sets as ``LMS_TEMP_UPLOAD_MAX_AGE_HOURS``.
ABANDONED = timedelta(hours=25)


def use_empty_upload_dir(app, monkeypatch, tmp_path) -> Path:
    """Point ``UPLOAD_DIR`` at an empty folder, so job counts cover this test only."""
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(folder))
    monkeypatch.setitem(app.config, "LMS_TEMP_UPLOAD_MAX_AGE_HOURS", 24)
    return folder


def age_file(path: Path, age: timedelta = ABANDONED) -> None:
    """Set the modification time of ``path`` to ``age`` ago."""
    stamp = (now_utc() - age).timestamp()
    os.utime(path, (stamp, stamp))


def age_row(model, row_id: int, age: timedelta = ABANDONED) -> None:
    """Set ``created_at`` of one row to ``age`` ago and commit."""
    db.session.execute(
        sa.update(model).where(model.id == row_id).values(created_at=now_utc() - age)
    )
    db.session.commit()


def run_cleanup() -> dict:
    """Run the ``cleanup_temp_uploads`` job as the scheduler does; return its counts."""
    run = run_job_once("cleanup_temp_uploads")
    assert run is not None, "another process holds the job"
    assert run.ok, run.error
    return run.result
