"""The Slack client keeps one pooled HTTP session while the runtime is open."""

from __future__ import annotations

import asyncio

from bot.demo.slack_standin import SlackStandIn
from bot.slack.client import close_shared_session, make_web_client, open_shared_session
from tests.conftest import make_settings

CALLS = 5


async def _calls(standin: SlackStandIn, *, shared: bool) -> int:
    client = make_web_client(make_settings(standin))
    if shared:
        await open_shared_session(client)
    try:
        for _ in range(CALLS):
            await client.auth_test()
    finally:
        await close_shared_session(client)
    assert client.session is None
    return standin.connections


def test_an_open_session_reuses_one_connection(standin: SlackStandIn) -> None:
    assert asyncio.run(_calls(standin, shared=True)) == 1


def test_without_it_each_call_opens_a_connection(standin: SlackStandIn) -> None:
    assert asyncio.run(_calls(standin, shared=False)) == CALLS
