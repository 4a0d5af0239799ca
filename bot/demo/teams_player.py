"""`notpromoted demo --teams`: the demo's story (bot.demo.story) played through Teams'
endpoint, /api/messages, against the Teams stand-in (bot.demo.teams_standin).

The same ASGI app, Teams handlers and dispatcher as `serve` in a deployment that serves Teams
alone, with authentication on: every activity is signed as the Bot Framework signs it, and
the bot gets its own tokens from the stand-in's login service (over TLS, whose certificate
this process trusts while the demo plays), on a throwaway SQLite file. Nothing leaves this
machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import httpx

from bot.demo import teams_activities as activities
from bot.demo.script import Script
from bot.demo.story import (
    WIDTH,
    Cast,
    ContentChoice,
    DemoStopped,
    FormFill,
    Story,
    serving,
)
from bot.demo.teams_card_text import ClientWords, last_line, render_card
from bot.demo.teams_standin import TeamsStandIn
from bot.demo.teams_standin_records import (
    ADAPTIVE_CARD,
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT,
    Payload,
    Sent,
)
from bot.teams.endpoint import MESSAGES_PATH

# Entra object ids of the people in the story, and the names Teams gives them.
ALEX = "0a1b2c3d-0000-4000-8000-00000000a1e5"
SAM = "0a1b2c3d-0000-4000-8000-0000000005a3"
LEAD = "0a1b2c3d-0000-4000-8000-00000000ead0"  # who made the decision (never messaged)
NAMES = {ALEX: "Alex", SAM: "Sam"}


class TeamsDemoPlayer(Story[Sent]):
    def __init__(self, out: TextIO, folder: Path, script: Script, content: ContentChoice) -> None:
        super().__init__(out, Cast(you=ALEX, manager=SAM, lead=LEAD), script)
        self.client = ClientWords(script.text("teams_picker"), script.text("teams_date"))
        self.cloud = TeamsStandIn().start(folder)
        self.start_runtime(
            folder,
            content,
            teams_client_id=CLIENT_ID,
            teams_client_secret=CLIENT_SECRET,
            teams_tenant_id=TENANT,
            teams_service_url=self.cloud.service_url,
            teams_login_url=self.cloud.login_url,
            teams_openid_metadata_url=self.cloud.openid_url,
            teams_service_url_hosts=(self.cloud.connector_host,),
        )
        self.port = 0  # where the bot listens, once it does
        self.http: httpx.AsyncClient | None = None
        # Cards as Teams shows them after a button's answer redrew them, by activity id, with
        # how many updates the connector had for it then (a later update wins).
        self.answered: dict[str, tuple[Payload, int]] = {}
        self.dialog: Payload = {}  # the answer to the last task/fetch

    # -- what a person sees ------------------------------------------------------------------

    @property
    def app_name(self) -> str:
        return self.runtime.services.settings.display_name

    def messages_to(self, user: str) -> list[Sent]:
        return self.cloud.to(activities.conversation(user))

    def wait_for(self, condition: Callable[[], bool]) -> bool:
        return self.cloud.wait_for(condition, 10)

    def card_of(self, message: Sent) -> Payload:
        answered = self.answered.get(message.activity_id)
        if answered is not None and answered[1] == len(message.updates):
            return answered[0]
        return message.card

    def text_of(self, message: Sent) -> str:
        return render_card(self.card_of(message), self.client)

    def has_button(self, message: Sent, action: str) -> bool:
        try:
            activities.button_data(self.card_of(message), action)
        except LookupError:
            return False
        return True

    def label_of(self, message: Sent, action: str) -> str:
        return str(activities.button_of(self.card_of(message), action).get("title"))

    def show(self, title: str, card: Payload) -> None:
        self.box(title, render_card(card, self.client))

    def show_message(self, message: Sent, *, to_manager: bool) -> None:
        if to_manager:
            self.say(f"\n[{self.when()}] {self.script.text('teams_manager_message')}")
        else:
            summary = message.activity.get("summary") or ""
            self.say(f"\n[{self.when()}] {self.script.text('teams_your_message')}")
            self.say(f"  “{summary}”")
        self.show(self.app_name, self.card_of(message))

    def narrate(self, text: str) -> None:
        for line in textwrap.wrap(text, WIDTH, subsequent_indent="  "):
            self.say(line)

    # -- what the person does ----------------------------------------------------------------

    async def post(self, activity: Payload) -> Any:
        """Send an activity as Teams does, signed; Teams' answer to it (for an invoke)."""
        assert self.http is not None
        headers = {"Authorization": f"Bearer {self.cloud.sign()}"}
        url = f"http://127.0.0.1:{self.port}{MESSAGES_PATH}"
        response = await self.http.post(url, json=activity, headers=headers)
        response.raise_for_status()
        # Let the handler finish what it does after its answer before the story's clock moves.
        assert self.runtime.teams_listeners is not None  # the demo serves Teams
        await self.runtime.teams_listeners.settled()
        return response.json() if response.content else None

    def _from(self, user: str) -> dict[str, Any]:
        return {"zone": self.script.zone, "from_name": NAMES[user], "locale": self.script.locale}

    async def add_app(self, user: str) -> None:
        await self.post(activities.app_added(self.cloud.service_url, user, **self._from(user)))

    async def command(self, text: str = "") -> None:
        words = text or self.word("start")
        self.say(f"\n[{self.when()}] {self.script.text('teams_you_write', text=words)}")
        await self.post(activities.message(self.cloud.service_url, ALEX, words, **self._from(ALEX)))
        await self.show_answer()

    async def show_answer(self) -> None:
        """The bot's answer in the chat, shown as what follows what the person did."""
        if not await asyncio.to_thread(
            self.wait_for, lambda: len(self.messages_to(ALEX)) > self.seen
        ):
            raise DemoStopped(f"the bot did not answer in the chat, {self.when()}")
        reply = self.messages_to(ALEX)[self.seen]
        self.seen += 1
        self.show(self.app_name, self.card_of(reply))

    async def click(self, message: Sent, action: str, *, user: str) -> str | None:
        data = activities.button_data(self.card_of(message), action)
        service = self.cloud.service_url
        if "opener" in data:  # an Action.Submit that opens a dialog (task/fetch)
            self.dialog = await self.post(
                activities.dialog_open(service, user, data, **self._from(user))
            )
            return None
        answer = await self.post(
            activities.card_action(service, user, message.activity_id, data, **self._from(user))
        )
        if answer.get("type") != ADAPTIVE_CARD:  # the card stays; Teams shows a short message
            self.narrate(f"  {self.script.text('teams_shows', text=answer.get('value'))}")
            return None
        self.answered[message.activity_id] = (answer["value"], len(message.updates))
        return last_line(answer["value"])

    async def fill_form(self, fill: FormFill, *, user: str) -> None:
        task = self.dialog.get("task") or {}
        if task.get("type") != "continue":
            raise DemoStopped(f"no dialog opened: {task.get('value')}")
        title, card = task["value"]["title"], task["value"]["card"]["content"]
        whose = self.script.text(
            "teams_dialog_opens" if user == ALEX else "teams_manager_dialog_opens"
        )
        self.say("")
        self.narrate(f"[{self.when()}] {whose}: “{title}”{fill.joiner}{' '.join(fill.doing)}")
        self.show(title, card)
        [send] = activities.actions_of(card)
        data = {**(send.get("data") or {}), **fill.values}
        answer = await self.post(
            activities.dialog_submit(self.cloud.service_url, user, data, **self._from(user))
        )
        closed = (answer or {}).get("task") or {}
        if closed.get("type") == "continue":  # the same form again, with what was wrong
            shown = render_card(closed["value"]["card"]["content"], self.client)
            raise DemoStopped(f"the dialog was not accepted:\n{shown}")
        if closed.get("type") == "message":
            self.narrate(f"  {self.script.text('teams_dialog_closes', text=closed['value'])}")

    # -- the story ---------------------------------------------------------------------------

    async def play(self) -> None:
        for line in self.script.lines("teams_intro", app=self.app_name):
            self.say(line)
        try:
            async with (
                serving(self.runtime) as self.port,
                httpx.AsyncClient(timeout=30, trust_env=False) as self.http,
            ):
                await self.add_app(SAM)
                self.manager_seen = len(self.messages_to(SAM))  # Sam's welcome, read long ago
                added = self.script.text("teams_you_add", app=self.app_name)
                self.say(f"\n[{self.when()}] {added}")
                await self.add_app(ALEX)
                await self.show_answer()
                await self.story()
        finally:
            self.cloud.stop()
            self.runtime.engine.dispose()
        self.say()
        for line in self.script.lines("teams_outro"):
            self.say(line)


@contextlib.contextmanager
def environment(**changes: str) -> Iterator[None]:
    """These environment variables while the demo plays; as they were afterwards."""
    before = {name: os.environ.get(name) for name in changes}
    os.environ.update(changes)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """The story alone on the terminal: the bot's notes on signing in and starting (INFO)
    are for operators; warnings and errors still show."""
    handlers = logging.getLogger().handlers
    before = [handler.level for handler in handlers]
    for handler in handlers:
        handler.setLevel(max(handler.level, logging.WARNING))
    try:
        yield
    finally:
        for handler, level in zip(handlers, before, strict=True):
            handler.setLevel(level)


def run_teams_demo(out: TextIO, script: Script, content: ContentChoice) -> None:
    # No HTTP client of the bot's sends loopback requests through a proxy the environment
    # names (the Teams SDK's clients read it when they are made); MSAL, through requests,
    # trusts the stand-in's login service and no other.
    loopback = "127.0.0.1,localhost"
    with (
        tempfile.TemporaryDirectory(prefix="notpromoted-demo-") as folder,
        quiet_logs(),
        environment(NO_PROXY=loopback, no_proxy=loopback),
    ):
        player = TeamsDemoPlayer(out, Path(folder), script, content)
        with environment(REQUESTS_CA_BUNDLE=player.cloud.ca_file):
            asyncio.run(player.play())
