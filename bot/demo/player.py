"""`notpromoted demo`: one person's journey, played against the stand-in for Slack.

The same ASGI app, Bolt listeners, handlers and dispatcher as `serve`, on a throwaway SQLite
file, with signed requests as Slack would send them. Nothing leaves this machine.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from bot.core import ids
from bot.demo import slack_requests
from bot.demo.script import Script
from bot.demo.slack_standin import SlackStandIn
from bot.demo.slack_standin_records import PostedMessage
from bot.demo.story import WIDTH, Cast, ContentChoice, FormFill, Story, serving

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


class DemoPlayer(Story[PostedMessage]):
    def __init__(self, out: TextIO, folder: Path, script: Script, content: ContentChoice) -> None:
        super().__init__(out, Cast(you=USER, manager=MANAGER, lead="U0LEAD"), script)
        self.standin = SlackStandIn(team_id=TEAM, default_tz=script.zone).start()
        self.standin.add_user(USER, tz=script.zone, locale=script.locale)
        self.standin.add_user(MANAGER, tz=script.zone, locale=script.locale)
        self.secret = secrets.token_hex(16)
        self.standin.clock = lambda: self.clock().timestamp()
        self.start_runtime(
            folder,
            content,
            slack_bot_token="xoxb-demo-stand-in",  # noqa: S106 (the stand-in accepts any xoxb-)
            slack_signing_secret=self.secret,
            slack_api_url=self.standin.api_url,
        )
        self.port = 0  # where the bot listens, once it does
        self.opened: list[Any] = []
        self.http: aiohttp.ClientSession | None = None

    # -- what the person sees --------------------------------------------------------------

    def messages_to(self, user: str) -> list[PostedMessage]:
        return self.standin.dms_to(user)

    def wait_for(self, condition: Callable[[], bool]) -> bool:
        return self.standin.wait_for(condition, 10)

    def text_of(self, message: PostedMessage) -> str:
        return render_for_terminal(message.blocks)

    def has_button(self, message: PostedMessage, action: str) -> bool:
        return any(
            element.get("action_id") == action
            for block in message.blocks
            if block.get("type") == "actions"
            for element in block.get("elements", [])
        )

    def label_of(self, message: PostedMessage, action: str) -> str:
        return str(
            next(
                e["text"]["text"]
                for b in message.blocks
                if b.get("type") == "actions"
                for e in b["elements"]
                if e["action_id"] == action
            )
        )

    def show(self, who: str, blocks: list[dict[str, Any]]) -> None:
        self.box(who, render_for_terminal(blocks))

    def show_message(self, message: PostedMessage, *, to_manager: bool) -> None:
        if to_manager:
            self.say(f"\n[{self.when()}] {self.script.text('slack_manager_message')}")
        else:
            said = self.script.text("slack_your_message", text=message.text)
            self.say(f"\n[{self.when()}] {said}")
        self.show(self.runtime.services.settings.display_name, message.blocks)

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

    async def command(self, text: str = "") -> None:
        self.say(f"\n[{self.when()}] {self.script.text('slack_you_type', text=text)}".rstrip())
        body, kind = slack_requests.slash_command(
            user_id=USER, team_id=TEAM, text=text, response_url=self.standin.response_url("c")
        )
        reply = await self.post(body, kind)
        fallback = {"type": "section", "text": {"type": "mrkdwn", "text": reply.get("text", "")}}
        name = self.runtime.services.settings.display_name
        self.show(self.script.text("slack_only_you", app=name), reply.get("blocks") or [fallback])

    async def click(self, message: PostedMessage, action: str, *, user: str) -> str | None:
        updates = message.updates
        body, kind = slack_requests.button_click(
            user_id=user,
            team_id=TEAM,
            message=message,
            action_id=action,
            value=slack_requests.button_of(message, action),
            response_url=self.standin.response_url("b"),
        )
        await self.post(body, kind)
        if action in OPENS_A_FORM:
            return None
        await asyncio.to_thread(self.standin.wait_for, lambda: message.updates > updates, 10)
        return render_for_terminal(message.blocks).splitlines()[-1].strip()

    async def opened_form(self) -> dict[str, Any]:
        """The form the last click opened (the stand-in keeps every views.open)."""
        count = len(self.opened) + 1
        calls = await asyncio.to_thread(self.standin.wait_for_calls, "views.open", count, 10.0)
        view = calls[-1].args["view"]
        self.opened.append(view)
        loaded: dict[str, Any] = json.loads(view) if isinstance(view, str) else view
        return loaded

    async def fill_form(self, fill: FormFill, *, user: str) -> None:
        view = await self.opened_form()
        whose = self.script.text("slack_form_opens" if user == USER else "slack_manager_form_opens")
        first, *rest = fill.doing
        title = view["title"]["text"]
        self.say(f"\n[{self.when()}] {whose}: “{title}”{fill.joiner}{first}")
        for line in rest:
            self.say(f"  {line}")
        body, kind = slack_requests.view_submission(
            user_id=user, team_id=TEAM, view=view, values=modal_values(view, fill.values)
        )
        await self.post(body, kind)

    # -- the story -------------------------------------------------------------------------

    async def play(self) -> None:
        settings = self.runtime.services.settings
        for line in self.script.lines("slack_intro", app=settings.display_name):
            self.say(line)
        try:
            async with serving(self.runtime) as self.port, aiohttp.ClientSession() as self.http:
                await self.story()
        finally:
            self.standin.stop()
            self.runtime.engine.dispose()
        self.say()
        for line in self.script.lines("slack_outro"):
            self.say(line)


def modal_values(view: dict[str, Any], values: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The form's values as Slack reports a modal's inputs, each in the shape of its element."""
    shaped: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks", []):
        name = block.get("block_id")
        if block.get("type") != "input" or name not in values:
            continue
        kind, value = block["element"]["type"], values[name]
        if kind == "datepicker":
            shaped[name] = {"type": kind, "selected_date": value}
        elif kind == "users_select":
            shaped[name] = {"type": kind, "selected_user": value}
        elif kind == "radio_buttons":
            shaped[name] = {"type": kind, "selected_option": {"value": value}}
        else:
            shaped[name] = {"type": kind, "value": value}
    missing = set(values) - set(shaped)
    if missing:
        raise LookupError(f"the form has no field {sorted(missing)}")
    return shaped


def run_demo(out: TextIO, script: Script, content: ContentChoice) -> None:
    with tempfile.TemporaryDirectory(prefix="notpromoted-demo-") as folder:
        player = DemoPlayer(out, Path(folder), script, content)
        asyncio.run(player.play())
