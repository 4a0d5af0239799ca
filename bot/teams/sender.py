"""The dispatcher's Teams side: proactive cards through the stored conversation reference.

Exactly once, as far as Teams allows: the dispatcher marks a row before it posts, and after an
attempt whose outcome is unknown it asks `find_delivered` before posting again. A bot cannot
read its personal chats back through the Bot Connector (that needs Microsoft Graph and chat
read permissions this app does not ask for), so for Teams that answer is always "not found":
only a post that was sent and then lost its answer (a read timeout, a dropped connection, a
crash before the row was marked sent, a 500/502/504 answer) can arrive twice. Failures that
surely sent nothing (no connection, no token, a refusal: 429, 412, 503, another 4xx) are
retried without that doubt. Sends to a tenant keep within the deployment's budget for it
(bot.teams.send_budget).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import TypeVar

import httpx
from microsoft_teams.api import Account, ApiClient, ConversationAccount
from microsoft_teams.api.activities.message import MessageActivityInput
from sqlmodel import select

from bot.core.config_teams import service_url_allowed
from bot.core.delivery import (
    Delivered,
    DeliveryDeferred,
    Profile,
    Recipient,
    RecipientNotYetReachable,
    RecipientUnreachable,
)
from bot.core.dependencies import Services
from bot.core.models import Person, Platform, TeamsConversation
from bot.core.person_ref import PersonRef
from bot.core.storage import heartbeats
from bot.teams.app_tokens import TokenUnavailable
from bot.teams.cards import Card, build_card, card_attachment
from bot.teams.conversations import conversation_of, names_of
from bot.teams.send_budget import TenantBudget
from messages.model import MENTION, Message

# Answers that say this person cannot be reached this way: the app was removed, the user left.
UNREACHABLE_STATUSES = frozenset({403, 404, 410})
# Answers after which the message may or may not be in the chat.
UNCLEAR_STATUSES = frozenset({500, 502, 504})

T = TypeVar("T")


class TeamsSender:
    def __init__(
        self, services: Services, api: ApiClient, budget: TenantBudget | None = None
    ) -> None:
        self.services = services
        self.api = api
        self.budget = budget or TenantBudget(
            services.settings.teams_requests_per_second, self._living_senders
        )

    async def _living_senders(self) -> int:
        def count() -> int:
            with self.services.sessions.begin() as session:
                return heartbeats.count_living(session, now=self.services.clock())

        return await asyncio.to_thread(count)

    async def fetch_profile(self, recipient: Recipient) -> Profile:
        """What the person's Teams client last told us: its time zone and language."""
        row = await asyncio.to_thread(self._conversation, _ref(recipient))
        if row is None:
            return Profile(time_zone=None, locale=None)
        return Profile(time_zone=row.time_zone, locale=row.locale)

    async def deliver(
        self, recipient: Recipient, message: Message, *, checkin_id: int
    ) -> Delivered:
        ref = _ref(recipient)
        row = await asyncio.to_thread(self._conversation, ref)
        if row is None:
            raise RecipientNotYetReachable("no conversation with the bot: the app is not added")
        card = await self.card_for(ref.workspace_id, message, checkin_id=checkin_id)
        sent_id = await self._post(ref, row, card_activity(message, card))
        if not sent_id:
            raise DeliveryDeferred("the Bot Connector returned no activity id")
        return Delivered(channel_id=row.conversation_id, message_ts=sent_id)

    async def post(self, ref: PersonRef, activity: MessageActivityInput) -> bool:
        """Post an activity into the person's chat with the bot, outside any activity of
        theirs (the personal tab's answers, its export offer); False without a chat."""
        row = await asyncio.to_thread(self._conversation, ref)
        if row is None:
            return False
        await self._post(ref, row, activity)
        return True

    async def _post(
        self, ref: PersonRef, row: TeamsConversation, activity: MessageActivityInput
    ) -> str | None:
        # The stored conversation reference: from the bot, into the person's chat.
        activity.from_ = Account(id=row.bot_id)
        activity.conversation = ConversationAccount(id=row.conversation_id)
        api = self._api_for(row.service_url)
        await self.budget.take(ref.workspace_id)
        sent = await _call(api.conversations.create_activity(row.conversation_id, activity))
        return sent.id or None

    async def replace(
        self, recipient: Recipient, channel_id: str, message_ts: str, message: Message
    ) -> None:
        await self.redraw(channel_id, message_ts, message)

    async def redraw(self, channel_id: str, message_ts: str, message: Message) -> None:
        """Redraw a card the bot sent before (channel_id is the conversation, ts the activity):
        the conversation's stored reference says where, so no recipient is needed."""
        found = await asyncio.to_thread(self._by_conversation, channel_id)
        if found is None:
            raise RecipientUnreachable("no stored conversation for that card")
        service_url, tenant = found
        card = await self.card_for(tenant, message)
        await self.budget.take(tenant)
        await self.update(service_url, channel_id, message_ts, message, card)

    async def update(
        self, service_url: str, conversation_id: str, activity_id: str, message: Message, card: Card
    ) -> None:
        activity = card_activity(message, card)
        api = self._api_for(service_url)
        await _call(api.conversations.update_activity(conversation_id, activity_id, activity))

    async def find_delivered(
        self, recipient: Recipient, *, checkin_id: int, since: datetime
    ) -> Delivered | None:
        """Always None: see the module's note on what Teams lets a bot read back."""
        return None

    async def card_for(
        self, tenant_id: str, message: Message, *, checkin_id: int | None = None
    ) -> Card:
        names = await asyncio.to_thread(self.names, tenant_id, message)
        return build_card(message, names=names, checkin_id=checkin_id)

    def names(self, tenant_id: str, message: Message) -> dict[str, str]:
        """The names of the people a message names, with the content's word for anyone unknown."""
        wanted = self._names_in(message)
        with self.services.sessions.begin() as session:
            known = names_of(session, tenant_id=tenant_id, user_ids=wanted)
        fallback = self.services.content.for_locale(None, Platform.TEAMS).text("teams_someone")
        return {**{user: fallback for user in wanted}, **known, "": fallback}

    def _names_in(self, message: Message) -> set[str]:
        texts = [message.title or "", message.note or "", message.todo or ""]
        for block in message.blocks:
            texts += getattr(block, "items", ()) or [getattr(block, "text", "")]
        texts += [row.text for row in message.rows]
        return {match.group(1) for text in texts for match in MENTION.finditer(text)}

    def _api_for(self, service_url: str) -> ApiClient:
        """The Bot Connector client for a stored service URL, only if it is a host we send to:
        the client sends it the bot's bearer token (references stored before the allow-list
        existed are checked here too)."""
        if not service_url_allowed(service_url, self.services.settings.teams_service_url_hosts):
            raise RecipientUnreachable("the stored service URL is not a Bot Connector host")
        return self.api.clone(service_url=service_url)

    def _conversation(self, ref: PersonRef) -> TeamsConversation | None:
        with self.services.sessions.begin() as session:
            row = conversation_of(session, ref=ref)
            if row is not None:
                session.expunge(row)
            return row

    def _by_conversation(self, conversation_id: str) -> tuple[str, str] | None:
        with self.services.sessions.begin() as session:
            found = session.exec(
                select(TeamsConversation.service_url, Person.workspace_id)
                .join(Person, Person.id == TeamsConversation.person_id)  # type: ignore[arg-type]
                .where(TeamsConversation.conversation_id == conversation_id)
            ).first()
            return (found[0], found[1]) if found else None


def _ref(recipient: Recipient) -> PersonRef:
    return PersonRef(Platform.TEAMS, recipient.workspace_id, recipient.user_id)


def card_activity(message: Message, card: Card) -> MessageActivityInput:
    """A card message; `summary` is what a notification shows: always the neutral line."""
    return MessageActivityInput.model_validate(
        {
            "type": "message",
            "summary": message.notification,
            "attachments": [card_attachment(card)],
        }
    )


async def _call(request: Awaitable[T]) -> T:
    """Turn Teams' failures into the dispatcher's two kinds: retry later, or give up."""
    try:
        return await request
    except httpx.HTTPStatusError as error:
        status = error.response.status_code
        if status in UNREACHABLE_STATUSES:
            raise RecipientUnreachable(f"teams answered {status}") from None
        retry_after = _retry_after(error.response) if status in (429, 503) else 0.0
        # A server error past Teams' front door (500, 502, 504) does not say whether the
        # message was taken; a refusal (429, 412, 503, another 4xx) says it was not.
        raise DeliveryDeferred(
            f"teams answered {status}", retry_after, maybe_delivered=status in UNCLEAR_STATUSES
        ) from None
    except TokenUnavailable as error:
        raise DeliveryDeferred(f"no token for the Bot Connector: {error}") from None
    except (httpx.ConnectError, httpx.ConnectTimeout) as error:  # nothing was sent
        raise DeliveryDeferred(f"connection: {type(error).__name__}") from None
    except (httpx.TransportError, TimeoutError) as error:
        # The request may have reached Teams before the answer was lost.
        raise DeliveryDeferred(
            f"connection: {type(error).__name__}", maybe_delivered=True
        ) from None


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, min(float(response.headers.get("Retry-After") or 30), 3600.0))
    except ValueError:
        return 30.0
