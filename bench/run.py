"""Load benchmarks: Shuren under gunicorn against a bare Flask baseline, same run.

    python -m bench.run --database-url sqlite:///bench/data/m.sqlite3

The database must come from ``python -m bench.generate``. Each scenario runs
wrk (2 threads, bounded connections and duration) against gunicorn on
127.0.0.1, after the same wrk run against ``bench/hello.py`` under the same
gunicorn settings. The table printed at the end gives requests per second,
the ratio to hello, median and 99th-percentile latency, failed responses and
the workers' resident memory after the load.
"""

import argparse
import contextlib
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from bench.generate import BENCH_PASSWORD, absolute_sqlite_url
from bench.inputs import positive_int, require_programs, require_sqlite_file

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "bench" / "requests.lua"
USER_AGENT = "shuren-bench/1.0"
SCENARIOS = ("learner", "learner-split", "floor", "verify", "hr")
#: Scenarios that replay the pages or cookies of logged-in learners.
LEARNER_SCENARIOS = {"learner", "learner-split", "floor"}


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    failed: int
    memory_mb: list = field(default_factory=list)
    ratio: float | None = None


class ServerDidNotStart(RuntimeError):
    """Error raised when a gunicorn process exits or does not respond in time.

    The process's log in the work folder contains the reason.
    """


@contextlib.contextmanager
def work_folder(prefix: str, keep: bool = False):
    """Create a private folder (mode 0700) for a benchmark's files and remove it afterwards.

    The folder contains server logs and request files, which may contain
    live session cookies, so it is removed when the block ends, also on an
    error. It is kept, and its path printed, when ``keep`` is true or when a
    server did not start, because that error message names the log in it.
    """
    path = Path(tempfile.mkdtemp(prefix=prefix))
    server_failed = False
    try:
        yield path
    except ServerDidNotStart:
        server_failed = True
        raise
    finally:
        if keep or server_failed:
            print(f"files kept in {path}", file=sys.stderr, flush=True)
        else:
            shutil.rmtree(path, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A gunicorn process on a free 127.0.0.1 port."""

    def __init__(self, app: str, env: dict, workers: int, log_dir: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(log_dir / f"gunicorn-{app.replace(':', '-')}-{self.port}.log", "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers),
             "--bind", f"127.0.0.1:{self.port}", "--timeout", "120",
             "--backlog", "4096", app],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait(self, path: str) -> None:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(self.base + path, timeout=5).close()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise ServerDidNotStart(f"gunicorn did not start; see {self.log.name}")
                time.sleep(0.3)

    def worker_pids(self) -> list[str]:
        return subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout.split()

    def worker_memory_mb(self) -> list[float]:
        sizes = []
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"VmRSS:\s+(\d+) kB", status)
            if match:
                sizes.append(round(int(match.group(1)) / 1024, 1))
        return sorted(sizes)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _latency_ms(text: str, percentile: str) -> float:
    match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def run_wrk(name: str, base: str, lines: list[str], *, duration: int, connections: int,
            work_dir: Path, extra: list[str] | None = None) -> Result:
    """Replay ``lines`` with wrk; ``extra`` goes to bench/requests.lua (a pause in ms)."""
    request_file = work_dir / f"{name}.tsv"
    request_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output = subprocess.run(
        ["wrk", "--threads", "2", "--connections", str(connections),
         "--duration", f"{duration}s", "--timeout", "10s", "--latency",
         "--script", str(LUA), base, "--", str(request_file), *(extra or [])],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    failed_match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors_match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    unexpected_match = re.search(r"Unexpected status: (\d+)", output)
    failed = int(failed_match.group(1)) if failed_match else 0
    # Redirects count as failures too: a logged-out learner gets a 302 to /login.
    failed = max(failed, int(unexpected_match.group(1)) if unexpected_match else 0)
    if errors_match:
        failed += sum(int(g) for g in errors_match.groups())
    return Result(name, rps, _latency_ms(output, "50"), _latency_ms(output, "99"), requests, failed)


class Browser:
    """Logs in through the real form and keeps the session cookie."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        # The agent wrk sends (bench/requests.lua): Flask-Login's strong session
        # protection ends a session whose agent changes.
        self.opener.addheaders = [("User-Agent", USER_AGENT)]

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""

    def log_in(self, username: str) -> None:
        _status, page = self.get("/login")
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode(
            {"username": username, "password": BENCH_PASSWORD, "csrf_token": token}
        ).encode()
        with self.opener.open(self.base + "/login", body, timeout=60) as response:
            if "/login" in response.url:
                raise RuntimeError(f"login of {username} failed")

    @property
    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def learner_paths(engine: sa.Engine, institution_code: str, count: int) -> dict[str, list[str]]:
    """Return username -> pages (dashboard, course outline, lessons) of its enrolments."""
    query = sa.text(
        """
        SELECT u.username, pc.course_id, l.id
        FROM "user" u
        JOIN institution i ON i.id = u.institution_id
        JOIN enrolment e ON e.user_id = u.id
        JOIN programme_course pc ON pc.programme_id = e.programme_id
        JOIN lesson l ON l.course_id = pc.course_id
        WHERE i.code = :code AND u.role IN ('counselor', 'party_worker')
          AND u.username IN (
            SELECT username FROM "user" WHERE institution_id = i.id
              AND role IN ('counselor', 'party_worker') ORDER BY id LIMIT :count)
        ORDER BY u.username, pc.course_id, l.id
        """
    )
    pages: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for username, course_id, lesson_id in conn.execute(query, {"code": institution_code, "count": count}):
            user_pages = pages.setdefault(username, ["/learning"])
            outline = f"/courses/{course_id}"
            if outline not in user_pages:
                user_pages.append(outline)
            if len(user_pages) < 12:
                user_pages.append(f"/courses/{course_id}/lessons/{lesson_id}")
    return pages


def page_kind(path: str) -> str:
    """Name the learner page type of ``path``: dashboard, course outline or lesson."""
    if "/lessons/" in path:
        return "lesson"
    if path.startswith("/courses/"):
        return "course outline"
    return "dashboard"


def verification_codes(engine: sa.Engine, count: int) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(
            sa.text("SELECT verification_code FROM certificate ORDER BY id LIMIT :n"), {"n": count}
        ))


def scenario_list(text: str) -> list[str]:
    """Argparse type of ``--scenarios``: known names, comma-separated."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {', '.join(unknown)}. Valid names: {', '.join(SCENARIOS)}"
        )
    if not names:
        raise argparse.ArgumentTypeError(f"no scenario given. Valid names: {', '.join(SCENARIOS)}")
    return names


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--duration", type=positive_int, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", type=positive_int, default=32)
    parser.add_argument("--workers", type=positive_int, default=4, help="gunicorn sync workers")
    parser.add_argument("--learners", type=positive_int, default=50,
                        help="logged-in learners replayed")
    parser.add_argument("--redis-url", default=None,
                        help="shared store for sessions and rate limits, e.g. redis://127.0.0.1:6379/3")
    parser.add_argument("--scenarios", type=scenario_list, default=list(SCENARIOS),
                        help="comma-separated, each runs on its own: learner (the mix), "
                             "learner-split (each learner page type alone), floor (the app's "
                             "/healthz with the learners' cookies: session check and hooks, "
                             "no page), verify, hr (default: all)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep-files", action="store_true",
                        help="keep the work folder (shuren-bench-* in the system's temporary "
                             "folder): the gunicorn logs and wrk's request files, which contain "
                             "the learners' session cookies")
    args = parser.parse_args(argv)
    require_sqlite_file(args.database_url)
    require_programs("wrk")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    with work_folder("shuren-bench-", keep=args.keep_files) as work_dir:
        run_scenarios(args, work_dir)


def run_scenarios(args: argparse.Namespace, work_dir: Path) -> None:
    database_url = absolute_sqlite_url(args.database_url)
    engine = sa.create_engine(database_url)
    env = dict(
        os.environ,
        LMS_DATABASE_URL=database_url,
        LMS_SECRET_KEY="bench-secret-key",
        LMS_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
        LMS_LOGIN_RATE_LIMIT="100000 per minute",
        LMS_LOGIN_ACCOUNT_RATE_LIMIT="100000 per minute",
        # One address (wrk) sends every lookup; the per-address limit would
        # turn the benchmark into a measurement of 429 responses.
        LMS_VERIFY_RATE_LIMIT="1000000 per minute",
    )
    if args.redis_url:
        env["LMS_REDIS_URL"] = args.redis_url
    results: list[Result] = []
    scenarios = args.scenarios

    hello = Server("bench.hello:app", env, args.workers, work_dir)
    try:
        hello.wait("/hello")
        baseline = run_wrk("hello", hello.base, ["GET\t/hello\t\t"], duration=args.duration,
                           connections=args.connections, work_dir=work_dir)
        baseline.memory_mb = hello.worker_memory_mb()
    finally:
        # A failed wrk run must not leave the baseline server running.
        hello.stop()
    baseline.ratio = 1.0
    results.append(baseline)

    app = Server("wsgi:app", env, args.workers, work_dir)
    try:
        app.wait("/login")
        if LEARNER_SCENARIOS.intersection(scenarios):
            lines = []
            by_kind: dict[str, list[str]] = {}
            for username, pages in learner_paths(engine, "demo-univ", args.learners).items():
                browser = Browser(app.base)
                browser.log_in(username)
                for page in pages:
                    status, _ = browser.get(page)
                    if status != 200:
                        raise RuntimeError(f"{page} answered {status} for {username}")
                    lines.append(f"GET\t{page}\t{browser.cookie}\t")
                    by_kind.setdefault(page_kind(page), []).append(lines[-1])
            if "learner" in scenarios:
                results.append(run_wrk("learner pages", app.base, lines,
                                       duration=args.duration, connections=args.connections,
                                       work_dir=work_dir))
            if "floor" in scenarios:
                cookies = sorted({line.split("\t")[2] for line in lines})
                floor = [f"GET\t/healthz\t{cookie}\t" for cookie in cookies]
                results.append(run_wrk("app floor: healthz, logged in", app.base, floor,
                                       duration=args.duration, connections=args.connections,
                                       work_dir=work_dir))
            if "learner-split" in scenarios:
                for kind, kind_lines in by_kind.items():
                    results.append(run_wrk(f"learner: {kind}", app.base, kind_lines,
                                           duration=args.duration, connections=args.connections,
                                           work_dir=work_dir))
        if "verify" in scenarios:
            lines = [f"GET\t/verify/{code}\t\t" for code in verification_codes(engine, 2000)]
            results.append(run_wrk("verification lookups", app.base, lines,
                                   duration=args.duration, connections=args.connections,
                                   work_dir=work_dir))
        if "hr" in scenarios:
            browser = Browser(app.base)
            browser.log_in("hr")
            lines = [f"GET\t/compliance\t{browser.cookie}\t"]
            results.append(run_wrk("HR compliance dashboard", app.base, lines,
                                   duration=args.duration, connections=min(8, args.connections),
                                   work_dir=work_dir))
        memory = app.worker_memory_mb()
        for result in results[1:]:
            result.memory_mb = memory
    finally:
        app.stop()
        engine.dispose()

    for result in results:
        result.ratio = result.rps / baseline.rps if baseline.rps else None
    print(f"\ndatabase: {engine.url.get_backend_name()}, workers: {args.workers}, "
          f"connections: {args.connections}, duration: {args.duration}s\n")
    print("| scenario | req/s | ratio to hello | p50 ms | p99 ms | requests | failed | worker RSS MB |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r.name} | {r.rps:.0f} | {r.ratio:.2f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} "
              f"| {r.requests} | {r.failed} | {max(r.memory_mb) if r.memory_mb else '-'} |")
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in results], indent=2))


if __name__ == "__main__":
    main()
