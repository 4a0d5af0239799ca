"""Token rotation on: two workers sending to one workspace whose token is about to expire
refresh it once, with its refresh token spent once; the rest use the new token."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from bot.app.runtime import Runtime, build_runtime
from bot.core.db import make_engine
from bot.core.models import CheckinStatus
from bot.demo.slack_standin import SlackStandIn
from bot.slack.bot_tokens import WorkspaceTokens
from scheduler.dispatcher import CLAIMED_AHEAD
from tests.bot.slack.installing import install, oauth_bot, opened, stored_bot_tokens
from tests.conftest import MONDAY, TEAM, BotFactory, make_settings
from tests.scheduler.seeding import content, rows, seed_checkins

SLOTS = 2  # a few rows in hand each
# More people than one worker holds at once ((1 + CLAIMED_AHEAD) x its slots): both send.
PEOPLE = (1 + CLAIMED_AHEAD) * SLOTS + 2


def _another_engine(engine: Engine) -> Engine:
    """A second connection pool on the same database, as another process would have."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "sqlite":
        return make_engine(url)
    with engine.connect() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
    return make_engine(url, connect_args={"options": f"-csearch_path={schema}"})


def _workers(
    standin: SlackStandIn, engines: list[Engine], settings: dict[str, Any]
) -> list[Runtime]:
    """One runtime per engine, as `notpromoted worker` builds it, each with its own tokens."""
    runtimes = []
    for number, engine in enumerate(engines):
        runtime = build_runtime(
            make_settings(standin, **settings),
            engine=engine,
            content=content(),
            owner=f"worker-{number}",
        )
        runtime.dispatcher.concurrency = SLOTS
        runtimes.append(runtime)
    return runtimes


async def _sweep_together(runtimes: list[Runtime]) -> list[int]:
    for runtime in runtimes:
        await runtime.open()
    try:
        return list(await asyncio.gather(*(r.dispatcher.run_once() for r in runtimes)))
    finally:
        for runtime in runtimes:
            await runtime.close()


def _installed_with_an_expiring_token(
    start_bot: BotFactory, standin: SlackStandIn, engine: Engine
) -> tuple[dict[str, Any], str]:
    standin.token_rotation = True
    standin.token_lifetime = 600  # inside the refresh margin: the first use refreshes it
    bot = oauth_bot(start_bot, standin, engine=engine)
    assert install(bot, TEAM).status_code == 200
    first = opened(stored_bot_tokens(engine)[TEAM])
    assert first.startswith("xoxe.xoxb-")
    standin.token_lifetime = 12 * 3600  # the refreshed one is good for the day
    standin.refresh_delay = 0.4  # a slow refresh: the other worker asks meanwhile
    settings = {
        key: getattr(bot.runtime.services.settings, key)
        for key in (
            "slack_bot_token",
            "slack_client_id",
            "slack_client_secret",
            "slack_authorize_url",
            "encryption_keys",
        )
    }
    return settings, first


def test_two_workers_refresh_an_expiring_token_once(
    start_bot: BotFactory, standin: SlackStandIn, engine: Engine
) -> None:
    settings, first = _installed_with_an_expiring_token(start_bot, standin, engine)
    seed_checkins(engine, PEOPLE, due_at=MONDAY, now=MONDAY)
    other = _another_engine(engine)
    try:
        sent = asyncio.run(_sweep_together(_workers(standin, [engine, other], settings)))
    finally:
        other.dispose()

    refreshes = [
        call
        for call in standin.calls_to("oauth.v2.access")
        if call.args.get("grant_type") == "refresh_token"
    ]
    assert len(refreshes) == 1
    assert standin.refresh_reuses == 0
    assert sum(sent) == PEOPLE, sent  # every row went, once
    if engine.dialect.name == "postgresql":
        # Truly side by side only here: on SQLite the second pool waits in SQLite's busy
        # handler and may find the rows gone when it gets in.
        assert all(sent), sent
    assert {row.status for row in rows(engine).values()} == {CheckinStatus.SENT}
    renewed = opened(stored_bot_tokens(engine)[TEAM])
    assert renewed != first and standin.tokens[first].kind == "bot"
    assert {call.token for call in standin.calls_to("chat.postMessage")} == {renewed}


@pytest.mark.postgres
def test_without_the_row_lock_the_second_worker_would_spend_a_used_refresh_token(
    start_bot: BotFactory,
    standin: SlackStandIn,
    postgres_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The control for the test above: it would see the race if the lock were not there."""
    from bot.core.migrate import upgrade

    upgrade(postgres_engine)
    settings, _ = _installed_with_an_expiring_token(start_bot, standin, postgres_engine)
    seed_checkins(postgres_engine, PEOPLE, due_at=MONDAY, now=MONDAY)
    locked = WorkspaceTokens._latest

    def unlocked(
        self: WorkspaceTokens,
        connection: Connection,
        enterprise_id: str | None,
        team_id: str | None,
        *,
        lock: bool,
    ) -> Any:
        return locked(self, connection, enterprise_id, team_id, lock=False)

    monkeypatch.setattr(WorkspaceTokens, "_latest", unlocked)
    other = _another_engine(postgres_engine)
    try:
        asyncio.run(_sweep_together(_workers(standin, [postgres_engine, other], settings)))
    finally:
        other.dispose()
    assert standin.refresh_reuses >= 1
