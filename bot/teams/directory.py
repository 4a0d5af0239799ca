"""What notpromoted knows about Teams people named in the manager flow. Every doubt is a "no".

Teams gives a bot no directory of the tenant without Microsoft Graph (which only the forms'
opt-in search asks, bot.teams.graph_people, to offer names as someone types), so when a manager
prepares a meeting, a person counts as found when they have the app installed (their
personal chat with the bot is stored): only then can they receive the offer at all.

An invitation is different: whether the manager has the app is theirs to share, not the
inviter's to learn, so every Entra object id counts as someone there (`invitee`), and the
invitation waits in the outbox until the manager adds the app or writes to the bot. Tenant
admins can install the app for managers ahead of time with a Teams app setup policy.

The managers' group is a list of Entra ID object ids in NOTPROMOTED_TEAMS_MANAGERS.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.core.config import Settings
from bot.core.dependencies import Services
from bot.core.models import Platform
from bot.core.person_ref import PersonRef
from bot.teams.activity_reading import aad_id
from bot.teams.conversations import conversation_of
from handlers.meeting_access import Someone


@dataclass(frozen=True)
class TeamsDirectory:
    services: Services

    async def someone(self, tenant_id: str, user_id: str) -> Someone:
        ref = PersonRef(Platform.TEAMS, tenant_id, user_id)
        found = await asyncio.to_thread(self.has_chat, ref)
        return Someone(user_id, found=found, active=found)

    def invitee(self, user_id: str) -> Someone:
        """A manager someone invites, by Entra object id (the caller checked its form): the
        answer depends on nothing stored about them. Only the bot's own app id is refused."""
        is_bot = user_id == (self.services.settings.teams_client_id or "").lower()
        return Someone(user_id, is_bot=is_bot, reached_later=True)

    def in_manager_group(self, actor: PersonRef) -> bool:
        return _is_manager(self.services.settings, actor)

    def has_chat(self, ref: PersonRef) -> bool:
        """Whether the person has a personal chat with the bot (blocking: a database read)."""
        with self.services.sessions.begin() as session:
            return conversation_of(session, ref=ref) is not None


def _is_manager(settings: Settings, actor: PersonRef) -> bool:
    return actor.platform == Platform.TEAMS and actor.user_id in settings.teams_manager_ids


@dataclass(frozen=True)
class TeamsPeople:
    """The route's Directory (handlers.interaction) for one Teams activity."""

    directory: TeamsDirectory
    actor: PersonRef

    def user_id(self, text: str) -> str | None:
        return aad_id(text)

    async def someone(self, user_id: str) -> Someone:
        return await self.directory.someone(self.actor.workspace_id, user_id)

    async def invitee(self, user_id: str) -> Someone:
        return self.directory.invitee(user_id)

    async def in_manager_group(self) -> bool:
        return self.directory.in_manager_group(self.actor)

    async def own_language(self) -> str | None:
        return None  # Teams sends it with every activity; it is kept before any route runs
