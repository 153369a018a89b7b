"""Profile pages in-process through the Flask test client on a generated database.

    python -m bench.profile_pages --database-url sqlite:///bench/data/s.sqlite3 \
        --path /learning --path /verify/CODE --repeat 50

Logs in as ``--username`` (a generated learner of the demo university when
omitted) through the real login form, requests each path ``--repeat``
times under cProfile and prints the hottest functions and the number of SQL
statements per request.
"""

import argparse
import cProfile
import io
import pstats
import re
import time

import sqlalchemy as sa

from bench.generate import BENCH_PASSWORD, absolute_sqlite_url
from bench.inputs import non_negative_int, positive_int, require_sqlite_file


def in_process_app(database_url: str):
    """Return the app on a generated database, with limits that a profiling run never hits."""
    from lms import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": absolute_sqlite_url(database_url),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "LOGIN_RATE_LIMIT": "100000 per minute",
        "LOGIN_ACCOUNT_RATE_LIMIT": "100000 per minute",
        "VERIFY_RATE_LIMIT": "1000000 per minute",
        "RATELIMIT_STORAGE_URI": "memory://",
    })


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--path", action="append", default=[])
    parser.add_argument("--username")
    parser.add_argument("--repeat", type=positive_int, default=50)
    parser.add_argument("--top", type=non_negative_int, default=40,
                        help="functions listed from the profile (0 lists none)")
    parser.add_argument("--sort", default="cumulative")
    args = parser.parse_args(argv)
    require_sqlite_file(args.database_url)

    from lms.extensions import db

    app = in_process_app(args.database_url)
    statements = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute",
                        lambda *a, **k: statements.append(a[2]))
        username = args.username or db.session.execute(sa.text(
            "SELECT u.username FROM \"user\" u JOIN enrolment e ON e.user_id = u.id "
            "WHERE u.role = 'counselor' ORDER BY u.id LIMIT 1")).scalar()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": BENCH_PASSWORD,
                                           "csrf_token": token})
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        raise SystemExit(f"login of {username} failed")
    print(f"logged in as {username}")
    for path in args.path:
        response = client.get(path)
        print(f"{path}: status {response.status_code}")
        statements.clear()
        client.get(path)
        print(f"  {len(statements)} SQL statements per request")
        for statement in statements:
            print("   ", " ".join(statement.split())[:160])
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for _ in range(args.repeat):
            client.get(path)
        profile.disable()
        elapsed = (time.perf_counter() - started) / args.repeat
        print(f"  {elapsed * 1000:.1f} ms per request (profiled)")
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
