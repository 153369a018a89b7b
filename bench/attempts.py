"""Removal of the attempts that a benchmark created, so the next run finds the same data."""

import sqlalchemy as sa


#: The tables that a benchmark's attempts write to, children first, each
#: with its column that contains the attempt id.
ATTEMPT_KEYS = (("attempt_answer", "attempt_id"), ("attempt_question", "attempt_id"),
                ("attempt", "id"))
ATTEMPT_TABLES = tuple(table for table, _column in ATTEMPT_KEYS)


def delete_attempts(engine: sa.Engine, attempt_ids: list[int]) -> None:
    """Delete the given attempts with their questions and answers, then reclaim the space."""
    if not attempt_ids:
        return
    # Children first: the benchmark engines do not turn SQLite's foreign
    # keys on, so no cascade would delete them, and SQLite reuses the ids.
    with engine.begin() as conn:
        for table, column in ATTEMPT_KEYS:
            conn.execute(
                sa.text(f"DELETE FROM {table} WHERE {column} IN :ids")
                .bindparams(sa.bindparam("ids", expanding=True)),
                {"ids": attempt_ids},
            )
    reclaim(engine)


def reclaim(engine: sa.Engine, tables: tuple[str, ...] = ATTEMPT_TABLES) -> None:
    """VACUUM and ANALYZE ``tables`` on PostgreSQL, so the next run finds no dead rows.

    With autovacuum off, as on this project's test machines, PostgreSQL keeps
    every deleted attempt as a dead row in the tables and their indexes, and
    each run then searches more of them than the one before. SQLite reuses
    the free pages of deleted rows, so it needs nothing here.
    """
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f"VACUUM (ANALYZE) {', '.join(tables)}"))
