"""`notpromoted demo`: one person's journey, played against the stand-in for Slack.

The same ASGI app, Bolt listeners, handlers and dispatcher as `serve`, on a throwaway SQLite
file, with signed requests as Slack would send them. Nothing leaves this machine.
"""

from __future__ import annotations

import asyncio
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

from bot import ids
from bot.config import Settings
from bot.db import make_engine
from bot.migrate import upgrade
from bot.runtime import build_runtime
from bot.services import ManualClock
from bot.slack import simulate
from bot.slack.standin import PostedMessage, SlackStandIn
from bot.web import build_web_app

USER = "U0YOU"
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


def _unmark(text: str) -> str:
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
        self.secret = secrets.token_hex(16)
        self.clock = ManualClock(_next_monday_morning())
        settings = Settings(
            slack_bot_token="xoxb-demo-stand-in",  # noqa: S106 (the stand-in accepts any xoxb-)
            slack_signing_secret=self.secret,
            slack_api_url=self.standin.api_url,
            database_url=f"sqlite:///{folder / 'demo.db'}",
        )
        engine = make_engine(settings.database_url)
        upgrade(engine)
        self.runtime = build_runtime(settings, clock=self.clock, engine=engine)
        self.port = _free_port()

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def show(self, who: str, blocks: list[dict[str, Any]]) -> None:
        self.say(f"┌─ {who}")
        for line in render_for_terminal(blocks).splitlines():
            self.say(f"│ {line}")
        self.say("└" + "─" * 40)

    def when(self) -> str:
        return self.clock().astimezone(ZoneInfo(ZONE)).strftime("%A %d %B, %H:%M")

    async def post(self, http: aiohttp.ClientSession, body: bytes, content_type: str) -> Any:
        headers = simulate.signed_headers(self.secret, body, content_type=content_type)
        async with http.post(
            f"http://127.0.0.1:{self.port}/slack/events", data=body, headers=headers
        ) as response:
            response.raise_for_status()
            text = await response.text()
            return await response.json(content_type=None) if text else None

    async def type_command(self, http: aiohttp.ClientSession, text: str = "") -> None:
        self.say(f"\n[{self.when()}] You type  /notpromoted {text}".rstrip())
        body, kind = simulate.slash_command(
            user_id=USER, team_id=TEAM, text=text, response_url=self.standin.response_url("command")
        )
        reply = await self.post(http, body, kind)
        blocks = reply.get("blocks") or [
            {"type": "section", "text": {"type": "mrkdwn", "text": reply.get("text", "")}}
        ]
        self.show(f"Only visible to you · {self.runtime.services.settings.display_name}", blocks)

    async def next_dm(self, count_before: int) -> PostedMessage:
        await asyncio.to_thread(
            self.standin.wait_for, lambda: len(self.standin.dms_to(USER)) > count_before, 10
        )
        message = self.standin.dms_to(USER)[-1]
        self.say(
            f"\n[{self.when()}] A direct message arrives. The notification reads: “{message.text}”"
        )
        self.show(self.runtime.services.settings.display_name, message.blocks)
        return message

    async def press(
        self, http: aiohttp.ClientSession, message: PostedMessage, action_id: str, label: str
    ) -> None:
        self.say(f"\n[{self.when()}] You press  [ {label} ]")
        updates = message.updates
        body, kind = simulate.button_click(
            user_id=USER,
            team_id=TEAM,
            message=message,
            action_id=action_id,
            value=simulate.button_of(message, action_id),
            response_url=self.standin.response_url("button"),
        )
        await self.post(http, body, kind)
        await asyncio.to_thread(self.standin.wait_for, lambda: message.updates > updates, 10)
        note = render_for_terminal(message.blocks).splitlines()[-1].strip()
        self.say(f"  The message updates in place: {note}")

    def _later(self, now: datetime, *, morning: bool) -> datetime:
        """Three hours on, or the next weekday morning: when a person might read the next step."""
        if not morning:
            return now + timedelta(hours=3)
        local = now.astimezone(ZoneInfo(ZONE)) + timedelta(days=1)
        while local.weekday() >= 5:
            local += timedelta(days=1)
        return local.replace(hour=9, minute=0)

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
        self.say("against a stand-in for Slack on this machine. Nothing leaves it.")
        self.say("The clock moves on where the story says hours or days pass.")
        try:
            async with aiohttp.ClientSession() as http:
                await self.type_command(http)
                message = await self.next_dm(0)
                await self.press(http, message, ids.STAGE_SNOOZE, "Remind me tomorrow")
                due = self.clock() + timedelta(days=1)
                self.clock.move_to(due.astimezone(ZoneInfo(ZONE)).replace(hour=9, minute=0))
                self.say(f"\n[{self.when()}] The next morning, the scheduler sweeps what is due.")
                before = len(self.standin.dms_to(USER))
                await self.runtime.dispatcher.run_once()
                message = await self.next_dm(before)
                total = len(self.runtime.services.content.stage_order)
                for step in range(1, total + 1):
                    label = "I've read this" if step == total else "I'm ready for the next step"
                    before = len(self.standin.dms_to(USER))
                    await self.press(http, message, ids.STAGE_NEXT, label)
                    message = await self.next_dm(before)
                    if step == 4:
                        await self.type_command(http, "status")
                    self.clock.move_to(self._later(self.clock(), morning=step % 2 == 0))
                await self.type_command(http, "help")
        finally:
            server.should_exit = True
            await serving
            self.standin.stop()
            self.runtime.engine.dispose()
        self.say(
            "\nThat was the whole journey. `notpromoted manifest` prints the Slack app manifest"
        )
        self.say("to run it in a real workspace; see the README.")


def run_demo(out: TextIO) -> None:
    with tempfile.TemporaryDirectory(prefix="notpromoted-demo-") as folder:
        player = DemoPlayer(out, Path(folder))
        asyncio.run(player.play())
