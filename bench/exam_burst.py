"""Synchronised exam start: thousands of learners press "start" within seconds.

    python -m bench.exam_burst \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/h_bench_m \
        --learners 5000 --window 10 --concurrency 128

1. Picks the quiz with the most learners of the demo university who are
   enrolled in a programme that contains its course and have no attempt at
   it yet, and takes up to ``--learners`` of them.
2. Serves the app under gunicorn and logs each learner in through the real
   form, then opens the quiz page and takes the start form's action and
   CSRF token from its HTML (the URL is never built here, so a rewritten
   quiz engine with another start URL still works).
3. A second process fires the starts open-loop: request i is due at
   ``i * window / learners`` seconds and sent on one of at most
   ``--concurrency`` connections open at once, so the whole burst is due
   within the window. A fraction
   of learners (``--double-click``) sends the same start twice at once.
4. Checks every answer is a redirect to an attempt page, that both starts
   of a double click name the same attempt, and, in the database, that each
   learner has exactly one attempt at the quiz and it is open. Prints the
   latency percentiles from the due time (includes waiting for a free
   client connection) and from the send time, the sending and finishing
   times, and the most database connections seen during the burst.
5. Deletes the attempts it created (``--keep`` leaves them), so the next run
   finds the same quiz again. On PostgreSQL it vacuums the tables it wrote
   to before the burst and after the deletion, so that dead rows of earlier
   runs do not slow the next one down when autovacuum is off.
"""

import argparse
import collections
import http.client
import json
import os
import re
import selectors
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

from bench.attempts import ATTEMPT_TABLES, delete_attempts, reclaim
from bench.generate import BENCH_PASSWORD, absolute_sqlite_url
from bench.inputs import positive_int, require_sqlite_file
from bench.run import USER_AGENT, Server, work_folder

START_FORM = re.compile(r"<form[^>]*\baction=\"([^\"]*)\"[^>]*>(.*?)</form>", re.S | re.I)
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ATTEMPT_LOCATION = re.compile(r"/attempts/(\d+)")


#: The tables a burst writes to: its attempts, and the session records whose
#: last activity each start refreshes when sessions live in the database.
BURST_TABLES = (*ATTEMPT_TABLES, "user_session")


def pick_quiz(engine: sa.Engine, count: int) -> tuple[int, list[str]]:
    """Return the quiz with the most eligible learners and up to ``count`` of them."""
    eligible = """
        FROM quiz q
        JOIN programme_course pc ON pc.course_id = q.course_id
        JOIN enrolment e ON e.programme_id = pc.programme_id
        JOIN "user" u ON u.id = e.user_id
        JOIN institution i ON i.id = u.institution_id
        WHERE i.code = 'demo-univ' AND u.active
          AND u.role IN ('counselor', 'party_worker')
          AND NOT EXISTS (SELECT 1 FROM attempt a WHERE a.quiz_id = q.id AND a.user_id = u.id)
    """
    with engine.connect() as conn:
        quiz_id = conn.scalar(sa.text(
            f"SELECT q.id {eligible} GROUP BY q.id ORDER BY count(DISTINCT u.id) DESC, q.id LIMIT 1"
        ))
        if quiz_id is None:
            raise SystemExit("no quiz has learners without an attempt; regenerate the data")
        usernames = list(conn.scalars(sa.text(
            f"SELECT DISTINCT u.username {eligible} AND q.id = :quiz ORDER BY u.username LIMIT :n"
        ), {"quiz": quiz_id, "n": count}))
    return quiz_id, usernames


def _request(port: int, method: str, path: str, cookie: str = "", body: str = ""):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"User-Agent": USER_AGENT, "Cookie": cookie}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body or None, headers)
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    # The app sets one cookie, the signed session.
    set_cookie = response.getheader("Set-Cookie") or ""
    return response.status, response.getheader("Location") or "", set_cookie.split(";")[0], text


def prepare(port: int, username: str, quiz_id: int) -> dict:
    """Log in, open the quiz page and return what the start request needs.

    Redirects are not followed, so logging thousands of learners in does not
    also render thousands of dashboards.
    """
    _status, _location, cookie, page = _request(port, "GET", "/login")
    token = CSRF.search(page).group(1)
    form = urllib.parse.urlencode(
        {"username": username, "password": BENCH_PASSWORD, "csrf_token": token})
    status, location, new_cookie, _ = _request(port, "POST", "/login", cookie, form)
    if status != 302 or "/login" in location or not new_cookie:
        raise RuntimeError(f"login of {username} failed")
    cookie = new_cookie
    status, _location, new_cookie, page = _request(port, "GET", f"/quizzes/{quiz_id}", cookie)
    if status != 200:
        raise RuntimeError(f"quiz page returned {status} for {username}")
    # The page's form token is kept in the session, which the response re-signs.
    cookie = new_cookie or cookie
    for action, body in START_FORM.findall(page):
        token = CSRF.search(body)
        if token and "start" in action:
            return {"username": username, "cookie": cookie, "action": action,
                    "body": urllib.parse.urlencode({"csrf_token": token.group(1)})}
    raise RuntimeError(f"no start form on the quiz page of {username}")


def _start_request(item: dict, port: int) -> bytes:
    body = item["body"].encode()
    return (
        f"POST {item['action']} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"User-Agent: {USER_AGENT}\r\n"
        f"Cookie: {item['cookie']}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + body


STATUS_LINE = re.compile(rb"^HTTP/1\.[01] (\d{3})")
LOCATION_HEADER = re.compile(rb"\r\nLocation: *([^\r\n]*)", re.I)


def fire(plan_file: Path, port: int, concurrency: int, result_file: Path) -> None:
    """Send every planned start at its due time, then write the outcomes to ``result_file``.

    One thread drives at most ``concurrency`` non-blocking sockets, each
    carrying one prepared request, so the client takes little of the CPU
    it shares with the server. A real burst comes from thousands of
    browsers on other machines.
    """
    plan = collections.deque(json.loads(plan_file.read_text()))
    selector = selectors.DefaultSelector()
    outcomes = []
    started = time.monotonic() + 0.5
    cpu_started = time.process_time()

    def finish(sock, state, error=None) -> None:
        selector.unregister(sock)
        sock.close()
        status = location = None
        head = bytes(state["received"]).split(b"\r\n\r\n", 1)[0]
        match = STATUS_LINE.match(head)
        if match and error is None:
            status = int(match.group(1))
            found = LOCATION_HEADER.search(head)
            location = found.group(1).decode() if found else ""
        elif error is None:
            error = f"no HTTP response: {head[:80]!r}"
        item = state["item"]
        outcomes.append({"username": item["username"], "due": item["due"],
                         "sent": state["sent"] - started, "done": time.monotonic() - started,
                         "status": status, "location": location or "", "error": error})

    while plan or selector.get_map():
        now = time.monotonic()
        while plan and len(selector.get_map()) < concurrency and started + plan[0]["due"] <= now:
            item = plan.popleft()
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
            state = {"item": item, "request": _start_request(item, port), "sent": now,
                     "received": bytearray()}
            selector.register(sock, selectors.EVENT_WRITE, state)
        if plan and len(selector.get_map()) < concurrency:
            timeout = max(0.0, started + plan[0]["due"] - time.monotonic())
        else:
            timeout = 1.0
        for key, events in selector.select(timeout):
            sock, state = key.fileobj, key.data
            try:
                if events & selectors.EVENT_WRITE:
                    sent = sock.send(state["request"])
                    state["request"] = state["request"][sent:]
                    if not state["request"]:
                        selector.modify(sock, selectors.EVENT_READ, state)
                    continue
                chunk = sock.recv(65536)
            except OSError as exc:
                finish(sock, state, repr(exc))
                continue
            if chunk:
                state["received"] += chunk
            else:
                # gunicorn's sync workers close the connection after each response.
                finish(sock, state)
    result_file.write_text(json.dumps({"outcomes": outcomes,
                                       "cpu_seconds": time.process_time() - cpu_started}))


def cpu_seconds(pids) -> float:
    """Return the user plus system CPU time of the live processes ``pids``, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def database_backends(engine: sa.Engine) -> list[int]:
    """Return the PostgreSQL server processes of the app's connections (none on SQLite)."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        return list(conn.scalars(sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--learners", type=positive_int, default=5000)
    parser.add_argument("--window", type=float, default=10.0, help="seconds the starts are due in")
    parser.add_argument("--concurrency", type=positive_int, default=128,
                        help="client connections at once")
    parser.add_argument("--workers", type=positive_int, default=4, help="gunicorn sync workers")
    parser.add_argument("--double-click", type=float, default=0.05,
                        help="fraction of learners that send their start twice at once")
    parser.add_argument("--redis-url", default=None,
                        help="shared store for sessions and rate limits, as in production,"
                        " e.g. redis://127.0.0.1:6379/3; without it sessions live in the database")
    parser.add_argument("--keep", action="store_true", help="keep the attempts created")
    parser.add_argument("--keep-files", action="store_true",
                        help="keep the work folder (shuren-burst-* in the system's temporary "
                             "folder): the gunicorn log, plan.json with the learners' session "
                             "cookies and result.json")
    parser.add_argument("--fire", nargs=4, metavar=("PLAN", "PORT", "RESULT", "_"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.fire:
        plan, port, result, _ = args.fire
        fire(Path(plan), int(port), args.concurrency, Path(result))
        return
    require_sqlite_file(args.database_url)
    with work_folder("shuren-burst-", keep=args.keep_files) as work_dir:
        burst(args, work_dir)


def burst(args: argparse.Namespace, work_dir: Path) -> None:
    database_url = absolute_sqlite_url(args.database_url)
    engine = sa.create_engine(database_url)
    quiz_id, usernames = pick_quiz(engine, args.learners)
    print(f"quiz {quiz_id}: {len(usernames)} learners", flush=True)
    env = dict(
        os.environ,
        LMS_DATABASE_URL=database_url,
        LMS_SECRET_KEY="bench-secret-key",
        LMS_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
        LMS_LOGIN_RATE_LIMIT="1000000 per minute",
        LMS_LOGIN_ACCOUNT_RATE_LIMIT="1000000 per minute",
        # Sessions must outlive the login phase of thousands of learners.
        LMS_SESSION_IDLE_MINUTES="120",
    )
    if args.redis_url:
        env["LMS_REDIS_URL"] = args.redis_url
    app = Server("wsgi:app", env, args.workers, work_dir)
    burst_started_at = None
    try:
        app.wait("/login")
        began = time.monotonic()
        with ThreadPoolExecutor(max_workers=args.workers * 2) as pool:
            plans = list(pool.map(lambda name: prepare(app.port, name, quiz_id), usernames))
        print(f"{len(plans)} learners logged in in {time.monotonic() - began:.0f} s", flush=True)
        step = args.window / max(1, len(plans))
        doubled = int(len(plans) * args.double_click)
        schedule = []
        for index, item in enumerate(plans):
            schedule.append(dict(item, due=index * step))
            # Spread the double clicks over the whole window.
            if doubled and index % max(1, len(plans) // doubled) == 0:
                schedule.append(dict(item, due=index * step))
        schedule.sort(key=lambda item: item["due"])
        plan_file, result_file = work_dir / "plan.json", work_dir / "result.json"
        plan_file.write_text(json.dumps(schedule))

        # Dead rows that earlier runs left behind would slow this one down.
        reclaim(engine, BURST_TABLES)
        with engine.connect() as conn:
            burst_started_at = conn.scalar(sa.text("SELECT CURRENT_TIMESTAMP"))
        connections = []
        stop = threading.Event()

        def sample_connections() -> None:
            if engine.dialect.name != "postgresql":
                return
            with engine.connect() as conn:
                while not stop.is_set():
                    connections.append(conn.scalar(sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    )) - 1)
                    stop.wait(0.2)

        workers = app.worker_pids()
        backends = database_backends(engine)
        sampler = threading.Thread(target=sample_connections)
        sampler.start()
        cpu_before = (cpu_seconds(workers), cpu_seconds(backends))
        subprocess.run(
            [sys.executable, "-m", "bench.exam_burst", "--database-url", database_url,
             "--window", str(args.window), "--concurrency", str(args.concurrency),
             "--fire", str(plan_file), str(app.port), str(result_file), "-"],
            check=True, cwd=Path(__file__).resolve().parent.parent,
        )
        cpu_after = (cpu_seconds(workers), cpu_seconds(backends))
        stop.set()
        sampler.join()
        result = json.loads(result_file.read_text())
        outcomes = result["outcomes"]
        memory = app.worker_memory_mb()
    finally:
        app.stop()

    failures = [o for o in outcomes if o["error"] or o["status"] != 302
                or not ATTEMPT_LOCATION.search(o["location"])]
    attempt_of: dict[str, set[str]] = {}
    for o in outcomes:
        match = ATTEMPT_LOCATION.search(o["location"] or "")
        if match:
            attempt_of.setdefault(o["username"], set()).add(match.group(1))
    split_clicks = [name for name, ids in attempt_of.items() if len(ids) > 1]
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            """
            SELECT u.username, count(a.id) AS attempts,
                   count(a.id) FILTER (WHERE a.submitted_at IS NULL) AS open
            FROM "user" u LEFT JOIN attempt a ON a.user_id = u.id AND a.quiz_id = :quiz
            WHERE u.username IN :names GROUP BY u.username
            """
        ).bindparams(sa.bindparam("names", expanding=True)),
            {"quiz": quiz_id, "names": usernames}).all()
    wrong = [(name, attempts, open_) for name, attempts, open_ in rows
             if attempts != 1 or open_ != 1]

    from_due = [(o["done"] - o["due"]) * 1000 for o in outcomes]
    from_sent = [(o["done"] - o["sent"]) * 1000 for o in outcomes]
    print(f"\nexam start burst: {len(usernames)} learners, {len(outcomes)} requests "
          f"({len(outcomes) - len(usernames)} double clicks), due within {args.window:.0f} s, "
          f"{args.concurrency} client connections, {args.workers} gunicorn workers, "
          f"{engine.dialect.name}, sessions in {'Redis' if args.redis_url else 'the database'}\n")
    print("| measure | value |\n|---|---|")
    print(f"| last request sent at | {max(o['sent'] for o in outcomes):.1f} s |")
    print(f"| last answer at | {max(o['done'] for o in outcomes):.1f} s |")
    print(f"| throughput | {len(outcomes) / max(o['done'] for o in outcomes):.0f} starts/s |")
    for label, values in (("from due time", from_due), ("from send time", from_sent)):
        print(f"| latency {label} p50 / p99 / max | {percentile(values, 50):.0f} / "
              f"{percentile(values, 99):.0f} / {max(values):.0f} ms |")
    print(f"| failed requests | {len(failures)} |")
    print(f"| double clicks that got two attempts | {len(split_clicks)} |")
    print(f"| learners without exactly one open attempt | {len(wrong)} |")
    if connections:
        print(f"| database connections during the burst (max) | {max(connections)} |")
    starts = len(outcomes)
    spent = [result["cpu_seconds"]] + [after - before for before, after in zip(cpu_before, cpu_after)]
    print(f"| CPU per request: load client / gunicorn workers / database | "
          f"{spent[0] / starts * 1000:.2f} / {spent[1] / starts * 1000:.2f} / "
          + (f"{spent[2] / starts * 1000:.2f} ms |" if backends else "- |"))
    print(f"| worker RSS after the burst | {max(memory) if memory else '-'} MB |")
    for o in failures[:5]:
        print("failure:", o)
    for row in wrong[:5]:
        print("wrong attempts:", row)

    if not args.keep and burst_started_at is not None:
        with engine.connect() as conn:
            attempt_ids = list(conn.scalars(sa.text(
                "SELECT id FROM attempt WHERE quiz_id = :quiz AND started_at >= :since "
                "AND user_id IN (SELECT id FROM \"user\" WHERE username IN :names)"
            ).bindparams(sa.bindparam("names", expanding=True)),
                {"quiz": quiz_id, "since": burst_started_at, "names": usernames}))
        delete_attempts(engine, attempt_ids)
        reclaim(engine, ("user_session",))
    engine.dispose()
    if failures or split_clicks or wrong:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
