"""The benchmark tools' checks of their command-line input.

No test here starts a server or a load run: the tools stop on their input
first, and the tests of ``bench.run``'s scenarios replace its servers, wrk
and logins with stand-ins that only record what would have run.
"""

import argparse
import importlib

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.extensions import db
from lms.organisations.models import Institution
from tests.factories import make_institution, make_user

READ_ONLY_TOOLS = [
    "bench.run", "bench.page_costs", "bench.compliance_report", "bench.autosave",
    "bench.exam_burst", "bench.soak", "bench.profile_start", "bench.profile_autosave",
    "bench.profile_pages",
]


def _fill_test_database(app) -> str:
    """Add an institution and a user to the test database, and return its URL."""
    with app.app_context():
        make_user(make_institution(), "kept-user")
        db.session.commit()
        db.session.remove()
    return app.config["SQLALCHEMY_DATABASE_URI"]


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        counts = (
            db.session.scalar(sa.select(sa.func.count()).select_from(Institution)),
            db.session.scalar(sa.select(sa.func.count()).select_from(User)),
        )
        db.session.remove()
    return counts


# -- databases that already hold data --------------------------------------------


def test_certificate_batch_rejects_filled_database(app):
    from bench import certificate_batch
    from bench.inputs import database_name

    url = _fill_test_database(app)

    with pytest.raises(SystemExit) as stopped:
        certificate_batch.main(["-n", "1", "--database-url", url])

    message = str(stopped.value.code)
    assert database_name(url) in message
    assert "user" in message
    assert "empty database" in message
    assert _counts(app) == (1, 1)


def test_generate_rejects_filled_database(app):
    from bench.generate import generate
    from bench.inputs import database_name

    url = _fill_test_database(app)

    with pytest.raises(SystemExit) as stopped:
        generate(url, "S")

    message = str(stopped.value.code)
    assert database_name(url) in message
    assert "drop and recreate" in message
    assert "new SQLite file" in message
    assert _counts(app) == (1, 1)


def test_empty_tables_not_listed(app):
    from bench.inputs import tables_with_rows

    assert tables_with_rows(app.config["SQLALCHEMY_DATABASE_URI"]) == []


def test_database_name_hides_password():
    from bench.inputs import database_name

    name = database_name("postgresql+psycopg://bench:secret@127.0.0.1:5432/bench_m")

    assert "secret" not in name
    assert "bench_m" in name


# -- SQLite files that do not exist ----------------------------------------------


@pytest.mark.parametrize("tool", READ_ONLY_TOOLS)
def test_read_only_tool_rejects_missing_file(tool, tmp_path, fake_load):
    missing = tmp_path / "data" / "m.sqlite3"

    with pytest.raises(SystemExit) as stopped:
        importlib.import_module(tool).main(["--database-url", f"sqlite:///{missing}"])

    message = str(stopped.value.code)
    assert str(missing) in message
    assert "python -m bench.generate" in message
    assert not missing.exists()
    assert fake_load == []


def test_missing_relative_path_named_absolute(tmp_path, monkeypatch):
    from bench.inputs import require_sqlite_file

    monkeypatch.chdir(tmp_path)

    with pytest.raises(SystemExit) as stopped:
        require_sqlite_file("sqlite:///bench/data/m.sqlite3")

    assert str(tmp_path / "bench" / "data" / "m.sqlite3") in str(stopped.value.code)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_and_other_databases_pass(tmp_path):
    from bench.inputs import require_sqlite_file

    existing = tmp_path / "m.sqlite3"
    existing.touch()

    require_sqlite_file(f"sqlite:///{existing}")
    require_sqlite_file("sqlite://")
    require_sqlite_file("postgresql+psycopg://postgres@127.0.0.1:5432/bench_m")


# -- counts that must be positive ------------------------------------------------


@pytest.mark.parametrize("text", ["0", "-3", "two", "1.5"])
def test_positive_int_rejects(text):
    from bench.inputs import positive_int

    with pytest.raises(argparse.ArgumentTypeError):
        positive_int(text)


def test_whole_number_types_accept():
    from bench.inputs import non_negative_int, positive_int

    assert positive_int("7") == 7
    assert non_negative_int("0") == 0
    with pytest.raises(argparse.ArgumentTypeError):
        non_negative_int("-1")


@pytest.mark.parametrize(
    "tool, args",
    [
        ("bench.exam_burst", ["--learners", "0"]),
        ("bench.exam_burst", ["--workers", "0"]),
        ("bench.certificate_batch", ["-n", "0"]),
        ("bench.certificate_batch", ["-n", "1", "--processes", "0"]),
        ("bench.run", ["--duration", "-1"]),
        ("bench.run", ["--learners", "0"]),
        ("bench.autosave", ["--workers", "0"]),
        ("bench.soak", ["--duration", "0"]),
        ("bench.page_costs", ["--repeat", "0"]),
        ("bench.profile_pages", ["--repeat", "0"]),
        ("bench.profile_autosave", ["--saves", "0"]),
        ("bench.profile_start", ["--learners", "0"]),
        ("bench.profile_start", ["--idle", "-5"]),
        ("bench.scale_out", ["--duration", "0"]),
    ],
)
def test_non_positive_count_is_usage_error(tool, args, tmp_path, capsys, fake_load):
    if tool not in ("bench.certificate_batch", "bench.scale_out"):
        args = ["--database-url", f"sqlite:///{tmp_path / 'missing.sqlite3'}", *args]

    with pytest.raises(SystemExit) as stopped:
        importlib.import_module(tool).main(args)

    assert stopped.value.code == 2
    assert "or more" in capsys.readouterr().err
    assert fake_load == []


# -- bench.run's scenarios -------------------------------------------------------


@pytest.fixture
def fake_load(monkeypatch, tmp_path):
    """Replace bench.run's servers, wrk and logins; return the names of the wrk runs requested."""
    import bench.run as run

    runs: list[str] = []

    class FakeServer:
        def __init__(self, app, env, workers, log_dir):
            self.base = "http://127.0.0.1:9"

        def wait(self, path):
            pass

        def stop(self):
            pass

        def worker_memory_mb(self):
            return []

    class FakeBrowser:
        cookie = "session=fake"

        def __init__(self, base):
            pass

        def log_in(self, username):
            pass

        def get(self, path):
            return 200, ""

    def fake_wrk(name, base, lines, **options):
        runs.append(name)
        return run.Result(name, 100.0, 1.0, 2.0, 1000, 0)

    monkeypatch.setattr(run, "Server", FakeServer)
    monkeypatch.setattr(run, "Browser", FakeBrowser)
    monkeypatch.setattr(run, "run_wrk", fake_wrk)
    monkeypatch.setattr(run, "learner_paths", lambda engine, code, count: {
        "learner-1": ["/learning", "/courses/1", "/courses/1/lessons/2"],
    })
    monkeypatch.setattr(run, "verification_codes", lambda engine, count: ["CODE"])
    monkeypatch.setattr(run.tempfile, "mkdtemp", lambda prefix: str(tmp_path))
    return runs


def _run(tmp_path, scenarios: str) -> None:
    from bench import run

    database = tmp_path / "m.sqlite3"
    database.touch()
    run.main(["--database-url", f"sqlite:///{database}", "--scenarios", scenarios])


def test_unknown_scenario_is_usage_error(tmp_path, capsys, fake_load):
    with pytest.raises(SystemExit) as stopped:
        _run(tmp_path, "learner,lerner")

    assert stopped.value.code == 2
    error = capsys.readouterr().err
    assert "lerner" in error
    for name in ("learner", "learner-split", "floor", "verify", "hr"):
        assert name in error
    assert fake_load == []


def test_empty_scenarios_is_usage_error(tmp_path, fake_load):
    with pytest.raises(SystemExit) as stopped:
        _run(tmp_path, ",")

    assert stopped.value.code == 2
    assert fake_load == []


def test_floor_runs_without_learner(tmp_path, fake_load):
    _run(tmp_path, "floor")

    assert fake_load == ["hello", "app floor: healthz, logged in"]


def test_learner_split_runs_without_learner(tmp_path, fake_load):
    _run(tmp_path, "learner-split")

    assert fake_load == [
        "hello", "learner: dashboard", "learner: course outline", "learner: lesson",
    ]


def test_scenario_names_allow_spaces(tmp_path, fake_load):
    _run(tmp_path, "learner, verify")

    assert fake_load == ["hello", "learner pages", "verification lookups"]


def test_autosave_takes_redis_url():
    from bench import autosave

    args = autosave.parse_args([
        "--database-url", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_m",
        "--redis-url", "redis://127.0.0.1:6379/3",
    ])

    assert args.redis_url == "redis://127.0.0.1:6379/3"


# -- load programs that are not installed ------------------------------------------


@pytest.mark.parametrize(
    "tool, program",
    [("bench.run", "wrk"), ("bench.autosave", "wrk"), ("bench.soak", "wrk")],
)
def test_load_tool_names_missing_program(tool, program, tmp_path, monkeypatch, fake_load):
    monkeypatch.setenv("PATH", str(tmp_path))
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_m"

    with pytest.raises(SystemExit) as stopped:
        importlib.import_module(tool).main(["--database-url", url])

    message = str(stopped.value.code)
    assert f"{program} not found on PATH" in message
    assert f"apt-get install {program}" in message
    assert fake_load == []
