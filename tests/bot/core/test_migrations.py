"""Migrations and models agree, on both databases; upgrades repeat and round-trip safely."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, Index, MetaData, String, inspect, text
from sqlmodel import SQLModel

import bot.core.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from bot.core.db import make_sessions
from bot.core.migrate import alembic_config, is_current, schema_state, upgrade
from bot.core.person_ref import PersonRef
from bot.core.storage import people

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
REF = PersonRef("slack", "T1", "U1")
TABLES = {
    "person",
    "workspace",
    "journey",
    "checkin",
    "goal",
    "feedbackrequest",
    "feedbacknote",
    "processedevent",
    "managergrant",
    "feedbackmeeting",
    "auditentry",
    "senderheartbeat",
    # slack-sdk's shapes, for the installations in several workspaces.
    "slack_installations",
    "slack_bots",
    "slack_oauth_states",
    "teamsconversation",
}


def differences(engine: Engine, metadata: MetaData) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def copy_of_models() -> MetaData:
    copy = MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


@pytest.fixture(params=["sqlite_engine", "postgres_engine"])
def empty_engine(request: pytest.FixtureRequest) -> Engine:
    """A brand-new database that nothing has migrated yet."""
    created: Engine = request.getfixturevalue(request.param)
    return created


def test_the_migrated_database_is_current(engine: Engine) -> None:
    assert is_current(engine)
    assert tables(engine) >= TABLES


def test_the_migrations_match_the_models(engine: Engine) -> None:
    assert set(SQLModel.metadata.tables) == TABLES
    assert differences(engine, SQLModel.metadata) == []


def test_the_comparison_notices_a_column_the_migrations_lack(engine: Engine) -> None:
    copy = copy_of_models()
    assert differences(engine, copy) == []  # the copy alone is no different
    copy.tables["person"].append_column(Column("nickname", String(32), nullable=True))
    found = differences(engine, copy)
    assert [(diff[0], diff[2], diff[3].name) for diff in found] == [
        ("add_column", "person", "nickname")
    ]


def test_the_comparison_notices_an_index_the_migrations_lack(engine: Engine) -> None:
    copy = copy_of_models()
    Index("ix_checkin_message_ts", copy.tables["checkin"].c.message_ts)
    found = differences(engine, copy)
    assert [(diff[0], diff[1].name) for diff in found] == [("add_index", "ix_checkin_message_ts")]


def test_the_comparison_notices_a_table_the_models_lack(engine: Engine) -> None:
    copy = copy_of_models()
    copy.remove(copy.tables["processedevent"])
    found = differences(engine, copy)
    removed = {(diff[0], diff[1].name) for diff in found}
    assert ("remove_table", "processedevent") in removed
    assert {name for _, name in removed} <= {"processedevent", "ix_processedevent_received_at"}


def test_there_is_one_head(engine: Engine) -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads() == tuple(
            script.get_heads()
        )


def test_an_empty_database_is_not_current_until_upgraded(empty_engine: Engine) -> None:
    assert not is_current(empty_engine)
    assert not TABLES & tables(empty_engine)
    upgrade(empty_engine)
    assert is_current(empty_engine)
    assert differences(empty_engine, SQLModel.metadata) == []


def test_upgrading_twice_is_harmless(engine: Engine) -> None:
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        person_id = people.get_or_create_person(session, ref=REF, now=NOW).id
    upgrade(engine)
    upgrade(engine)
    assert is_current(engine)
    assert differences(engine, SQLModel.metadata) == []
    with sessions() as session:
        person = people.find_person(session, ref=REF)
        assert person is not None and person.id == person_id
        assert person.created_at == NOW


def test_downgrade_to_base_and_upgrade_again(engine: Engine) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert not is_current(engine)
    assert not TABLES & tables(engine)

    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert is_current(engine)
    assert tables(engine) >= TABLES
    assert differences(engine, SQLModel.metadata) == []
    with make_sessions(engine).begin() as session:  # and the tables work again
        assert people.get_or_create_person(session, ref=REF, now=NOW).id is not None


def test_a_schema_a_newer_release_migrated_is_ahead_not_behind(engine: Engine) -> None:
    """A rolling upgrade: the new release ran `db upgrade`; the old processes still serve."""
    assert schema_state(engine) == "current"
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    assert schema_state(engine) == "ahead"
    assert not is_current(engine)
