"""SQLite in one process: writers queue on a lock, which every way out of a transaction frees."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.core import db
from bot.core.db import checkpoint, make_engine

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


def _hold_write_lock(path: Path, seconds: float, held: threading.Event) -> None:
    """Another process's writer, as the sending process beside `serve` is."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    held.set()
    time.sleep(seconds)
    other.execute("COMMIT")
    other.close()


def test_a_transaction_waits_for_another_connections_write_lock(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'two.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    held = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(tmp_path / "two.db", 0.3, held))
    holder.start()
    held.wait(5)
    started = time.monotonic()
    with engine.begin() as connection:  # not "database is locked": it waited
        connection.execute(text("INSERT INTO t VALUES (1)"))
    waited = time.monotonic() - started
    holder.join()
    assert 0.2 < waited < 3
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 1
    engine.dispose()


def test_a_write_lock_held_too_long_fails_as_sqlalchemy_error_and_frees_the_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "WRITE_LOCK_WAIT_SECONDS", 0.2)
    engine = make_engine(f"sqlite:///{tmp_path / 'long.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    held = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(tmp_path / "long.db", 1.0, held))
    holder.start()
    held.wait(5)
    with pytest.raises(OperationalError, match="locked"), engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (1)"))
    holder.join()
    with engine.begin() as connection:  # this process's writer lock was let go
        connection.execute(text("INSERT INTO t VALUES (2)"))
    engine.dispose()


def test_a_web_process_engine_leaves_checkpoints_to_the_sender(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    web = make_engine(f"sqlite:///{path}", checkpoints=False)
    sender = make_engine(f"sqlite:///{path}")
    with web.begin() as connection:
        connection.execute(text("CREATE TABLE t (x TEXT)"))
    for _ in range(50):
        with web.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (:x)"), {"x": "x" * 20_000})
    with web.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    with sender.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size > 1_000_000  # nothing copied back: the web process never did
    checkpoint(sender)
    raw = sqlite3.connect(path)
    busy, logged, copied = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    raw.close()
    assert (busy, copied) == (0, logged)  # everything the log held is in the file
    web.dispose()
    sender.dispose()
