"""Engine creation: SQLite tuned for one process, PostgreSQL for many."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session


def make_engine(url: str, *, checkpoints: bool = True, **kwargs: Any) -> Engine:
    """`checkpoints=False`: on SQLite, this process's commits never copy the write-ahead log
    into the database file; for a web process whose sending process beside it does that, so
    that a commit a person waits on is never the one that pays for it."""
    # SQL errors would otherwise carry their parameters (typed text) into the logs.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 5}, **kwargs
        )
        event.listen(engine, "connect", _tune_sqlite)
        if not checkpoints:
            event.listen(engine, "connect", _no_checkpoints)
        _OneWriter().install(engine)
        return engine
    engine = create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, pool_timeout=3, **kwargs
    )
    event.listen(engine, "connect", _tune_postgres)
    return engine


# Our transactions last milliseconds and never wait on the network. One left open longer is a
# process frozen or dying in the middle of it (SIGSTOP, a stalled VM): the server ends it, so
# the row it locked is free for another sender soon after that process's heartbeat stops,
# instead of being skipped by every sweep (FOR UPDATE SKIP LOCKED) until it thaws.
IDLE_IN_TRANSACTION_SECONDS = 10


def _tune_postgres(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"SET idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION_SECONDS}s'")
    cursor.close()
    dbapi_connection.commit()  # a SET in a transaction the pool rolls back would not stay


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite would start transactions itself, late and unseen by SQLAlchemy, so that a
    # SAVEPOINT's RELEASE could commit the whole unit of work; we begin them ourselves instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # under pysqlite's 5 s timeout, set at connect
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Waits for the write lock are ours (`_begin_immediate`), not SQLite's busy handler.
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()


def _no_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")


def checkpoint(engine: Engine) -> None:
    """Copy what the write-ahead log holds into the database file, as far as readers allow,
    without waiting for anyone (SQLite; nothing elsewhere)."""
    if engine.dialect.name != "sqlite":
        return
    # Outside any transaction (a Connection would begin one): the raw pooled connection.
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        cursor.close()
    finally:
        raw.close()


# How long a transaction waits for another process's write lock, and its polling pauses.
WRITE_LOCK_WAIT_SECONDS = 5.0
_POLL_FIRST_SECONDS, _POLL_MOST_SECONDS = 0.0002, 0.002


def _begin_immediate(connection: Any) -> None:
    """BEGIN IMMEDIATE, waiting for another process (the sending worker beside a web process)
    to let go of the write lock. SQLite's busy handler would sleep 1, 2, 5, 10 ... up to 100 ms
    between tries; writers here hold the lock for a few milliseconds, so poll in fractions of
    one. Every transaction begins here, so this is the one place a lock is waited for."""
    raw = connection.connection.driver_connection
    deadline = time.monotonic() + WRITE_LOCK_WAIT_SECONDS
    pause = _POLL_FIRST_SECONDS
    while time.monotonic() < deadline:
        try:
            raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                break
        time.sleep(pause)
        pause = min(pause * 2, _POLL_MOST_SECONDS)
    # The last try through SQLAlchemy, so that a failure reaches callers as its own error.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class _OneWriter:
    """SQLite has one writer at a time. Within this process, threads queue on a lock for it;
    another process's hold on it is polled for (`_begin_immediate`).

    BEGIN IMMEDIATE takes the write lock at the start, so a transaction that reads and then
    writes waits instead of failing when another writer got there first. The lock is let go
    only once COMMIT or ROLLBACK has run (SQLAlchemy's commit event comes before it).
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()

    def install(self, engine: Engine) -> None:
        event.listen(engine, "begin", self.begin)
        dialect = engine.dialect
        commit, rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi_connection: Any) -> None:
            try:
                commit(dbapi_connection)
            finally:
                self.end(dbapi_connection)

        def do_rollback(dbapi_connection: Any) -> None:
            try:
                rollback(dbapi_connection)
            finally:
                self.end(dbapi_connection)

        dialect.do_commit = do_commit  # type: ignore[method-assign]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign]

    def begin(self, connection: Any) -> None:
        self.lock.acquire()
        try:
            _begin_immediate(connection)
        except BaseException:
            self.lock.release()
            raise
        connection.info[_HOLDS_WRITER] = connection.info.get(_HOLDS_WRITER, 0) + 1

    def end(self, dbapi_connection: Any) -> None:
        """After COMMIT or ROLLBACK on a pooled connection (its info is the Connection's)."""
        try:
            info = dbapi_connection.info
        except (AttributeError, NotImplementedError):  # a raw or first-connect connection
            return
        if isinstance(info, dict) and info.get(_HOLDS_WRITER, 0) > 0:
            info[_HOLDS_WRITER] -= 1
            self.lock.release()


_HOLDS_WRITER = "notpromoted_holds_writer"


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, class_=Session, expire_on_commit=False)
