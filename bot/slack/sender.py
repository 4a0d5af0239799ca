"""The dispatcher's Slack side: open the DM, post with a check-in tag, update, read the profile."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.ids import MESSAGE_METADATA_TYPE
from bot.slack.blocks import build_message_blocks
from messages.model import Message
from scheduler.delivery import (
    Delivered,
    DeliveryDeferred,
    Profile,
    Recipient,
    RecipientUnreachable,
)

# Errors that will not go away by trying again.
UNREACHABLE_ERRORS = frozenset(
    {
        "user_not_found",
        "account_inactive",
        "user_disabled",
        "cannot_dm_bot",
        "user_not_visible",
        "messages_tab_disabled",
        "is_archived",
        "not_allowed_token_type",
        "invalid_auth",
        "token_revoked",
        "missing_scope",
    }
)


class SlackSender:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def fetch_profile(self, recipient: Recipient) -> Profile:
        response = await self._call(
            self.client.users_info, user=recipient.user_id, include_locale=True
        )
        user = response.get("user") or {}
        return Profile(time_zone=user.get("tz"), locale=user.get("locale"))

    async def deliver(
        self, recipient: Recipient, message: Message, *, checkin_id: int
    ) -> Delivered:
        channel = recipient.dm_channel_id or await self._open_dm(recipient.user_id)
        try:
            return await self._post(channel, message, checkin_id)
        except RecipientUnreachable:
            if recipient.dm_channel_id is None:
                raise
        # A stored DM channel that no longer works: open it afresh once.
        return await self._post(await self._open_dm(recipient.user_id), message, checkin_id)

    async def replace(self, channel_id: str, message_ts: str, message: Message) -> None:
        await self._call(
            self.client.chat_update,
            channel=channel_id,
            ts=message_ts,
            text=message.notification,
            blocks=build_message_blocks(message),
        )

    async def _open_dm(self, user_id: str) -> str:
        response = await self._call(self.client.conversations_open, users=user_id)
        channel = (response.get("channel") or {}).get("id")
        if not isinstance(channel, str):
            raise DeliveryDeferred("conversations.open returned no channel")
        return channel

    async def _post(self, channel: str, message: Message, checkin_id: int) -> Delivered:
        response = await self._call(
            self.client.chat_postMessage,
            channel=channel,
            text=message.notification,
            blocks=build_message_blocks(message),
            metadata={
                "event_type": MESSAGE_METADATA_TYPE,
                "event_payload": {"checkin_id": checkin_id},
            },
            unfurl_links=False,
            unfurl_media=False,
        )
        ts = response.get("ts")
        if not isinstance(ts, str):
            raise DeliveryDeferred("chat.postMessage returned no ts")
        return Delivered(channel_id=response.get("channel") or channel, message_ts=ts)

    async def _call(self, method: Any, **kwargs: Any) -> Any:
        """Turn Slack's failures into the dispatcher's two kinds: retry later, or give up."""
        try:
            return await method(**kwargs)
        except SlackApiError as error:
            code = str(error.response.get("error", ""))
            if error.response.status_code == 429:
                headers = error.response.headers or {}
                retry_after = float(headers.get("Retry-After") or headers.get("retry-after") or 30)
                raise DeliveryDeferred("rate limited", retry_after) from None
            if code in UNREACHABLE_ERRORS or code == "channel_not_found":
                raise RecipientUnreachable(code) from None
            raise DeliveryDeferred(f"slack error {code or error.response.status_code}") from None
        except (TimeoutError, aiohttp.ClientError) as error:
            raise DeliveryDeferred(f"connection: {type(error).__name__}") from None
