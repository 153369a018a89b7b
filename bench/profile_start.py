"""Profile the quiz start in-process: the POST of the start form, many learners in turn.

    python -m bench.profile_start --database-url sqlite:///bench/data/s.sqlite3 \
        --learners 200

Takes the quiz and learners that ``bench.exam_burst`` would take. Each
learner logs in through the real login form with the Flask test client and
opens the quiz page, and the start form's action and CSRF token are taken
from its HTML. Then every learner posts the start form once, and each must
be redirected to an attempt page. A listener counts the SQL statements. The
first half of the learners starts without a profiler, which gives the
wall-clock and CPU time of this process per start. The second half starts
under cProfile. Prints the statements of the first start, statements and ms
per start, and the hottest functions. The wall-clock time includes waiting
for the database, the CPU time does not.

``--idle`` ages the learners' session records first, as if they had waited
on the quiz page, so that every start also refreshes its session's
``last_seen_at``. The attempts created are deleted again unless ``--keep``
is given, so a run leaves the data as it found it.
"""

import argparse
import cProfile
import io
import pstats
import time
from datetime import timedelta

import sqlalchemy as sa

from bench.attempts import delete_attempts
from bench.exam_burst import ATTEMPT_LOCATION, CSRF, START_FORM, pick_quiz
from bench.generate import BENCH_PASSWORD
from bench.inputs import non_negative_int, positive_int, require_sqlite_file
from bench.profile_pages import in_process_app
from lms.db import now_utc


def prepare(app, username: str, quiz_id: int):
    """Log ``username`` in and return its test client with the start form's action and data."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    response = client.post(
        "/login", data={"username": username, "password": BENCH_PASSWORD, "csrf_token": token}
    )
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        raise SystemExit(f"login of {username} failed")
    page = client.get(f"/quizzes/{quiz_id}").get_data(as_text=True)
    for action, body in START_FORM.findall(page):
        token = CSRF.search(body)
        if token and "start" in action:
            return client, action, {"csrf_token": token.group(1)}
    raise SystemExit(f"no start form on the quiz page of {username}")


def age_sessions(engine: sa.Engine, usernames: list[str], idle: timedelta) -> None:
    """Move the last activity of the users' unrevoked sessions ``idle`` into the past."""
    from lms.accounts.models import User, UserSession

    sessions, users = UserSession.__table__, User.__table__
    with engine.begin() as conn:
        conn.execute(
            sa.update(sessions)
            .where(
                sessions.c.revoked_at.is_(None),
                sessions.c.user_id.in_(
                    sa.select(users.c.id).where(users.c.username.in_(usernames))
                ),
            )
            .values(last_seen_at=now_utc() - idle)
        )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--learners", type=positive_int, default=200)
    parser.add_argument("--top", type=non_negative_int, default=40,
                        help="functions listed from the profile (0 lists none)")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--save", metavar="FILE", help="also write the profile for pstats")
    parser.add_argument("--keep", action="store_true", help="keep the attempts created")
    parser.add_argument("--idle", type=non_negative_int, default=0,
                        help="seconds to age the learners' sessions by before the starts; "
                        "keep it below the idle timeout (LMS_SESSION_IDLE_MINUTES)")
    args = parser.parse_args(argv)
    require_sqlite_file(args.database_url)

    from lms.extensions import db

    app = in_process_app(args.database_url)
    with app.app_context():
        engine = db.engine
    quiz_id, usernames = pick_quiz(engine, args.learners)
    if len(usernames) < 3:
        raise SystemExit(f"quiz {quiz_id} has {len(usernames)} learners without an attempt")
    print(f"quiz {quiz_id}: {len(usernames)} learners, {engine.dialect.name}")
    began = time.perf_counter()
    plans = [prepare(app, username, quiz_id) for username in usernames]
    print(f"logged in and opened the quiz page in {time.perf_counter() - began:.0f} s")
    if args.idle:
        age_sessions(engine, usernames, timedelta(seconds=args.idle))

    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a, **k: statements.append(a[2]))
    attempt_ids: list[int] = []
    counts: list[int] = []

    def post_start(client, action: str, data: dict) -> None:
        statements.clear()
        response = client.post(action, data=data)
        counts.append(len(statements))
        match = ATTEMPT_LOCATION.search(response.headers.get("Location", ""))
        if response.status_code != 302 or match is None:
            raise SystemExit(
                f"start returned {response.status_code} {response.headers.get('Location')}"
            )
        attempt_ids.append(int(match.group(1)))

    try:
        # The first start warms the compiled-statement caches and is shown whole.
        post_start(*plans[0])
        print(f"\n{counts[0]} SQL statements in the first start:")
        for statement in statements:
            print("   ", " ".join(statement.split())[:160])
        half = (len(plans) + 1) // 2
        timed, profiled = plans[1:half], plans[half:]
        wall, cpu = time.perf_counter(), time.process_time()
        for plan in timed:
            post_start(*plan)
        wall = (time.perf_counter() - wall) / len(timed) * 1000
        cpu = (time.process_time() - cpu) / len(timed) * 1000
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for plan in profiled:
            post_start(*plan)
        profile.disable()
        elapsed = (time.perf_counter() - started) / len(profiled) * 1000
        measured = counts[1:]
        print(f"\n{len(measured)} starts: {sum(measured) / len(measured):.1f} SQL statements "
              f"per start (min {min(measured)}, max {max(measured)})")
        print(f"{len(timed)} starts without the profiler: {wall:.2f} ms wall-clock, "
              f"{cpu:.2f} ms CPU of this process per start")
        print(f"{len(profiled)} starts under cProfile: {elapsed:.2f} ms per start")
        if args.save:
            profile.dump_stats(args.save)
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    finally:
        if not args.keep:
            delete_attempts(engine, attempt_ids)


if __name__ == "__main__":
    main()
