"""What the dispatcher asks of a platform: the contract every adapter's sender fulfils."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from messages.model import Message


@dataclass(frozen=True)
class Recipient:
    platform: str
    workspace_id: str
    user_id: str
    dm_channel_id: str | None


@dataclass(frozen=True)
class Profile:
    time_zone: str | None
    locale: str | None


@dataclass(frozen=True)
class Delivered:
    channel_id: str
    message_ts: str


class RecipientUnreachable(Exception):
    """The person cannot get messages (left, deactivated, blocked the bot): do not retry."""


class DeliveryDeferred(Exception):
    """A passing fault (rate limit, server error, timeout): try again after `retry_after` s."""

    def __init__(self, reason: str, retry_after: float = 0.0) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class Sender(Protocol):
    async def fetch_profile(self, recipient: Recipient) -> Profile: ...

    async def deliver(
        self, recipient: Recipient, message: Message, *, checkin_id: int
    ) -> Delivered: ...

    async def replace(self, channel_id: str, message_ts: str, message: Message) -> None: ...
