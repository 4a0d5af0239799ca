"""The journey in Teams, through the real endpoint with signed activities, against the fakes."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import Checkin, CheckinStatus, Person, TeamsConversation
from tests.bot.teams.harness import ALEX, TeamsFactory, card_text, has_button


def test_the_command_starts_the_journey_with_a_stage_card(start_teams: TeamsFactory) -> None:
    teams = start_teams()
    assert teams.say(ALEX, "notpromoted").status_code == 200
    reply, stage = teams.cards(ALEX, 2)
    assert card_text(reply.card) == "Let's begin. Everything here stays between us."
    assert "Step 1 of 10" in card_text(stage.card)
    assert stage.activity["summary"] == "You have a new message from Next Step"
    for choice in ids.STAGE_CHOICES:
        assert has_button(stage.card, choice)
    with Session(teams.runtime.engine) as session:
        person = session.exec(select(Person)).one()
        assert (person.platform, person.workspace_id, person.user_id) == (
            "teams",
            teams.ref(ALEX).workspace_id,
            ALEX,
        )
        conversation = session.exec(select(TeamsConversation)).one()
        assert conversation.conversation_id == teams.conversation(ALEX)
        assert conversation.time_zone == "Europe/Berlin"
        [row] = session.exec(select(Checkin).where(Checkin.kind == ids.CHECKIN_KIND_STAGE)).all()
        assert row.status == CheckinStatus.SENT and row.message_ts == stage.activity_id


def test_next_step_redraws_the_card_in_place_and_sends_the_next(start_teams: TeamsFactory) -> None:
    teams = start_teams()
    teams.say(ALEX, "notpromoted")
    _, stage = teams.cards(ALEX, 2)
    response = teams.click(ALEX, stage, ids.STAGE_NEXT)
    assert response.status_code == 200
    answer = response.json()
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    redrawn = card_text(answer["value"])
    assert "Step 1 of 10" in redrawn and "You moved on to the next step" in redrawn
    assert not has_button(answer["value"], ids.STAGE_NEXT)
    assert "Step 2 of 10" in card_text(teams.cards(ALEX, 3)[2].card)
