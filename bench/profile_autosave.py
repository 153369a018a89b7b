"""Profile the quiz autosave in process: one learner's attempt saved many times.

    python -m bench.profile_autosave --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_m

Logs one learner in, starts an attempt at a quiz with choice questions and
posts the whole form, as ``static/js/autosave.js`` sends it, ``--saves``
times: the first save inserts the answers, the rest update them, as most
saves of an exam do. Prints the statements of an updating save (with
``executemany`` marked), then CPU and wall-clock time per save without the
profiler, and a profile of the same saves. The attempt is deleted at the
end unless ``--keep`` is given.
"""

import argparse
import io
import cProfile
import pstats
import re
import time

import sqlalchemy as sa

from werkzeug.datastructures import MultiDict

from bench.attempts import delete_attempts
from bench.exam_burst import CSRF, pick_quiz
from bench.inputs import non_negative_int, positive_int, require_sqlite_file
from bench.profile_pages import in_process_app
from bench.profile_start import prepare

QUESTION_INPUT = re.compile(r'<input[^>]*name="q(\d+)"[^>]*value="(\d+)"')
ATTEMPT_ID = re.compile(r"/attempts/(\d+)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--saves", type=positive_int, default=300)
    parser.add_argument("--top", type=non_negative_int, default=30,
                        help="functions listed from the profile (0 lists none)")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--keep", action="store_true", help="keep the attempt after profiling")
    args = parser.parse_args(argv)
    require_sqlite_file(args.database_url)

    from lms.extensions import db

    app = in_process_app(args.database_url)
    with app.app_context():
        engine = db.engine
    quiz_id, usernames = pick_quiz(engine, 1)
    client, action, data = prepare(app, usernames[0], quiz_id)
    response = client.post(action, data=data)
    attempt_id = int(ATTEMPT_ID.search(response.headers["Location"]).group(1))
    try:
        page = client.get(f"/attempts/{attempt_id}").get_data(as_text=True)
        chosen: dict[str, str] = {}
        for question_id, choice_id in QUESTION_INPUT.findall(page):
            chosen.setdefault(question_id, choice_id)
        form = [("csrf_token", CSRF.search(page).group(1))]
        form += [("seen", question_id) for question_id in chosen]
        form += [(f"q{question_id}", choice_id) for question_id, choice_id in chosen.items()]
        url = f"/attempts/{attempt_id}/answers"
        headers = {"X-Requested-With": "XMLHttpRequest"}

        def save() -> None:
            result = client.post(url, data=MultiDict(form), headers=headers)
            if result.status_code != 200:
                raise SystemExit(f"save failed: {result.status_code} {result.get_data()[:200]!r}")

        save()
        statements: list[str] = []
        listener = lambda *a, **k: statements.append(("many " if a[5] else "") + a[2])  # noqa: E731
        sa.event.listen(engine, "before_cursor_execute", listener)
        save()
        sa.event.remove(engine, "before_cursor_execute", listener)
        print(f"quiz {quiz_id}, {len(chosen)} choice questions, {engine.dialect.name}")
        print(f"{len(statements)} SQL statements in an updating save:")
        for statement in statements:
            print("   ", " ".join(statement.split())[:150])

        half = max(1, args.saves // 2)
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(half):
            save()
        wall = (time.perf_counter() - wall) / half * 1000
        cpu = (time.process_time() - cpu) / half * 1000
        print(f"{half} saves without the profiler: {wall:.2f} ms wall-clock, "
              f"{cpu:.2f} ms CPU of this process per save")
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(half):
            save()
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    finally:
        if not args.keep:
            delete_attempts(engine, [attempt_id])


if __name__ == "__main__":
    main()
