"""`notpromoted demo`: one person's journey, played against the stand-in for Slack.

The same ASGI app, Bolt listeners, handlers and dispatcher as `serve`, on a throwaway SQLite
file, with signed requests as Slack would send them. Nothing leaves this machine.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import socket
import tempfile
import textwrap
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import aiohttp
import uvicorn

from bot.app.runtime import build_runtime
from bot.app.web import build_web_app
from bot.core import ids
from bot.core.clock import ManualClock
from bot.core.config import Settings
from bot.core.db import make_engine
from bot.core.migrate import upgrade
from bot.demo import slack_requests
from bot.demo.slack_standin import SlackStandIn
from bot.demo.slack_standin_records import PostedMessage

USER = "U0YOU"
MANAGER = "U0SAM"  # your manager, whom you invite to prepare a feedback meeting
# Buttons that open a form and leave their message as it is.
OPENS_A_FORM = (
    ids.NUDGE_HELP,
    ids.NUDGE_WRITE_GOALS,
    ids.OPEN_MANAGER_INVITE,
    ids.MEETING_PREPARE,
)
TEAM = "T0DEMO"
ZONE = "Europe/London"
WIDTH = 78


def render_for_terminal(blocks: list[dict[str, Any]]) -> str:
    """A message's blocks as a person would read them, in plain text."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = block["text"]["text"]
            lines += [title, "─" * min(len(title), WIDTH)]
        elif kind == "section":
            for paragraph in _unmark(block["text"]["text"]).split("\n"):
                lines += textwrap.wrap(
                    paragraph, WIDTH, subsequent_indent="   " if paragraph.startswith("•") else ""
                ) or [""]
            lines.append("")
        elif kind == "context":
            lines += ["  " + _unmark(e.get("text", "")) for e in block.get("elements", [])] + [""]
        elif kind == "actions":
            lines.append("  ".join(f"[ {e['text']['text']} ]" for e in block.get("elements", [])))
    return "\n".join(lines).rstrip()


# How the demo's people are named where Slack would show their names.
NAMES = {"U0YOU": "Alex", "U0SAM": "Sam"}


def _unmark(text: str) -> str:
    text = re.sub(r"<@([A-Z0-9]+)>", lambda m: "@" + NAMES.get(m.group(1), m.group(1)), text)
    text = re.sub(
        r"<(https?://[^|>]+|mailto:[^|>]+)(?:\|([^>]*))?>", lambda m: m.group(2) or m.group(1), text
    )
    text = re.sub(r"\*([^*\n]+)\*", r"\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _next_monday_morning() -> datetime:
    today = datetime.now(ZoneInfo(ZONE)).date()
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    return datetime(monday.year, monday.month, monday.day, 10, 0, tzinfo=ZoneInfo(ZONE))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DemoPlayer:
    def __init__(self, out: TextIO, folder: Path) -> None:
        self.out = out
        self.standin = SlackStandIn(team_id=TEAM, default_tz=ZONE).start()
        self.standin.add_user(USER, tz=ZONE, locale="en-GB")
        self.standin.add_user(MANAGER, tz=ZONE, locale="en-GB")
        self.manager_seen = 0
        self.secret = secrets.token_hex(16)
        self.clock = ManualClock(_next_monday_morning())
        self.standin.clock = lambda: self.clock().timestamp()
        self.start = self.clock()
        settings = Settings(
            slack_bot_token="xoxb-demo-stand-in",  # noqa: S106 (the stand-in accepts any xoxb-)
            slack_signing_secret=self.secret,
            slack_api_url=self.standin.api_url,
            database_url=f"sqlite:///{folder / 'demo.db'}",
            secret_key=secrets.token_urlsafe(32),
            # One message at a time: messages due in the same minute (a person's and their
            # manager's) print in the order they are due, the same on every run.
            dispatch_concurrency=1,
        )
        engine = make_engine(settings.database_url)
        upgrade(engine)
        self.runtime = build_runtime(settings, clock=self.clock, engine=engine)
        self.port = _free_port()
        self.seen = 0
        self.opened: list[Any] = []
        self.http: aiohttp.ClientSession | None = None

    # -- what the person sees --------------------------------------------------------------

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def show(self, who: str, blocks: list[dict[str, Any]]) -> None:
        self.say(f"┌─ {who}")
        for line in render_for_terminal(blocks).splitlines():
            self.say(f"│ {line}")
        self.say("└" + "─" * 40)

    def when(self) -> str:
        return self.clock().astimezone(ZoneInfo(ZONE)).strftime("%A %d %B, %H:%M")

    async def new_dms(self, expected: int = 1) -> list[PostedMessage]:
        """Wait for `expected` new direct messages and print every new one."""
        await asyncio.to_thread(
            self.standin.wait_for,
            lambda: len(self.standin.dms_to(USER)) >= self.seen + expected,
            10,
        )
        fresh = self.standin.dms_to(USER)[self.seen :]
        self.seen += len(fresh)
        for message in fresh:
            self.say(f"\n[{self.when()}] A direct message; its notification reads “{message.text}”")
            self.show(self.runtime.services.settings.display_name, message.blocks)
        return fresh

    # -- what the person does --------------------------------------------------------------

    async def post(self, body: bytes, content_type: str) -> Any:
        assert self.http is not None
        headers = slack_requests.signed_headers(self.secret, body, content_type=content_type)
        url = f"http://127.0.0.1:{self.port}/slack/events"
        async with self.http.post(url, data=body, headers=headers) as response:
            response.raise_for_status()
            text = await response.text()
            answer = await response.json(content_type=None) if text else None
        # Let the listener finish what it does after its ack before the story's clock moves.
        assert self.runtime.slack is not None  # the demo serves Slack
        await self.runtime.slack.work.settled()
        return answer

    async def type_command(self, text: str = "") -> None:
        self.say(f"\n[{self.when()}] You type  /notpromoted {text}".rstrip())
        body, kind = slack_requests.slash_command(
            user_id=USER, team_id=TEAM, text=text, response_url=self.standin.response_url("c")
        )
        reply = await self.post(body, kind)
        fallback = {"type": "section", "text": {"type": "mrkdwn", "text": reply.get("text", "")}}
        name = self.runtime.services.settings.display_name
        self.show(f"Only visible to you · {name}", reply.get("blocks") or [fallback])

    async def press(
        self, message: PostedMessage, action_id: str, *, new: int = 0, user: str = USER
    ) -> None:
        label = next(
            e["text"]["text"]
            for b in message.blocks
            if b.get("type") == "actions"
            for e in b["elements"]
            if e["action_id"] == action_id
        )
        who = "You press " if user == USER else "Sam presses"
        self.say(f"\n[{self.when()}] {who}  [ {label} ]")
        updates = message.updates
        body, kind = slack_requests.button_click(
            user_id=user,
            team_id=TEAM,
            message=message,
            action_id=action_id,
            value=slack_requests.button_of(message, action_id),
            response_url=self.standin.response_url("b"),
        )
        await self.post(body, kind)
        if action_id not in OPENS_A_FORM:
            await asyncio.to_thread(self.standin.wait_for, lambda: message.updates > updates, 10)
            note = render_for_terminal(message.blocks).splitlines()[-1].strip()
            self.say(f"  The message updates in place: {note}")
        if new:
            await self.new_dms(new)

    async def later(self, days: int, hour: int, minute: int = 0) -> list[PostedMessage]:
        """Move the clock on; the scheduler sweeps; print what arrives."""
        local = self.clock().astimezone(ZoneInfo(ZONE)) + timedelta(days=days)
        self.clock.move_to(local.replace(hour=hour, minute=minute))
        before = self.seen
        await self.runtime.dispatcher.run_once()
        if len(self.standin.dms_to(MANAGER)) > self.manager_seen:
            await self.manager_dms(len(self.standin.dms_to(MANAGER)) - self.manager_seen)
        if len(self.standin.dms_to(USER)) > before:
            return await self.new_dms(len(self.standin.dms_to(USER)) - before)
        return []

    async def opened_form(self) -> dict[str, Any]:
        """The form the last click opened (the stand-in keeps every views.open)."""
        count = len(self.opened) + 1
        calls = await asyncio.to_thread(self.standin.wait_for_calls, "views.open", count, 10.0)
        view = calls[-1].args["view"]
        self.opened.append(view)
        loaded: dict[str, Any] = json.loads(view) if isinstance(view, str) else view
        return loaded

    async def ask_for_feedback(self) -> None:
        view = await self.opened_form()
        self.say(
            f"\n[{self.when()}] A form opens: “{view['title']['text']}”. You pick who made the"
        )
        self.say(
            "  decision, write what you'd most like to understand, keep the warm tone, and send."
        )
        values: dict[str, dict[str, Any]] = {
            "decider": {"type": "users_select", "selected_user": "U0LEAD"},
            "focus": {"type": "plain_text_input", "value": "which experience the role needed"},
            "tone": {"type": "radio_buttons", "selected_option": {"value": "warm"}},
        }
        body, kind = slack_requests.view_submission(
            user_id=USER, team_id=TEAM, view=view, values=values
        )
        await self.post(body, kind)
        await self.new_dms(1)

    async def write_goals(self, goals: list[tuple[str, str]]) -> None:
        view = await self.opened_form()
        self.say(
            f"\n[{self.when()}] A form opens: “{view['title']['text']}”, three goals, each with"
        )
        self.say("  a first step and a date. You fill in two and press Save.")
        values: dict[str, dict[str, Any]] = {}
        for number, (what, step) in enumerate(goals, start=1):
            values[f"what_{number}"] = {"type": "plain_text_input", "value": what}
            values[f"first_step_{number}"] = {"type": "plain_text_input", "value": step}
        body, kind = slack_requests.view_submission(
            user_id=USER, team_id=TEAM, view=view, values=values
        )
        await self.post(body, kind)
        await self.new_dms(1)

    async def manager_dms(self, expected: int = 1) -> list[PostedMessage]:
        """Sam's new direct messages, printed as Sam would see them."""
        await asyncio.to_thread(
            self.standin.wait_for,
            lambda: len(self.standin.dms_to(MANAGER)) >= self.manager_seen + expected,
            10,
        )
        fresh = self.standin.dms_to(MANAGER)[self.manager_seen :]
        self.manager_seen += len(fresh)
        for message in fresh:
            self.say(f"\n[{self.when()}] Sam, your manager, gets a direct message")
            self.show(self.runtime.services.settings.display_name, message.blocks)
        return fresh

    async def submit(self, user: str, view: dict[str, Any], values: dict[str, Any]) -> None:
        body, kind = slack_requests.view_submission(
            user_id=user, team_id=TEAM, view=view, values=values
        )
        await self.post(body, kind)

    async def feedback_meeting(self, step: PostedMessage) -> None:
        """The manager stage: invite Sam, who prepares a meeting you then accept."""
        await self.press(step, ids.OPEN_MANAGER_INVITE)
        view = await self.opened_form()
        self.say(f"\n[{self.when()}] A form opens: “{view['title']['text']}”. You pick Sam.")
        await self.submit(
            USER, view, {"manager": {"type": "users_select", "selected_user": MANAGER}}
        )
        [invitation] = await self.manager_dms()
        self.clock.move_to(self.clock() + timedelta(hours=2))
        await self.press(invitation, ids.MEETING_PREPARE, user=MANAGER)
        view = await self.opened_form()
        self.say(f"\n[{self.when()}] Sam's form opens: “{view['title']['text']}”, a field for")
        self.say("  each part of a good feedback meeting, with hints. Sam fills it in.")
        meeting_on = self.clock().date() + timedelta(days=2)
        values: dict[str, Any] = {
            "thanks": {"type": "plain_text_input", "value": "Thank you for going for it."},
            "observed": {
                "type": "plain_text_input",
                "value": "Your planning examples were strong; the budget answer stayed general.",
            },
            "gaps": {
                "type": "plain_text_input",
                "value": "The role owns a budget; you haven't yet managed one.",
            },
            "next_steps": {
                "type": "plain_text_input",
                "value": "Co-own the Q2 tooling budget with me\nJoin the finance-for-leads course",
            },
            "growth": {"type": "plain_text_input", "value": "A lead role in six to nine months."},
            "meeting_on": {"type": "datepicker", "selected_date": meeting_on.isoformat()},
            "follow_up_on": {
                "type": "datepicker",
                "selected_date": (meeting_on + timedelta(days=28)).isoformat(),
            },
        }
        await self.submit(MANAGER, view, values)
        await self.manager_dms()
        [offer] = await self.new_dms()
        await self.press(offer, ids.MEETING_ACCEPT, new=1)
        await self.manager_dms()

    # -- the story -------------------------------------------------------------------------

    async def play(self) -> None:
        settings = self.runtime.services.settings
        app = build_web_app(self.runtime, run_dispatcher=False)
        server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
            )
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
            await asyncio.sleep(0.02)
        self.say(f"notpromoted demo: one person's journey with “{settings.display_name}”,")
        self.say("against a stand-in for Slack on this machine. Nothing leaves it. You are Alex;")
        self.say("on the way you invite Sam, your manager, to prepare a feedback meeting.")
        self.say("The clock moves on where the story says hours or days pass.")
        try:
            async with aiohttp.ClientSession() as self.http:
                await self.story()
        finally:
            server.should_exit = True
            await serving
            self.standin.stop()
            self.runtime.engine.dispose()
        self.say("\nThat was the whole journey. `notpromoted manifest` prints the Slack app")
        self.say("manifest to run it in a real workspace; see the README.")

    async def story(self) -> None:
        await self.type_command()
        [step] = await self.new_dms()
        await self.press(step, ids.STAGE_SNOOZE)
        self.say("\nThe next morning, the scheduler sweeps what has fallen due.")
        [step] = await self.later(1, 9, 15)
        for hour in (9, 13):
            self.clock.move_to(
                self.clock().astimezone(ZoneInfo(ZONE)).replace(hour=hour, minute=20)
            )
            await self.press(step, ids.STAGE_NEXT, new=1)
            step = self.standin.dms_to(USER)[-1]
        self.say("\nWednesday.")
        await self.later(1, 9, 30)
        await self.press(step, ids.STAGE_NEXT, new=1)
        step = self.standin.dms_to(USER)[-1]
        await self.type_command("status")
        self.say("\nThursday: three working days after the start, the first check-in.")
        [nudge] = await self.later(1, 10, 15)
        await self.press(nudge, ids.NUDGE_HELP)
        await self.ask_for_feedback()
        self.clock.move_to(self.clock() + timedelta(hours=4))
        await self.press(nudge, ids.NUDGE_ASKED)
        await self.press(step, ids.STAGE_NEXT, new=1)
        step = self.standin.dms_to(USER)[-1]
        self.say("\nThe weekend passes quietly. Tuesday: how did the conversation go?")
        [followup] = await self.later(5, 16, 30)
        await self.press(followup, ids.NUDGE_HELPED)
        await self.press(step, ids.STAGE_NEXT, new=1)
        step = self.standin.dms_to(USER)[-1]
        self.say("\nWednesday, seven working days after the start: goals.")
        [goals_nudge] = await self.later(1, 10, 15)
        goals_written = self.clock()
        await self.press(goals_nudge, ids.NUDGE_WRITE_GOALS)
        await self.write_goals(
            [
                ("Lead the next quarterly planning round", "Ask my manager if I can shadow it"),
                ("Finish the stakeholder management course", "Book the first module"),
            ]
        )
        total = len(self.runtime.services.content.stage_order)
        while True:
            number = int(re.findall(r"Step (\d+) of", render_for_terminal(step.blocks))[0])
            if number % 2:
                self.say("\nThe next working day.")
                self.clock.move_to(self._next_working_morning())
            if any(ids.OPEN_MANAGER_INVITE in str(block) for block in step.blocks):
                await self.feedback_meeting(step)
            await self.press(step, ids.STAGE_NEXT, new=1)
            step = self.standin.dms_to(USER)[-1]
            if number == total:
                break
        self.say("\nTwo weeks after the goals were written down.")
        self.clock.move_to(goals_written + timedelta(days=13))
        arrived = await self.later(1, 11, 0)
        [progress] = [m for m in arrived if ids.NUDGE_ON_TRACK in str(m.blocks)]
        await self.press(progress, ids.NUDGE_ON_TRACK)
        self.say("\nAbout three months after the start.")
        self.clock.move_to(self.start + timedelta(days=89))
        for _ in range(5):  # the look back waits for a working day
            if await self.later(1, 10, 30):
                break
        await self.type_command("help")

    def _next_working_morning(self) -> datetime:
        local = self.clock().astimezone(ZoneInfo(ZONE)) + timedelta(days=1)
        while local.weekday() >= 5:
            local += timedelta(days=1)
        return local.replace(hour=9, minute=30)


def run_demo(out: TextIO) -> None:
    with tempfile.TemporaryDirectory(prefix="notpromoted-demo-") as folder:
        player = DemoPlayer(out, Path(folder))
        asyncio.run(player.play())
