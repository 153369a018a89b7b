"""Quiz autosave under load, then a check that no answer was lost or duplicated.

    python -m bench.autosave --database-url sqlite:///bench/data/m.sqlite3 \
        --url-template "/attempts/{attempt_id}/answers"

The URL is a template filled with the attempt id, so the scenario can be
pointed at whichever autosave endpoint the app has. An app without one
returns 404 and the script stops after the first request with that message.

1. Serves the app and the hello baseline under gunicorn (same settings).
2. Logs ``--learners`` learners in, starts an attempt at a quiz each may take
   (the start form is found on the quiz page, as in ``bench.exam_burst``)
   and reads the questions and choices from the attempt page (inputs named
   ``q<question id>``).
3. Gives each learner a fixed answer per choice question (seeded random)
   and writes one autosave request per learner carrying the whole form, as
   the browser's autosave does: ``csrf_token``, ``seen=<question id>`` for
   every question and ``q<id>=<choice id>``, or with ``--json`` a JSON body
   ``{"answers": {"<question id>": [<choice ids>]}}``. wrk replays them
   round-robin for ``--duration`` seconds, so every attempt is saved many
   times, from several connections at once.
4. Prints req/s, the ratio to hello (target >= 0.20), p50/p99 and failures,
   then checks in the database that each attempt holds exactly one stored
   answer per question and that it equals the answer sent (no lost or
   duplicated answer). The stored choice ids are read from
   ``attempt_answer.response`` or, in older schemas, ``selected_choice_ids``. Attempts stay open; ``--cleanup`` deletes them,
   also when the run stops on an error.
"""

import argparse
import json
import os
import random
import re
import urllib.parse
from pathlib import Path

import sqlalchemy as sa

from bench.attempts import delete_attempts
from bench.exam_burst import CSRF, START_FORM, _request
from bench.generate import BENCH_PASSWORD, absolute_sqlite_url
from bench.inputs import positive_int, require_programs, require_sqlite_file
from bench.run import Server, run_wrk, work_folder

QUESTION_INPUT = re.compile(r'<input[^>]*name="q(\d+)"[^>]*value="(\d+)"')


def pick_learners(engine: sa.Engine, count: int) -> list[tuple[str, int]]:
    """Return (username, quiz id) of learners enrolled in a quiz's course with no open attempt."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(
            """
            SELECT u.username, min(q.id)
            FROM "user" u
            JOIN institution i ON i.id = u.institution_id
            JOIN enrolment e ON e.user_id = u.id
            JOIN programme_course pc ON pc.programme_id = e.programme_id
            JOIN quiz q ON q.course_id = pc.course_id
            WHERE i.code = 'demo-univ' AND u.active AND u.role IN ('counselor', 'party_worker')
              AND NOT EXISTS (SELECT 1 FROM attempt a WHERE a.quiz_id = q.id AND a.user_id = u.id)
            GROUP BY u.username ORDER BY u.username LIMIT :n
            """
        ), {"n": count})]


def open_attempt(port: int, username: str, quiz_id: int) -> dict:
    """Log in, start the quiz and return the attempt id, cookie, token and choices."""
    _s, _l, cookie, page = _request(port, "GET", "/login")
    form = urllib.parse.urlencode({"username": username, "password": BENCH_PASSWORD,
                                   "csrf_token": CSRF.search(page).group(1)})
    status, location, cookie, _ = _request(port, "POST", "/login", cookie, form)
    if status != 302 or "/login" in location:
        raise RuntimeError(f"login of {username} failed")
    _s, _l, new_cookie, page = _request(port, "GET", f"/quizzes/{quiz_id}", cookie)
    cookie = new_cookie or cookie
    action, body = next((a, b) for a, b in START_FORM.findall(page) if "start" in a)
    start = urllib.parse.urlencode({"csrf_token": CSRF.search(body).group(1)})
    status, location, new_cookie, _ = _request(port, "POST", action, cookie, start)
    cookie = new_cookie or cookie
    attempt_id = int(re.search(r"/attempts/(\d+)", location).group(1))
    _s, _l, new_cookie, page = _request(port, "GET", f"/attempts/{attempt_id}", cookie)
    cookie = new_cookie or cookie
    choices: dict[int, list[int]] = {}
    for question_id, choice_id in QUESTION_INPUT.findall(page):
        choices.setdefault(int(question_id), []).append(int(choice_id))
    return {"attempt_id": attempt_id, "cookie": cookie,
            "token": CSRF.search(page).group(1), "choices": choices}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--url-template", default="/attempts/{attempt_id}/answers")
    parser.add_argument("--json", action="store_true", help="send JSON instead of a form")
    parser.add_argument("--learners", type=positive_int, default=100)
    parser.add_argument("--duration", type=positive_int, default=15)
    parser.add_argument("--connections", type=positive_int, default=32)
    parser.add_argument("--workers", type=positive_int, default=4)
    parser.add_argument("--cleanup", action="store_true",
                        help="delete the attempts afterwards, also when the run stops on an error")
    parser.add_argument("--redis-url", default=None,
                        help="shared store for sessions and rate limits, as in production, "
                             "e.g. redis://127.0.0.1:6379/3")
    parser.add_argument("--keep-files", action="store_true",
                        help="keep the work folder (shuren-autosave-* in the system's temporary "
                             "folder): the gunicorn logs and wrk's request file, which contains "
                             "the learners' session cookies")
    args = parser.parse_args(argv)
    require_sqlite_file(args.database_url)
    require_programs("wrk")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    database_url = absolute_sqlite_url(args.database_url)
    engine = sa.create_engine(database_url)
    attempts: list[int] = []
    try:
        with work_folder("shuren-autosave-", keep=args.keep_files) as work_dir:
            failed = run(args, database_url, engine, work_dir, attempts)
    finally:
        if args.cleanup:
            delete_attempts(engine, attempts)
        engine.dispose()
    if failed:
        raise SystemExit(1)


def run(args: argparse.Namespace, database_url: str, engine: sa.Engine, work_dir: Path,
        attempts: list[int]) -> bool:
    """Run the scenario and print its results.

    Return True if an answer was lost, stored differently or duplicated, or
    if a request failed. Each attempt is added to ``attempts`` as soon as it
    is started, so the caller can delete them even if the run stops part way.
    """
    env = dict(os.environ, LMS_DATABASE_URL=database_url, LMS_SECRET_KEY="bench-secret-key",
               LMS_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
               LMS_LOGIN_RATE_LIMIT="1000000 per minute",
               LMS_LOGIN_ACCOUNT_RATE_LIMIT="1000000 per minute")
    if args.redis_url:
        env["LMS_REDIS_URL"] = args.redis_url
    rng = random.Random(20261204)

    hello = Server("bench.hello:app", env, args.workers, work_dir)
    try:
        hello.wait("/hello")
        baseline = run_wrk("hello", hello.base, ["GET\t/hello\t\t"], duration=args.duration,
                           connections=args.connections, work_dir=work_dir)
    finally:
        hello.stop()

    app = Server("wsgi:app", env, args.workers, work_dir)
    lines, sent = [], {}
    try:
        app.wait("/login")
        for username, quiz_id in pick_learners(engine, args.learners):
            attempt = open_attempt(app.port, username, quiz_id)
            attempts.append(attempt["attempt_id"])
            path = args.url_template.format(attempt_id=attempt["attempt_id"])
            answers = {}
            for question_id, choice_ids in attempt["choices"].items():
                answers[question_id] = rng.choice(choice_ids)
                sent[(attempt["attempt_id"], question_id)] = [answers[question_id]]
            if args.json:
                body = json.dumps({"answers": {str(q): [c] for q, c in answers.items()}})
            else:
                fields = [("csrf_token", attempt["token"])]
                fields += [("seen", q) for q in answers]
                fields += [(f"q{q}", c) for q, c in answers.items()]
                body = urllib.parse.urlencode(fields)
            lines.append(f"POST\t{path}\t{attempt['cookie']}\t{body}")
            if len(attempts) == 1:
                method_body = lines[-1].split("\t", 3)[3]
                status, _l, _c, _t = _request(
                    app.port, "POST", path, attempt["cookie"], method_body)
                if status == 404:
                    raise SystemExit(f"{path} returned 404: the app has no autosave endpoint "
                                     "there; pass --url-template")
        result = run_wrk("quiz autosave", app.base, lines, duration=args.duration,
                         connections=args.connections, work_dir=work_dir)
    finally:
        app.stop()

    columns = {column["name"] for column in sa.inspect(engine).get_columns("attempt_answer")}
    stored_column = "response" if "response" in columns else "selected_choice_ids"
    with engine.connect() as conn:
        stored = {}
        duplicates = 0
        for attempt_id, question_id, selected in conn.execute(sa.text(
            f"SELECT attempt_id, question_id, {stored_column} FROM attempt_answer "
            "WHERE attempt_id IN :ids"
        ).bindparams(sa.bindparam("ids", expanding=True)), {"ids": attempts}):
            if isinstance(selected, str):
                selected = json.loads(selected)
            duplicates += (attempt_id, question_id) in stored
            stored[(attempt_id, question_id)] = sorted(selected or [])
    lost = [key for key in sent if key not in stored]
    differ = [key for key in sent if key in stored and stored[key] != sent[key]]
    ratio = result.rps / baseline.rps if baseline.rps else float("nan")
    print("\n| scenario | req/s | ratio to hello | p50 ms | p99 ms | requests | failed |")
    print("|---|---|---|---|---|---|---|")
    for r, q in ((baseline, 1.0), (result, ratio)):
        print(f"| {r.name} | {r.rps:.0f} | {q:.2f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} "
              f"| {r.requests} | {r.failed} |")
    print(f"\n{len(sent)} answers sent to {len(attempts)} attempts: {len(lost)} lost, "
          f"{len(differ)} stored differently, {duplicates} duplicated")
    return bool(lost or differ or duplicates or result.failed)

if __name__ == "__main__":
    main()
