"""One scheduler process for the exactly-once test; the test starts two of these.

Usage: ``python sched_worker.py DATABASE_URL PROBE_LOG``. The worker creates
the app, prints ``ready``, reads a start time (Unix seconds) from stdin and
then, in step with its twin:

1. calls ``run_job_once`` for slot i at start + i * SLOT_SPACING seconds, for
   SLOTS slots, like two schedulers firing the same time;
2. runs a real ``BackgroundScheduler`` with the probe job every second for
   SCHEDULER_SECONDS seconds.

The probe job appends "<phase> <slot> <pid>" to PROBE_LOG, so the test can
count how often the job body ran, not only how many run rows exist.
"""

import os
import sys
import time
from datetime import datetime, timedelta, timezone

SLOTS = 5
SLOT_SPACING = 0.5
PROBE_SECONDS = 0.2
SCHEDULER_SECONDS = 3.2
FIRST_SLOT = datetime(2026, 3, 1, 0, 0, tzinfo=timezone.utc)


def main() -> None:
    database_url, probe_log = sys.argv[1], sys.argv[2]

    from lms import create_app
    from lms.scheduler import JobSpec, build_scheduler, run_job_once

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    phase = {"name": "slots", "slot": None}

    def probe(now):
        time.sleep(PROBE_SECONDS)
        with open(probe_log, "a", encoding="utf-8") as log:
            log.write(f"{phase['name']} {phase['slot']} {os.getpid()}\n")
        return {"pid": os.getpid()}

    print("ready", flush=True)
    start = float(sys.stdin.readline())

    lockstep = JobSpec("exactly_once_probe", probe, "* * * * *")
    with app.app_context():
        for index in range(SLOTS):
            time.sleep(max(0.0, start + index * SLOT_SPACING - time.time()))
            slot = FIRST_SLOT + timedelta(minutes=index)
            phase["slot"] = slot.isoformat()
            run_job_once(lockstep.id, scheduled_for=slot, specs=(lockstep,))

    phase.update(name="scheduler", slot="-")
    every_second = JobSpec(
        "exactly_once_scheduled", probe, {"second": "*"}, misfire_grace_seconds=2
    )
    scheduler = build_scheduler(app, specs=(every_second,))
    scheduler.start()
    time.sleep(SCHEDULER_SECONDS)
    scheduler.shutdown(wait=True)
    print("done", flush=True)


if __name__ == "__main__":
    main()
    # Skip the interpreter's module teardown, which takes seconds after
    # WeasyPrint is loaded; everything the test reads is already written.
    os._exit(0)
