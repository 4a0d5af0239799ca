"""The command words in a Teams chat, the install greeting, and the buttons on answers."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import Journey, JourneyStatus, Person, TeamsConversation
from tests.bot.teams.harness import ALEX, TeamsFactory, card_text, has_button


def test_installing_keeps_the_conversation_and_greets_once_with_a_begin_button(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    assert teams.install(ALEX).status_code == 200
    [welcome] = teams.cards(ALEX, 1)
    assert has_button(welcome.card, ids.HOME_START)
    with Session(teams.runtime.engine) as session:
        assert session.exec(select(TeamsConversation)).one().service_url == teams.cloud.service_url
    answer = teams.click(ALEX, welcome, ids.HOME_START).json()
    said = card_text(answer["value"])
    assert "Everything here stays between us." in said and "direct message" not in said
    assert not has_button(answer["value"], ids.HOME_START)
    assert "Step 1 of 10" in card_text(teams.cards(ALEX, 2)[1].card)


def test_status_pause_resume_stop_and_help(start_teams: TeamsFactory) -> None:
    teams = start_teams()
    teams.say(ALEX, "status")
    assert "haven't started" in card_text(teams.cards(ALEX, 1)[0].card)
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 3)
    teams.say(ALEX, "/notpromoted pause")
    assert "Paused." in card_text(teams.cards(ALEX, 4)[-1].card)
    teams.say(ALEX, "status")
    assert "paused" in card_text(teams.cards(ALEX, 5)[-1].card)
    teams.say(ALEX, "resume")
    sent = teams.cards(ALEX, 7)
    assert "running again" in card_text(sent[5].card)
    assert "Step 1 of 10" in card_text(sent[6].card)
    teams.say(ALEX, "<at>Next Step</at> stop")
    assert "Stopped." in card_text(teams.cards(ALEX, 8)[-1].card)
    with Session(teams.runtime.engine) as session:
        assert session.exec(select(Journey)).one().status == JourneyStatus.STOPPED
    teams.say(ALEX, "help")
    assert "status" in card_text(teams.cards(ALEX, 9)[-1].card)
    teams.say(ALEX, "dance")
    assert "dance" in card_text(teams.cards(ALEX, 10)[-1].card)


def test_forget_asks_first_and_erases_everything_including_the_reference(
    start_teams: TeamsFactory,
) -> None:
    teams = start_teams()
    teams.say(ALEX, "notpromoted")
    teams.cards(ALEX, 2)
    teams.say(ALEX, "forget")
    prompt = teams.cards(ALEX, 3)[-1]
    assert has_button(prompt.card, ids.FORGET_CONFIRM)
    cancelled = teams.click(ALEX, prompt, ids.FORGET_CANCEL).json()
    assert "erases everything" in card_text(cancelled["value"])
    assert not has_button(cancelled["value"], ids.FORGET_CONFIRM)
    erased = teams.click(ALEX, prompt, ids.FORGET_CONFIRM).json()
    assert "Everything I kept about you has been erased." in card_text(erased["value"])
    with Session(teams.runtime.engine) as session:
        assert session.exec(select(Person)).all() == []
        assert session.exec(select(TeamsConversation)).all() == []


def test_snooze_and_stop_on_the_stage_card(start_teams: TeamsFactory) -> None:
    teams = start_teams()
    teams.say(ALEX, "notpromoted")
    _, stage = teams.cards(ALEX, 2)
    snoozed = teams.click(ALEX, stage, ids.STAGE_SNOOZE).json()
    assert "tomorrow at 09:00" in card_text(snoozed["value"])
    # A second copy of that card (another device) no longer answers: a short message says so.
    again = teams.click(ALEX, stage, ids.STAGE_STOP).json()
    assert again["type"] == "application/vnd.microsoft.activity.message"
    assert "expired" in again["value"]
    with Session(teams.runtime.engine) as session:
        assert session.exec(select(Journey)).one().status == JourneyStatus.ACTIVE
