"""Bolt listeners of the buttons that answer with a choice: a stage's, a check-in's, and the
forget prompt's; the choice takes the place of the buttons."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import ids
from bot.core.person_ref import PersonRef
from bot.slack.form_listeners import FormListeners
from bot.slack.request_reading import button_number, names_other_message, person_ref, quietly
from handlers import journey_controls, locale_lookup
from handlers.checkin_answers import answer_nudge
from handlers.neutral_messages import forget_prompt
from handlers.outbox import sent_copy
from handlers.stage_choice import choose
from messages.model import Message

logger = logging.getLogger(__name__)


class ChoiceListeners(FormListeners):
    async def on_checkin_button(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        """A button on a stage or a check-in: the value is the row's id, the action the choice."""
        await ack()
        ref = person_ref(context)
        if ref is None:
            return
        choice = str(action.get("action_id"))
        answer = choose if choice in ids.STAGE_CHOICES else answer_nudge
        checkin_id = button_number(action.get("value"))
        try:
            copy = await asyncio.to_thread(sent_copy, self.services, ref, checkin_id)
            if copy is not None and names_other_message(body, copy):
                await self.refuse_click(ref, respond)
                return
            reply = await asyncio.to_thread(
                answer, self.services, ref, checkin_id=checkin_id, choice=choice
            )
        except Exception:
            logger.exception("a button answer failed")
            await quietly(
                respond(text=self.unavailable, response_type="ephemeral", replace_original=False)
            )
            return
        if reply.open_form:
            trigger_id = str(body.get("trigger_id") or "")
            await self._open_form(reply.open_form, client, ref, trigger_id, checkin_id)
        if reply.note is not None:
            await self.update_clicked(body, client, respond, reply.note, reply.follow_up, copy=copy)
        await self._send_now(reply, respond, ref)

    async def on_forget_confirm(
        self,
        ack: AsyncAck,
        context: AsyncBoltContext,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        ref = person_ref(context)
        if ref is None:
            return
        try:
            prompt = await asyncio.to_thread(self._forget_prompt, ref)
            reply = await asyncio.to_thread(journey_controls.confirm_forget, self.services, ref)
        except Exception:
            logger.exception("forget failed")
            await quietly(
                respond(text=self.unavailable, response_type="ephemeral", replace_original=False)
            )
            return
        await self.update_clicked(body, client, respond, reply.note or "", original=prompt)

    async def on_forget_cancel(
        self,
        ack: AsyncAck,
        context: AsyncBoltContext,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        ref = person_ref(context)
        if ref is None:
            return
        prompt = await asyncio.to_thread(self._forget_prompt, ref)
        reply = await asyncio.to_thread(journey_controls.cancel_forget, self.services, ref)
        await self.update_clicked(body, client, respond, reply.note or "", original=prompt)

    def _forget_prompt(self, ref: PersonRef) -> Message:
        """The prompt whose buttons were clicked, as the command drew it (before an erase)."""
        locale = locale_lookup.person_locale(self.services, ref)
        return forget_prompt(locale, self.services.settings)
