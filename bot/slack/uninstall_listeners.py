"""The app removed from a workspace: `app_uninstalled` and `tokens_revoked`, in either order.

Either one deletes the workspace's stored tokens (several-workspace installs) and then erases
everyone in it; whichever comes second finds nothing left to do. Slack sends neither with a
token that still works, so Bolt does not authorize them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncBoltContext

from bot.core.dependencies import Services
from bot.core.models import Platform
from bot.slack.oauth import SlackInstalls
from handlers.workspaces import forget_workspace

logger = logging.getLogger(__name__)


class UninstallListeners:
    def __init__(self, services: Services, installs: SlackInstalls | None) -> None:
        self.services = services
        self.installs = installs

    async def on_app_uninstalled(self, ack: AsyncAck, context: AsyncBoltContext) -> None:
        await ack()
        await self._remove_workspace(context, "app_uninstalled")

    async def on_tokens_revoked(
        self, ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        await ack()
        tokens = event.get("tokens") or {}
        if tokens.get("bot"):
            await self._remove_workspace(context, "tokens_revoked")
            return
        users = [str(user) for user in tokens.get("oauth") or []]
        if users and self.installs is not None:
            # Only people's own authorizations went; the bot (and everyone's data) stays.
            store = self.installs.store
            team_id = None if context.is_enterprise_install else context.team_id
            try:
                await asyncio.to_thread(
                    lambda: store.forget_user_tokens(
                        enterprise_id=context.enterprise_id, team_id=team_id, user_ids=users
                    )
                )
            except Exception:
                logger.exception("could not drop revoked user tokens")

    async def _remove_workspace(self, context: AsyncBoltContext, reason: str) -> None:
        enterprise_id = context.enterprise_id
        team_id = None if context.is_enterprise_install else context.team_id
        if self.installs is not None:
            self.installs.tokens.forget(enterprise_id=enterprise_id, team_id=team_id)
            try:
                await self.installs.installations.async_delete_all(
                    enterprise_id=enterprise_id, team_id=team_id
                )
            except Exception:  # the other removal event will try again
                logger.exception("%s: could not delete the stored tokens", reason)
            self.installs.tokens.forget(enterprise_id=enterprise_id, team_id=team_id)
        try:
            await asyncio.to_thread(
                forget_workspace,
                self.services,
                platform=Platform.SLACK,
                workspace_id=team_id,
                enterprise_id=enterprise_id,
                reason=reason,
            )
        except Exception:
            logger.exception("%s: could not erase the workspace's people", reason)
