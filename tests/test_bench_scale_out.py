"""The scale-out rehearsal's work folder, its --keep option and its help."""

import stat
from pathlib import Path

import pytest

from bench import scale_out


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_scale_out_work_folder_is_private(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))

    work = scale_out.make_work_folder()

    assert _mode(work) == 0o700
    for folder in scale_out.NGINX_TEMP_FOLDERS:
        assert _mode(work / folder) == 0o700


class _Connection:
    def __init__(self, statements):
        self.statements = statements

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def exec_driver_sql(self, sql):
        self.statements.append(sql)


class _Engine:
    def __init__(self):
        self.statements = []

    def connect(self):
        return _Connection(self.statements)

    def dispose(self):
        pass


def _stopped_rehearsal(work: Path, keep_logs: bool) -> _Engine:
    rehearsal = object.__new__(scale_out.Rehearsal)
    rehearsal.work = work
    rehearsal.processes = []
    rehearsal.database = "shuren_scaleout_0123abcd"
    rehearsal.admin = _Engine()
    rehearsal.stop(keep_logs=keep_logs)
    return rehearsal.admin


def test_scale_out_keep_drops_database_keeps_logs(tmp_path):
    work = tmp_path / "shuren-scaleout-x"
    (work / "shared" / "uploads").mkdir(parents=True)
    (work / "shared" / "uploads" / "evidence.pdf").write_bytes(b"%PDF")
    (work / "nginx.conf").write_text("daemon off;")
    (work / "app-a.log").write_text("Booting worker\n")
    (work / "nginx-access.log").write_text("GET /login\n")

    admin = _stopped_rehearsal(work, keep_logs=True)

    assert admin.statements == ['DROP DATABASE IF EXISTS "shuren_scaleout_0123abcd" WITH (FORCE)']
    assert sorted(p.name for p in work.iterdir()) == ["app-a.log", "nginx-access.log"]


def test_scale_out_stop_removes_the_work_folder(tmp_path):
    work = tmp_path / "shuren-scaleout-x"
    work.mkdir()
    (work / "app-a.log").write_text("Booting worker\n")

    admin = _stopped_rehearsal(work, keep_logs=False)

    assert len(admin.statements) == 1
    assert not work.exists()


@pytest.mark.parametrize("keep", [False, True])
def test_scale_out_main_passes_keep(keep, monkeypatch):
    stopped = []

    class FakeRehearsal:
        def __init__(self, pg_url, redis_url, duration, **options):
            self.results = []

        def start(self):
            raise RuntimeError("nginx did not respond")

        def stop(self, keep_logs):
            stopped.append(keep_logs)

    monkeypatch.setattr(scale_out, "Rehearsal", FakeRehearsal)
    monkeypatch.setattr(scale_out, "require_programs", lambda *names: None)

    with pytest.raises(RuntimeError):
        scale_out.main(["--keep"] if keep else [])

    assert stopped == [keep]


def test_scale_out_help_mentions_flushdb(capsys):
    with pytest.raises(SystemExit):
        scale_out.main(["--help"])

    help_text = " ".join(capsys.readouterr().out.split())
    assert "FLUSHDB" in help_text


def test_scale_out_ports_option():
    args = scale_out.parse_args(["--ports", "5401,5402,5403"])

    assert args.ports == (5401, 5402, 5403)
    assert scale_out.parse_args([]).ports is None


@pytest.mark.parametrize("text", ["5401,5402", "5401,5401,5402", "5401,5402,x", "0,5402,5403",
                                  "5401,5402,70000"])
def test_scale_out_ports_option_rejects(text, capsys):
    with pytest.raises(SystemExit):
        scale_out.parse_args(["--ports", text])

    assert "--ports" in capsys.readouterr().err


def test_scale_out_choose_ports():
    assert scale_out.choose_ports((5401, 5402, 5403)) == (5401, 5402, 5403)
    free = scale_out.choose_ports(None)
    assert len(set(free)) == 3


@pytest.mark.parametrize("text", ["Bad", 'x"y', "1abc", "a" * 56, ""])
def test_scale_out_database_prefix_rejects(text, capsys):
    with pytest.raises(SystemExit):
        scale_out.parse_args(["--database-prefix", text])

    assert "--database-prefix" in capsys.readouterr().err


def test_scale_out_database_prefix_used(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    engine = _Engine()
    monkeypatch.setattr(scale_out.sa, "create_engine", lambda *a, **k: engine)

    rehearsal = scale_out.Rehearsal("postgresql+psycopg://postgres@127.0.0.1/x",
                                    "redis://127.0.0.1:6379/11", 5, database_prefix="trial_")

    assert rehearsal.database.startswith("trial_")
    assert len(rehearsal.database) == len("trial_") + 8
    assert engine.statements == [f'CREATE DATABASE "{rehearsal.database}"']
    assert rehearsal.database_url.endswith("/" + rehearsal.database)
    scale_out.shutil.rmtree(rehearsal.work)


def test_scale_out_main_passes_options(monkeypatch):
    created = []

    class FakeRehearsal:
        def __init__(self, pg_url, redis_url, duration, **options):
            created.append(options)
            self.results = []

        def start(self):
            raise RuntimeError("nginx did not respond")

        def stop(self, keep_logs):
            pass

    monkeypatch.setattr(scale_out, "Rehearsal", FakeRehearsal)
    monkeypatch.setattr(scale_out, "require_programs", lambda *names: None)

    with pytest.raises(RuntimeError):
        scale_out.main(["--database-prefix", "trial_", "--ports", "5401,5402,5403"])

    assert created == [{"database_prefix": "trial_", "ports": (5401, 5402, 5403)}]


def test_scale_out_names_missing_nginx_first(tmp_path, monkeypatch):
    created = []
    monkeypatch.setattr(scale_out, "Rehearsal", lambda *args, **options: created.append(args))
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(SystemExit) as stopped:
        scale_out.main([])

    assert "apt-get install nginx" in str(stopped.value.code)
    assert created == []
