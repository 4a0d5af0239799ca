"""Reading the settings from the environment (and `.env`): every variable read and checked,
one ConfigError per malformed one."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from cryptography.fernet import Fernet

from bot.core.config import (
    DEFAULT_DATABASE_URL,
    DEFAULT_DISPLAY_NAME,
    DEFAULT_REPORT_MIN_CELL,
    DEFAULT_RETENTION_DAYS,
    DEFAULT_SLACK_API_URL,
    DEFAULT_SLACK_AUTHORIZE_URL,
    DEFAULT_TEAMS_LOGIN_URL,
    DEFAULT_TEAMS_OPENID_METADATA_URL,
    DEFAULT_TEAMS_REQUESTS_PER_SECOND,
    DEFAULT_TEAMS_SERVICE_URL,
    MIN_REPORT_MIN_CELL,
    MIN_RETENTION_DAYS,
    ConfigError,
    Settings,
)
from bot.core.config_teams import (
    _AAD_ID,
    _directory_search,
    _service_url_hosts,
    _teams_tenants,
    _upload_hosts,
    service_url_allowed,
    tab_settings,
    teams_identity_settings,
)
from bot.core.working_calendar import WorkingTime, is_time_zone, parse_hours, parse_weekdays
from messages.content import language_tag
from messages.schema import LINK_KEYS

LINK_VARIABLES = {key: f"NOTPROMOTED_{key.upper()}_URL" for key in LINK_KEYS}

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("json", "text")


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build settings from a mapping of variables; raise ConfigError on the first bad one."""

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    bot_token = get("SLACK_BOT_TOKEN")
    if bot_token and not bot_token.startswith("xoxb-"):
        raise ConfigError(
            "SLACK_BOT_TOKEN does not look like a bot token: it starts with xoxb- "
            "(OAuth & Permissions > Bot User OAuth Token)"
        )
    app_token = get("SLACK_APP_TOKEN")
    if app_token and not app_token.startswith("xapp-"):
        raise ConfigError(
            "SLACK_APP_TOKEN does not look like an app-level token: it starts with xapp- "
            "(Basic Information > App-Level Tokens)"
        )
    api_url = get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
    if not _is_http_url(api_url):
        raise ConfigError(
            f"SLACK_API_URL is not an http(s) URL: {api_url!r}; use e.g. https://slack.com/api/"
        )
    if not api_url.endswith("/"):
        api_url += "/"

    client_id, client_secret = get("SLACK_CLIENT_ID"), get("SLACK_CLIENT_SECRET")
    if bool(client_id) != bool(client_secret):
        raise ConfigError(
            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together (Basic Information > "
            "App Credentials): set both to install in several workspaces, or neither"
        )
    if client_id and bot_token:
        raise ConfigError(
            "SLACK_BOT_TOKEN is for one workspace, SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for "
            "installing in several: set one or the other, not both"
        )
    authorize_url = get("SLACK_AUTHORIZE_URL") or DEFAULT_SLACK_AUTHORIZE_URL
    if not _is_http_url(authorize_url):
        raise ConfigError(
            f"SLACK_AUTHORIZE_URL is not an http(s) URL: {authorize_url!r}; "
            f"use e.g. {DEFAULT_SLACK_AUTHORIZE_URL}"
        )
    redirect_uri = get("SLACK_REDIRECT_URI")
    if redirect_uri is not None and not (
        _is_http_url(redirect_uri) and urlparse(redirect_uri).path == "/slack/oauth_redirect"
    ):
        raise ConfigError(
            "SLACK_REDIRECT_URI is the app's public address followed by /slack/oauth_redirect, "
            f"e.g. https://bot.example.com/slack/oauth_redirect, got {redirect_uri!r}"
        )

    database_url = get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if not re.match(r"^(sqlite|postgres|postgresql)(\+\w+)?://", database_url):
        raise ConfigError(
            "DATABASE_URL must start with sqlite:/// or postgresql+psycopg://, "
            f"got {database_url.split('://')[0]!r}"
        )
    if database_url.startswith(("postgresql://", "postgres://")):
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]

    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, got {log_level!r}")

    log_format = get("NOTPROMOTED_LOG_FORMAT")
    if log_format is not None and log_format.lower() not in LOG_FORMATS:
        raise ConfigError(f"NOTPROMOTED_LOG_FORMAT must be json or text, got {log_format!r}")

    display_name = get("NOTPROMOTED_DISPLAY_NAME") or DEFAULT_DISPLAY_NAME
    if len(display_name) > 35:
        raise ConfigError("NOTPROMOTED_DISPLAY_NAME is longer than Slack's 35 characters")

    links: dict[str, str] = {}
    for key, variable in LINK_VARIABLES.items():
        url = get(variable)
        if url is None:
            continue
        if not url.startswith(("https://", "mailto:")) or not _is_link(url):
            raise ConfigError(f"{variable} must be an https:// or mailto: link, got {url!r}")
        links[key] = url

    time_zone = get("NOTPROMOTED_DEFAULT_TIME_ZONE") or "UTC"
    if not is_time_zone(time_zone):
        raise ConfigError(
            "NOTPROMOTED_DEFAULT_TIME_ZONE is not an IANA time zone name like Europe/Berlin, "
            f"got {time_zone!r}"
        )

    default_locale = get("NOTPROMOTED_DEFAULT_LOCALE") or "en"
    if language_tag(default_locale) is None:
        raise ConfigError(
            "NOTPROMOTED_DEFAULT_LOCALE must be a language tag like de, fr-FR or es-419, "
            f"got {default_locale[:40]!r}"
        )

    teams = _teams_settings(get)

    content_dir = get("NOTPROMOTED_CONTENT_DIR")
    if content_dir is not None and not Path(content_dir).is_dir():
        raise ConfigError(f"NOTPROMOTED_CONTENT_DIR is not a folder: {content_dir!r}")

    return Settings(
        slack_bot_token=bot_token,
        slack_signing_secret=get("SLACK_SIGNING_SECRET"),
        slack_app_token=app_token,
        slack_api_url=api_url,
        database_url=database_url,
        log_level=log_level,
        display_name=display_name,
        company_links=links,
        working_time=_working_time(
            get("NOTPROMOTED_WORKING_HOURS"), get("NOTPROMOTED_WORKING_DAYS")
        ),
        default_time_zone=time_zone,
        default_locale=default_locale,
        content_dir=Path(content_dir) if content_dir else None,
        dispatch_interval_seconds=_positive_number(
            get("NOTPROMOTED_DISPATCH_INTERVAL_SECONDS"),
            "NOTPROMOTED_DISPATCH_INTERVAL_SECONDS",
            30,
        ),
        lease_seconds=_positive_number(
            get("NOTPROMOTED_LEASE_SECONDS"), "NOTPROMOTED_LEASE_SECONDS", 300
        ),
        dispatch_concurrency=_whole_number(
            get("NOTPROMOTED_DISPATCH_CONCURRENCY"), "NOTPROMOTED_DISPATCH_CONCURRENCY", 8, 64
        ),
        port=_port(get("PORT")),
        header_timeout_seconds=_positive_number(
            get("NOTPROMOTED_HEADER_TIMEOUT_SECONDS"), "NOTPROMOTED_HEADER_TIMEOUT_SECONDS", 10
        ),
        body_timeout_seconds=_positive_number(
            get("NOTPROMOTED_BODY_TIMEOUT_SECONDS"), "NOTPROMOTED_BODY_TIMEOUT_SECONDS", 15
        ),
        keep_alive_seconds=_whole_number(
            get("NOTPROMOTED_KEEP_ALIVE_SECONDS"), "NOTPROMOTED_KEEP_ALIVE_SECONDS", 5, 600
        ),
        max_connections=_max_connections(get("NOTPROMOTED_MAX_CONNECTIONS")),
        manager_usergroup=_usergroup(get("NOTPROMOTED_MANAGER_USERGROUP")),
        admin_users=_user_ids(get("NOTPROMOTED_ADMIN_USERS")),
        secret_key=_secret_key(get("NOTPROMOTED_SECRET_KEY")),
        retention_days=_retention_days(get("NOTPROMOTED_RETENTION_DAYS")),
        log_format=log_format.lower() if log_format else None,
        report_min_cell=_report_min_cell(get("NOTPROMOTED_REPORT_MIN_CELL")),
        slack_client_id=client_id,
        slack_client_secret=client_secret,
        slack_authorize_url=authorize_url,
        slack_redirect_uri=redirect_uri,
        encryption_keys=_encryption_keys(
            get("NOTPROMOTED_ENCRYPTION_KEY"), get("NOTPROMOTED_ENCRYPTION_KEY_PREVIOUS")
        ),
        metrics_port=_metrics_port(get("NOTPROMOTED_METRICS_PORT")),
        metrics_host=_metrics_host(get("NOTPROMOTED_METRICS_HOST")),
        metrics_token=_metrics_token(get("NOTPROMOTED_METRICS_TOKEN")),
        **teams,
    )


def _teams_settings(get: Callable[[str], str | None]) -> dict[str, Any]:
    """The Teams settings: the bot's identity and one credential or none, URLs that are
    URLs, AAD ids."""
    identity = teams_identity_settings(get)
    urls = {
        "TEAMS_SERVICE_URL": get("TEAMS_SERVICE_URL") or DEFAULT_TEAMS_SERVICE_URL,
        "TEAMS_LOGIN_URL": get("TEAMS_LOGIN_URL") or DEFAULT_TEAMS_LOGIN_URL,
        "TEAMS_OPENID_METADATA_URL": get("TEAMS_OPENID_METADATA_URL")
        or DEFAULT_TEAMS_OPENID_METADATA_URL,
    }
    for name, url in urls.items():
        if not _is_http_url(url):
            raise ConfigError(f"{name} is not an http(s) URL: {url!r}")
    if not urls["TEAMS_LOGIN_URL"].startswith("https://"):
        # MSAL, which fetches the bot's tokens, speaks to an https authority only.
        raise ConfigError("TEAMS_LOGIN_URL must be an https:// URL")
    if not urls["TEAMS_OPENID_METADATA_URL"].endswith("/openidconfiguration"):
        raise ConfigError(
            "TEAMS_OPENID_METADATA_URL must end in /openidconfiguration "
            "(the signing keys are read from the /keys beside it)"
        )
    allow = (get("NOTPROMOTED_TEAMS_ALLOW_UNAUTHENTICATED") or "false").lower()
    if allow not in ("true", "false"):
        raise ConfigError(
            f"NOTPROMOTED_TEAMS_ALLOW_UNAUTHENTICATED must be true or false, got {allow!r}"
        )
    managers = get("NOTPROMOTED_TEAMS_MANAGERS")
    manager_ids = [part.strip().lower() for part in (managers or "").split(",") if part.strip()]
    bad = [part for part in manager_ids if not _AAD_ID.fullmatch(part)]
    if bad:
        raise ConfigError(
            "NOTPROMOTED_TEAMS_MANAGERS is a comma-separated list of Entra ID object ids "
            f"(GUIDs), got {bad[0]!r}"
        )
    tenants = _teams_tenants(get("TEAMS_ALLOWED_TENANTS"))
    hosts = _service_url_hosts(get("TEAMS_SERVICE_URL_HOSTS"))
    if not service_url_allowed(urls["TEAMS_SERVICE_URL"], hosts):
        raise ConfigError(
            f"TEAMS_SERVICE_URL {urls['TEAMS_SERVICE_URL']!r} is not on TEAMS_SERVICE_URL_HOSTS "
            "(https, and a host the list names)"
        )
    return {
        **identity,
        "teams_service_url": urls["TEAMS_SERVICE_URL"].rstrip("/") + "/",
        "teams_login_url": urls["TEAMS_LOGIN_URL"].rstrip("/"),
        "teams_openid_metadata_url": urls["TEAMS_OPENID_METADATA_URL"],
        "teams_allow_unauthenticated": allow == "true",
        "teams_manager_ids": frozenset(manager_ids),
        "teams_allowed_tenants": tenants,
        "teams_service_url_hosts": hosts,
        "teams_upload_hosts": _upload_hosts(get("TEAMS_UPLOAD_HOSTS")),
        **_directory_search(get, has_credential=bool(identity)),
        **tab_settings(get, has_credential=bool(identity)),
        "teams_requests_per_second": _positive_number(
            get("NOTPROMOTED_TEAMS_REQUESTS_PER_SECOND"),
            "NOTPROMOTED_TEAMS_REQUESTS_PER_SECOND",
            DEFAULT_TEAMS_REQUESTS_PER_SECOND,
        ),
    }


def _is_link(url: str) -> bool:
    parsed = urlparse(url)
    return bool(parsed.netloc) if parsed.scheme == "https" else bool(parsed.path)


def _is_http_url(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def _positive_number(raw: str | None, name: str, default: float) -> float:
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a number greater than zero, got {raw!r}")
    return value


def _whole_number(raw: str | None, name: str, default: int, most: int) -> int:
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= most:
        raise ConfigError(f"{name} must be a whole number from 1 to {most}, got {raw!r}")
    return int(raw)


def _max_connections(raw: str | None) -> int | None:
    if raw is None:
        return None
    return _whole_number(raw, "NOTPROMOTED_MAX_CONNECTIONS", 0, 1_000_000)


def _usergroup(raw: str | None) -> str | None:
    if raw is None:
        return None
    handle = raw.removeprefix("@")
    if not re.fullmatch(r"[a-z0-9._-]{1,80}", handle):
        raise ConfigError(
            "NOTPROMOTED_MANAGER_USERGROUP is a user group's handle, like people-managers, "
            f"got {raw!r}"
        )
    return handle


def _user_ids(raw: str | None) -> frozenset[str]:
    if raw is None:
        return frozenset()
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    bad = [part for part in ids if not re.fullmatch(r"[A-Za-z0-9:_-]{2,64}", part)]
    if bad:
        raise ConfigError(
            "NOTPROMOTED_ADMIN_USERS is a comma-separated list of user ids like U0123ABCD, "
            f"got {bad[0]!r}"
        )
    return frozenset(ids)


def _secret_key(raw: str | None) -> str | None:
    if raw is not None and len(raw) < 16:
        raise ConfigError("NOTPROMOTED_SECRET_KEY is too short: use at least 16 random characters")
    return raw


def _retention_days(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_RETENTION_DAYS
    if not raw.isascii() or not raw.isdigit() or not MIN_RETENTION_DAYS <= int(raw) <= 3650:
        raise ConfigError(
            f"NOTPROMOTED_RETENTION_DAYS must be a whole number of days from {MIN_RETENTION_DAYS} "
            f"to 3650, got {raw!r}"
        )
    return int(raw)


def _report_min_cell(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_REPORT_MIN_CELL
    if not raw.isascii() or not raw.isdigit():
        raise ConfigError(f"NOTPROMOTED_REPORT_MIN_CELL must be a whole number, got {raw!r}")
    if int(raw) < MIN_REPORT_MIN_CELL:
        raise ConfigError(
            f"NOTPROMOTED_REPORT_MIN_CELL can't be below {MIN_REPORT_MIN_CELL}: smaller counts "
            f"can point to one person (got {raw}; the default is {DEFAULT_REPORT_MIN_CELL})"
        )
    if int(raw) > 1000:
        raise ConfigError(f"NOTPROMOTED_REPORT_MIN_CELL must be at most 1000, got {raw!r}")
    return int(raw)


def _encryption_keys(current: str | None, previous: str | None) -> tuple[str, ...]:
    if current is None:
        if previous is not None:
            raise ConfigError(
                "NOTPROMOTED_ENCRYPTION_KEY_PREVIOUS is set but NOTPROMOTED_ENCRYPTION_KEY is "
                "not: the new key goes in NOTPROMOTED_ENCRYPTION_KEY"
            )
        return ()
    keys = [("NOTPROMOTED_ENCRYPTION_KEY", current)] + [
        ("NOTPROMOTED_ENCRYPTION_KEY_PREVIOUS", part.strip())
        for part in (previous or "").split(",")
        if part.strip()
    ]
    for name, key in keys:
        try:
            Fernet(key)
        except ValueError:
            raise ConfigError(
                f"{name} is not a Fernet key (32 bytes, URL-safe base64, 44 characters). "
                'Generate one: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"'
            ) from None
    return tuple(key for _, key in keys)


def _metrics_port(raw: str | None) -> int | None:
    return None if raw is None else _whole_number(raw, "NOTPROMOTED_METRICS_PORT", 0, 65535)


def _metrics_host(raw: str | None) -> str:
    if raw is None:
        return "127.0.0.1"
    if not re.fullmatch(r"[A-Za-z0-9.:-]{1,253}", raw):
        raise ConfigError(f"NOTPROMOTED_METRICS_HOST must be an address or host name, got {raw!r}")
    return raw


def _metrics_token(raw: str | None) -> str | None:
    if raw is not None and (len(raw) < 16 or not raw.isascii() or not raw.isprintable()):
        raise ConfigError(
            "NOTPROMOTED_METRICS_TOKEN is too short or not plain text: use at least 16 random "
            'characters (python -c "import secrets; print(secrets.token_urlsafe(32))")'
        )
    return raw


def _port(raw: str | None) -> int:
    return _whole_number(raw, "PORT", 3000, 65535)


def _working_time(hours: str | None, days: str | None) -> WorkingTime:
    default = WorkingTime()
    start, end = default.start, default.end
    if hours is not None:
        parsed = parse_hours(hours)
        if parsed is None:
            raise ConfigError(
                "NOTPROMOTED_WORKING_HOURS must look like 09:00-17:00 (start before end), "
                f"got {hours!r}"
            )
        start, end = parsed
    weekdays = default.days
    if days is not None:
        parsed_days = parse_weekdays(days)
        if parsed_days is None:
            raise ConfigError(
                f"NOTPROMOTED_WORKING_DAYS must look like mon-fri or mon,tue,thu, got {days!r}"
            )
        weekdays = parsed_days
    return WorkingTime(start=start, end=end, days=weekdays)
