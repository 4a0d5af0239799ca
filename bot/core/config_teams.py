"""Checks of the Teams settings: the bot's identity and its one credential, Entra ids, allowed
tenants, and the Bot Connector hosts the bot may send to (also asked when a conversation names
its service URL)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bot.core.config import (
    DEFAULT_TEAMS_GRAPH_URL,
    DEFAULT_TEAMS_SERVICE_URL_HOSTS,
    DEFAULT_TEAMS_UPLOAD_HOSTS,
    TEAMS_DIRECTORY_SEARCH_GRAPH,
    ConfigError,
)
from bot.core.teams_credentials import read_certificate


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


def _upload_hosts(value: str | None) -> tuple[str, ...]:
    if value is None or not value.strip():
        return DEFAULT_TEAMS_UPLOAD_HOSTS
    hosts = tuple(part.strip().lower().lstrip(".") for part in value.split(",") if part.strip())
    bad = [host for host in hosts if not _HOST.fullmatch(host) or "." not in host]
    if bad:
        raise ConfigError(
            "TEAMS_UPLOAD_HOSTS is a comma-separated list of host names or domains (like "
            f"sharepoint.com; no scheme or path), got {bad[0]!r}"
        )
    return hosts


def _directory_search(get: Callable[[str], str | None], *, has_credential: bool) -> dict[str, Any]:
    """TEAMS_DIRECTORY_SEARCH (unset: Teams' people picker; `graph`: the bot's own search in
    Microsoft Graph) and TEAMS_GRAPH_URL, where the bot sends its Graph token: https, or plain
    http to a loopback address only (a test's fake), and nothing but scheme, host and port."""
    raw = (get("TEAMS_DIRECTORY_SEARCH") or "").strip().lower()
    if raw not in ("", TEAMS_DIRECTORY_SEARCH_GRAPH):
        raise ConfigError(
            "TEAMS_DIRECTORY_SEARCH is `graph` (the forms search Microsoft Graph, on phones too) "
            f"or unset (Teams' people picker, desktop and web), got {raw!r}"
        )
    url = (get("TEAMS_GRAPH_URL") or DEFAULT_TEAMS_GRAPH_URL).strip().rstrip("/")
    if not graph_url_allowed(url):
        raise ConfigError(
            f"TEAMS_GRAPH_URL must be an https:// URL with no path (like "
            f"{DEFAULT_TEAMS_GRAPH_URL}; plain http only to a loopback address), got {url!r}"
        )
    if raw and not has_credential:
        raise ConfigError(
            "TEAMS_DIRECTORY_SEARCH=graph searches Microsoft Graph with the bot's own "
            "credential: set TEAMS_CLIENT_ID, TEAMS_TENANT_ID and one credential, or remove it"
        )
    return {"teams_directory_search": raw or None, "teams_graph_url": url}


def graph_url_allowed(url: str) -> bool:
    """Whether the bot may send its Microsoft Graph token to this base URL."""
    parts = url_parts(url)
    if parts is None or urlparse(url).path not in ("", "/") or urlparse(url).query:
        return False
    scheme, host, _ = parts
    return scheme == "https" or (scheme == "http" and host in LOOPBACK_HOSTS)


def service_url_allowed(url: str, hosts: tuple[str, ...]) -> bool:
    """Whether the bot may send to `url` (and so hand it its Bot Connector token).

    The URL's host and port must be one the list names (a bare host means 443), and its
    scheme https; plain http only to a loopback address (a test's or a developer's fake).
    An exact match, not a suffix: anyone can name an Azure resource `<x>.trafficmanager.net`.
    """
    parts = url_parts(url)
    if parts is None:
        return False
    scheme, host, port = parts
    if scheme == "https":
        port = port or 443
    elif scheme == "http" and host in LOOPBACK_HOSTS:
        port = port or 80
    else:
        return False
    for entry in hosts:
        name, _, entry_port = entry.partition(":")
        if name == host and int(entry_port or 443) == port:
            return True
    return False


def url_parts(url: str) -> tuple[str, str, int | None] | None:
    """Scheme, host (lowercase) and port of a URL the bot would send to; None for one that
    does not parse, names no host, or carries a user name or password."""
    try:
        parsed = urlparse(url)
        host = (parsed.hostname or "").lower()
        port = parsed.port
    except ValueError:
        return None
    if parsed.username is not None or parsed.password is not None or not host:
        return None
    return parsed.scheme, host, port


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_AAD_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


# The variables that each name one kind of credential, in the order the messages list them.
CREDENTIAL_VARIABLES = (
    "TEAMS_CLIENT_SECRET",
    "TEAMS_CERTIFICATE_PATH",
    "TEAMS_MANAGED_IDENTITY",
    "TEAMS_FEDERATED_TOKEN_FILE",
)


def teams_identity_settings(get: Callable[[str], str | None]) -> dict[str, Any]:
    """The bot's client id, tenant and exactly one credential, or none of them.

    A client secret alone is what older deployments set, and still works as it did. A
    certificate file is read here, so that a wrong path, a file without its key or a wrong
    password stops start-up with one line instead of failing at the first message.
    """
    client_id, tenant_id = get("TEAMS_CLIENT_ID"), get("TEAMS_TENANT_ID")
    managed = (get("TEAMS_MANAGED_IDENTITY") or "false").lower()
    if managed not in ("true", "false"):
        raise ConfigError(f"TEAMS_MANAGED_IDENTITY must be true or false, got {managed!r}")
    password = get("TEAMS_CERTIFICATE_PASSWORD")
    chosen = [
        name
        for name in CREDENTIAL_VARIABLES
        if (managed == "true" if name == "TEAMS_MANAGED_IDENTITY" else get(name))
    ]
    if len(chosen) > 1:
        raise ConfigError(
            f"{chosen[0]} and {chosen[1]} are both set: the bot uses one credential, so keep "
            "the one its Azure registration has and remove the other"
        )
    if password and chosen != ["TEAMS_CERTIFICATE_PATH"]:
        raise ConfigError(
            "TEAMS_CERTIFICATE_PASSWORD is set without TEAMS_CERTIFICATE_PATH: set the path of "
            "the certificate it opens, or remove it"
        )
    for name, value in (("TEAMS_CLIENT_ID", client_id), ("TEAMS_TENANT_ID", tenant_id)):
        if value is not None and not _AAD_ID.fullmatch(value):
            raise ConfigError(f"{name} must be a GUID like 00000000-0000-0000-0000-000000000000")
    if not (client_id or tenant_id or chosen):
        return {}
    missing = [
        name
        for name, value in (("TEAMS_CLIENT_ID", client_id), ("TEAMS_TENANT_ID", tenant_id))
        if not value
    ]
    if missing:
        raise ConfigError(
            f"{missing[0]} is not set: Teams needs TEAMS_CLIENT_ID and TEAMS_TENANT_ID (the "
            "Azure bot's app id and its tenant) with its credential, or none of them"
        )
    if not chosen:
        raise ConfigError(
            "Teams has no credential: set one of TEAMS_CLIENT_SECRET, TEAMS_CERTIFICATE_PATH, "
            "TEAMS_FEDERATED_TOKEN_FILE or TEAMS_MANAGED_IDENTITY=true (the README's Teams "
            "section says which), or remove TEAMS_CLIENT_ID and TEAMS_TENANT_ID"
        )
    settings: dict[str, Any] = {"teams_client_id": client_id, "teams_tenant_id": tenant_id}
    if chosen == ["TEAMS_CLIENT_SECRET"]:
        settings["teams_client_secret"] = get("TEAMS_CLIENT_SECRET")
    elif chosen == ["TEAMS_CERTIFICATE_PATH"]:
        path = Path(get("TEAMS_CERTIFICATE_PATH") or "")
        read_certificate(path, password)
        settings["teams_certificate_path"] = path
        settings["teams_certificate_password"] = password
    elif chosen == ["TEAMS_MANAGED_IDENTITY"]:
        settings["teams_managed_identity"] = True
    else:
        token_file = Path(get("TEAMS_FEDERATED_TOKEN_FILE") or "")
        _check_token_file(token_file)
        settings["teams_federated_token_file"] = token_file
    return settings


def _check_token_file(path: Path) -> None:
    where = f"TEAMS_FEDERATED_TOKEN_FILE {str(path)!r}"
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not text"
        raise ConfigError(
            f"{where} cannot be read ({reason or type(error).__name__}): point it at the file "
            "your platform writes the federated token to (on AKS, the path in "
            "AZURE_FEDERATED_TOKEN_FILE)"
        ) from None
    if not token:
        raise ConfigError(f"{where} is empty: the federated token has not been written yet")


TAB_TEST_MODE = "NOTPROMOTED_TEAMS_TAB_TEST_MODE"
TAB_TEST_TOKEN_URL = "NOTPROMOTED_TEAMS_TAB_TEST_TOKEN_URL"  # noqa: S105 (a name)


def tab_settings(get: Callable[[str], str | None], *, has_credential: bool) -> dict[str, Any]:
    """TEAMS_TAB_DOMAIN (the personal tab's host) and the tab's test mode.

    The test mode lets the page take its token from a loopback identity provider instead of
    Teams: it is on only with NOTPROMOTED_TEAMS_TAB_TEST_MODE=true *and* a loopback
    NOTPROMOTED_TEAMS_TAB_TEST_TOKEN_URL; either one alone stops start-up."""
    domain = (get("TEAMS_TAB_DOMAIN") or "").strip().lower() or None
    if domain is not None and not _HOST.fullmatch(domain):
        raise ConfigError(
            "TEAMS_TAB_DOMAIN is the host (and port, if not 443) the personal tab is served "
            f"from, like bot.example.com: no scheme or path, got {domain!r}"
        )
    if domain is not None and not has_credential:
        raise ConfigError(
            "TEAMS_TAB_DOMAIN is set, but the tab checks its sign-in against the bot's app "
            "registration: set TEAMS_CLIENT_ID, TEAMS_TENANT_ID and one credential"
        )
    switch = (get("NOTPROMOTED_TEAMS_TAB_TEST_MODE") or "false").strip().lower()
    if switch not in ("true", "false"):
        raise ConfigError(f"{TAB_TEST_MODE} must be true or false, got {switch!r}")
    url = (get("NOTPROMOTED_TEAMS_TAB_TEST_TOKEN_URL") or "").strip() or None
    if switch == "false":
        if url is not None:
            raise ConfigError(
                f"{TAB_TEST_TOKEN_URL} is set but {TAB_TEST_MODE} is not true: the tab takes "
                "tokens from a test identity provider only when its test mode is switched on "
                "explicitly (never in production)"
            )
        return {"teams_tab_domain": domain, "teams_tab_test_token_url": None}
    parts = url_parts(url or "")
    if url is None or parts is None or parts[0] not in ("http", "https"):
        raise ConfigError(
            f"{TAB_TEST_MODE}=true needs {TAB_TEST_TOKEN_URL}: the loopback identity provider's "
            "token URL (http://127.0.0.1:<port>/...)"
        )
    if parts[1] not in LOOPBACK_HOSTS:
        raise ConfigError(f"{TAB_TEST_TOKEN_URL} must be on loopback (127.0.0.1), got {url!r}")
    if domain is None:
        raise ConfigError(f"{TAB_TEST_MODE}=true is for the tab: set TEAMS_TAB_DOMAIN too")
    return {"teams_tab_domain": domain, "teams_tab_test_token_url": url}
