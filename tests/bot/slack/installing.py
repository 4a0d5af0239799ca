"""Helpers for the several-workspace tests: a bot in OAuth mode, and an admin installing it."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import Engine, select

from bot.core.encryption import TokenCipher
from bot.core.models import slack_bots
from bot.demo.slack_standin import SlackStandIn
from tests.conftest import BotFactory, RunningBot

KEY = Fernet.generate_key().decode()
STATE_COOKIE = "slack-app-oauth-state"


def oauth_bot(start_bot: BotFactory, standin: SlackStandIn, **overrides: Any) -> RunningBot:
    """The bot installed in several workspaces: no SLACK_BOT_TOKEN, the stand-in's credentials."""
    settings: dict[str, Any] = {
        "slack_bot_token": None,
        "slack_client_id": standin.client_id,
        "slack_client_secret": standin.client_secret,
        "slack_authorize_url": standin.base_url + "oauth/v2/authorize",
        "encryption_keys": (KEY,),
        **overrides,
    }
    bot = start_bot(**settings)
    standin.redirect_url = f"{bot.url}/slack/oauth_redirect"
    return bot


def install(bot: RunningBot, team_id: str) -> httpx.Response:
    """An admin of `team_id` opens the install page, allows the app, and comes back."""
    page = bot.http.get(f"{bot.url}/slack/install", params={"team": team_id})
    assert page.status_code == 200, page.text
    authorize_url = html.unescape(re.findall(r'href="([^"]+)"', page.text)[0])
    state = cookie_state(page)
    allowed = bot.http.get(authorize_url, follow_redirects=False)
    assert allowed.status_code == 302, allowed.text
    # Over https a browser sends the Secure cookie back; this client on http:// would not.
    back = bot.http.get(allowed.headers["location"], headers={"cookie": f"{STATE_COOKIE}={state}"})
    bot.settle()
    return back


def cookie_state(page: httpx.Response) -> str:
    match = re.search(rf"{STATE_COOKIE}=([^;]+)", page.headers.get("set-cookie", ""))
    assert match, page.headers
    return match.group(1)


def stored_bot_tokens(engine: Engine) -> dict[str, str]:
    """Each installed team's bot token as it is in the database (sealed)."""
    with engine.connect() as connection:
        rows = connection.execute(select(slack_bots.c.team_id, slack_bots.c.bot_token)).all()
    return {str(team): str(token) for team, token in rows}


def opened(sealed: str, key: str = KEY) -> str:
    return TokenCipher([key]).open(sealed)
