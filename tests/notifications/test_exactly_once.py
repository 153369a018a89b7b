"""Two scheduler processes against one PostgreSQL database run each slot once.

Runs whenever PostgreSQL accepts connections on 127.0.0.1:5432, in a database of its own
that is created and dropped here, so the main suite's tables are untouched.
"""

import contextlib
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
WORKER = Path(__file__).with_name("sched_worker.py")
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _admin_engine():
    return sa.create_engine(
        f"{PG_SERVER}/postgres",
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 2},
        poolclass=sa.pool.NullPool,
    )


def _postgresql_reachable() -> bool:
    try:
        with _admin_engine().connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.OperationalError:
        return False


pytestmark = pytest.mark.skipif(
    not _postgresql_reachable(),
    reason="PostgreSQL is not reachable on 127.0.0.1:5432 (user postgres)",
)


@pytest.fixture
def scheduler_database(app):
    """Create an empty database with the app's tables; drop it afterwards."""
    from lms.extensions import db

    name = f"shuren_sched_test_{os.getpid()}"
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_SERVER}/{name}"
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    db.metadata.create_all(engine)
    try:
        yield url, engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_two_processes_run_each_slot_once(scheduler_database, tmp_path):
    url, engine = scheduler_database
    probe_log = tmp_path / "probe.log"
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    with contextlib.ExitStack() as stack:
        workers = []
        for index in range(2):
            log = stack.enter_context(open(tmp_path / f"worker{index}.log", "w"))
            worker = stack.enter_context(
                subprocess.Popen(
                    [sys.executable, str(WORKER), url, str(probe_log)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                    cwd=PROJECT_ROOT,
                    env=env,
                )
            )
            stack.callback(_kill_if_running, worker)
            workers.append(worker)
        # App start-up imports WeasyPrint and takes seconds, so the workers
        # report ready and then start together at a common wall-clock time.
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        start = time.time() + 0.3
        for worker in workers:
            worker.stdin.write(f"{start}\n")
            worker.stdin.flush()
        for index, worker in enumerate(workers):
            returncode = worker.wait(timeout=120)
            assert returncode == 0, (tmp_path / f"worker{index}.log").read_text()[-3000:]
        worker_pids = {worker.pid for worker in workers}

    with engine.connect() as connection:
        runs = connection.execute(
            sa.text("SELECT job_id, scheduled_for, ok, pid FROM job_run ORDER BY scheduled_for")
        ).all()
    probes = probe_log.read_text().splitlines()

    lockstep = [run for run in runs if run.job_id == "exactly_once_probe"]
    assert len(lockstep) == 5
    assert len({run.scheduled_for for run in lockstep}) == 5
    assert all(run.ok for run in lockstep)
    assert len([line for line in probes if line.startswith("slots ")]) == 5

    scheduled = [run for run in runs if run.job_id == "exactly_once_scheduled"]
    per_slot = Counter(run.scheduled_for for run in scheduled)
    assert len(per_slot) >= 2, "the scheduler phase fired fewer than two slots"
    assert max(per_slot.values()) == 1, f"slots run more than once: {per_slot}"
    assert all(run.ok for run in scheduled)
    assert all(slot.microsecond == 0 for slot in per_slot)
    assert len([line for line in probes if line.startswith("scheduler ")]) == len(scheduled)
    assert {run.pid for run in runs} <= worker_pids


def _kill_if_running(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.kill()
        worker.wait()
