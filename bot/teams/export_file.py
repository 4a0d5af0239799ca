"""The data export in Teams: a file in the person's OneDrive, through Teams' file consent.

A bot may send a file to a personal chat only after the person accepts it: the bot sends a
file consent card (name, description, size), the person's client answers with a
`fileConsent/invoke` (accept, with an upload session in their OneDrive; or decline), the bot
PUTs the bytes there and shows the file with a file info card ("Send and receive files using
bot", Microsoft Teams platform documentation).

The card's context holds only a tag of the person it was offered to, never the data: on
accept, the export is built again for whoever sent the invoke (its `from`), and refused when
that is not the person the card was for. The upload URL comes from the invoke too, so the
person's data goes only to a host on TEAMS_UPLOAD_HOSTS (bot.teams.file_upload). Logs name
what failed, never the data or the upload URL (it authorises the upload).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from microsoft_teams.api.activities.invoke import FileConsentInvokeActivity
from microsoft_teams.api.activities.message import MessageActivityInput
from microsoft_teams.api.models import Action
from microsoft_teams.apps import ActivityContext

from bot.core.dependencies import Services
from bot.core.models import Platform
from bot.core.person_ref import PersonRef
from bot.teams.activity_reading import chat_of
from bot.teams.file_cards import file_consent_attachment, file_info_attachment, file_message
from bot.teams.file_upload import (
    UPLOAD_TIMEOUT_SECONDS,
    UploadFailed,
    upload_file,
    upload_url_allowed,
)
from bot.teams.sender import TeamsSender, card_activity
from handlers import locale_lookup
from handlers.export import export_data, export_json
from handlers.neutral_messages import notification, plain
from messages.content import LocaleContent

logger = logging.getLogger(__name__)

# Posts an activity to the person's chat.
Send = Callable[[MessageActivityInput], Awaitable[Any]]

# What a consent card's context says it is about; anything else is not ours to answer.
EXPORT_CONTEXT = "data-export"


class ExportFile:
    """Offers the export on a consent card, and answers the person's accept or decline."""

    def __init__(self, services: Services, sender: TeamsSender) -> None:
        self.services = services
        self.sender = sender
        # How long one upload request may take (the tests shorten it).
        self.timeout = UPLOAD_TIMEOUT_SECONDS

    async def offer(self, send: Send, ref: PersonRef) -> None:
        """The consent card for everything kept about the person (nothing if nothing is),
        sent with `send`: an answer in the chat (ctx.send), or into the person's chat from the
        personal tab (TeamsSender.post)."""
        try:
            data = await asyncio.to_thread(export_data, self.services, ref)
            if data is None:
                return
            locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
            card = file_consent_attachment(
                export_file_name(self.services.clock()),
                locale.text("teams_export_offer"),
                len(export_json(data).encode()),
                consent_context(ref),
            )
            await send(file_message(notification(locale, self.services.settings), card))
        except Exception:
            logger.exception("could not offer the data export in Teams")

    async def answer(self, ctx: ActivityContext[FileConsentInvokeActivity]) -> None:
        """The person's answer on the consent card; whatever fails, they read why."""
        activity = ctx.activity
        chat = chat_of(activity)
        answer = activity.value
        context = answer.context if isinstance(answer.context, dict) else {}
        if context.get("export") != EXPORT_CONTEXT:
            logger.info("ignored a file consent answer for a card that is not an export")
            return
        if chat is None or context.get("for") != person_tag(chat.ref):
            # Only the person the card was offered to answers it, in their own chat.
            logger.warning("refused a file consent answer from someone the card was not for")
            return
        ref = chat.ref
        try:
            locale = await asyncio.to_thread(locale_lookup.person_locale, self.services, ref)
        except Exception:
            logger.exception("could not read the person's language")
            locale = self.services.content.for_locale(None, Platform.TEAMS)
        if answer.action != Action.ACCEPT:
            await self._say(ctx, ref, locale, "teams_export_declined")
            return
        try:
            await self._upload(ctx, ref, locale)
        except Exception:
            logger.exception("could not send the data export to Teams")
            await self._say(ctx, ref, locale, "teams_export_failed")

    async def _upload(
        self,
        ctx: ActivityContext[FileConsentInvokeActivity],
        ref: PersonRef,
        locale: LocaleContent,
    ) -> None:
        info = ctx.activity.value.upload_info
        url = info.upload_url if info is not None else None
        if info is None or not url:
            logger.warning("an accepted file consent came without an upload URL")
            await self._say(ctx, ref, locale, "teams_export_failed")
            return
        if not upload_url_allowed(url, self.services.settings.teams_upload_hosts):
            logger.warning(
                "refused to upload the data export to %r: not on TEAMS_UPLOAD_HOSTS",
                _host_of(url),
            )
            await self._say(ctx, ref, locale, "teams_export_failed")
            return
        data = await asyncio.to_thread(export_data, self.services, ref)
        if data is None:  # erased since the card was sent
            await self._say(ctx, ref, locale, "export_nothing")
            return
        try:
            await upload_file(url, export_json(data).encode(), seconds_per_request=self.timeout)
        except UploadFailed as failure:
            logger.warning("the data export could not be uploaded to OneDrive: %s", failure)
            await self._say(ctx, ref, locale, "teams_export_failed")
            return
        name = info.name or export_file_name(self.services.clock())
        card = file_info_attachment(
            name, info.content_url or "", info.unique_id or "", info.file_type or "json"
        )
        said = locale.text("export_comment")
        try:
            await ctx.send(file_message(notification(locale, self.services.settings), card, said))
        except Exception:  # the file is in their OneDrive: no "nothing was sent" now
            logger.exception("the data export was uploaded, but its file card was not sent")

    async def _say(
        self,
        ctx: ActivityContext[FileConsentInvokeActivity],
        ref: PersonRef,
        locale: LocaleContent,
        key: str,
    ) -> None:
        try:
            message = plain(locale, self.services.settings, locale.text(key))
            card = await self.sender.card_for(ref.workspace_id, message)
            await ctx.send(card_activity(message, card))
        except Exception:
            logger.exception("could not answer a file consent in Teams")


def export_file_name(now: datetime) -> str:
    """A neutral name: the file sits in the person's OneDrive, where others may glance."""
    return f"my-data-{now.date().isoformat()}.json"


def consent_context(ref: PersonRef) -> dict[str, str]:
    return {"export": EXPORT_CONTEXT, "for": person_tag(ref)}


def person_tag(ref: PersonRef) -> str:
    """Who a consent card was offered to, without naming them."""
    who = f"{ref.platform}\n{ref.workspace_id}\n{ref.user_id}".encode()
    return hashlib.sha256(who).hexdigest()[:32]


def _host_of(url: str) -> str:
    try:
        return urlparse(url).hostname or ""
    except ValueError:
        return ""
