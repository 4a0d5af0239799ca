"""A route's Reply drawn in Slack: forms opened as modals, the clicked message redrawn with its
note, private answers, rows sent at once, the App Home published afresh, the export sent."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.dependencies import Services
from bot.core.models import Platform
from bot.core.person_ref import PersonRef
from bot.slack.blocks import (
    build_home_view,
    build_message_blocks,
    plain_text_of,
    replace_actions_with_note,
)
from bot.slack.form_render import build_modal
from bot.slack.request_reading import names_other_message, quietly
from handlers import locale_lookup
from handlers.admin_report import admin_section
from handlers.clicked import ClickedMessage
from handlers.export import export_data, export_json
from handlers.home import home
from handlers.interaction import Redraw, Reply
from handlers.outbox import SentCopy
from messages.form import Form
from messages.model import Button, Message
from scheduler.dispatcher import Dispatcher
from scheduler.row_leases import SendOutcome

logger = logging.getLogger(__name__)


class SlackReplies:
    def __init__(self, services: Services, dispatcher: Dispatcher) -> None:
        self.services = services
        self.dispatcher = dispatcher
        # Said when the database does not answer, so in the default language: no locale known.
        self.unavailable = services.content.for_locale(None, Platform.SLACK).text("ack_unavailable")

    async def after_click(
        self,
        reply: Reply,
        *,
        ref: PersonRef,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
        clicked: ClickedMessage | None,
        on_home: bool,
    ) -> None:
        """A button's answer. The form first: its trigger_id expires three seconds after the
        click. On the App Home the tab is drawn afresh instead of a note."""
        if reply.form is not None:
            await self.open_form(client, str(body.get("trigger_id") or ""), reply.form)
        if reply.note is not None and not on_home:
            copy = clicked.copy if clicked else None
            original = clicked.message if clicked and copy is None else None
            await self.update_clicked(
                body, client, respond, reply.note, reply.follow_up, copy=copy, original=original
            )
        if reply.message is not None:
            await quietly(
                respond(
                    text=plain_text_of(reply.message),
                    blocks=build_message_blocks(reply.message),
                    response_type="ephemeral",
                    replace_original=False,
                )
            )
        await self.after_answer(reply, ref, client, respond if not on_home else None)
        if reply.home_changed or on_home:
            await self.publish_home(client, ref)

    async def after_answer(
        self,
        reply: Reply,
        ref: PersonRef,
        client: AsyncWebClient,
        respond: AsyncRespond | None,
    ) -> None:
        """What every answer may ask for once Slack has it: a message shown again, the data
        export, rows sent at once."""
        if reply.redraw is not None:
            await self.redraw(client, reply.redraw)
        if reply.send_export:
            await self.send_export(client, ref)
        await self.send_now(reply.send_now, respond, ref)

    async def open_form(self, client: AsyncWebClient, trigger_id: str, form: Form) -> None:
        try:
            await client.views_open(trigger_id=trigger_id, view=build_modal(form))
        except Exception:
            logger.exception("could not open the %s", form.form_id)

    async def send_now(
        self, checkin_ids: tuple[int, ...], respond: AsyncRespond | None, ref: PersonRef
    ) -> None:
        """Send rows a handler just wrote, at once; whatever fails here a sweep sends later.
        With a response_url, a DM that could not be delivered is said in its place."""
        for checkin_id in checkin_ids:
            try:
                outcome = await self.dispatcher.send_now(
                    checkin_id, respond.response_url if respond else None
                )
            except Exception:  # the row stays claimed; its lease runs out and a sweep sends it
                logger.exception("sending check-in %s failed", checkin_id)
                continue
            if outcome is SendOutcome.FAILED and respond is not None:
                locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
                text = locale.text("ack_dm_failed", app_name=self.services.settings.display_name)
                await quietly(respond(text=text, response_type="ephemeral", replace_original=False))

    async def refuse_click(self, ref: PersonRef, respond: AsyncRespond) -> None:
        """A click whose payload names another message than the one its row was posted as:
        Slack never sends one, so it changes nothing and is told only that the button expired."""
        logger.info("a click named another message than its row's; nothing changed")
        if respond is None:  # Bolt gives none to a payload without a response_url
            return
        locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
        await quietly(
            respond(
                text=locale.text("button_expired"),
                response_type="ephemeral",
                replace_original=False,
            )
        )

    async def publish_home(self, client: AsyncWebClient, ref: PersonRef) -> None:
        try:
            view = await asyncio.to_thread(self._home_view, ref)
            await client.views_publish(user_id=ref.user_id, view=view)
        except Exception:
            logger.exception("could not publish the home tab")

    def _home_view(self, ref: PersonRef) -> dict[str, Any]:
        """The person's home, and for HR admins the report under it."""
        return build_home_view(home(self.services, ref), admin_section(self.services, ref))

    async def send_export(self, client: AsyncWebClient, ref: PersonRef) -> None:
        """Everything kept about the person, as a JSON file in their DM with the bot."""
        try:
            data = await asyncio.to_thread(export_data, self.services, ref)
            if data is None:
                return
            locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
            opened = await client.conversations_open(users=ref.user_id)
            await client.files_upload_v2(
                channel=opened["channel"]["id"],
                filename="my-data.json",
                title=locale.text("export_comment"),
                content=export_json(data),
                initial_comment=locale.text("export_comment"),
            )
        except Exception:
            logger.exception("could not send the data export")

    async def redraw(self, client: AsyncWebClient, redraw: Redraw) -> None:
        try:
            await client.chat_update(
                channel=redraw.channel_id,
                ts=redraw.message_id,
                text=redraw.message.notification,
                blocks=build_message_blocks(redraw.message),
            )
        except Exception:
            logger.warning("could not show a message again", exc_info=True)

    async def update_clicked(
        self,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond,
        note: str,
        follow_up: tuple[Button, ...] = (),
        *,
        copy: SentCopy | None = None,
        original: Message | None = None,
    ) -> None:
        """Show the choice in place of the buttons of the message that was clicked.

        Only ever the message the bot recorded for the clicked row (`copy`), drawn again from
        what it was made of: a payload's channel, ts and blocks are the clicker's to forge (with
        the signing secret), so they never choose what is edited or what it says. `original`
        is an ephemeral answer of ours with buttons (the forget prompt): Slack's response_url,
        which only the clicked message has, replaces it. Anything else gets a private note.
        """
        try:
            if copy is not None:
                if names_other_message(body, copy):
                    logger.info("a click named another message than its row's; nothing changed")
                    return
                blocks = replace_actions_with_note(
                    build_message_blocks(copy.message), note, follow_up
                )
                await client.chat_update(
                    channel=copy.channel_id,
                    ts=copy.message_ts,
                    text=copy.message.notification,
                    blocks=blocks,
                )
            elif original is not None and (body.get("container") or {}).get("is_ephemeral"):
                blocks = replace_actions_with_note(build_message_blocks(original), note)
                await respond(
                    text=plain_text_of(original) or note, blocks=blocks, replace_original=True
                )
            else:
                blocks = replace_actions_with_note([], note, follow_up)
                await respond(
                    text=note, blocks=blocks, response_type="ephemeral", replace_original=False
                )
        except Exception:
            logger.warning("could not update the clicked message", exc_info=True)
