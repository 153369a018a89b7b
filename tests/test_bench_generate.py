"""The benchmark data generator's handling of the database URL it is given."""

import sqlalchemy as sa

from bench.generate import absolute_sqlite_url, create_sqlite_folder


def test_missing_sqlite_folder_is_created(tmp_path):
    path = tmp_path / "bench" / "data" / "m.sqlite3"

    create_sqlite_folder(f"sqlite:///{path}")

    assert path.parent.is_dir()
    assert not path.exists()


def test_relative_sqlite_path_resolved_from_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    url = absolute_sqlite_url("sqlite:///bench/data/m.sqlite3")

    assert sa.engine.make_url(url).database == str(tmp_path / "bench" / "data" / "m.sqlite3")


def test_postgresql_url_creates_no_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    create_sqlite_folder("postgresql+psycopg://postgres@127.0.0.1:5432/bench_m")

    assert list(tmp_path.iterdir()) == []
