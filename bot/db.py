"""Engine creation: SQLite tuned for one process, PostgreSQL for many."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session


def make_engine(url: str, **kwargs: Any) -> Engine:
    # SQL errors would otherwise carry their parameters (typed text) into the logs.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 5}, **kwargs
        )
        event.listen(engine, "connect", _tune_sqlite)
        _OneWriter().install(engine)
        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, pool_timeout=3, **kwargs
    )


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite would start transactions itself, late and unseen by SQLAlchemy, so that a
    # SAVEPOINT's RELEASE could commit the whole unit of work; we begin them ourselves instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class _OneWriter:
    """SQLite has one writer at a time. Within this process, threads queue on a lock for it;
    SQLite's own busy handler, which sleeps and polls, is left for other processes.

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
            connection.exec_driver_sql("BEGIN IMMEDIATE")
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
