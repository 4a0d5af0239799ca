"""Who is acting in a Teams activity, and where their personal chat with the bot is.

A Teams person is known by their tenant and their Entra ID (AAD) object id. That id, unlike
the Teams user id ("29:..."), is the same in every chat and in every app, is what Teams'
people picker returns, and is what a tenant admin can read in the Entra admin centre to list
managers in NOTPROMOTED_TEAMS_MANAGERS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from microsoft_teams.api import ActivityBase
from microsoft_teams.api.models.entity import ClientInfoEntity

from bot.core.models import Platform
from bot.core.person_ref import PersonRef
from bot.core.working_calendar import is_time_zone
from messages.content import language_tag

AAD_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def aad_id(value: object) -> str | None:
    """An Entra ID object id, lowercased; None for anything that is not one."""
    text = str(value or "").strip().lower()
    return text if AAD_ID.match(text) else None


@dataclass(frozen=True)
class Chat:
    """A person's personal chat with the bot, as an activity describes it."""

    ref: PersonRef
    conversation_id: str
    service_url: str
    bot_id: str
    name: str | None
    time_zone: str | None
    locale: str | None


def person_ref(activity: ActivityBase) -> PersonRef | None:
    tenant = _tenant_of(activity)
    user = aad_id(activity.from_.aad_object_id)
    if tenant is None or user is None:
        return None
    return PersonRef(platform=Platform.TEAMS, workspace_id=tenant, user_id=user)


def chat_of(activity: ActivityBase) -> Chat | None:
    """The personal chat the activity came from; None in a channel or group chat."""
    ref = person_ref(activity)
    conversation = activity.conversation
    if (
        ref is None
        or conversation.conversation_type not in (None, "personal")
        or conversation.is_group
        or not activity.service_url
        or len(conversation.id) > 512
        or len(activity.service_url) > 512
    ):
        return None
    return Chat(
        ref=ref,
        conversation_id=conversation.id,
        service_url=activity.service_url,
        bot_id=activity.recipient.id[:128],
        name=(activity.from_.name or "")[:256] or None,
        time_zone=time_zone_of(activity),
        locale=language_tag(activity.locale),
    )


def time_zone_of(activity: ActivityBase) -> str | None:
    """The IANA zone the person's Teams client reports: `localTimezone`, else clientInfo's."""
    extra: dict[str, Any] = activity.model_extra or {}
    candidates: list[object] = [extra.get("localTimezone")]
    candidates += [e.timezone for e in activity.entities or [] if isinstance(e, ClientInfoEntity)]
    for candidate in candidates:
        # A zone we cannot load (`Europe`, a folder of the zone database) is no zone: the
        # person keeps the default, and the activity is still answered.
        if isinstance(candidate, str) and is_time_zone(candidate):
            return candidate
    return None


def _tenant_of(activity: ActivityBase) -> str | None:
    data = activity.channel_data
    tenant = data.tenant.id if data is not None and data.tenant is not None else None
    return aad_id(tenant or activity.conversation.tenant_id)


def pressed(data: dict[str, Any]) -> tuple[str, str]:
    """The action a card's button names and the value it carries: an Action.Execute's
    `action`, or a dialog opener's `opener` (task/fetch); ("", "") for anything else."""
    action = data.get("action") if "opener" not in data else data.get("opener")
    value = data.get("value")
    text = value if isinstance(value, str) else str(value) if isinstance(value, int) else ""
    return (action if isinstance(action, str) else "", text[:200])
