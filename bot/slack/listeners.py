"""Bolt listener wiring: a flat list of registrations; each listener acks first, then works.

Buttons, forms and commands go to bot.slack.interaction_listeners, which looks each up in the
one route table (handlers.routes). Here also what concerns every request: an event Slack
delivers again, the App Home opened, and what nothing else takes."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import ids
from bot.core.dependencies import Services
from bot.core.models import Platform
from bot.core.storage import events
from bot.core.work_in_flight import WorkInFlight
from bot.slack.interaction_listeners import InteractionListeners
from bot.slack.oauth import SlackInstalls
from bot.slack.reply_drawing import SlackReplies
from bot.slack.request_reading import person_ref
from bot.slack.uninstall_listeners import UninstallListeners
from handlers import locale_lookup
from handlers.routes import FORM_ROUTES, ROUTES
from scheduler.dispatcher import Dispatcher

logger = logging.getLogger(__name__)

# Where the web endpoint puts the request's arrival (time.perf_counter()) in Bolt's context.
ARRIVED = "notpromoted_arrived"
# Bolt's wait for an acknowledgement before it tries the next matching listener.
BOLT_ACK_TIMEOUT_SECONDS = 3.0


async def arrived_in_time(context: AsyncBoltContext) -> bool:
    """False for a request Bolt has already waited on for its full ack timeout. On Bolt's
    clock (time.time(), which it starts after the request arrived): a second clock that ran a
    little slower than Bolt's let the catch-all take a late form's request."""
    arrived = context.get(ARRIVED)
    return not isinstance(arrived, float) or time.time() - arrived < BOLT_ACK_TIMEOUT_SECONDS


def _one_of(names: Iterable[str]) -> re.Pattern[str]:
    return re.compile(f"^({'|'.join(re.escape(name) for name in sorted(names))})$")


# What the two routed listeners take: every button id and every form id of handlers.routes.
ROUTED_ACTIONS = _one_of(action for action in ROUTES if action != ids.TYPED)
ROUTED_FORMS = _one_of(FORM_ROUTES)


def register(
    app: AsyncApp,
    services: Services,
    dispatcher: Dispatcher,
    installs: SlackInstalls | None = None,
    *,
    work: WorkInFlight | None = None,
) -> WorkInFlight:
    """Every listener, counted while it runs in `work` (returned: it says when the work after
    their acknowledgements is done)."""
    work = work or WorkInFlight()
    track = work.track
    replies = SlackReplies(services, dispatcher)
    listeners = SlackListeners(services, replies)
    routed = InteractionListeners(services, replies)
    removal = UninstallListeners(services, installs)
    app.middleware(listeners.skip_redelivered_events)
    # Every command name (the app may be installed under another) has this one listener. One:
    # when a listener has not acknowledged within 3 s, Bolt tries the next that matches, and
    # a second would run the same command again.
    app.command(re.compile(".*"))(track(routed.on_command))
    # Every button and form of the route table has one listener each; the table decides.
    app.action(ROUTED_ACTIONS)(track(routed.on_action))
    app.view(ROUTED_FORMS)(track(routed.on_submission))
    app.shortcut(ids.MEETING_SHORTCUT)(track(routed.on_shortcut))
    app.event("app_home_opened")(track(listeners.on_home_opened))
    app.event("app_uninstalled")(track(removal.on_app_uninstalled))
    app.event("tokens_revoked")(track(removal.on_tokens_revoked))
    # Anything else is acknowledged, never answered with an error. A request reaches these
    # after 3 s only when its own listener was slower than that (Bolt then moves on to the
    # next that matches): it is that listener's, not an unknown one. Events are acknowledged
    # by Bolt before their listener runs.
    in_time = [arrived_in_time]
    app.action(re.compile(".*"), matchers=in_time)(track(listeners.on_unknown_action))
    app.event(re.compile(".*"))(listeners.on_other_event)
    app.view(re.compile(".*"), matchers=in_time)(listeners.ack_only)
    app.shortcut(re.compile(".*"), matchers=in_time)(listeners.ack_only)
    app.options(re.compile(".*"), matchers=in_time)(listeners.ack_only)
    return work


class SlackListeners:
    """What concerns every request rather than one route: events delivered again, the App
    Home opened, and what no route takes."""

    def __init__(self, services: Services, replies: SlackReplies) -> None:
        self.services = services
        self.replies = replies

    async def on_home_opened(
        self, event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        ref = person_ref(context)
        if ref is None or event.get("tab") != "home":
            return
        await self.replies.publish_home(client, ref)

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
            else self.services.content.for_locale(None, Platform.SLACK).text("button_expired")
        )
        await self.replies.update_clicked(body, client, respond, note)

    async def on_other_event(self, ack: AsyncAck) -> None:
        await ack()

    async def ack_only(self, ack: AsyncAck) -> None:
        await ack()
