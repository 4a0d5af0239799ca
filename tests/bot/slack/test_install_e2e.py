"""Installing in several workspaces, through the real endpoints: Slack's OAuth against the
stand-in, tokens kept encrypted, each workspace reached with its own token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.core import audit
from bot.core.models import AuditEntry, Person
from bot.demo import slack_requests
from bot.demo.slack_standin import SlackStandIn
from bot.demo.slack_standin_records import Failure
from tests.bot.slack.installing import cookie_state, install, oauth_bot, opened, stored_bot_tokens
from tests.conftest import TEAM, BotFactory, RunningBot

NORTH, SOUTH = "T0NORTH", "T0SOUTH"
ALICE, BRUNO = "U0ALICE", "U0BRUNO"


@pytest.fixture
def bot(start_bot: BotFactory, standin: SlackStandIn) -> RunningBot:
    standin.add_team(NORTH, "North")
    standin.add_team(SOUTH, "South")
    return oauth_bot(start_bot, standin)


def test_an_install_stores_the_token_encrypted_and_the_team_is_served_with_it(
    bot: RunningBot, standin: SlackStandIn
) -> None:
    page = install(bot, NORTH)
    assert page.status_code == 200
    assert "Next Step is ready in North" in page.text
    assert "!" not in page.text.split("<body>")[1]  # no exclamation marks in what is read

    [exchange] = standin.calls_to("oauth.v2.access")
    assert exchange.args["code"].startswith(NORTH)
    sealed = stored_bot_tokens(bot.runtime.engine)[NORTH]
    assert not sealed.startswith("xox")
    north_token = opened(sealed)
    assert standin.tokens[north_token].team_id == NORTH

    assert bot.command(ALICE, team=NORTH).status_code == 200
    [dm] = bot.dms(ALICE, 1)
    assert dm.channel == f"D{ALICE}"
    posts = standin.calls_to("chat.postMessage")
    assert [call.token for call in posts] == [north_token]
    with Session(bot.runtime.engine) as session:
        person = session.exec(select(Person).where(Person.user_id == ALICE)).one()
        assert (person.workspace_id, person.enterprise_id) == (NORTH, None)
        [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == audit.INSTALL)).all()
        assert (entry.workspace_id, entry.actor) == (NORTH, "U0ADMIN")


def test_two_workspaces_each_get_their_own_token(bot: RunningBot, standin: SlackStandIn) -> None:
    install(bot, NORTH)
    install(bot, SOUTH)
    tokens = {
        team: opened(sealed) for team, sealed in stored_bot_tokens(bot.runtime.engine).items()
    }
    assert tokens[NORTH] != tokens[SOUTH]

    bot.command(ALICE, team=NORTH)
    bot.command(BRUNO, team=SOUTH)
    bot.dms(ALICE, 1)
    bot.dms(BRUNO, 1)
    # The first DMs, and the dispatcher's nudges days later, each with the person's own.
    bot.clock.move_to(bot.clock.now + timedelta(days=10))
    assert bot.sweep() == 4  # the feedback and goals nudges of each
    posts = standin.calls_to("chat.postMessage")
    assert len(posts) == 6
    for call in posts:
        expected = tokens[NORTH] if call.args["channel"] == f"D{ALICE}" else tokens[SOUTH]
        assert call.token == expected


def test_a_workspace_that_never_installed_is_told_so_kindly(
    bot: RunningBot, standin: SlackStandIn
) -> None:
    install(bot, NORTH)
    response = bot.command(BRUNO, team=SOUTH)
    assert response.status_code == 200
    assert standin.wait_for(lambda: len(standin.responses) == 1)
    [reply] = standin.responses
    assert "no longer installed in this workspace" in reply["text"]
    assert standin.calls_to("chat.postMessage") == []


def test_an_org_wide_grid_install_reaches_every_workspace_of_the_org(
    bot: RunningBot, standin: SlackStandIn
) -> None:
    standin.add_team("T0GRIDA", "Grid A", enterprise_id="E0ORG", org_wide=True)
    assert install(bot, "T0GRIDA").status_code == 200
    [org_token] = [token for token, issued in standin.tokens.items() if issued.kind == "bot"]
    assert standin.tokens[org_token].team_id is None

    body, kind = slack_requests.slash_command(
        user_id=ALICE,
        team_id="T0GRIDA",
        enterprise_id="E0ORG",
        org_wide=True,
        response_url=standin.response_url(ALICE),
    )
    assert bot.post(body, kind).status_code == 200
    bot.dms(ALICE, 1)
    assert [call.token for call in standin.calls_to("chat.postMessage")] == [org_token]
    with Session(bot.runtime.engine) as session:
        person = session.exec(select(Person).where(Person.user_id == ALICE)).one()
        assert (person.workspace_id, person.enterprise_id) == ("T0GRIDA", "E0ORG")


def test_the_install_page_links_to_the_configured_authorize_url(
    bot: RunningBot, standin: SlackStandIn
) -> None:
    page = bot.http.get(f"{bot.url}/slack/install")
    assert page.status_code == 200
    assert standin.base_url + "oauth/v2/authorize?" in page.text
    assert "client_id=111.222" in page.text
    assert "scope=chat:write" in page.text.replace("%3A", ":")
    assert "Add Next Step to your workspace" in page.text


@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"code": "T0NORTH.x", "state": "made-up"}, id="unknown state"),
        pytest.param({"code": "T0NORTH.x"}, id="no state"),
        pytest.param({}, id="nothing"),
    ],
)
def test_a_bad_or_missing_state_gets_a_kind_page_and_installs_nothing(
    bot: RunningBot, standin: SlackStandIn, query: dict[str, str]
) -> None:
    response = bot.http.get(
        f"{bot.url}/slack/oauth_redirect",
        params=query,
        headers={"cookie": "slack-app-oauth-state=made-up"},
    )
    assert response.status_code == 400
    assert "expired or was opened in another browser" in response.text
    assert 'href="/slack/install"' in response.text
    assert standin.calls_to("oauth.v2.access") == []
    assert stored_bot_tokens(bot.runtime.engine) == {}


def test_a_state_works_once(bot: RunningBot, standin: SlackStandIn) -> None:
    page = bot.http.get(f"{bot.url}/slack/install", params={"team": NORTH})
    state = cookie_state(page)
    cookie = {"cookie": f"slack-app-oauth-state={state}"}
    first = bot.http.get(
        f"{bot.url}/slack/oauth_redirect", params={"code": "nope", "state": state}, headers=cookie
    )
    again = bot.http.get(
        f"{bot.url}/slack/oauth_redirect", params={"code": "nope", "state": state}, headers=cookie
    )
    assert first.status_code == 400  # the code is wrong: Slack refused it
    assert [call.args["code"] for call in standin.calls_to("oauth.v2.access")] == ["nope"]
    assert again.status_code == 400  # the state was spent by the first
    assert len(standin.calls_to("oauth.v2.access")) == 1


def test_an_admin_who_cancels_is_told_nothing_was_installed(bot: RunningBot) -> None:
    response = bot.http.get(f"{bot.url}/slack/oauth_redirect", params={"error": "access_denied"})
    assert response.status_code == 200
    assert "Nothing was installed" in response.text


def test_slack_failing_the_exchange_gets_a_kind_page(
    bot: RunningBot, standin: SlackStandIn
) -> None:
    standin.fail_next("oauth.v2.access", Failure(status=500))
    response = install(bot, NORTH)
    assert response.status_code == 400
    assert "nothing was installed" in response.text
    assert stored_bot_tokens(bot.runtime.engine) == {}


def test_slack_unreachable_during_the_exchange_gets_a_kind_page_not_a_500(
    bot: RunningBot, standin: SlackStandIn
) -> None:
    page = bot.http.get(f"{bot.url}/slack/install", params={"team": NORTH})
    state = cookie_state(page)
    standin.stop()  # Slack does not answer at all
    response = bot.http.get(
        f"{bot.url}/slack/oauth_redirect",
        params={"code": "T0NORTH.x", "state": state},
        headers={"cookie": f"slack-app-oauth-state={state}"},
    )
    assert response.status_code == 503
    assert "could not be finished just now" in response.text


def test_the_single_workspace_mode_has_no_install_pages(start_bot: BotFactory) -> None:
    bot = start_bot()
    assert bot.http.get(f"{bot.url}/slack/install").status_code == 404
    bot.command("U0SOLO")
    assert bot.dms("U0SOLO", 1)
    assert bot.standin.calls_to("chat.postMessage")[0].token == "xoxb-test-token"
    assert bot.standin.calls_to("chat.postMessage")[0].team_id == TEAM
