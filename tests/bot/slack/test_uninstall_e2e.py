"""The app removed from a workspace, through the real endpoint: `app_uninstalled` and
`tokens_revoked` in either order delete its tokens and everyone's data, and nothing is sent
there afterwards; other workspaces carry on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.models import AuditEntry, Checkin, Journey, Person, slack_bots, slack_installations
from bot.demo import slack_requests
from bot.demo.slack_standin import SlackStandIn
from tests.bot.slack.installing import install, oauth_bot
from tests.conftest import TEAM, BotFactory, RunningBot

NORTH, SOUTH = "T0NORTH", "T0SOUTH"
ALICE, BRUNO = "U0ALICE", "U0BRUNO"

UNINSTALLED: dict[str, Any] = {"type": "app_uninstalled"}
REVOKED: dict[str, Any] = {"type": "tokens_revoked", "tokens": {"bot": ["U0BOT"]}}


def _event(bot: RunningBot, team: str, event: dict[str, Any], event_id: str) -> None:
    body, kind = slack_requests.event_callback(team_id=team, event=event, event_id=event_id)
    assert bot.post(body, kind).status_code == 200
    bot.settle()


def _installed_teams(bot: RunningBot) -> dict[str, set[str]]:
    with bot.runtime.engine.connect() as connection:
        return {
            table.name: set(connection.execute(select(table.c.team_id)).scalars())
            for table in (slack_installations, slack_bots)
        }


def _people(bot: RunningBot) -> set[tuple[str, str]]:
    with Session(bot.runtime.engine) as session:
        return {(p.workspace_id, p.user_id) for p in session.exec(select(Person))}


def _checkins_of(bot: RunningBot, user: str) -> int:
    with Session(bot.runtime.engine) as session:
        query = (
            select(func.count())
            .select_from(Checkin)
            .join(Journey, col(Journey.id) == col(Checkin.journey_id))
            .join(Person, col(Person.id) == col(Journey.person_id))
            .where(Person.user_id == user)
        )
        return int(session.exec(query).one())


@pytest.fixture
def bot(start_bot: BotFactory, standin: SlackStandIn) -> RunningBot:
    standin.add_team(NORTH, "North")
    standin.add_team(SOUTH, "South")
    running = oauth_bot(start_bot, standin)
    install(running, NORTH)
    install(running, SOUTH)
    running.command(ALICE, team=NORTH)
    running.command(BRUNO, team=SOUTH)
    running.dms(ALICE, 1)
    running.dms(BRUNO, 1)
    return running


@pytest.mark.parametrize(
    "events",
    [
        pytest.param((UNINSTALLED, REVOKED), id="uninstalled-then-revoked"),
        pytest.param((REVOKED, UNINSTALLED), id="revoked-then-uninstalled"),
    ],
)
def test_removing_the_app_deletes_the_workspace_and_nothing_is_sent_there_afterwards(
    bot: RunningBot, standin: SlackStandIn, events: tuple[dict[str, Any], ...]
) -> None:
    assert _checkins_of(bot, ALICE) >= 3  # the first step, and the nudges still to come
    standin.uninstall(NORTH)  # Slack revokes the tokens, then tells the app

    _event(bot, NORTH, events[0], "Ev0001")
    after_first = (_installed_teams(bot), _people(bot), _checkins_of(bot, ALICE))
    _event(bot, NORTH, events[1], "Ev0002")

    # The first event alone did everything; the second found nothing left.
    assert after_first == (_installed_teams(bot), _people(bot), 0)
    assert _installed_teams(bot) == {"slack_installations": {SOUTH}, "slack_bots": {SOUTH}}
    assert _people(bot) == {(SOUTH, BRUNO)}
    assert _checkins_of(bot, BRUNO) >= 3

    with Session(bot.runtime.engine) as session:
        trail = session.exec(select(AuditEntry).order_by(col(AuditEntry.id))).all()
    removals = [row for row in trail if row.action == audit.UNINSTALL]
    assert [(row.workspace_id, row.reason) for row in removals] == [
        (NORTH, events[0]["type"]),
        (NORTH, events[1]["type"]),
    ]
    north_ids = {row.actor for row in trail if row.workspace_id == NORTH}
    assert north_ids <= {audit.PLATFORM_ACTOR} | {i for i in north_ids if i.startswith("h:")}
    assert any(row.actor == "U0ADMIN" for row in trail if row.workspace_id == SOUTH)

    # Days later the dispatcher sends South's nudges, and nothing at all to North.
    calls_before = len(standin.calls)
    bot.clock.move_to(bot.clock.now + timedelta(days=30))
    assert bot.sweep() >= 2
    later = standin.calls[calls_before:]
    assert later and all(call.team_id == SOUTH for call in later)
    assert all(call.args.get("channel") != f"D{ALICE}" for call in later)

    # And a person there who types the command is told the app is gone, with no DM.
    bot.command(ALICE, team=NORTH)
    assert standin.wait_for(
        lambda: any("no longer installed" in r.get("text", "") for r in standin.responses)
    )
    assert not [c for c in standin.calls[calls_before:] if c.team_id == NORTH]


def test_revoking_only_peoples_own_tokens_keeps_the_workspace(
    bot: RunningBot, standin: SlackStandIn
) -> None:
    _event(bot, NORTH, {"type": "tokens_revoked", "tokens": {"oauth": ["U0ADMIN"]}}, "Ev0003")
    assert _installed_teams(bot)["slack_bots"] == {NORTH, SOUTH}
    assert (NORTH, ALICE) in _people(bot)


def test_with_one_workspace_removing_the_app_erases_its_people(
    start_bot: BotFactory, standin: SlackStandIn
) -> None:
    bot = start_bot()
    bot.command(ALICE)
    bot.dms(ALICE, 1)
    _event(bot, TEAM, UNINSTALLED, "Ev0004")
    assert _people(bot) == set()
    calls_before = len(standin.calls)
    bot.clock.move_to(bot.clock.now + timedelta(days=30))
    assert bot.sweep() == 0
    assert standin.calls[calls_before:] == []
