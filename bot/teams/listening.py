"""What every Teams handler shares around its own work: the person's chat kept from each
activity, and the work that goes on after Teams has its answer (rows sent at once)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from microsoft_teams.api import ActivityBase
from microsoft_teams.apps import ActivityContext

from bot.core.checkin_planning import replan_for_person
from bot.core.dependencies import Services
from bot.core.models import Platform
from bot.core.person_ref import PersonRef
from bot.core.work_in_flight import WorkInFlight
from bot.teams.activity_reading import Chat, chat_of
from bot.teams.conversations import remember_chat
from bot.teams.directory import TeamsDirectory, TeamsPeople
from bot.teams.export_file import ExportFile
from bot.teams.form_render import COLLEAGUES, PEOPLE_PICKER
from bot.teams.graph_people import GraphPeople
from bot.teams.sender import TeamsSender, card_activity
from handlers.interaction import Interaction, Redraw, Turn
from messages.model import Message
from scheduler.dispatcher import Dispatcher

logger = logging.getLogger(__name__)


class TeamsListening:
    def __init__(
        self,
        services: Services,
        dispatcher: Dispatcher,
        sender: TeamsSender,
        people_search: GraphPeople | None = None,
    ) -> None:
        self.services = services
        self.dispatcher = dispatcher
        self.sender = sender
        # With a directory search (TEAMS_DIRECTORY_SEARCH=graph) the forms' person fields ask
        # the bot, on every client; without, they are Teams' people picker (desktop and web).
        self.people_search = people_search
        self.people_dataset = COLLEAGUES if people_search is not None else PEOPLE_PICKER
        self.directory = TeamsDirectory(services)
        self.export_file = ExportFile(services, sender)
        self.default = services.content.for_locale(None, Platform.TEAMS)
        self.unavailable = self.default.text("ack_unavailable")
        # Work that goes on after Teams has its answer.
        self.work = WorkInFlight()

    async def close(self) -> None:
        if self.people_search is not None:
            await self.people_search.close()

    async def settled(self) -> bool:
        """Wait for the work started after answers (the tests need it)."""
        return await self.work.settled()

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
        self.work.later(work)

    def _turn(self, interaction: Interaction) -> Turn:
        people = TeamsPeople(self.directory, interaction.ref)
        return Turn(self.services, interaction, people)

    async def _names(self, ref: PersonRef, text: str) -> dict[str, str]:
        return await asyncio.to_thread(self.sender.names, ref.workspace_id, naming_message(text))

    async def _send(self, ctx: ActivityContext[Any], ref: PersonRef, message: Message) -> None:
        try:
            card = await self.sender.card_for(ref.workspace_id, message)
            await ctx.send(card_activity(message, card))
        except Exception:
            logger.exception("could not answer in Teams")

    async def _send_export(self, ctx: ActivityContext[Any], ref: PersonRef) -> None:
        """Everything kept about the person, as a file: first the card that asks them
        (bot.teams.export_file; the file follows their accept)."""
        await self.export_file.offer(ctx.send, ref)

    async def _redraw(self, redraw: Redraw) -> None:
        try:
            await self.sender.redraw(redraw.channel_id, redraw.message_id, redraw.message)
        except Exception:
            logger.warning("could not show a message again", exc_info=True)


def naming_message(text: str) -> Message:
    return Message(notification="", note=text)


def as_dict(value: object) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}
