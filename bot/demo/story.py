"""The demo's story, the same on every platform: one person's journey, the check-ins days
later and a feedback meeting their manager prepares, with what they type and press, what they
fill in, and when. A platform's player (bot.demo.player for Slack, bot.demo.teams_player for
Teams) says how each step is done there, against its stand-in, and prints what a person sees.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import socket
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar
from zoneinfo import ZoneInfo

import uvicorn

from bot.app.runtime import Runtime, build_runtime
from bot.app.web import build_web_app
from bot.core import ids
from bot.core.clock import ManualClock
from bot.core.config import Settings
from bot.core.db import make_engine
from bot.core.migrate import upgrade
from bot.demo.script import Script

WIDTH = 78

# A message as the platform's stand-in keeps it.
M = TypeVar("M")


@dataclass(frozen=True)
class Cast:
    """The platform's ids for the people in the story."""

    you: str  # Alex
    manager: str  # Sam, whom you invite to prepare a feedback meeting
    lead: str  # who made the decision (never messaged)


@dataclass(frozen=True)
class ContentChoice:
    """The content the demo plays: a deployment's folder (None: the packaged content) and
    its default language."""

    folder: Path | None = None
    default_locale: str = "en"


@dataclass(frozen=True)
class FormFill:
    """A form of the story as it is filled in: the values by field name, and what the person
    does, said after the form's title (`joiner` between them) in pieces that each end a line
    of the terminal (a player may join and wrap them anew)."""

    joiner: str
    doing: tuple[str, ...]
    values: dict[str, str] = field(default_factory=dict)


def next_monday_morning(zone: ZoneInfo) -> datetime:
    today = datetime.now(zone).date()
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    return datetime(monday.year, monday.month, monday.day, 10, 0, tzinfo=zone)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(runtime: Runtime) -> AsyncIterator[int]:
    """`serve`'s ASGI app for the runtime, under uvicorn on a free loopback port (yielded)."""
    port = _free_port()
    app = build_web_app(runtime, run_dispatcher=False)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    running = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        await running


class DemoStopped(RuntimeError):
    """The bot did not do what the story expects next (its log says why)."""


class Story(ABC, Generic[M]):
    """The steps and the clock; the player does each step on its platform."""

    runtime: Runtime

    def __init__(self, out: TextIO, cast: Cast, script: Script) -> None:
        self.out = out
        self.cast = cast
        self.script = script
        self.zone = ZoneInfo(script.zone)
        self.clock = ManualClock(next_monday_morning(self.zone))
        self.start = self.clock()
        self.seen = 0  # the person's messages printed so far
        self.manager_seen = 0  # and the manager's

    def start_runtime(self, folder: Path, content: ContentChoice, **platform: Any) -> None:
        """The same runtime as `serve`, with the platform's settings, on a throwaway SQLite
        file in `folder`, with the content a deployment would use (NOTPROMOTED_CONTENT_DIR:
        an HR team reads its own words). One message at a time: messages due in the same
        minute (a person's and their manager's) print in the order they are due, the same on
        every run."""
        settings = Settings(
            **platform,
            content_dir=content.folder,
            default_locale=content.default_locale,
            database_url=f"sqlite:///{folder / 'demo.db'}",
            secret_key=secrets.token_urlsafe(32),
            dispatch_concurrency=1,
        )
        engine = make_engine(settings.database_url)
        upgrade(engine)
        self.runtime = build_runtime(settings, clock=self.clock, engine=engine)

    # -- what the player does on its platform ------------------------------------------------

    @abstractmethod
    def messages_to(self, user: str) -> list[M]:
        """Everything the bot has sent `user` so far, oldest first."""

    @abstractmethod
    def wait_for(self, condition: Callable[[], bool]) -> bool:
        """Block until `condition` holds (or a few seconds pass)."""

    @abstractmethod
    def text_of(self, message: M) -> str:
        """The message as a person reads it."""

    @abstractmethod
    def has_button(self, message: M, action: str) -> bool: ...

    @abstractmethod
    def show_message(self, message: M, *, to_manager: bool) -> None:
        """Print a message that just arrived."""

    @abstractmethod
    async def command(self, text: str = "") -> None:
        """The person asks the bot for something in words (`text` after the command's name),
        and reads its answer."""

    @abstractmethod
    def label_of(self, message: M, action: str) -> str: ...

    @abstractmethod
    async def click(self, message: M, action: str, *, user: str) -> str | None:
        """Press the button; the last line of the message as it updates in place, or None
        when the button opened a form (or left the message as it was)."""

    @abstractmethod
    async def fill_form(self, fill: FormFill, *, user: str) -> None:
        """Show the form the last click opened, fill it in as `fill` says and send it."""

    # -- what a person sees ------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def narrate_later(self, key: str) -> None:
        """The narrator moves the story on ("The next working day.")."""
        self.say(f"\n{self.script.text(key)}")

    def box(self, title: str, text: str) -> None:
        """A message (or a form) in a frame, under who shows it."""
        self.say(f"┌─ {title}")
        for line in text.splitlines():
            self.say(f"│ {line}")
        self.say("└" + "─" * 40)

    def when(self) -> str:
        return self.script.moment(self.clock().astimezone(self.zone))

    async def new_messages(self, expected: int = 1) -> list[M]:
        """Wait for `expected` new messages to the person and print every new one."""
        return await self._arrived(self.cast.you, expected)

    async def manager_messages(self, expected: int = 1) -> list[M]:
        """The manager's new messages, printed as they would see them."""
        return await self._arrived(self.cast.manager, expected)

    async def _arrived(self, user: str, expected: int) -> list[M]:
        to_manager = user == self.cast.manager
        seen = self.manager_seen if to_manager else self.seen
        arrived = await asyncio.to_thread(
            self.wait_for, lambda: len(self.messages_to(user)) >= seen + expected
        )
        if not arrived:
            raise DemoStopped(f"the bot sent no message the story expected, {self.when()}")
        fresh = self.messages_to(user)[seen:]
        if to_manager:
            self.manager_seen += len(fresh)
        else:
            self.seen += len(fresh)
        for message in fresh:
            self.show_message(message, to_manager=to_manager)
        return fresh

    async def anything_new(self) -> list[M]:
        """Print what has reached the person since the last message printed, if anything."""
        arrived = len(self.messages_to(self.cast.you)) - self.seen
        return await self.new_messages(arrived) if arrived > 0 else []

    def latest(self) -> M:
        return self.messages_to(self.cast.you)[-1]

    # -- what the person does ----------------------------------------------------------------

    async def press(
        self, message: M, action: str, *, new: int = 0, user: str | None = None
    ) -> None:
        user = user or self.cast.you
        who = self.script.text("you_press" if user == self.cast.you else "manager_presses")
        self.say(f"\n[{self.when()}] {who}  [ {self.label_of(message, action)} ]")
        note = await self.click(message, action, user=user)
        if note is not None:
            self.say(f"  {self.script.text('updates_in_place', note=note)}")
        if new:
            await self.new_messages(new)

    async def later(self, days: int, hour: int, minute: int = 0) -> list[M]:
        """Move the clock on; the scheduler sweeps; print what arrives."""
        local = self.clock().astimezone(self.zone) + timedelta(days=days)
        self.clock.move_to(local.replace(hour=hour, minute=minute))
        before = self.seen
        await self.runtime.dispatcher.run_once()
        to_manager = len(self.messages_to(self.cast.manager))
        if to_manager > self.manager_seen:
            await self.manager_messages(to_manager - self.manager_seen)
        if len(self.messages_to(self.cast.you)) > before:
            return await self.new_messages(len(self.messages_to(self.cast.you)) - before)
        return []

    def word(self, command: str) -> str:
        """The word for a command in the language the demo plays in ("stand" for status)."""
        return self.runtime.services.content.for_locale(self.script.locale, "slack").word(command)

    def step_number(self, message: M) -> int:
        """Which step a stage message shows, read from its "Step 3 of 10" in its language."""
        note = self.runtime.services.content.for_locale(self.script.locale, "slack").ui["step_note"]
        before = re.escape(note.split("{number}")[0])
        found = re.search(before + r"(\d+)", self.text_of(message))
        if found is None:
            raise DemoStopped("a stage message without its step number")
        return int(found.group(1))

    def _next_working_morning(self) -> datetime:
        local = self.clock().astimezone(self.zone) + timedelta(days=1)
        while local.weekday() >= 5:
            local += timedelta(days=1)
        return local.replace(hour=9, minute=30)

    # -- the forms ---------------------------------------------------------------------------

    def _form(self, name: str, values: dict[str, str]) -> FormFill:
        script = self.script
        return FormFill(script.text(f"{name}_joiner"), script.lines(f"{name}_doing"), values)

    def feedback_request(self) -> FormFill:
        values = {
            "decider": self.cast.lead,
            "focus": self.script.text("feedback_focus"),
            "tone": "warm",
        }
        return self._form("feedback", values)

    def goals(self) -> FormFill:
        values: dict[str, str] = {}
        for number in (1, 2):
            values[f"what_{number}"] = self.script.text(f"goal_{number}_what")
            values[f"first_step_{number}"] = self.script.text(f"goal_{number}_step")
        return self._form("goals", values)

    def invitation(self) -> FormFill:
        return self._form("invite", {"manager": self.cast.manager})

    def meeting_template(self) -> FormFill:
        meeting_on = self.clock().date() + timedelta(days=2)
        written = ("thanks", "observed", "gaps", "next_steps", "growth")
        values = {name: self.script.text(f"template_{name}") for name in written}
        values["meeting_on"] = meeting_on.isoformat()
        values["follow_up_on"] = (meeting_on + timedelta(days=28)).isoformat()
        return self._form("template", values)

    # -- the story ---------------------------------------------------------------------------

    async def feedback_meeting(self, step: M) -> None:
        """The manager stage: invite Sam, who prepares a meeting you then accept."""
        await self.press(step, ids.OPEN_MANAGER_INVITE)
        await self.fill_form(self.invitation(), user=self.cast.you)
        await self.anything_new()  # where to take it back, on a platform without a Home
        [invitation] = await self.manager_messages()
        self.clock.move_to(self.clock() + timedelta(hours=2))
        await self.press(invitation, ids.MEETING_PREPARE, user=self.cast.manager)
        await self.fill_form(self.meeting_template(), user=self.cast.manager)
        await self.manager_messages()
        [offer] = await self.new_messages()
        await self.press(offer, ids.MEETING_ACCEPT, new=1)
        await self.manager_messages()

    async def story(self) -> None:
        await self.command()
        [step] = await self.new_messages()
        await self.press(step, ids.STAGE_SNOOZE)
        self.narrate_later("next_morning")
        [step] = await self.later(1, 9, 15)
        for hour in (9, 13):
            self.clock.move_to(self.clock().astimezone(self.zone).replace(hour=hour, minute=20))
            await self.press(step, ids.STAGE_NEXT, new=1)
            step = self.latest()
        self.narrate_later("wednesday")
        await self.later(1, 9, 30)
        await self.press(step, ids.STAGE_NEXT, new=1)
        step = self.latest()
        await self.command(self.word("status"))
        self.narrate_later("first_checkin")
        [nudge] = await self.later(1, 10, 15)
        await self.press(nudge, ids.NUDGE_HELP)
        await self.fill_form(self.feedback_request(), user=self.cast.you)
        await self.new_messages(1)
        self.clock.move_to(self.clock() + timedelta(hours=4))
        await self.press(nudge, ids.NUDGE_ASKED)
        await self.press(step, ids.STAGE_NEXT, new=1)
        step = self.latest()
        self.narrate_later("weekend")
        [followup] = await self.later(5, 16, 30)
        await self.press(followup, ids.NUDGE_HELPED)
        await self.press(step, ids.STAGE_NEXT, new=1)
        step = self.latest()
        self.narrate_later("goals_day")
        [goals_nudge] = await self.later(1, 10, 15)
        goals_written = self.clock()
        await self.press(goals_nudge, ids.NUDGE_WRITE_GOALS)
        await self.fill_form(self.goals(), user=self.cast.you)
        await self.new_messages(1)
        total = len(self.runtime.services.content.stage_order)
        while True:
            number = self.step_number(step)
            if number % 2:
                self.narrate_later("next_working_day")
                self.clock.move_to(self._next_working_morning())
            if self.has_button(step, ids.OPEN_MANAGER_INVITE):
                await self.feedback_meeting(step)
            await self.press(step, ids.STAGE_NEXT, new=1)
            step = self.latest()
            if number == total:
                break
        self.narrate_later("two_weeks")
        self.clock.move_to(goals_written + timedelta(days=13))
        arrived = await self.later(1, 11, 0)
        [progress] = [m for m in arrived if self.has_button(m, ids.NUDGE_ON_TRACK)]
        await self.press(progress, ids.NUDGE_ON_TRACK)
        self.narrate_later("three_months")
        self.clock.move_to(self.start + timedelta(days=89))
        for _ in range(5):  # the look back waits for a working day
            if await self.later(1, 10, 30):
                break
        await self.command(self.word("help"))
