"""Settings: what a deployment is configured with, handed explicitly to every part, and the
error a missing or malformed setting raises. `config_loading` reads them from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.working_calendar import WorkingTime

if TYPE_CHECKING:
    from bot.core.teams_credentials import TeamsCredentials

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_SLACK_AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
DEFAULT_DATABASE_URL = "sqlite:///notpromoted.db"
DEFAULT_DISPLAY_NAME = "Next Step"
DEFAULT_TEAMS_SERVICE_URL = "https://smba.trafficmanager.net/teams/"
DEFAULT_TEAMS_LOGIN_URL = "https://login.microsoftonline.com"
DEFAULT_TEAMS_OPENID_METADATA_URL = (
    "https://login.botframework.com/v1/.well-known/openidconfiguration"
)
# Microsoft's Bot Connector hosts, the only ones the bot's bearer token may be sent to:
# the public cloud, GCC, GCC High and DoD (Microsoft's "proactive messages" and sovereign-cloud
# pages). Other clouds (21Vianet) and tests name theirs in TEAMS_SERVICE_URL_HOSTS.
DEFAULT_TEAMS_SERVICE_URL_HOSTS = (
    "smba.trafficmanager.net",
    "smba.infra.gcc.teams.microsoft.com",
    "smba.infra.gov.teams.microsoft.us",
    "smba.infra.dod.teams.microsoft.us",
)
# Where a person's data export may be uploaded after they accept Teams' file consent card:
# their OneDrive for Business, <tenant>-my.sharepoint.com (bot.teams.file_upload).
DEFAULT_TEAMS_UPLOAD_HOSTS = ("sharepoint.com",)
# Microsoft Graph, where the bot searches the tenant's directory for the forms that name a
# colleague when TEAMS_DIRECTORY_SEARCH=graph (bot.teams.graph_people). Its token's audience
# is this URL (the scope is the URL and /.default).
DEFAULT_TEAMS_GRAPH_URL = "https://graph.microsoft.com"
TEAMS_DIRECTORY_SEARCH_GRAPH = "graph"

DEFAULT_TEAMS_REQUESTS_PER_SECOND = 40.0

DEFAULT_RETENTION_DAYS = 365
# Shorter than a month would purge journeys between two ordinary check-ins.
MIN_RETENTION_DAYS = 30
DEFAULT_REPORT_MIN_CELL = 5
# Below three, a count and what a colleague knows can point to one person.
MIN_REPORT_MIN_CELL = 3


# What `serve` and `worker` say when the deployment names no platform at all.
_TEAMS_SETTINGS = (
    "TEAMS_CLIENT_ID, TEAMS_TENANT_ID and one credential (TEAMS_CLIENT_SECRET, "
    "TEAMS_CERTIFICATE_PATH, TEAMS_MANAGED_IDENTITY or TEAMS_FEDERATED_TOKEN_FILE) for Teams"
)
NOTHING_TO_SERVE = (
    "neither Slack nor Teams is configured: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET for "
    f"Slack, or {_TEAMS_SETTINGS} (or all of them for both)"
)
NOTHING_TO_SEND = (
    "neither Slack nor Teams is configured: set SLACK_BOT_TOKEN for Slack, or "
    f"{_TEAMS_SETTINGS} (or all of them for both)"
)


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable and the fix."""


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    log_level: str = "INFO"
    display_name: str = DEFAULT_DISPLAY_NAME
    company_links: Mapping[str, str] = field(default_factory=dict)
    working_time: WorkingTime = field(default_factory=WorkingTime)
    default_time_zone: str = "UTC"
    # The language for people whose own (chosen or their platform's) has no content folder.
    default_locale: str = "en"
    content_dir: Path | None = None
    dispatch_interval_seconds: float = 30.0
    # How long a worker holds a check-in it is sending; longer than any send can wait.
    lease_seconds: float = 300.0
    # How many people's messages one worker sends at the same time.
    dispatch_concurrency: int = 8
    port: int = 3000
    # What one client may hold of `serve` (bot/connection_limits.py): seconds to send a whole
    # request head, and a whole body; seconds an idle kept-alive connection stays open; and
    # the most connections open at once (None: from the open-file limit).
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 15.0
    keep_alive_seconds: int = 5
    max_connections: int | None = None
    # Who may prepare a feedback meeting for anyone: a user group's handle, and user ids.
    manager_usergroup: str | None = None
    admin_users: frozenset[str] = frozenset()
    # Keys the hash that stands in for an erased person's id in the audit trail.
    secret_key: str | None = None
    # Journeys with no activity for this many days are purged (bot/retention.py).
    retention_days: int = DEFAULT_RETENTION_DAYS
    # "json" or "text"; None leaves the choice to the command (json for the long-running ones).
    log_format: str | None = None
    # The HR report hides any count of fewer people than this (bot/report.py).
    report_min_cell: int = DEFAULT_REPORT_MIN_CELL
    # Installing in several workspaces (OAuth): on when both are set.
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_authorize_url: str = DEFAULT_SLACK_AUTHORIZE_URL
    slack_redirect_uri: str | None = None
    # Fernet keys for the tokens kept in the database: the first encrypts, all decrypt.
    encryption_keys: tuple[str, ...] = ()
    # /metrics is not on the public listener: `serve` offers it on a listener of its own at
    # metrics_host:metrics_port, and/or on the public one to a request bearing metrics_token.
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    metrics_token: str | None = None

    @property
    def oauth_enabled(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    # Microsoft Teams: the Azure bot registration, and where its services live. The bot's
    # credential is one of: a client secret, a certificate file, the host's managed identity,
    # or a federated token file (see bot.core.teams_credentials).
    teams_client_id: str | None = None
    teams_client_secret: str | None = field(default=None, repr=False)
    teams_tenant_id: str | None = None
    teams_certificate_path: Path | None = None
    teams_certificate_password: str | None = field(default=None, repr=False)
    teams_managed_identity: bool = False
    teams_federated_token_file: Path | None = None
    teams_service_url: str = DEFAULT_TEAMS_SERVICE_URL
    teams_login_url: str = DEFAULT_TEAMS_LOGIN_URL
    teams_openid_metadata_url: str = DEFAULT_TEAMS_OPENID_METADATA_URL
    # Local development only: accept activities without a Bot Framework token.
    teams_allow_unauthenticated: bool = False
    # Tenants besides teams_tenant_id whose people may use the bot (lowercase GUIDs).
    teams_allowed_tenants: frozenset[str] = frozenset()
    # Where the bot may send (host or host:port, lowercase): see bot.teams.admission.
    teams_service_url_hosts: tuple[str, ...] = DEFAULT_TEAMS_SERVICE_URL_HOSTS
    # Where a data export may be uploaded: host suffixes (host:port for a loopback fake).
    teams_upload_hosts: tuple[str, ...] = DEFAULT_TEAMS_UPLOAD_HOSTS
    # How a Teams form names a colleague: None, Teams' people picker (desktop and web only);
    # "graph", a search the bot serves from Microsoft Graph, which phones show too.
    teams_directory_search: str | None = None
    teams_graph_url: str = DEFAULT_TEAMS_GRAPH_URL
    # Who may prepare a feedback meeting for anyone in Teams: Entra ID (AAD) object ids.
    teams_manager_ids: frozenset[str] = frozenset()
    # What every sending process of the deployment together sends to one tenant per second
    # (bot.teams.send_budget; Microsoft's limit per app per tenant is 50).
    teams_requests_per_second: float = DEFAULT_TEAMS_REQUESTS_PER_SECOND
    # The personal tab (bot.teams.tab_page): the host its page is served from, as the app's
    # Entra registration names it in `api://<domain>/botid-<client id>` (the audience of the
    # tab's single sign-on tokens). None: no tab.
    teams_tab_domain: str | None = None
    # Tests and local development only (NOTPROMOTED_TEAMS_TAB_TEST_MODE): the page takes its
    # token from this loopback identity provider instead of Teams. The server checks the
    # token exactly as it checks Teams' own.
    teams_tab_test_token_url: str | None = None

    @property
    def teams_tab_audience(self) -> str | None:
        """The audience of the tab's tokens; None when the tab is not served."""
        if not self.teams_tab_domain or not self.teams_client_id:
            return None
        return f"api://{self.teams_tab_domain}/botid-{self.teams_client_id}"

    @property
    def teams_enabled(self) -> bool:
        """Teams activities are served: with credentials, or openly for local development."""
        return self.teams_credentials is not None or self.teams_allow_unauthenticated

    @property
    def teams_credentials(self) -> TeamsCredentials | None:
        """The bot's identity and its one credential, when the client id, the tenant and a
        credential are set (`load_settings` refuses two credentials, and so does this)."""
        from bot.core import teams_credentials as kinds

        client_id, tenant_id = self.teams_client_id, self.teams_tenant_id
        if not client_id or not tenant_id:
            return None
        found: list[TeamsCredentials] = []
        if self.teams_client_secret:
            found.append(kinds.ClientSecret(client_id, tenant_id, self.teams_client_secret))
        if self.teams_certificate_path is not None:
            path, password = self.teams_certificate_path, self.teams_certificate_password
            found.append(kinds.Certificate(client_id, tenant_id, path, password))
        if self.teams_managed_identity:
            found.append(kinds.ManagedIdentity(client_id, tenant_id))
        if self.teams_federated_token_file is not None:
            token_file = self.teams_federated_token_file
            found.append(kinds.FederatedToken(client_id, tenant_id, token_file))
        if len(found) > 1:
            raise ConfigError(
                f"Teams has two credentials, a {found[0].kind} and a {found[1].kind}: keep one"
            )
        return found[0] if found else None

    @property
    def slack_enabled(self) -> bool:
        """Slack is served: any of its credentials is set (what else it needs, the `require_*`
        checks name). A deployment serves Slack, Teams, or both."""
        return any(
            (
                self.slack_bot_token,
                self.slack_signing_secret,
                self.slack_app_token,
                self.slack_client_id,
                self.slack_client_secret,
            )
        )

    @property
    def default_platform(self) -> str:
        """The platform an operator command means when it is not told: Teams in a deployment
        that serves Teams alone, else Slack."""
        return "teams" if self.teams_enabled and not self.slack_enabled else "slack"

    def require_http(self) -> None:
        """`serve`: a platform to serve, and all that each one served needs (for Slack the
        signing secret, and the bot token or what OAuth needs)."""
        self.require_a_platform(NOTHING_TO_SERVE)
        if self.slack_enabled:
            self._require_slack_sending()
            _require(self.slack_signing_secret, "SLACK_SIGNING_SECRET", "the app's Signing Secret")

    def require_sending(self) -> None:
        """`worker`: a platform to send to, and for Slack the one workspace's bot token, or
        (OAuth) the key to the stored ones."""
        self.require_a_platform(NOTHING_TO_SEND)
        if self.slack_enabled:
            self._require_slack_sending()

    def require_a_platform(self, message: str) -> None:
        if not self.slack_enabled and not self.teams_enabled:
            raise ConfigError(message)

    def _require_slack_sending(self) -> None:
        if self.oauth_enabled:
            self.require_encryption_keys()
            return
        _require(self.slack_bot_token, "SLACK_BOT_TOKEN", "the Bot User OAuth Token (xoxb-...)")

    def require_encryption_keys(self) -> tuple[str, ...]:
        if not self.encryption_keys:
            raise ConfigError(
                "NOTPROMOTED_ENCRYPTION_KEY is not set: workspaces' tokens are kept encrypted "
                'with it. Generate one: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"'
            )
        return self.encryption_keys

    def require_secret_key(self) -> str:
        """Erasing a person keeps a keyed hash of their id in the audit trail: it needs a key."""
        _require(
            self.secret_key,
            "NOTPROMOTED_SECRET_KEY",
            'a long random secret (python -c "import secrets; print(secrets.token_urlsafe(32))")',
        )
        assert self.secret_key is not None
        return self.secret_key

    def require_socket(self) -> None:
        """`socket` needs the bot token and an app-level token with connections:write."""
        if self.oauth_enabled:
            raise ConfigError(
                "socket serves one workspace with SLACK_BOT_TOKEN; installing in several "
                "(SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) needs `serve` and a public URL"
            )
        _require(self.slack_bot_token, "SLACK_BOT_TOKEN", "the Bot User OAuth Token (xoxb-...)")
        _require(
            self.slack_app_token,
            "SLACK_APP_TOKEN",
            "an app-level token (xapp-...) with the connections:write scope",
        )


def _require(value: str | None, name: str, what: str) -> None:
    if not value:
        raise ConfigError(f"{name} is not set: put {what} in the environment or in .env")
