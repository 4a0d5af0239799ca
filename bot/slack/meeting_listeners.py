"""Bolt listeners of the manager flow: invitations, the meeting template, the person's answer.

Slack's part is only this: read who was named, ask Slack about them (SlackDirectory), open and
read the modals. Who may do what is decided in handlers.meeting_access.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import ids
from bot.core.dependencies import Services
from bot.core.person_ref import PersonRef
from bot.slack.directory import SlackDirectory
from bot.slack.meeting_views import (
    build_invite_modal,
    build_pick_modal,
    build_template_modal,
    done_view,
    read_template_form,
    read_user_pick,
)
from bot.slack.request_reading import button_number, names_other_message, person_ref, quietly
from bot.slack.views import build_goals_modal
from handlers import (
    locale_lookup,
    manager_invitation,
    meeting_access,
    meeting_answer,
    meeting_preparation,
)
from handlers.meeting_access import Access
from handlers.outbox import SentCopy, meeting_offer_row, sent_copy
from messages.model import Button, Message

logger = logging.getLogger(__name__)

# "<@U123ABC>" or "<@U123ABC|name>" (the command is escaped), or an id typed as it is.
MENTION = re.compile(r"^<@([UW][A-Z0-9]{1,20})(?:\|[^>]*)?>$|^([UW][A-Z0-9]{1,20})$")


def named_user(text: str) -> str | None:
    match = MENTION.match(text.strip())
    return (match.group(1) or match.group(2)) if match else None


class SharedListening(Protocol):
    """What the meeting listeners use of the journey's (bot.slack.listeners.SlackListeners),
    named here so that neither module imports the other."""

    services: Services
    unavailable: str

    async def send_rows(self, checkin_ids: tuple[int, ...]) -> None: ...

    async def refuse_click(self, ref: PersonRef, respond: AsyncRespond) -> None: ...

    async def publish_home(self, client: AsyncWebClient, ref: PersonRef) -> None: ...

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
    ) -> None: ...


def register_meetings(app: AsyncApp, listeners: SharedListening) -> MeetingListeners:
    meeting = MeetingListeners(listeners)
    app.shortcut(ids.MEETING_SHORTCUT)(meeting.on_shortcut)
    app.view(ids.MEETING_PICK_FORM)(meeting.on_person_picked)
    app.view(ids.MEETING_FORM)(meeting.on_template_submitted)
    app.action(ids.MEETING_PREPARE)(meeting.on_prepare_button)
    app.action(re.compile(f"^({ids.MEETING_ACCEPT}|{ids.MEETING_DECLINE})$"))(meeting.on_answer)
    app.action(ids.MEETING_TO_GOALS)(meeting.on_to_goals)
    app.action(ids.OPEN_MANAGER_INVITE)(meeting.on_open_invite)
    app.view(ids.MANAGER_INVITE_FORM)(meeting.on_invite_submitted)
    app.action(ids.MANAGER_REVOKE)(meeting.on_withdraw)
    return meeting


class MeetingListeners:
    def __init__(self, listeners: SharedListening) -> None:
        self.base = listeners
        self.services: Services = listeners.services
        self.unavailable = listeners.unavailable
        self.directory = SlackDirectory(self.services.settings.manager_usergroup)

    # -- a manager starts ----------------------------------------------------------------

    async def on_command(
        self,
        ref: PersonRef,
        rest: str,
        body: dict[str, Any],
        ack: AsyncAck,
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        """`/notpromoted meeting @person`; without a person, the picker opens."""
        await ack()
        trigger_id = str(body.get("trigger_id") or "")
        target = named_user(rest)
        if target is None:
            locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
            await self._open(client, trigger_id, build_pick_modal(locale))
            return
        await self._start(ref, target, trigger_id, client, respond)

    async def on_shortcut(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        await ack()
        ref = person_ref(context)
        if ref is None:
            return
        locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
        await self._open(client, str(body.get("trigger_id") or ""), build_pick_modal(locale))

    async def on_prepare_button(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        """The button in a manager's invitation: the value names the person who invited."""
        await ack()
        ref = person_ref(context)
        target = named_user(str(action.get("value") or ""))
        if ref is None or target is None:
            return
        await self._start(ref, target, str(body.get("trigger_id") or ""), client, respond)

    async def _start(
        self,
        ref: PersonRef,
        target: str,
        trigger_id: str,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        access = await self._access(ref, target, client)
        if access is None or access.authority is None:
            text = access.refusal if access else self.unavailable
            await quietly(
                respond(text=text or "", response_type="ephemeral", replace_original=False)
            )
            return
        locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
        await self._open(client, trigger_id, build_template_modal(locale, target))

    async def on_person_picked(
        self, ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        ref = person_ref(context)
        target = read_user_pick(view, "person")
        if ref is None or target is None:
            await ack()
            return
        access = await self._access(ref, target, client)
        if access is None or access.authority is None:
            refusal = access.refusal if access else self.unavailable
            await ack(response_action="errors", errors={"person": refusal or ""})
            return
        locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
        await ack(response_action="update", view=build_template_modal(locale, target))

    async def on_template_submitted(
        self, ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        ref = person_ref(context)
        target, draft = read_template_form(view)
        if ref is None or target is None:
            await ack()
            return
        try:
            subject = await self.directory.someone(client, target)
            in_group = await self.directory.in_manager_group(client, ref)
            answer = await asyncio.to_thread(
                meeting_preparation.prepare_meeting,
                self.services,
                ref,
                subject,
                draft,
                in_group=in_group,
            )
        except Exception:
            logger.exception("a feedback meeting could not be prepared")
            await ack(response_action="errors", errors={"thanks": self.unavailable})
            return
        if answer.errors:
            await ack(response_action="errors", errors=answer.errors)
            return
        form = (await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)).checkins[
            "meeting_template_form"
        ]
        await ack(
            response_action="update", view=done_view(form["title"], answer.saved, form["close"])
        )
        await self.base.send_rows(answer.send_now)

    async def _access(self, ref: PersonRef, target: str, client: AsyncWebClient) -> Access | None:
        """May `ref` prepare a meeting for `target`? None when Slack or the database failed."""
        try:
            subject = await self.directory.someone(client, target)
            in_group = await self.directory.in_manager_group(client, ref)
            return await asyncio.to_thread(
                meeting_access.check_access, self.services, ref, subject, in_group=in_group
            )
        except Exception:
            logger.exception("could not check who may prepare a meeting")
            return None

    # -- the person answers --------------------------------------------------------------

    async def on_answer(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        ref = person_ref(context)
        if ref is None:
            return
        meeting_id = button_number(action.get("value"))
        try:
            copy = await asyncio.to_thread(self._offer_copy, ref, meeting_id)
            if copy is not None and names_other_message(body, copy):
                await self.base.refuse_click(ref, respond)
                return
            reply = await asyncio.to_thread(
                meeting_answer.answer_offer,
                self.services,
                ref,
                meeting_id,
                accept=action.get("action_id") == ids.MEETING_ACCEPT,
            )
        except Exception:
            logger.exception("an answer to a meeting failed")
            await quietly(
                respond(text=self.unavailable, response_type="ephemeral", replace_original=False)
            )
            return
        if reply.note is not None:
            await self.base.update_clicked(body, client, respond, reply.note, copy=copy)
        await self.base.send_rows(reply.send_now)

    async def on_to_goals(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        ref = person_ref(context)
        if ref is None:
            return
        try:
            found = await asyncio.to_thread(
                meeting_answer.next_steps_as_goals,
                self.services,
                ref,
                button_number(action.get("value")),
            )
        except Exception:
            logger.exception("could not fill the goals form from a meeting")
            return
        if found is not None:
            locale, goals = found
            view = build_goals_modal(locale, goals, from_checkin=None)
            await self._open(client, str(body.get("trigger_id") or ""), view)

    def _offer_copy(self, ref: PersonRef, meeting_id: int | None) -> SentCopy | None:
        """The message that offered this person the meeting, where the bot posted it."""
        row = meeting_offer_row(self.services, ref, meeting_id)
        return sent_copy(self.services, ref, row)

    # -- the person invites their manager ------------------------------------------------

    async def on_open_invite(
        self, ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        await ack()
        ref = person_ref(context)
        if ref is None:
            return
        locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
        await self._open(client, str(body.get("trigger_id") or ""), build_invite_modal(locale))

    async def on_invite_submitted(
        self, ack: AsyncAck, view: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        ref = person_ref(context)
        manager_id = read_user_pick(view, "manager")
        if ref is None or manager_id is None:
            await ack()
            return
        try:
            manager = await self.directory.someone(client, manager_id)
            answer = await asyncio.to_thread(
                manager_invitation.invite_manager, self.services, ref, manager
            )
        except Exception:
            logger.exception("an invitation to a manager failed")
            await ack(response_action="errors", errors={"manager": self.unavailable})
            return
        if answer.errors:
            await ack(response_action="errors", errors=answer.errors)
            return
        form = (await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)).checkins[
            "meeting_invite_form"
        ]
        await ack(
            response_action="update", view=done_view(form["title"], answer.saved, form["close"])
        )
        await self.base.send_rows(answer.send_now)
        await self.base.publish_home(client, ref)

    async def on_withdraw(
        self,
        ack: AsyncAck,
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        await ack()
        ref = person_ref(context)
        if ref is None:
            return
        try:
            await asyncio.to_thread(
                manager_invitation.withdraw_invitation,
                self.services,
                ref,
                button_number(action.get("value")),
            )
        except Exception:
            logger.exception("withdrawing an invitation failed")
        await self.base.publish_home(client, ref)

    async def _open(self, client: AsyncWebClient, trigger_id: str, view: dict[str, Any]) -> None:
        try:
            await client.views_open(trigger_id=trigger_id, view=view)
        except Exception:
            logger.exception("could not open a meeting form")
