"""Teams handlers of the personal chat: the app installed or added (a welcome, once), and what
the person types (the command words); a message is answered from a task of its own."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from typing import Any

from microsoft_teams.api import ConversationUpdateActivity, InstallUpdateActivity
from microsoft_teams.api.activities.message import MessageActivity
from microsoft_teams.apps import ActivityContext

from bot.core import ids
from bot.core.person_ref import PersonRef
from bot.teams.listening import TeamsListening
from handlers import locale_lookup
from handlers.interaction import Interaction
from handlers.neutral_messages import home_message, plain
from handlers.routes import route_for
from messages.content import LocaleContent
from messages.form import Form
from messages.model import Message, clean_typed

logger = logging.getLogger(__name__)

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
        route = route_for(ids.TYPED)
        assert route is not None
        try:
            reply = await route.answer(self._turn(Interaction(ref, ids.TYPED, text)))
        except Exception:
            logger.exception("a Teams command failed")
            await self._send(ctx, ref, self._plain(self.default, "ack_unavailable"))
            return
        message = reply.message
        if reply.form is not None:
            # A dialog opens from a click, never by itself: the answer carries its button.
            notification = await asyncio.to_thread(self._notification, ref)
            message = with_opener(message, reply.form, notification)
        if message is not None:
            await self._send(ctx, ref, message)
        if reply.send_export:
            await self._send_export(ctx, ref)
        await self.send_rows(reply.send_now)

    def _notification(self, ref: PersonRef) -> str:
        locale = locale_lookup.person_locale(self.services, ref)
        return locale.text("notification", app_name=self.services.settings.display_name)

    def _plain(self, locale: LocaleContent, key: str) -> Message:
        return plain(locale, self.services.settings, locale.text(key))


def with_opener(message: Message | None, form: Form, notification: str) -> Message | None:
    """The answer with the button that opens `form` under it."""
    if form.reopen is None:
        return message
    opener = replace(form.reopen, style="primary")
    if message is None:
        return Message(notification=notification, buttons=(opener,))
    return replace(message, buttons=(*message.buttons, opener))


def command_text(text: str) -> str:
    """What the person typed, without @mentions of the bot and the command's own name."""
    words = AT_MENTION.sub(" ", clean_typed(text)).split()
    if words and words[0].lower() in ids.TEAMS_COMMAND_WORDS:
        words = words[1:]
    return " ".join(words)[:500]
