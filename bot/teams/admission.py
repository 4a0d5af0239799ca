"""Which Teams activities the bot takes at all: its own tenants', from Microsoft's hosts.

A valid Bot Framework token says the Bot Framework sent the activity to this bot, not that
the sender's organisation is the one this deployment serves: a multi-tenant app registration
can be added in any tenant. And the activity's `serviceUrl` is where the SDK posts replies
with the bot's Bot Connector bearer token, so a URL off Microsoft's hosts would receive that
token. Both are checked here, on the raw activity, before the SDK or our listeners see it:
nothing is stored for a refused activity and nothing is sent anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.config import Settings
from bot.core.config_teams import service_url_allowed


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def tenants_named(activity: Mapping[str, Any]) -> list[object]:
    """Every tenant id the activity names (channelData's and the conversation's)."""
    named: list[object] = []
    data = activity.get("channelData")
    tenant = data.get("tenant") if isinstance(data, dict) else None
    if isinstance(tenant, dict) and tenant.get("id") is not None:
        named.append(tenant["id"])
    conversation = activity.get("conversation")
    if isinstance(conversation, dict) and conversation.get("tenantId") is not None:
        named.append(conversation["tenantId"])
    return named


def check_shape(activity: Mapping[str, Any]) -> None:
    """Teams always names the service URL and the tenant: without them it is not an activity
    (400), whatever its token."""
    if not isinstance(activity.get("serviceUrl"), str) or not tenants_named(activity):
        raise Refused(400, "bad request: an activity names its serviceUrl and tenant")


def check_admission(activity: Mapping[str, Any], settings: Settings) -> None:
    """Refuse (403) an activity from another tenant or naming a service URL we never send to."""
    if not service_url_allowed(str(activity.get("serviceUrl")), settings.teams_service_url_hosts):
        raise Refused(403, "the activity's serviceUrl is not a Bot Connector host we send to")
    allowed = {tenant.lower() for tenant in settings.teams_allowed_tenants}
    if settings.teams_tenant_id:
        allowed.add(settings.teams_tenant_id.lower())
    if not allowed:  # the development switch without credentials: no tenant is ours yet
        return
    for tenant in tenants_named(activity):
        if not isinstance(tenant, str) or tenant.strip().lower() not in allowed:
            raise Refused(403, "this bot serves another organisation's tenant")
