"""Bolt listener wiring: a flat list of registrations; each listener acks first, then works.

Also what concerns every request: an event Slack delivers again, and what nothing else takes."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import ids
from bot.core.dependencies import Services
from bot.core.storage import events
from bot.slack.choice_listeners import ChoiceListeners
from bot.slack.command_listeners import CommandListeners
from bot.slack.home_listeners import HomeListeners
from bot.slack.meeting_listeners import register_meetings
from bot.slack.oauth import SlackInstalls
from bot.slack.request_reading import person_ref
from bot.slack.uninstall_listeners import UninstallListeners
from handlers import locale_lookup
from scheduler.dispatcher import Dispatcher

logger = logging.getLogger(__name__)

# Where the web endpoint puts the request's arrival (time.perf_counter()) in Bolt's context.
ARRIVED = "notpromoted_arrived"
# Bolt's wait for an acknowledgement before it tries the next matching listener.
BOLT_ACK_TIMEOUT_SECONDS = 3.0


async def arrived_in_time(context: AsyncBoltContext) -> bool:
    """False for a request Bolt has already waited on for its full ack timeout."""
    arrived = context.get(ARRIVED)
    return (
        not isinstance(arrived, float) or time.perf_counter() - arrived < BOLT_ACK_TIMEOUT_SECONDS
    )


def register(
    app: AsyncApp,
    services: Services,
    dispatcher: Dispatcher,
    installs: SlackInstalls | None = None,
) -> None:
    listeners = SlackListeners(services, dispatcher)
    removal = UninstallListeners(services, installs)
    app.middleware(listeners.skip_redelivered_events)
    # Every command name (the app may be installed under another) has this one listener. One:
    # when a listener has not acknowledged within 3 s, Bolt tries the next that matches, and
    # a second would run the same command again.
    app.command(re.compile(".*"))(listeners.on_command)
    buttons = (*ids.STAGE_CHOICES, *ids.NUDGE_ANSWERS)
    app.action(re.compile(f"^({'|'.join(buttons)})$"))(listeners.on_checkin_button)
    app.action(ids.FORGET_CONFIRM)(listeners.on_forget_confirm)
    app.action(ids.FORGET_CANCEL)(listeners.on_forget_cancel)
    app.action(ids.HOME_START)(listeners.on_home_start)
    app.action(re.compile(f"^({'|'.join(ids.HOME_CONTROLS)})$"))(listeners.on_home_control)
    app.view(ids.GOALS_FORM)(listeners.on_goals_submitted)
    app.view(ids.FEEDBACK_FORM)(listeners.on_feedback_submitted)
    app.view(ids.NOTES_FORM)(listeners.on_notes_submitted)
    app.view(ids.HOURS_FORM)(listeners.on_hours_submitted)
    openers = (*ids.FORM_OPENERS, ids.OPEN_PROGRESS_NOTE)
    app.action(re.compile(f"^({'|'.join(openers)})$"))(listeners.on_form_opener)
    app.view(ids.PROGRESS_NOTE_FORM)(listeners.on_progress_note_submitted)
    app.action(re.compile(f"^({ids.GOAL_DONE}|{ids.GOAL_DROP})$"))(listeners.on_goal_status)
    app.event("app_home_opened")(listeners.on_home_opened)
    app.event("app_uninstalled")(removal.on_app_uninstalled)
    app.event("tokens_revoked")(removal.on_tokens_revoked)
    listeners.meetings = register_meetings(app, listeners)
    # Anything else is acknowledged, never answered with an error. A request reaches these
    # after 3 s only when its own listener was slower than that (Bolt then moves on to the
    # next that matches): it is that listener's, not an unknown one. Events are acknowledged
    # by Bolt before their listener runs.
    in_time = [arrived_in_time]
    app.action(re.compile(".*"), matchers=in_time)(listeners.on_unknown_action)
    app.event(re.compile(".*"))(listeners.on_other_event)
    app.view(re.compile(".*"), matchers=in_time)(listeners.ack_only)
    app.shortcut(re.compile(".*"), matchers=in_time)(listeners.ack_only)
    app.options(re.compile(".*"), matchers=in_time)(listeners.ack_only)


class SlackListeners(CommandListeners, ChoiceListeners, HomeListeners):
    """The journey's listeners as one object, whose bound methods are registered above; each
    group is a module of its own, over the shared parts in bot.slack.listening."""

    async def skip_redelivered_events(
        self, body: dict[str, Any], next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """An event Slack delivers again (a retry of one we handled) has one effect."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str):
            try:
                first = await asyncio.to_thread(self._record_event, event_id)
            except Exception:
                logger.exception("could not record event %s", event_id)
                return BoltResponse(status=503, body="")  # Slack will retry it later
            if not first:
                return BoltResponse(status=200, body="")
        await next()
        return None

    def _record_event(self, event_id: str) -> bool:
        with self.services.sessions.begin() as session:
            return events.record_event(session, event_id=event_id, now=self.services.clock())

    async def on_unknown_action(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
        respond: AsyncRespond,
    ) -> None:
        await ack()
        ref = person_ref(context)
        locale = (
            await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
            if ref
            else None
        )
        note = (
            locale.text("button_expired")
            if locale
            else self.services.content.for_locale(None).text("button_expired")
        )
        await self.update_clicked(body, client, respond, note)

    async def on_other_event(self, ack: AsyncAck) -> None:
        await ack()

    async def ack_only(self, ack: AsyncAck) -> None:
        await ack()
