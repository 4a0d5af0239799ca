"""Small pieces every listener module needs: who is acting, and answers that may fail."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from slack_bolt.async_app import AsyncBoltContext

from bot.core.models import Platform
from bot.core.person_ref import PersonRef
from handlers.outbox import SentCopy

logger = logging.getLogger(__name__)


def person_ref(context: AsyncBoltContext) -> PersonRef | None:
    workspace = context.team_id or context.enterprise_id
    if not workspace or not context.user_id:
        return None
    return PersonRef(
        platform=Platform.SLACK,
        workspace_id=workspace,
        user_id=context.user_id,
        enterprise_id=context.enterprise_id,
    )


async def quietly(call: Awaitable[Any]) -> None:
    """Answer through response_url; a failure there is logged, never raised."""
    try:
        await call
    except Exception:
        logger.warning("could not answer through response_url", exc_info=True)


def names_other_message(body: dict[str, Any], copy: SentCopy) -> bool:
    """True when a click's payload names another message than the one the bot posted for the
    row its button carries: a click Slack did not send (only a forged one can)."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    ts = (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts")
    return (channel, ts) != (copy.channel_id, copy.message_ts)
