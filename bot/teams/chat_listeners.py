"""Teams handlers of the personal chat: the app installed or added (a welcome, once), and what
the person types (the command words); a message is answered from a task of its own."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import replace
from typing import Any

from microsoft_teams.api import ConversationUpdateActivity, InstallUpdateActivity
from microsoft_teams.api.activities.message import MessageActivity, MessageActivityInput
from microsoft_teams.apps import ActivityContext

from bot.core import ids
from bot.core.person_ref import PersonRef
from bot.teams.listening import TeamsListening
from bot.teams.sender import card_activity
from handlers import locale_lookup
from handlers.command import run_command
from handlers.export import export_data
from handlers.neutral_messages import home_message, plain
from handlers.replies import CommandReply
from messages.content import LocaleContent
from messages.model import Button, Message, clean_typed

logger = logging.getLogger(__name__)

# A Teams message holds about 28 KB; an export is sent in pieces well under that.
EXPORT_PIECE = 20_000
AT_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


class ChatListeners(TeamsListening):
    async def on_installation_update(self, ctx: ActivityContext[InstallUpdateActivity]) -> None:
        if ctx.activity.action in ("add", "add-upgrade"):
            await self._remember(ctx.activity)

    async def on_conversation_update(
        self, ctx: ActivityContext[ConversationUpdateActivity]
    ) -> None:
        """The app was added to a personal chat: keep the reference, and say hello once."""
        added = ctx.activity.members_added or []
        if not any(member.id == ctx.activity.recipient.id for member in added):
            return
        chat = await self._remember(ctx.activity)
        if chat is not None:
            self._later(self._welcome(ctx, chat.ref))

    async def _welcome(self, ctx: ActivityContext[Any], ref: PersonRef) -> None:
        locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
        welcome = home_message(locale, self.services.settings, status_line=None)
        await self._send(ctx, ref, welcome)

    async def on_message(self, ctx: ActivityContext[MessageActivity]) -> None:
        chat = await self._remember(ctx.activity)
        if chat is None:
            logger.info("ignored a Teams message from outside a personal chat")
            return
        self._later(self._answer_message(ctx, chat.ref))

    async def _answer_message(self, ctx: ActivityContext[MessageActivity], ref: PersonRef) -> None:
        text = command_text(ctx.activity.text or "")
        if not text and ctx.activity.value is not None:  # a card from an older version
            await self._send(ctx, ref, self._plain(self.default, "button_expired"))
            return
        word, _, _rest = text.partition(" ")
        try:
            if word.lower() == "meeting":
                reply = await asyncio.to_thread(self._meeting_opener, ref)
            else:
                reply = await asyncio.to_thread(run_command, self.services, ref, text)
        except Exception:
            logger.exception("a Teams command failed")
            await self._send(ctx, ref, self._plain(self.default, "ack_unavailable"))
            return
        message = reply.message
        if reply.open_form == ids.GOALS_FORM:  # a dialog opens from a click, never by itself
            locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
            opener = Button(ids.OPEN_GOALS_FORM, locale.text("button_write_goals"), "command")
            message = replace(message, buttons=(*message.buttons, opener))
        await self._send(ctx, ref, message)
        if reply.send_export:
            await self._send_export(ctx, ref)
        await self.send_rows(reply.send_now)

    def _meeting_opener(self, ref: PersonRef) -> CommandReply:
        """`meeting`: a dialog can only open from a click, so the answer is its button."""
        locale = locale_lookup.person_locale(self.services, ref)
        form = locale.checkins["meeting_pick_form"]
        message = Message(
            notification=locale.text("notification", app_name=self.services.settings.display_name),
            buttons=(Button(ids.OPEN_MEETING_PICK, form["title"], "command", "primary"),),
        )
        return CommandReply(message)

    async def _send_export(self, ctx: ActivityContext[Any], ref: PersonRef) -> None:
        """Everything kept about the person, as JSON in the chat (bots cannot attach files in a
        personal chat without a consent round-trip)."""
        try:
            data = await asyncio.to_thread(export_data, self.services, ref)
            if data is None:
                return
            locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
            text = json.dumps(data, indent=2, ensure_ascii=False)
            pieces = [text[i : i + EXPORT_PIECE] for i in range(0, len(text), EXPORT_PIECE)]
            await ctx.send(MessageActivityInput(text=locale.text("export_comment")))
            for piece in pieces:
                await ctx.send(
                    MessageActivityInput(text=f"```\n{piece}\n```", text_format="markdown")
                )
        except Exception:
            logger.exception("could not send the data export to Teams")

    async def _send(self, ctx: ActivityContext[Any], ref: PersonRef, message: Message) -> None:
        try:
            card = await self.sender.card_for(ref.workspace_id, message)
            await ctx.send(card_activity(message, card))
        except Exception:
            logger.exception("could not answer in Teams")

    def _plain(self, locale: LocaleContent, key: str) -> Message:
        return plain(locale, self.services.settings, locale.text(key))


def command_text(text: str) -> str:
    """What the person typed, without @mentions of the bot and the command's own name."""
    words = AT_MENTION.sub(" ", clean_typed(text)).split()
    if words and words[0].lower() in ids.TEAMS_COMMAND_WORDS:
        words = words[1:]
    return " ".join(words)[:500]
