"""Bolt listeners of the App Home: the tab opened, and its own buttons (start, a goal done or
let go, pause, resume, export, erase); each shows the tab afresh."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import ids
from bot.core.models import GoalStatus
from bot.slack.listening import SlackListening
from bot.slack.request_reading import button_number, person_ref
from handlers import journey_controls
from handlers.goals import set_goal_status
from handlers.start import start_or_resume

logger = logging.getLogger(__name__)


class HomeListeners(SlackListening):
    async def on_home_start(
        self, ack: AsyncAck, context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        await ack()
        ref = person_ref(context)
        if ref is None:
            return
        try:
            reply = await asyncio.to_thread(start_or_resume, self.services, ref)
        except Exception:
            logger.exception("start from the home tab failed")
            return
        await self._send_now(reply, None, ref)
        await self.publish_home(client, ref)

    async def on_home_opened(
        self, event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
    ) -> None:
        ref = person_ref(context)
        if ref is None or event.get("tab") != "home":
            return
        await self.publish_home(client, ref)

    async def on_goal_status(
        self,
        ack: AsyncAck,
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """Done or let go, from a goal's own buttons on the home tab."""
        await ack()
        ref = person_ref(context)
        if ref is None:
            return
        status = GoalStatus.DONE if action.get("action_id") == ids.GOAL_DONE else GoalStatus.DROPPED
        try:
            await asyncio.to_thread(
                set_goal_status,
                self.services,
                ref,
                goal_id=button_number(action.get("value")),
                status=status,
            )
        except Exception:
            logger.exception("changing a goal failed")
        await self.publish_home(client, ref)

    async def on_home_control(
        self,
        ack: AsyncAck,
        action: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        """Pause, resume, export or erase, from the home tab; then show the tab afresh."""
        await ack()
        ref = person_ref(context)
        if ref is None:
            return
        choice = action.get("action_id")
        try:
            if choice == ids.HOME_EXPORT:
                await self._send_export(client, ref)
            elif choice == ids.HOME_ERASE:
                await asyncio.to_thread(journey_controls.confirm_forget, self.services, ref)
            else:
                change = (
                    journey_controls.pause if choice == ids.HOME_PAUSE else journey_controls.resume
                )
                reply = await asyncio.to_thread(change, self.services, ref)
                await self._send_now(reply, None, ref)
        except Exception:
            logger.exception("a home tab control failed")
        await self.publish_home(client, ref)
