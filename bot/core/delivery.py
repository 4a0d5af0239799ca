"""What the dispatcher asks of a platform: the contract every adapter's sender fulfils."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from messages.model import Message

if TYPE_CHECKING:
    from bot.core.config import Settings
    from bot.core.dependencies import Services
    from messages.content import LocaleContent


@dataclass(frozen=True)
class Recipient:
    platform: str
    workspace_id: str
    user_id: str
    dm_channel_id: str | None
    # The Enterprise Grid org of the workspace, where there is one (see PersonRef).
    enterprise_id: str | None = None


@dataclass(frozen=True)
class Profile:
    time_zone: str | None
    locale: str | None


@dataclass(frozen=True)
class Delivered:
    channel_id: str
    message_ts: str


class NothingToSay(Exception):
    """What a row was about is gone (an erased meeting, a withdrawn invitation): nothing to
    send, and nobody to tell."""


class Composer(Protocol):
    """The words of the outbox's rows. The dispatcher is handed one when the app is assembled
    (handlers.outbox.OutboxComposer), so that sending needs no use case of its own."""

    def checkin(
        self,
        services: Services,
        *,
        kind: str,
        stage_id: str | None,
        checkin_id: int,
        person_id: int,
        meeting_id: int | None,
        locale_name: str | None,
        platform: str,
    ) -> Message:
        """The message of one row, for the person it goes to (NothingToSay if it is gone)."""
        ...

    def superseded(self, locale: LocaleContent, settings: Settings) -> Message:
        """What an older copy of a message becomes when a newer one replaces it."""
        ...


class RecipientUnreachable(Exception):
    """The person cannot get messages (left, deactivated, blocked the bot): do not retry."""


class RecipientNotYetReachable(RecipientUnreachable):
    """The person has never given the bot a way to message them (on Teams: they have not
    added the app, so no conversation is stored). Kinds in `ids.WAITS_FOR_RECIPIENT` wait
    for them without counting attempts; every other kind is unreachable, as before."""


class DeliveryDeferred(Exception):
    """A passing fault (rate limit, server error, timeout): try again after `retry_after` s.

    `maybe_delivered` is True when the platform may have taken the message before the fault
    (a timeout, a dropped connection): the next attempt must look for it before posting.
    """

    def __init__(
        self, reason: str, retry_after: float = 0.0, *, maybe_delivered: bool = False
    ) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.maybe_delivered = maybe_delivered


class Sender(Protocol):
    async def fetch_profile(self, recipient: Recipient) -> Profile: ...

    async def deliver(
        self, recipient: Recipient, message: Message, *, checkin_id: int
    ) -> Delivered: ...

    async def replace(
        self, recipient: Recipient, channel_id: str, message_ts: str, message: Message
    ) -> None: ...

    async def find_delivered(
        self, recipient: Recipient, *, checkin_id: int, since: datetime
    ) -> Delivered | None:
        """The message of this check-in if it reached the person after `since`, else None."""
        ...
