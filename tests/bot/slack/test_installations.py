"""The sealed installation store on slack-sdk's tables, and the workspace token lookup, on both
databases; the Fernet cipher and the settings that configure it."""

from __future__ import annotations

import asyncio
import time

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import Engine, select

from bot.core.config import ConfigError
from bot.core.config_loading import load_settings
from bot.core.encryption import TokenCipher, UnreadableSecret
from bot.core.models import slack_bots, slack_installations, slack_oauth_states
from bot.slack.bot_tokens import NotInstalled, WorkspaceTokens
from bot.slack.installations import AsyncOAuthStates, SealedInstallationStore

KEY = Fernet.generate_key().decode()
CLIENT = "111.222"
# A rotating token is longer than slack-sdk's 200-character columns once encrypted.
LONG = "xoxe.xoxb-1-" + "A" * 140


def _installation(
    team: str | None, *, enterprise: str | None = None, token: str = LONG
) -> Installation:
    return Installation(
        app_id="A1",
        enterprise_id=enterprise,
        team_id=team,
        user_id="U0ADMIN",
        bot_token=token,
        bot_id="B1",
        bot_user_id="U0BOT",
        bot_refresh_token="xoxe-1-" + "r" * 140,
        bot_token_expires_in=43200,
        is_enterprise_install=team is None,
    )


def _store(engine: Engine) -> SealedInstallationStore:
    return SealedInstallationStore(client_id=CLIENT, engine=engine, cipher=TokenCipher([KEY]))


def _tokens(
    engine: Engine, *, cache_seconds: float = 60, cache_size: int = 1024
) -> WorkspaceTokens:
    return WorkspaceTokens(
        engine=engine,
        cipher=TokenCipher([KEY]),
        client_id=CLIENT,
        client_secret="s",
        api_url="http://127.0.0.1:9/api/",  # never called: nothing here is expiring
        cache_seconds=cache_seconds,
        cache_size=cache_size,
    )


def test_saved_sealed_found_opened(engine: Engine) -> None:
    store = _store(engine)
    store.save(_installation("T1"))
    with engine.connect() as connection:
        sealed = connection.execute(select(slack_bots.c.bot_token)).scalar_one()
        copy = connection.execute(select(slack_installations.c.bot_refresh_token)).scalar_one()
    assert sealed.startswith("gAAAAA") and "xox" not in sealed and len(sealed) > 200
    assert "xox" not in copy
    bot = store.find_bot(enterprise_id=None, team_id="T1")
    assert bot is not None and bot.bot_token == LONG
    found = store.find_installation(enterprise_id=None, team_id="T1")
    assert found is not None and found.bot_refresh_token == "xoxe-1-" + "r" * 140
    assert found.bot_token_expires_at is not None and found.bot_token_expires_at > time.time()
    store.delete_all(enterprise_id=None, team_id="T1")
    assert store.find_bot(enterprise_id=None, team_id="T1") is None
    assert store.find_installation(enterprise_id=None, team_id="T1") is None


def test_a_workspace_token_is_found_by_team_or_by_its_org(engine: Engine) -> None:
    store = _store(engine)
    store.save(_installation("T1", token="xoxb-one"))
    store.save(_installation("T2", enterprise="E1", token="xoxb-grid-two"))
    store.save(_installation(None, enterprise="E9", token="xoxb-org-nine"))
    tokens = _tokens(engine)

    async def look() -> list[str]:
        return [
            await tokens.for_workspace("T1", None),
            await tokens.for_workspace("T2", None),  # the org was not known: the team is enough
            await tokens.for_workspace("T3", "E9"),  # a workspace of an org-wide install
            await tokens.for_workspace("E9", "E9"),  # the org's own level
        ]

    assert asyncio.run(look()) == ["xoxb-one", "xoxb-grid-two", "xoxb-org-nine", "xoxb-org-nine"]
    with pytest.raises(NotInstalled):
        asyncio.run(tokens.for_workspace("T4", None))


def test_tokens_are_remembered_briefly_and_forgotten_on_request(engine: Engine) -> None:
    store = _store(engine)
    store.save(_installation("T1", token="xoxb-first"))
    tokens = _tokens(engine, cache_seconds=3600)
    assert asyncio.run(tokens.for_workspace("T1", None)) == "xoxb-first"
    store.delete_all(enterprise_id=None, team_id="T1")
    assert asyncio.run(tokens.for_workspace("T1", None)) == "xoxb-first"  # remembered
    tokens.forget(enterprise_id=None, team_id="T1")
    with pytest.raises(NotInstalled):
        asyncio.run(tokens.for_workspace("T1", None))

    uncached = _tokens(engine, cache_seconds=0)
    store.save(_installation("T1", token="xoxb-second"))
    assert asyncio.run(uncached.for_workspace("T1", None)) == "xoxb-second"


def test_the_memory_is_bounded(engine: Engine) -> None:
    store = _store(engine)
    for number in range(5):
        store.save(_installation(f"T{number}", token=f"xoxb-{number}"))
    tokens = _tokens(engine, cache_size=2)

    async def look_all() -> None:
        for number in range(5):
            await tokens.for_workspace(f"T{number}", None)

    asyncio.run(look_all())
    assert len(tokens._known) == 2


def test_the_cipher_opens_with_any_key_and_seals_with_the_first() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    sealed_old = TokenCipher([old]).seal("xoxb-1")
    both = TokenCipher([new, old])
    assert both.open(sealed_old) == "xoxb-1"
    resealed = both.reseal(sealed_old)
    assert resealed is not None and TokenCipher([new]).open(resealed) == "xoxb-1"
    assert both.reseal(resealed) is None
    with pytest.raises(UnreadableSecret):
        TokenCipher([old]).open(resealed)
    with pytest.raises(UnreadableSecret):
        TokenCipher([new]).reseal(TokenCipher([Fernet.generate_key().decode()]).seal("x"))


def test_settings_read_the_key_and_the_previous_ones() -> None:
    first, second, third = (Fernet.generate_key().decode() for _ in range(3))
    settings = load_settings(
        {
            "NOTPROMOTED_ENCRYPTION_KEY": first,
            "NOTPROMOTED_ENCRYPTION_KEY_PREVIOUS": f"{second}, {third}",
            "SLACK_CLIENT_ID": "1.2",
            "SLACK_CLIENT_SECRET": "c",
            "SLACK_AUTHORIZE_URL": "https://slack-gov.com/oauth/v2/authorize",
        }
    )
    assert settings.encryption_keys == (first, second, third)
    assert settings.oauth_enabled
    assert settings.slack_authorize_url == "https://slack-gov.com/oauth/v2/authorize"
    assert not load_settings({}).oauth_enabled
    with pytest.raises(ConfigError, match="NOTPROMOTED_ENCRYPTION_KEY_PREVIOUS is not"):
        load_settings(
            {"NOTPROMOTED_ENCRYPTION_KEY": first, "NOTPROMOTED_ENCRYPTION_KEY_PREVIOUS": "short"}
        )
    with pytest.raises(ConfigError, match="but NOTPROMOTED_ENCRYPTION_KEY is not"):
        load_settings({"NOTPROMOTED_ENCRYPTION_KEY_PREVIOUS": second})
    with pytest.raises(ConfigError, match="SLACK_AUTHORIZE_URL"):
        load_settings({"SLACK_AUTHORIZE_URL": "slack-gov.com/oauth"})


def test_unused_oauth_states_expire_and_are_cleared(engine: Engine) -> None:
    states = AsyncOAuthStates(engine, expiration_seconds=0)
    first = asyncio.run(states.async_issue())
    assert not asyncio.run(states.async_consume(first))  # already expired
    lasting = AsyncOAuthStates(engine)
    second = asyncio.run(lasting.async_issue())  # clears the expired one
    with engine.connect() as connection:
        kept = connection.execute(select(slack_oauth_states.c.state)).scalars().all()
    assert kept == [second]
    assert asyncio.run(lasting.async_consume(second))
    assert not asyncio.run(lasting.async_consume(second))
