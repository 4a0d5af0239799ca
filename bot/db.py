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
    """SQLite has one writer at a time. Within this process, threads queue for it here;
    SQLite's own busy handler, which sleeps and polls, is left for other processes.

    Threads marked urgent (`mark_thread_urgent`: the ones that answer a person who is waiting
    for the reply) go before the others in the queue, so an acknowledgement never waits behind
    a backlog of sending work, only behind the one transaction that holds the writer.

    BEGIN IMMEDIATE takes the write lock at the start, so a transaction that reads and then
    writes waits instead of failing when another writer got there first. The lock is let go
    only once COMMIT or ROLLBACK has run (SQLAlchemy's commit event comes before it).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Two queues on one lock, so that a release wakes one waiter, not every thread.
        self._urgent = threading.Condition(self._lock)
        self._others = threading.Condition(self._lock)
        self._holder: int | None = None
        self._depth = 0
        self._urgent_waiting = 0
        self._others_waiting = 0

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

    def acquire(self) -> None:
        me = threading.get_ident()
        with self._lock:
            if self._holder == me:
                self._depth += 1
                return
            if getattr(_thread_role, "urgent", False):
                self._urgent_waiting += 1
                while self._holder is not None:
                    self._urgent.wait()
                self._urgent_waiting -= 1
            else:
                self._others_waiting += 1
                while self._holder is not None or self._urgent_waiting:
                    self._others.wait()
                self._others_waiting -= 1
            self._holder, self._depth = me, 1

    def release(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth:
                return
            self._holder = None
            if self._urgent_waiting:
                self._urgent.notify()
            elif self._others_waiting:
                self._others.notify()

    def begin(self, connection: Any) -> None:
        self.acquire()
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.release()
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
            self.release()


_thread_role = threading.local()


def mark_thread_urgent() -> None:
    """For a thread pool's initializer: this thread's SQLite writes go first in the queue."""
    _thread_role.urgent = True


_HOLDS_WRITER = "notpromoted_holds_writer"


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, class_=Session, expire_on_commit=False)
