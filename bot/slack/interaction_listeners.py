"""Slack's payloads as neutral interactions: a slash command, a button, a modal submitted, the
meeting shortcut. Each is parsed here, its route found in handlers.routes, and its Reply
drawn by bot.slack.reply_drawing; nothing here decides which handler answers."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import ids
from bot.core.dependencies import Services
from bot.slack.blocks import build_message_blocks, plain_text_of
from bot.slack.directory import SlackDirectory, SlackPeople
from bot.slack.form_render import build_done_view, build_modal, read_submission
from bot.slack.reply_drawing import SlackReplies
from bot.slack.request_reading import names_other_message, person_ref, quietly
from handlers.clicked import ClickedOn, clicked_message
from handlers.interaction import Interaction, Turn
from handlers.routes import form_route_for, route_for
from messages.model import clean_typed

logger = logging.getLogger(__name__)


class InteractionListeners:
    def __init__(self, services: Services, replies: SlackReplies) -> None:
        self.services = services
        self.replies = replies
        self.directory = SlackDirectory(services.settings.manager_usergroup)

    def _turn(self, interaction: Interaction, client: AsyncWebClient) -> Turn:
        people = SlackPeople(self.directory, client, interaction.ref)
        return Turn(self.services, interaction, people)

    async def on_command(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        context: AsyncBoltContext,
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        """The words after the command are answered before the acknowledgement, which
        carries the answer; a form opens straight after (its trigger_id lasts three seconds)."""
        ref = person_ref(context)
        if ref is None:
            await ack()
            return
        text = clean_typed(str(body.get("text") or "")).strip()
        route = route_for(ids.TYPED)
        assert route is not None
        try:
            reply = await route.answer(self._turn(Interaction(ref, ids.TYPED, text), client))
        except Exception:
            logger.exception("command failed before it was acknowledged")
            await ack(text=self.replies.unavailable, response_type="ephemeral")
            return
        if reply.form is not None:
            await ack()
            await self.replies.open_form(client, str(body.get("trigger_id") or ""), reply.form)
        elif reply.message is not None:
            message = reply.message
            await ack(
                text=plain_text_of(message),
                blocks=build_message_blocks(message),
                response_type="ephemeral",
            )
        else:
            await ack()
        await self.replies.after_answer(reply, ref, client, respond)

    async def on_shortcut(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        """The global shortcut that plans a feedback meeting: the person picker."""
        await ack()
        ref = person_ref(context)
        route = route_for(ids.OPEN_MEETING_PICK)
        if ref is None or route is None:
            return
        try:
            turn = self._turn(Interaction(ref, ids.OPEN_MEETING_PICK), client)
            reply = await route.answer(turn)
        except Exception:
            logger.exception("the meeting shortcut failed")
            return
        if reply.form is not None:
            await self.replies.open_form(client, str(body.get("trigger_id") or ""), reply.form)

    async def on_action(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        """A button of ours, in a message or on the App Home."""
        await ack()
        ref = person_ref(context)
        action_id = str(action.get("action_id") or "")
        route = route_for(action_id)
        if ref is None or route is None or action_id == ids.TYPED:
            return
        value = str(action.get("value") or "")[:200]
        on_home = (body.get("view") or {}).get("type") == "home"
        try:
            clicked = None
            if route.clicked is not ClickedOn.NOTHING:
                clicked = await asyncio.to_thread(
                    clicked_message, self.services, ref, route.clicked, value
                )
            copy = clicked.copy if clicked is not None else None
            if copy is not None and names_other_message(body, copy):
                await self.replies.refuse_click(ref, respond)
                return
            reply = await route.answer(self._turn(Interaction(ref, action_id, value), client))
        except Exception:
            logger.exception("a button's answer failed")
            await quietly(
                respond(
                    text=self.replies.unavailable,
                    response_type="ephemeral",
                    replace_original=False,
                )
            )
            return
        await self.replies.after_click(
            reply,
            ref=ref,
            body=body,
            client=client,
            respond=respond,
            clicked=clicked,
            on_home=on_home,
        )

    async def on_submission(
        self, ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        """A modal of ours submitted: saved, or its errors shown under their fields; the
        answer is the acknowledgement (the next form, or what the form turns into)."""
        ref = person_ref(context)
        submitted = read_submission(view)
        form_route = form_route_for(submitted.form_id) if submitted else None
        if ref is None or submitted is None or form_route is None:
            await ack()
            return
        turn = self._turn(Interaction(ref, submitted.form_id, form=submitted), client)
        try:
            reply = await form_route.answer(turn)
        except Exception:
            logger.exception("a form could not be saved")
            first = form_route.spec.fields[0].name
            await ack(response_action="errors", errors={first: self.replies.unavailable})
            return
        if reply.errors:
            await ack(response_action="errors", errors=dict(reply.errors))
            return
        if reply.form is not None:
            await ack(response_action="update", view=build_modal(reply.form))
        elif reply.done is not None:
            shown = build_done_view(reply.done.title, reply.done.text, reply.done.close)
            await ack(response_action="update", view=shown)
        else:
            await ack()
        # A message after a form (the invitations to withdraw) is on the App Home in Slack.
        await self.replies.after_answer(reply, ref, client, None)
        if reply.home_changed:
            await self.replies.publish_home(client, ref)
