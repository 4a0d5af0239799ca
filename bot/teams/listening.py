"""What every Teams handler shares around its own work: the person's chat kept from each
activity, and the work that goes on after Teams has its answer (rows sent at once)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from microsoft_teams.api import ActivityBase

from bot.core.checkin_planning import replan_for_person
from bot.core.dependencies import Services
from bot.core.person_ref import PersonRef
from bot.teams.activity_reading import Chat, chat_of
from bot.teams.conversations import remember_chat
from bot.teams.directory import TeamsDirectory
from bot.teams.sender import TeamsSender
from messages.model import Message
from scheduler.dispatcher import Dispatcher

logger = logging.getLogger(__name__)


class TeamsListening:
    def __init__(self, services: Services, dispatcher: Dispatcher, sender: TeamsSender) -> None:
        self.services = services
        self.dispatcher = dispatcher
        self.sender = sender
        self.directory = TeamsDirectory(services)
        self.default = services.content.for_locale(None)
        self.unavailable = self.default.text("ack_unavailable")
        # Work that goes on after Teams has its answer; kept so that it is not collected.
        self.pending: set[asyncio.Task[None]] = set()

    async def settled(self) -> None:
        """Wait for the work started after answers (the tests need it)."""
        while self.pending:
            await asyncio.gather(*list(self.pending), return_exceptions=True)

    async def send_rows(self, checkin_ids: tuple[int, ...]) -> None:
        """Send rows a handler just wrote, at once; whatever fails here a sweep sends later."""
        for checkin_id in checkin_ids:
            try:
                await self.dispatcher.send_now(checkin_id)
            except Exception:
                logger.exception("sending check-in %s failed", checkin_id)

    async def _remember(self, activity: ActivityBase) -> Chat | None:
        """Keep (or refresh) the person's conversation reference, when it is a personal chat."""
        chat = chat_of(activity)
        if chat is None:
            return None
        try:
            woken = await asyncio.to_thread(self._store_chat, chat)
        except Exception:
            logger.exception("could not store a Teams conversation reference")
            return chat
        if woken:  # an invitation that waited for this person to add the app
            self._later(self.send_rows(woken))
        return chat

    def _store_chat(self, chat: Chat) -> tuple[int, ...]:
        """Keep the reference; the time zone and language Teams reports are the person's
        profile (Slack's comes from users.info), and a new zone moves what is planned.
        Returns the rows that were waiting for the person's first chat, now due."""
        now = self.services.clock()
        with self.services.sessions.begin() as session:
            remembered = remember_chat(session, chat=chat, now=now)
            person = remembered.person
            moved = bool(chat.time_zone) and chat.time_zone != person.time_zone
            person.time_zone = chat.time_zone or person.time_zone
            person.locale = chat.locale or person.locale
            person.profile_checked_at = now
            session.add(person)
            if moved and not person.time_zone_override:
                session.flush()
                replan_for_person(
                    session,
                    person=person,
                    settings=self.services.settings,
                    timing=self.services.content.timing,
                )
            return remembered.woken

    def _later(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _names(self, ref: PersonRef, text: str) -> dict[str, str]:
        return await asyncio.to_thread(self.sender.names, ref.workspace_id, naming_message(text))


def naming_message(text: str) -> Message:
    return Message(notification="", note=text)


def as_dict(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}
