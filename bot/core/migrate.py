"""Alembic from code: `notpromoted db upgrade`, and SQLite files brought up to date at start."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from bot.core.config import ConfigError
from bot.core.db import make_engine

MIGRATIONS = Path(__file__).parent / "migrations"

SchemaState = Literal["current", "behind", "ahead"]


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@cache
def head_revisions() -> frozenset[str]:
    """The revisions the packaged migrations end in (read from disk once: they ship with us)."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def is_current(engine: Engine) -> bool:
    return schema_state(engine) == "current"


def schema_state(engine: Engine) -> SchemaState:
    """Where the database's schema stands against this release's migrations. "ahead" means
    it carries a revision this release does not know: a newer release has migrated it (a
    rolling upgrade), and the older processes still running keep serving until replaced."""
    with engine.connect() as connection:
        applied = set(MigrationContext.configure(connection).get_current_heads())
    if applied == head_revisions():
        return "current"
    if applied - known_revisions():
        return "ahead"
    return "behind"


@cache
def known_revisions() -> frozenset[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(revision.revision for revision in script.walk_revisions())


def ready_engine(url: str, *, checkpoints: bool = True) -> Engine:
    """An engine on a current schema: SQLite files are brought up to date here; PostgreSQL,
    shared by many processes, is migrated by `notpromoted db upgrade` and only checked.
    `checkpoints`: see `make_engine`."""
    engine = make_engine(url, checkpoints=checkpoints)
    if engine.dialect.name == "sqlite":
        upgrade(engine)
    elif schema_state(engine) == "behind":
        engine.dispose()
        raise ConfigError("the database schema is behind: run `notpromoted db upgrade` first")
    return engine
