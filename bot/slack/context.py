"""Small pieces every listener module needs: who is acting, and answers that may fail."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any

from slack_bolt.async_app import AsyncBoltContext

from bot.models import Platform
from bot.services import PersonRef

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


def button_number(value: object) -> int | None:
    """A row id carried in a button's value; None for anything that is not one."""
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 18 else None


async def quietly(call: Awaitable[Any]) -> None:
    """Answer through response_url; a failure there is logged, never raised."""
    try:
        await call
    except Exception:
        logger.warning("could not answer through response_url", exc_info=True)
