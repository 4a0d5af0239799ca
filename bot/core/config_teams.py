"""Checks of the Teams settings: Entra ids, allowed tenants, and the Bot Connector hosts the
bot may send to (also asked when a conversation names its service URL)."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from bot.core.config import DEFAULT_TEAMS_SERVICE_URL_HOSTS, ConfigError


def _teams_tenants(value: str | None) -> frozenset[str]:
    tenants = [part.strip().lower() for part in (value or "").split(",") if part.strip()]
    bad = [part for part in tenants if not _AAD_ID.fullmatch(part)]
    if bad:
        raise ConfigError(
            "TEAMS_ALLOWED_TENANTS is a comma-separated list of Entra tenant ids (GUIDs), "
            f"got {bad[0]!r}"
        )
    return frozenset(tenants)


_HOST = re.compile(r"[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?")


def _service_url_hosts(value: str | None) -> tuple[str, ...]:
    if value is None or not value.strip():
        return DEFAULT_TEAMS_SERVICE_URL_HOSTS
    hosts = tuple(part.strip().lower() for part in value.split(",") if part.strip())
    bad = [host for host in hosts if not _HOST.fullmatch(host)]
    if bad:
        raise ConfigError(
            "TEAMS_SERVICE_URL_HOSTS is a comma-separated list of host names (host or "
            f"host:port, no scheme or path), got {bad[0]!r}"
        )
    return hosts


def service_url_allowed(url: str, hosts: tuple[str, ...]) -> bool:
    """Whether the bot may send to `url` (and so hand it its Bot Connector token).

    The URL's host and port must be one the list names (a bare host means 443), and its
    scheme https; plain http only to a loopback address (a test's or a developer's fake).
    An exact match, not a suffix: anyone can name an Azure resource `<x>.trafficmanager.net`.
    """
    try:
        parsed = urlparse(url)
        host = (parsed.hostname or "").lower()
        port = parsed.port
    except ValueError:
        return False
    if parsed.username is not None or parsed.password is not None or not host:
        return False
    if parsed.scheme == "https":
        port = port or 443
    elif parsed.scheme == "http" and host in _LOOPBACK_HOSTS:
        port = port or 80
    else:
        return False
    for entry in hosts:
        name, _, entry_port = entry.partition(":")
        if name == host and int(entry_port or 443) == port:
            return True
    return False


_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_AAD_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
