"""The benchmark scripts remove what they leave behind, unless asked to keep it."""

import stat
from pathlib import Path

import pytest

from bench import autosave, certificate_batch, exam_burst, run, soak
from bench.run import ServerDidNotStart, work_folder


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_work_folder_private_and_removed(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))

    with work_folder("shuren-bench-") as work:
        (work / "learner.tsv").write_text("GET\t/learning\tsession=secret\t\n")
        assert work.parent == tmp_path
        assert _mode(work) == 0o700

    assert not work.exists()


def test_work_folder_removed_on_error(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))

    with pytest.raises(ValueError):
        with work_folder("shuren-bench-") as work:
            (work / "plan.json").write_text("[]")
            raise ValueError("wrk failed")

    assert not work.exists()


def test_work_folder_kept_on_request(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))

    with work_folder("shuren-bench-", keep=True) as work:
        pass

    assert work.is_dir()
    assert str(work) in capsys.readouterr().err


def test_work_folder_kept_on_server_failure(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))

    with pytest.raises(ServerDidNotStart):
        with work_folder("shuren-bench-") as work:
            (work / "gunicorn.log").write_text("ImportError\n")
            raise ServerDidNotStart("gunicorn did not start")

    assert (work / "gunicorn.log").exists()
    assert str(work) in capsys.readouterr().err


@pytest.mark.parametrize("module, prefix", [
    (run, "shuren-bench-"),
    (soak, "shuren-soak-"),
    (exam_burst, "shuren-burst-"),
    (autosave, "shuren-autosave-"),
    (certificate_batch, "shuren-certificate-batch-"),
])
@pytest.mark.parametrize("keep", [False, True])
def test_main_uses_work_folder(module, prefix, keep, monkeypatch, tmp_path):
    """Each script's main runs its work inside ``work_folder`` and passes --keep-files on."""
    used = []
    database = tmp_path / "unused.sqlite3"
    database.touch()

    class Stop(Exception):
        pass

    def fake_work_folder(name, keep=False):
        used.append((name, keep))
        raise Stop

    monkeypatch.setattr(module, "work_folder", fake_work_folder)
    argv = ["--database-url", f"sqlite:///{database}"] + (["--keep-files"] if keep else [])
    if module is certificate_batch:
        argv = argv[2:]

    with pytest.raises(Stop):
        module.main(argv)

    assert used == [(prefix, keep)]


def test_autosave_cleanup_after_early_stop(monkeypatch, tmp_path):
    """An autosave URL that returns 404 stops the run; --cleanup still deletes the attempts."""
    deleted = []

    def stop_after_one_attempt(args, database_url, engine, work_dir, attempts):
        attempts.append(41)
        raise SystemExit("/attempts/41/answers returned 404")

    monkeypatch.setattr(autosave, "run", stop_after_one_attempt)
    monkeypatch.setattr(autosave, "delete_attempts", lambda engine, ids: deleted.append(list(ids)))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    (tmp_path / "m.sqlite3").touch()

    with pytest.raises(SystemExit):
        autosave.main(["--database-url", f"sqlite:///{tmp_path}/m.sqlite3", "--cleanup"])

    assert deleted == [[41]]
    assert list(tmp_path.glob("shuren-autosave-*")) == []


def test_delete_attempts_removes_child_rows(tmp_path):
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{tmp_path}/m.sqlite3")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE attempt (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("CREATE TABLE attempt_question (attempt_id INTEGER)")
        conn.exec_driver_sql("CREATE TABLE attempt_answer (attempt_id INTEGER)")
        for attempt_id in (1, 2):
            conn.exec_driver_sql(f"INSERT INTO attempt VALUES ({attempt_id})")
            conn.exec_driver_sql(f"INSERT INTO attempt_question VALUES ({attempt_id})")
            conn.exec_driver_sql(f"INSERT INTO attempt_answer VALUES ({attempt_id})")

    autosave.delete_attempts(engine, [1])

    with engine.connect() as conn:
        for table, column in (("attempt", "id"), ("attempt_question", "attempt_id"),
                              ("attempt_answer", "attempt_id")):
            assert conn.exec_driver_sql(f"SELECT {column} FROM {table}").scalars().all() == [2]
    engine.dispose()
