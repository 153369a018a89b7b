"""Soak test: a steady fraction of the capacity for a long time, watching for leaks.

    python -m bench.soak --database-url sqlite:///bench/data/m.sqlite3 --duration 1800

Serves the app under gunicorn, logs learners in and builds the day's mix:
learner pages (dashboard, course outline, lessons), "mark lesson complete"
posts where a lesson still offers the form, and public verification
lookups. The server needs no reading time before a completion
(``LMS_LESSON_MIN_TIME_SHARE=0``), so those posts are stored. Unless ``--rate`` is given, a short wrk run of that mix measures the
capacity first; the soak then runs wrk for ``--duration`` seconds at
``--fraction`` of it (each connection pauses between requests).

Every ``--interval`` seconds it samples each worker's resident memory, the
database connections (``pg_stat_activity`` on PostgreSQL; on SQLite the
workers' open descriptors of the database file) and the size of SQLite's
WAL file. At the end it prints the samples and the verdicts: worker memory
growth from the end of the warm-up to the end (target under 10%),
connections at the end against the number of workers, the largest WAL size.
"""

import argparse
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from bench.generate import absolute_sqlite_url
from bench.inputs import positive_int, require_programs, require_sqlite_file
from bench.run import (Browser, Server, learner_paths, run_wrk, verification_codes,
                       work_folder)

COMPLETE_FORM = re.compile(
    r'<form[^>]*action="([^"]*/complete)"[^>]*>.*?name="csrf_token"[^>]*value="([^"]+)"', re.S
)


def build_mix(base: str, engine: sa.Engine, learners: int) -> list[str]:
    lines = []
    for username, pages in learner_paths(engine, "demo-univ", learners).items():
        browser = Browser(base)
        browser.log_in(username)
        for page in pages:
            status, html = browser.get(page)
            if status != 200:
                raise RuntimeError(f"{page} returned {status} for {username}")
            lines.append(f"GET\t{page}\t{browser.cookie}\t")
            form = COMPLETE_FORM.search(html)
            if form:
                # Rendering the page put the form token into the session cookie.
                lines.append(f"POST\t{form.group(1)}\t{browser.cookie}\tcsrf_token={form.group(2)}")
    codes = verification_codes(engine, 500)
    # About one request in ten is a public lookup.
    for index, code in enumerate(codes[: max(1, len(lines) // 9)]):
        lines.insert(index * 10 % max(1, len(lines)), f"GET\t/verify/{code}\t\t")
    return lines


class Sampler(threading.Thread):
    def __init__(self, server: Server, engine: sa.Engine, database_path: str | None,
                 interval: float):
        super().__init__(daemon=True)
        self.server, self.engine, self.interval = server, engine, interval
        self.database_path = database_path
        self.samples: list[dict] = []
        self.stop = threading.Event()
        self.started = time.monotonic()

    def connections(self) -> int:
        """Count the app's database connections.

        On SQLite each worker holds two: the request's session and the one
        ``SqlSessionStore.touch`` commits on, so 2 per worker is the steady state.
        """
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as conn:
                # Minus this sampler's own connection.
                return conn.scalar(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                )) - 1
        count = 0
        workers = subprocess.run(["pgrep", "-P", str(self.server.process.pid)],
                                 capture_output=True, text=True).stdout.split()
        for pid in workers:
            try:
                for fd in os.scandir(f"/proc/{pid}/fd"):
                    try:
                        if os.readlink(fd.path) == self.database_path:
                            count += 1
                    except OSError:
                        continue
            except OSError:
                continue
        return count

    def sample(self) -> dict:
        wal = None
        if self.database_path:
            try:
                wal = os.path.getsize(self.database_path + "-wal") / 2**20
            except OSError:
                wal = 0.0
        return {"t": time.monotonic() - self.started, "rss": self.server.worker_memory_mb(),
                "connections": self.connections(), "wal_mb": wal}

    def run(self) -> None:
        # Times count from the start of the steady load.
        self.started = time.monotonic()
        while not self.stop.is_set():
            self.samples.append(self.sample())
            self.stop.wait(self.interval)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--duration", type=positive_int, default=1800,
                        help="seconds of steady load")
    parser.add_argument("--fraction", type=float, default=0.5, help="of the measured capacity")
    parser.add_argument("--rate", type=float, help="requests per second; skips the capacity run")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--workers", type=positive_int, default=4)
    parser.add_argument("--connections", type=positive_int, default=16)
    parser.add_argument("--learners", type=positive_int, default=50)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--keep-files", action="store_true",
                        help="keep the work folder (shuren-soak-* in the system's temporary "
                             "folder): the gunicorn log and wrk's request files, which contain "
                             "the learners' session cookies")
    args = parser.parse_args(argv)
    require_sqlite_file(args.database_url)
    require_programs("wrk")
    with work_folder("shuren-soak-", keep=args.keep_files) as work_dir:
        soak(args, work_dir)


def soak(args: argparse.Namespace, work_dir: Path) -> None:
    database_url = absolute_sqlite_url(args.database_url)
    engine = sa.create_engine(database_url)
    database_path = engine.url.database if engine.dialect.name == "sqlite" else None
    env = dict(
        os.environ,
        LMS_DATABASE_URL=database_url,
        LMS_SECRET_KEY="bench-secret-key",
        LMS_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
        LMS_LOGIN_RATE_LIMIT="100000 per minute",
        LMS_VERIFY_RATE_LIMIT="100000000 per minute",
        # Sessions replayed by wrk must outlive the soak.
        LMS_SESSION_IDLE_MINUTES=str(max(30, args.duration // 60 + 30)),
        # Opening a lesson to read its form is enough to complete it, so the
        # completion posts are accepted instead of redirected for reading time.
        LMS_LESSON_MIN_TIME_SHARE="0",
    )
    if args.redis_url:
        env["LMS_REDIS_URL"] = args.redis_url
    app = Server("wsgi:app", env, args.workers, work_dir)
    sampler = Sampler(app, engine, database_path, args.interval)
    try:
        app.wait("/login")
        lines = build_mix(app.base, engine, args.learners)
        rate = args.rate
        if rate is None:
            capacity = run_wrk("capacity", app.base, lines, duration=10, connections=32,
                               work_dir=work_dir)
            rate = capacity.rps * args.fraction
            print(f"capacity {capacity.rps:.0f} req/s; soaking at {rate:.0f} req/s", flush=True)
        pause_ms = max(0, int(args.connections * 1000 / rate))
        sampler.start()
        result = run_wrk("soak", app.base, lines, duration=args.duration,
                         connections=args.connections, work_dir=work_dir,
                         extra=[str(pause_ms)])
        time.sleep(args.interval)
        sampler.stop.set()
        sampler.join()
        final = sampler.sample()
    finally:
        app.stop()
        engine.dispose()

    samples = sampler.samples
    print(f"\nsoak: {engine.url.get_backend_name()}, {args.duration} s at a target of "
          f"{rate:.0f} req/s ({args.connections} connections pausing {pause_ms} ms), "
          f"{args.workers} workers\n")
    print(f"achieved {result.rps:.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
          f"{result.requests} requests, {result.failed} failed\n")
    print("| t s | worker RSS MB | DB connections | WAL MB |\n|---|---|---|---|")
    for s in samples + [dict(final, t=final["t"])]:
        wal = f"{s['wal_mb']:.1f}" if s["wal_mb"] is not None else "-"
        print(f"| {s['t']:.0f} | {', '.join(str(m) for m in s['rss'])} | {s['connections']} | {wal} |")
    # Warm-up: the first tenth of the run, at least one sample.
    warm = next((s for s in samples if s["t"] >= args.duration / 10), samples[min(1, len(samples) - 1)])
    last = samples[-1]
    growth = (sum(last["rss"]) - sum(warm["rss"])) / sum(warm["rss"]) * 100 if warm["rss"] else 0
    print(f"\nworker memory after warm-up (t={warm['t']:.0f} s) {sum(warm['rss']):.1f} MB, "
          f"at the end {sum(last['rss']):.1f} MB: growth {growth:+.1f}% "
          f"({'met' if growth < 10 else 'NOT met'}: under 10%)")
    print(f"largest worker {max(max(s['rss']) for s in samples if s['rss'])} MB "
          f"(target under 200 MB)")
    print(f"database connections: max {max(s['connections'] for s in samples)} during the load, "
          f"{final['connections']} after it ({args.workers} workers)")
    if database_path:
        print(f"WAL: largest {max(s['wal_mb'] for s in samples):.1f} MB, "
              f"at the end {final['wal_mb']:.1f} MB")


if __name__ == "__main__":
    main()
