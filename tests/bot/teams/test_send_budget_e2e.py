"""The budget per tenant through the whole path: people write to the bot, their first
messages go out through the dispatcher, and the Bot Connector sees no more than this
process's share of the deployment's requests a second."""

from __future__ import annotations

from sqlmodel import Session

from bot.core.storage import heartbeats
from tests.bot.teams.harness import TeamsBot, TeamsFactory

PEOPLE = [f"0a1b2c3d-0000-4000-8000-{number:012x}" for number in range(10)]


def first_messages_at(teams: TeamsBot) -> list[float]:
    """When each person's first stage arrived (the second card in their chat)."""
    for user in PEOPLE:
        teams.say(user, "start")
    return sorted(teams.cards(user, 2)[1].at for user in PEOPLE)


def most_in_any_second(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


def test_first_messages_keep_within_the_tenants_budget(start_teams: TeamsFactory) -> None:
    teams = start_teams(teams_requests_per_second=4.0)
    times = first_messages_at(teams)
    # One at once, then one every quarter of a second: never more than 1.25 times the budget.
    assert times[-1] - times[0] >= 9 * 0.25 - 0.05
    assert most_in_any_second(times) <= 5


def test_a_second_living_sender_halves_this_ones_share(start_teams: TeamsFactory) -> None:
    teams = start_teams(teams_requests_per_second=4.0)
    with Session(teams.runtime.engine) as session, session.begin():
        heartbeats.beat(session, owner="another-worker", now=teams.bot.clock())
    times = first_messages_at(teams)
    # One at once, then one every half second.
    assert times[-1] - times[0] >= 9 * 0.5 - 0.05
    assert most_in_any_second(times) <= 3
