"""The install flow's pages, through the real endpoints, tell the browser to load nothing,
run nothing and show in no frame: on the install page, after an install, and on every page
that says something went wrong."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest

from bot.demo.slack_standin import SlackStandIn
from tests.bot.slack.installing import cookie_state, install, oauth_bot
from tests.conftest import BotFactory, RunningBot

NORTH = "T0NORTH"


@pytest.fixture
def bot(start_bot: BotFactory, standin: SlackStandIn) -> RunningBot:
    standin.add_team(NORTH, "North")
    return oauth_bot(start_bot, standin)


def _assert_locked_down(page: httpx.Response) -> None:
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    policy = {
        name: value
        for name, _, value in (
            part.strip().partition(" ")
            for part in page.headers["content-security-policy"].split(";")
        )
    }
    assert policy["default-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'none'" and policy["base-uri"] == "'none'"
    # The page's own style is the only thing the policy lets in, by its hash.
    [style] = re.findall(r"<style>(.*?)</style>", page.text, re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert policy["style-src"] == f"'sha256-{digest}'"
    assert "<script" not in page.text


def test_the_install_page_and_the_installed_page(bot: RunningBot) -> None:
    page = bot.http.get(f"{bot.url}/slack/install", params={"team": NORTH})
    assert page.status_code == 200
    _assert_locked_down(page)
    done = install(bot, NORTH)
    assert done.status_code == 200 and "ready in North" in done.text
    _assert_locked_down(done)


def test_every_error_page(bot: RunningBot, standin: SlackStandIn) -> None:
    expired = bot.http.get(
        f"{bot.url}/slack/oauth_redirect",
        params={"code": "x", "state": "made-up"},
        headers={"cookie": "slack-app-oauth-state=made-up"},
    )
    assert expired.status_code == 400
    _assert_locked_down(expired)
    cancelled = bot.http.get(f"{bot.url}/slack/oauth_redirect", params={"error": "access_denied"})
    assert cancelled.status_code == 200 and "Nothing was installed" in cancelled.text
    _assert_locked_down(cancelled)
    state = cookie_state(bot.http.get(f"{bot.url}/slack/install", params={"team": NORTH}))
    standin.stop()
    unavailable = bot.http.get(
        f"{bot.url}/slack/oauth_redirect",
        params={"code": f"{NORTH}.x", "state": state},
        headers={"cookie": f"slack-app-oauth-state={state}"},
    )
    assert unavailable.status_code == 503
    _assert_locked_down(unavailable)
