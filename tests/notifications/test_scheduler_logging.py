"""The scheduler leaves out APScheduler's per-job "Adding job tentatively" lines."""

import logging

from lms.scheduler import build_scheduler


def test_tentative_job_lines_dropped(app, caplog):
    caplog.set_level(logging.INFO, logger="apscheduler")

    build_scheduler(app)

    messages = [record.getMessage() for record in caplog.records]
    assert not [m for m in messages if m.startswith("Adding job tentatively")]


def test_other_apscheduler_lines_kept(caplog):
    caplog.set_level(logging.INFO, logger="apscheduler")

    logging.getLogger("apscheduler.scheduler").info("Scheduler started")

    assert [r.getMessage() for r in caplog.records] == ["Scheduler started"]
