"""SQLite in one process: writers queue on a lock, which every way out of a transaction frees."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.db import make_engine

THREADS = 6
WRITES = 100


def test_concurrent_writers_all_commit_and_failures_free_the_writer(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(WRITES):
                with engine.begin() as connection:
                    connection.execute(text("INSERT INTO t VALUES (1)"))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with pytest.raises(Exception, match="no such table"), engine.begin() as connection:
        connection.execute(text("INSERT INTO missing VALUES (1)"))
    with engine.connect() as connection:  # a read outside begin() also lets go
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == THREADS * WRITES
    done = threading.Event()

    def other_thread() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (2)"))
        done.set()

    threading.Thread(target=other_thread).start()
    assert done.wait(timeout=10), "the writer lock was not let go"
    engine.dispose()
