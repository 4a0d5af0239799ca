"""The Bolt listener of slash commands: one for every command name; `meeting` goes to the
meeting listeners, every other word to the shared command handler."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import build_message_blocks, plain_text_of
from bot.slack.form_listeners import FormListeners
from bot.slack.request_reading import person_ref
from handlers.command import run_command
from messages.model import clean_typed

logger = logging.getLogger(__name__)


class CommandListeners(FormListeners):
    async def on_command(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        context: AsyncBoltContext,
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        ref = person_ref(context)
        if ref is None:
            await ack()
            return
        text = clean_typed(str(body.get("text") or ""))
        word, _, rest = text.strip().partition(" ")
        if word.lower() == "meeting" and self.meetings is not None:
            await self.meetings.on_command(ref, rest, body, ack, respond, client)
            return
        try:
            reply = await self._answer(run_command, self.services, ref, text)
        except Exception:
            logger.exception("command failed before it was acknowledged")
            await ack(text=self.unavailable, response_type="ephemeral")
            return
        if reply.open_form:
            # The trigger_id expires three seconds after the command: open the form first.
            await ack()
            await self._open_form(reply.open_form, client, ref, str(body.get("trigger_id") or ""))
            return
        message = reply.message
        await ack(
            text=plain_text_of(message),
            blocks=build_message_blocks(message),
            response_type="ephemeral",
        )
        if reply.send_export:
            await self._send_export(client, ref)
        await self._send_now(reply, respond, ref)
