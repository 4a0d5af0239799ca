"""What Slack knows about people named in the manager flow: do they exist, are they active, is
the actor in the managers' user group. Every doubt is answered "no": the flow fails closed."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.person_ref import PersonRef
from handlers.meeting_access import Someone
from messages.content import language_tag

logger = logging.getLogger(__name__)

GROUP_CACHE_SECONDS = 60.0  # usergroups.list is Tier 2 (20+ a minute)
# How long someone's first command waits to learn their language from Slack.
FIRST_LOOK_SECONDS = 1.0
SLACKBOT = "USLACKBOT"


@dataclass
class SlackDirectory:
    usergroup: str | None
    # Members of the managers' group, per workspace, with when they were read.
    _groups: dict[str, tuple[float, frozenset[str]]] = field(default_factory=dict)

    async def someone(self, client: AsyncWebClient, user_id: str) -> Someone:
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError as error:
            if error.response.get("error") in ("user_not_found", "user_not_visible"):
                return Someone(user_id, found=False, active=False)
            raise
        user = response.get("user") or {}
        return Someone(
            user_id,
            found=True,
            active=not user.get("deleted", False),
            is_bot=bool(user.get("is_bot")) or user_id == SLACKBOT,
        )

    async def in_manager_group(self, client: AsyncWebClient, actor: PersonRef) -> bool:
        if not self.usergroup:
            return False
        workspace_id, user_id = actor.workspace_id, actor.user_id
        cached = self._groups.get(workspace_id)
        if cached is None or time.monotonic() - cached[0] > GROUP_CACHE_SECONDS:
            members = await self._members(client, workspace_id)
            if members is None:
                return False
            cached = (time.monotonic(), members)
            self._groups[workspace_id] = cached
        return user_id in cached[1]

    async def _members(self, client: AsyncWebClient, workspace_id: str) -> frozenset[str] | None:
        try:
            response = await client.usergroups_list(include_users=True)
        except SlackApiError as error:
            logger.warning(
                "could not read user groups in %s: %s", workspace_id, error.response.get("error")
            )
            return None
        for group in response.get("usergroups") or []:
            if group.get("handle") == self.usergroup and not group.get("date_delete"):
                return frozenset(group.get("users") or [])
        logger.warning("no user group with the handle %s in %s", self.usergroup, workspace_id)
        return frozenset()


# "<@U123ABC>" or "<@U123ABC|name>" (the command is escaped), or an id typed as it is.
MENTION = re.compile(r"^<@([UW][A-Z0-9]{1,20})(?:\|[^>]*)?>$|^([UW][A-Z0-9]{1,20})$")


def named_user(text: str) -> str | None:
    match = MENTION.match(text.strip())
    return (match.group(1) or match.group(2)) if match else None


@dataclass(frozen=True)
class SlackPeople:
    """The route's Directory (handlers.interaction) for one Slack request: what Slack says
    about the people the actor names, through the request's client."""

    directory: SlackDirectory
    client: AsyncWebClient
    actor: PersonRef

    def user_id(self, text: str) -> str | None:
        return named_user(text)

    async def someone(self, user_id: str) -> Someone:
        return await self.directory.someone(self.client, user_id)

    async def invitee(self, user_id: str) -> Someone:
        return await self.directory.someone(self.client, user_id)

    async def in_manager_group(self) -> bool:
        return await self.directory.in_manager_group(self.client, self.actor)

    async def own_language(self) -> str | None:
        """Slack's locale for the actor (users.info), within FIRST_LOOK_SECONDS: the answer
        to someone's first command waits for it at most that long, and is in English if
        Slack is slower or fails."""
        try:
            response = await asyncio.wait_for(
                self.client.users_info(user=self.actor.user_id, include_locale=True),
                FIRST_LOOK_SECONDS,
            )
        except (TimeoutError, SlackApiError, OSError, ValueError) as error:
            logger.info("no locale for a first command: %s", type(error).__name__)
            return None
        return language_tag((response.get("user") or {}).get("locale"))
