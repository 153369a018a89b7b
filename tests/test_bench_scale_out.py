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
        def __init__(self, pg_url, redis_url, duration):
            self.results = []

        def start(self):
            raise RuntimeError("nginx did not respond")

        def stop(self, keep_logs):
            stopped.append(keep_logs)

    monkeypatch.setattr(scale_out, "Rehearsal", FakeRehearsal)

    with pytest.raises(RuntimeError):
        scale_out.main(["--keep"] if keep else [])

    assert stopped == [keep]


def test_scale_out_help_mentions_flushdb(capsys):
    with pytest.raises(SystemExit):
        scale_out.main(["--help"])

    help_text = " ".join(capsys.readouterr().out.split())
    assert "FLUSHDB" in help_text
