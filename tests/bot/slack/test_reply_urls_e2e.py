"""A signed request whose response URL is not Slack's is refused before Bolt answers there.

Bolt's respond() posts its answer to whatever `response_url` a signed body names, and the
answer to `/notpromoted status` says where a person is in their journey. Only Slack (or the
origin of SLACK_API_URL, here the stand-in on 127.0.0.1) may be answered; `localhost` is the
same stand-in under another name, so the test sees whether anything was sent there.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode

import pytest

from bot.core import ids
from bot.demo import slack_requests
from bot.slack.guard import foreign_reply_url, reply_origins
from tests.conftest import TEAM, BotFactory, RunningBot

ALEX = "U0ALEX"


def _elsewhere(bot: RunningBot, name: str) -> str:
    """The stand-in's response URL under another host name: not Slack's, not the API's."""
    return bot.standin.response_url(name).replace("127.0.0.1", "localhost")


def test_a_command_answering_elsewhere_is_refused_and_nothing_is_sent(
    start_bot: BotFactory,
) -> None:
    bot = start_bot()
    bot.command(ALEX)
    bot.dms(ALEX, 1)
    bot.settle()
    before = len(bot.standin.responses)
    body, kind = slack_requests.slash_command(
        user_id=ALEX, team_id=TEAM, text="status", response_url=_elsewhere(bot, "stolen")
    )
    response = bot.post(body, kind)
    bot.settle()
    assert response.status_code == 400
    assert len(bot.standin.responses) == before
    assert not any("stolen" in str(answer.get("path")) for answer in bot.standin.responses)
    # The same command answering at Slack's (here: the stand-in's) URL works.
    assert bot.command(ALEX, "status").status_code == 200


def test_a_click_answering_elsewhere_is_refused_and_changes_nothing(
    start_bot: BotFactory,
) -> None:
    bot = start_bot()
    bot.command(ALEX)
    [first] = bot.dms(ALEX, 1)
    body, kind = slack_requests.button_click(
        user_id=ALEX,
        team_id=TEAM,
        message=first,
        action_id=ids.STAGE_NEXT,
        value=slack_requests.button_of(first, ids.STAGE_NEXT),
        response_url=_elsewhere(bot, "stolen"),
    )
    assert bot.post(body, kind).status_code == 400
    bot.settle()
    assert bot.standin.calls_to("chat.update") == []
    assert len(bot.dms(ALEX, 1)) == 1


def test_a_listed_response_url_elsewhere_is_refused(start_bot: BotFactory) -> None:
    bot = start_bot()
    body, kind = slack_requests.view_submission(
        user_id=ALEX,
        team_id=TEAM,
        view={"type": "modal", "callback_id": ids.NOTES_FORM},
        values={"keep": {"value": "x"}},
    )
    [raw] = parse_qs(body.decode())["payload"]
    payload = json.loads(raw)
    payload["response_urls"] = [{"response_url": _elsewhere(bot, "stolen"), "channel_id": "C1"}]
    forged = urlencode({"payload": json.dumps(payload)}).encode()
    assert bot.post(forged, kind).status_code == 400
    bot.settle()
    assert bot.standin.responses == []


@pytest.mark.parametrize(
    ("url", "foreign"),
    [
        ("https://hooks.slack.com/commands/T0/1/abc", False),
        ("https://hooks.slack-gov.com/actions/T0/1/abc", False),
        ("http://127.0.0.1:3000/respond/x", False),  # the configured API's own origin
        ("http://hooks.slack.com/commands/T0/1/abc", True),  # not over TLS
        ("https://hooks.slack.com.example.net/x", True),
        ("https://example.net/hooks.slack.com", True),
        ("https://localhost/respond", True),
        ("http://[::1/x", True),  # unparseable
        (42, True),
    ],
)
def test_only_slacks_origins_may_be_answered(url: object, foreign: bool) -> None:
    origins = reply_origins("http://127.0.0.1:3000/api/")
    assert foreign_reply_url({"response_url": url}, origins) is foreign
    assert foreign_reply_url({"response_urls": [{"response_url": url}]}, origins) is foreign
    assert foreign_reply_url({}, origins) is False
