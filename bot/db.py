"""Engine creation: SQLite tuned for one process, PostgreSQL for many."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 5}, **kwargs
        )
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "begin", _begin_immediately)
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


def _begin_immediately(connection: Any) -> None:
    # IMMEDIATE takes the write lock at the start, so a transaction that reads and then writes
    # waits for busy_timeout instead of failing when another writer got there first.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, class_=Session, expire_on_commit=False)
