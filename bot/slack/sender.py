"""The dispatcher's Slack side: open the DM, post with a check-in tag, update, read the profile."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.delivery import (
    Delivered,
    DeliveryDeferred,
    Profile,
    Recipient,
    RecipientUnreachable,
)
from bot.core.ids import MESSAGE_METADATA_TYPE
from bot.core.working_calendar import is_time_zone
from bot.slack.blocks import build_message_blocks
from bot.slack.bot_tokens import NotInstalled, TokenRefreshFailed, WorkspaceTokens
from messages.content import language_tag
from messages.model import Message

HISTORY_PAGES = 5

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
    def __init__(self, client: AsyncWebClient, tokens: WorkspaceTokens | None = None) -> None:
        self.client = client
        # Installed in several workspaces: each call carries the recipient's workspace's token.
        self.tokens = tokens

    async def fetch_profile(self, recipient: Recipient) -> Profile:
        response = await self._call(
            self.client.users_info,
            await self._token(recipient),
            user=recipient.user_id,
            include_locale=True,
        )
        user = response.get("user") or {}
        return Profile(
            time_zone=loadable_zone(user.get("tz")), locale=language_tag(user.get("locale"))
        )

    async def deliver(
        self, recipient: Recipient, message: Message, *, checkin_id: int
    ) -> Delivered:
        token = await self._token(recipient)
        channel = recipient.dm_channel_id or await self._open_dm(recipient.user_id, token)
        try:
            return await self._post(channel, message, checkin_id, token)
        except RecipientUnreachable:
            if recipient.dm_channel_id is None:
                raise
        # A stored DM channel that no longer works: open it afresh once.
        channel = await self._open_dm(recipient.user_id, token)
        return await self._post(channel, message, checkin_id, token)

    async def replace(
        self, recipient: Recipient, channel_id: str, message_ts: str, message: Message
    ) -> None:
        await self._call(
            self.client.chat_update,
            await self._token(recipient),
            channel=channel_id,
            ts=message_ts,
            text=message.notification,
            blocks=build_message_blocks(message),
        )

    async def find_delivered(
        self, recipient: Recipient, *, checkin_id: int, since: datetime
    ) -> Delivered | None:
        """Look in the DM, from a minute before `since`, for a message tagged with this id.

        Only called after an attempt whose outcome is unknown, so conversations.history (rate
        limited hard for some apps) stays rare; a 429 here means "later", never "send anyway".
        """
        token = await self._token(recipient)
        channel = recipient.dm_channel_id or await self._open_dm(recipient.user_id, token)
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            response = await self._call(
                self.client.conversations_history,
                token,
                channel=channel,
                oldest=f"{since.timestamp() - 60:.6f}",
                limit=200,
                include_all_metadata=True,
                **({"cursor": cursor} if cursor else {}),
            )
            for message in response.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if (
                    metadata.get("event_type") == MESSAGE_METADATA_TYPE
                    and str(payload.get("checkin_id")) == str(checkin_id)
                    and isinstance(message.get("ts"), str)
                ):
                    return Delivered(channel_id=channel, message_ts=message["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                return None
        raise DeliveryDeferred("DM history too long to search")

    async def _open_dm(self, user_id: str, token: str | None) -> str:
        response = await self._call(self.client.conversations_open, token, users=user_id)
        channel = (response.get("channel") or {}).get("id")
        if not isinstance(channel, str):
            raise DeliveryDeferred("conversations.open returned no channel")
        return channel

    async def _post(
        self, channel: str, message: Message, checkin_id: int, token: str | None
    ) -> Delivered:
        response = await self._call(
            self.client.chat_postMessage,
            token,
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

    async def _token(self, recipient: Recipient) -> str | None:
        """The workspace's own token when installed in several; None: the client's one."""
        if self.tokens is None:
            return None
        try:
            return await self.tokens.for_workspace(recipient.workspace_id, recipient.enterprise_id)
        except NotInstalled:
            raise RecipientUnreachable("not_installed") from None
        except TokenRefreshFailed as error:
            if error.lasting:
                raise RecipientUnreachable(str(error)) from None
            raise DeliveryDeferred(str(error), 60) from None

    async def _call(self, method: Any, token: str | None, **kwargs: Any) -> Any:
        """Turn Slack's failures into the dispatcher's two kinds: retry later, or give up."""
        if token is not None:
            kwargs["token"] = token
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
        except aiohttp.ClientConnectorError as error:  # never connected: nothing was sent
            raise DeliveryDeferred(f"connection: {type(error).__name__}") from None
        except (TimeoutError, aiohttp.ClientError) as error:
            # The request may have reached Slack before the answer was lost.
            raise DeliveryDeferred(
                f"connection: {type(error).__name__}", maybe_delivered=True
            ) from None


def loadable_zone(tz: object) -> str | None:
    """users.info's `tz` when it names a zone we can load; else None, and the person's time
    is counted in the deployment's default zone (a profile never stops their messages)."""
    return tz if isinstance(tz, str) and is_time_zone(tz) else None
