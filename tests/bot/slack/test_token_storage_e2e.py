"""Tokens at rest: encrypted in the database, a key rotation with `notpromoted rotate-key`, and
no `xox` token anywhere in a dump of the database or in the logs."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import Engine, inspect, select, text

from bot.app.cli import main
from bot.core.encryption import TokenCipher, UnreadableSecret
from bot.core.logs import BOLT_LOGGER, configure_logging
from bot.core.models import SLACK_SECRET_COLUMNS, slack_bots, slack_installations
from bot.demo import slack_requests
from bot.demo.slack_standin import SlackStandIn
from tests.bot.slack.installing import KEY, install, oauth_bot, opened, stored_bot_tokens
from tests.conftest import BotFactory

NORTH, SOUTH = "T0NORTH", "T0SOUTH"
ALICE, BRUNO = "U0ALICE", "U0BRUNO"


def dump(engine: Engine) -> str:
    """Everything the database holds, as text: SQLite's own dump, or every table's rows."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        assert database
        with sqlite3.connect(database) as connection:
            return "\n".join(connection.iterdump())
    with engine.connect() as connection:
        return "\n".join(
            repr(connection.execute(text(f'SELECT * FROM "{table}"')).all())  # noqa: S608
            for table in inspect(connection).get_table_names()
        )


@pytest.fixture
def production_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Everything logged at DEBUG, with the limits `configure_logging` puts on libraries."""
    names = ("slack_sdk", "apscheduler", "alembic", BOLT_LOGGER, "slack_bolt")
    levels = {name: logging.getLogger(name).level for name in names}
    configure_logging("DEBUG")
    caplog.set_level(logging.DEBUG)
    yield caplog
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_no_token_in_the_database_or_the_logs(
    start_bot: BotFactory,
    standin: SlackStandIn,
    engine: Engine,
    production_logging: pytest.LogCaptureFixture,
) -> None:
    standin.add_team(NORTH, "North")
    standin.add_team(SOUTH, "South")
    standin.token_rotation = True
    standin.token_lifetime = 600  # refreshed at first use: refresh tokens go through too
    bot = oauth_bot(start_bot, standin, engine=engine)
    install(bot, NORTH)
    install(bot, SOUTH)
    bot.command(ALICE, team=NORTH)
    bot.command(BRUNO, team=SOUTH)
    bot.dms(ALICE, 1)
    bot.dms(BRUNO, 1)
    bot.clock.move_to(bot.clock.now + timedelta(days=10))
    bot.sweep()
    body, kind = slack_requests.event_callback(
        team_id=SOUTH, event={"type": "app_uninstalled"}, event_id="Ev0001"
    )
    bot.post(body, kind)
    bot.settle()

    issued = [token for token in standin.tokens if token.startswith("xox")]
    assert len(issued) >= 8  # bot and refresh tokens, first and refreshed, of both teams
    refreshes = [c for c in standin.calls_to("oauth.v2.access") if "refresh_token" in c.args]
    assert refreshes
    everything = dump(engine)
    assert "xox" not in everything
    assert "gAAAAA" in everything  # the sealed tokens are there
    logged = production_logging.text
    # The capture works (the uninstall's own line); libraries' request lines are quiet now.
    assert any(record.name == "handlers.workspaces" for record in production_logging.records)
    assert "xox" not in logged

    # The control: slack-sdk's store on its own would have left one in the clear.
    SQLAlchemyInstallationStore(client_id=standin.client_id, engine=engine).save(
        Installation(app_id="A1", team_id="T0PLAIN", user_id="U1", bot_token="xoxb-plain-1")
    )
    assert "xoxb-plain-1" in dump(engine)


def _secrets(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        found: list[str] = []
        for table in (slack_installations, slack_bots):
            columns = [table.c[name] for name in SLACK_SECRET_COLUMNS if name in table.c]
            for row in connection.execute(select(*columns)):
                found += [value for value in row if value is not None]
        return found


def test_a_new_key_with_the_old_one_beside_it_then_rotate_key(
    start_bot: BotFactory,
    standin: SlackStandIn,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    standin.add_team(NORTH, "North")
    standin.add_team(SOUTH, "South")
    old_bot = oauth_bot(start_bot, standin)
    install(old_bot, NORTH)
    install(old_bot, SOUTH)
    engine = old_bot.runtime.engine
    north_token = opened(stored_bot_tokens(engine)[NORTH])
    new_key = Fernet.generate_key().decode()
    old_only, new_only = TokenCipher([KEY]), TokenCipher([new_key])

    # The new key first, the old one beside it: what the old key sealed still opens.
    both = oauth_bot(start_bot, standin, engine=engine, encryption_keys=(new_key, KEY))
    both.command(ALICE, team=NORTH)
    both.dms(ALICE, 1)
    assert standin.calls_to("chat.postMessage")[-1].token == north_token

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("NOTPROMOTED_ENCRYPTION_KEY", new_key)
    monkeypatch.setenv("NOTPROMOTED_ENCRYPTION_KEY_PREVIOUS", KEY)
    assert main(["rotate-key"]) == 0
    assert "re-encrypted 4 stored secrets" in capsys.readouterr().out  # a bot token in each table
    secrets = _secrets(engine)
    assert len(secrets) == 4
    for sealed in secrets:
        assert new_only.open(sealed).startswith("xoxb-")
        with pytest.raises(UnreadableSecret):
            old_only.open(sealed)
    assert main(["rotate-key"]) == 0
    assert "re-encrypted 0 stored secrets with the current key (4 already were)" in (
        capsys.readouterr().out
    )

    # The old key dropped: everything still works with the new one alone.
    new = oauth_bot(start_bot, standin, engine=engine, encryption_keys=(new_key,))
    new.command(BRUNO, team=SOUTH)
    new.dms(BRUNO, 1)
    assert standin.calls_to("chat.postMessage")[-1].team_id == SOUTH

    # A secret sealed with a key that is not configured is reported and left as it was.
    stray = TokenCipher([Fernet.generate_key().decode()]).seal("xoxb-stray")
    with engine.begin() as connection:
        connection.execute(slack_bots.update().values(bot_refresh_token=stray))
    assert main(["rotate-key"]) == 1
    assert "open with none of the configured keys" in capsys.readouterr().err
    with engine.connect() as connection:
        kept = connection.execute(select(slack_bots.c.bot_refresh_token)).scalars().all()
    assert kept == [stray, stray]


def test_rotate_key_needs_a_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NOTPROMOTED_ENCRYPTION_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    assert main(["rotate-key"]) == 2
    assert "NOTPROMOTED_ENCRYPTION_KEY is not set" in capsys.readouterr().err
