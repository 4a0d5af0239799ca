"""The same handlers behind both adapters: one test, run through Slack's endpoint and Teams'.

Each driver does what a person does on its platform (a slash command or a chat message, a
Block Kit button or an Adaptive Card action) and reads back what the person would see.
"""

from __future__ import annotations

from typing import Protocol

import pytest
from sqlmodel import Session, select

from bot.core import ids
from bot.core.models import Journey, JourneyStatus, Person
from bot.demo.slack_standin_records import PostedMessage
from tests.bot.teams.fakes import Sent
from tests.bot.teams.harness import ALEX, TeamsBot, TeamsFactory, card_text
from tests.conftest import BotFactory, RunningBot, text_of


class Driver(Protocol):
    def command(self, text: str) -> str: ...

    def latest(self) -> str: ...

    def press(self, action: str) -> str: ...

    def people(self) -> list[Person]: ...

    def journeys(self) -> list[Journey]: ...


class SlackDriver:
    user = "U0BOTH"

    def __init__(self, bot: RunningBot) -> None:
        self.bot = bot
        self.answer: PostedMessage | None = None  # the last private answer to the command

    def command(self, text: str) -> str:
        answer = self.bot.command(self.user, text).json()
        self.bot.settle()
        blocks = answer.get("blocks") or []
        self.answer = PostedMessage(channel="", ts="", text="", blocks=blocks, metadata=None)
        return str(answer.get("text") or "") + text_of(blocks)

    def _last(self) -> PostedMessage:
        return self.bot.standin.dms_to(self.user)[-1]

    def latest(self) -> str:
        return text_of(self._last().blocks)

    def press(self, action: str) -> str:
        if self.answer is not None and action in str(self.answer.blocks):  # on the answer
            answered = len(self.bot.standin.responses)
            self.bot.click(self.user, self.answer, action, ephemeral=True)
            self.bot.standin.wait_for(lambda: len(self.bot.standin.responses) > answered)
            return text_of(self.bot.standin.responses[-1]["blocks"])
        message = self._last()
        self.bot.click(self.user, message, action)
        self.bot.wait_updated(message)
        self.bot.settle()
        return text_of(message.blocks)

    def people(self) -> list[Person]:
        with Session(self.bot.runtime.engine) as session:
            return list(session.exec(select(Person)))

    def journeys(self) -> list[Journey]:
        with Session(self.bot.runtime.engine) as session:
            return list(session.exec(select(Journey)))


class TeamsDriver:
    def __init__(self, teams: TeamsBot) -> None:
        self.teams = teams

    def command(self, text: str) -> str:
        before = len(self.teams.cards(ALEX))
        self.teams.say(ALEX, text)
        return card_text(self.teams.cards(ALEX, before + 1)[before].card)

    def _last_card(self) -> Sent:
        cards = [s for s in self.teams.cards(ALEX) if s.card.get("actions")]
        return cards[-1]

    def latest(self) -> str:
        return card_text(self.teams.cards(ALEX)[-1].card)

    def press(self, action: str) -> str:
        answer = self.teams.click(ALEX, self._last_card(), action).json()
        return card_text(answer["value"])

    def people(self) -> list[Person]:
        with Session(self.teams.runtime.engine) as session:
            return list(session.exec(select(Person)))

    def journeys(self) -> list[Journey]:
        with Session(self.teams.runtime.engine) as session:
            return list(session.exec(select(Journey)))


@pytest.fixture(params=["slack", "teams"])
def driver(
    request: pytest.FixtureRequest, start_bot: BotFactory, start_teams: TeamsFactory
) -> SlackDriver | TeamsDriver:
    if request.param == "slack":
        return SlackDriver(start_bot())
    return TeamsDriver(start_teams())


def test_start_then_next_step(driver: SlackDriver | TeamsDriver) -> None:
    assert "stays between us." in driver.command("")
    assert "Step 1 of 10" in driver.latest()
    pressed = driver.press(ids.STAGE_NEXT)
    assert "Step 1 of 10" in pressed and "You moved on to the next step" in pressed
    assert "Step 2 of 10" in driver.latest()
    [person] = driver.people()
    assert person.time_zone is not None  # from the platform: users.info, or Teams' activity


def test_pause_holds_and_resume_sends_where_you_left_off(driver: SlackDriver | TeamsDriver) -> None:
    driver.command("")
    assert "Paused." in driver.command("pause")
    assert "paused" in driver.command("status")
    assert driver.journeys()[0].status == JourneyStatus.PAUSED
    assert "running again" in driver.command("resume")
    assert "Step 1 of 10" in driver.latest()
    assert driver.journeys()[0].status == JourneyStatus.ACTIVE


def test_forget_erases_the_person_after_they_confirm(driver: SlackDriver | TeamsDriver) -> None:
    driver.command("")
    assert "can't be undone" in driver.command("forget")
    assert driver.people()
    assert "has been erased" in driver.press(ids.FORGET_CONFIRM)
    assert driver.people() == [] and driver.journeys() == []
