"""Cost of each learner page in process, layer by layer, against bare Flask.

    python -m bench.page_costs --database-url sqlite:///bench/data/m.sqlite3

Serves nothing: requests go through the Flask test client, one at a time,
so the numbers are CPU time per request without gunicorn, sockets or
concurrency. For the counselor of the demo university with the most
enrolments, logged in through the real form, it times ``--repeat``
requests of each layer and prints a table:

- bare Flask ``/hello`` (``bench/hello.py``), the baseline of the load runs;
- Shuren's ``/healthz`` without a session: the app's hooks and middleware;
- ``/healthz`` with the learner's session: plus the session check and user;
- the learner pages: dashboard, a programme, a course outline and a lesson.

Each row gives milliseconds per request, the ratio of hello's cost to the
row's (the throughput ratio a CPU-bound server would reach) and the SQL
statements per request.
"""

import argparse
import re
import time

import sqlalchemy as sa

from bench.generate import BENCH_PASSWORD
from bench.inputs import positive_int, require_sqlite_file

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def per_request_ms(client, path: str, repeat: int) -> float:
    client.get(path)
    started = time.perf_counter()
    for _ in range(repeat):
        client.get(path)
    return (time.perf_counter() - started) / repeat * 1000


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--repeat", type=positive_int, default=300)
    args = parser.parse_args(argv)
    require_sqlite_file(args.database_url)

    from bench.hello import app as hello_app
    from bench.profile_pages import in_process_app
    from lms.extensions import db

    app = in_process_app(args.database_url)
    statements: list[str] = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute",
                        lambda *a, **k: statements.append(a[2]))
        username = db.session.execute(sa.text(
            "SELECT u.username FROM \"user\" u JOIN enrolment e ON e.user_id = u.id "
            "JOIN institution i ON i.id = u.institution_id "
            "WHERE i.code = 'demo-univ' AND u.role = 'counselor' "
            "GROUP BY u.id, u.username ORDER BY count(*) DESC, u.id LIMIT 1")).scalar()
        enrolments = db.session.execute(sa.text(
            "SELECT count(*) FROM enrolment e JOIN \"user\" u ON u.id = e.user_id "
            "WHERE u.username = :username"), {"username": username}).scalar()

    learner = app.test_client()
    token = CSRF.search(learner.get("/login").get_data(as_text=True)).group(1)
    response = learner.post("/login", data={"username": username, "password": BENCH_PASSWORD,
                                            "csrf_token": token})
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        raise SystemExit(f"login of {username} failed")
    dashboard = learner.get("/learning").get_data(as_text=True)
    lesson = re.search(r'href="(/courses/\d+/lessons/\d+)"', dashboard).group(1)
    programme = re.search(r'href="(/programmes/\d+)"', dashboard).group(1)

    rows = [("bare Flask /hello", hello_app.test_client(), "/hello"),
            ("Shuren /healthz, no session", app.test_client(), "/healthz"),
            ("Shuren /healthz, logged in", learner, "/healthz"),
            ("dashboard /learning", learner, "/learning"),
            ("programme page", learner, programme),
            ("course outline", learner, lesson.rsplit("/lessons", 1)[0]),
            ("lesson page", learner, lesson)]
    print(f"learner {username} ({enrolments} enrolments), {args.repeat} requests per row\n")
    print("| layer | path | ms per request | hello / row | SQL per request |")
    print("|---|---|---|---|---|")
    hello_ms = None
    for name, client, path in rows:
        ms = per_request_ms(client, path, args.repeat)
        statements.clear()
        status = client.get(path).status_code
        if status != 200:
            raise SystemExit(f"{path} returned {status}")
        hello_ms = hello_ms or ms
        print(f"| {name} | `{path}` | {ms:.2f} | {hello_ms / ms:.3f} | {len(statements)} |")


if __name__ == "__main__":
    main()
