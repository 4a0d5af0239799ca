"""Invitations through the real Teams endpoint reach at most five managers a day."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.models import AuditEntry
from tests.bot.teams.harness import ALEX, TeamsBot, TeamsFactory, card_text
from tests.bot.teams.test_meetings_e2e import _invite

MANAGERS = [f"0a1b2c3d-0000-4000-8000-00000000c0d{number}" for number in range(1, 7)]


def _invitations_to(teams: TeamsBot, user: str) -> int:
    teams.settle()
    return sum(1 for sent in teams.cards(user) if "has invited you" in card_text(sent.card))


def test_the_sixth_manager_in_a_day_is_not_messaged(start_teams: TeamsFactory) -> None:
    teams = start_teams()
    for manager in MANAGERS:
        teams.install(manager)
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)

    answers = [_invite(teams, ALEX, manager) for manager in MANAGERS]

    assert [_invitations_to(teams, manager) for manager in MANAGERS] == [1, 1, 1, 1, 1, 0]
    assert all(answer["task"]["type"] == "message" for answer in answers[:5])
    refused = card_text(answers[-1]["task"]["value"]["card"]["content"])
    assert "as many invitations as I send in one day" in refused
    with Session(teams.runtime.engine) as session:
        last = session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc())).first()
    assert last is not None
    assert (last.action, last.outcome, last.reason, last.other) == (
        audit.GRANT,
        audit.REFUSED,
        audit.DAILY_LIMIT,
        MANAGERS[-1],
    )
