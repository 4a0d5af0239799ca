"""The Teams SDK app, built from our settings, with its endpoint mounted on our Starlette app.

Values go to the SDK explicitly; none is left to its own environment names. Two pieces are
ours, each for a reason:

- `MountedEndpoint` (bot.teams.endpoint), the SDK's HttpServerAdapter protocol: the SDK
  registers its messaging handler (JWT validation, then routing) there, and bot.app.web serves it
  on the same ASGI app as Slack.
- `InboundTokens` (bot.teams.tokens), the check of Teams' tokens: bot.app.web runs it before the
  SDK sees an activity, and `check_tokens_ourselves` puts it in place of the SDK's own
  validator, which would fetch signing keys with blocking I/O on the event loop.
- the app's token provider (bot.teams.app_tokens), for each credential Azure offers a
  single-tenant bot: a client secret, a certificate, a managed identity or a federated token;
  the forms' directory search (bot.teams.graph_people) asks the same one for Graph tokens.
"""

from __future__ import annotations

import logging

from microsoft_teams.api.auth.cloud_environment import PUBLIC, CloudEnvironment, with_overrides
from microsoft_teams.apps import App
from microsoft_teams.common import ClientOptions

from bot.core.config import TEAMS_DIRECTORY_SEARCH_GRAPH, Settings
from bot.core.metrics import Metrics
from bot.teams.app_tokens import BotTokens, app_tokens
from bot.teams.endpoint import MESSAGES_PATH, MountedEndpoint
from bot.teams.graph_people import GraphPeople
from bot.teams.tokens import InboundTokens, RefusalLog, SdkTokenCheck, SigningKeys

logger = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 20.0


def cloud_of(settings: Settings) -> CloudEnvironment:
    """The public cloud, with the login and OpenID metadata URLs the settings name."""
    return with_overrides(
        PUBLIC,
        login_endpoint=settings.teams_login_url,
        openid_metadata_url=settings.teams_openid_metadata_url,
    )


def bot_tokens(settings: Settings) -> BotTokens | None:
    """The bot's own token provider, for its one credential (None without credentials)."""
    credentials = settings.teams_credentials
    return app_tokens(credentials, settings.teams_login_url) if credentials else None


def people_search(settings: Settings, tokens: BotTokens | None) -> GraphPeople | None:
    """The forms' directory search in Microsoft Graph, when TEAMS_DIRECTORY_SEARCH=graph
    (load_settings refuses it without a credential, whose tokens it uses)."""
    if settings.teams_directory_search != TEAMS_DIRECTORY_SEARCH_GRAPH or tokens is None:
        return None
    return GraphPeople(tokens, settings.teams_graph_url)


def build_teams_app(
    settings: Settings, endpoint: MountedEndpoint, metrics: Metrics, tokens: BotTokens | None
) -> App:
    """The SDK app, for settings with Teams credentials or the development switch."""
    credentials = settings.teams_credentials
    if credentials is not None and not settings.teams_allow_unauthenticated:
        endpoint.tokens = InboundTokens(
            app_id=credentials.client_id,
            issuer=cloud_of(settings).token_issuer,
            login_url=settings.teams_login_url,
            keys=SigningKeys(settings.teams_openid_metadata_url),
            refusals=RefusalLog(metrics.teams_refused_tokens),
        )
    if settings.teams_allow_unauthenticated:
        logger.warning(
            "NOTPROMOTED_TEAMS_ALLOW_UNAUTHENTICATED is on: %s accepts Teams activities WITHOUT "
            "checking who sent them. Anyone who can reach this server can act as any Teams "
            "user. Use it for local development only, never in production.",
            MESSAGES_PATH,
        )
    return App(
        client_id=settings.teams_client_id,
        tenant_id=settings.teams_tenant_id,
        token=tokens,
        client=ClientOptions(timeout=SEND_TIMEOUT_SECONDS),
        http_server_adapter=endpoint,
        messaging_endpoint=MESSAGES_PATH,
        service_url=settings.teams_service_url,
        cloud=cloud_of(settings),
        dangerously_allow_unauthenticated_requests=settings.teams_allow_unauthenticated,
        state=False,
        telemetry={"agent365": False},
    )


def check_tokens_ourselves(app: App, endpoint: MountedEndpoint) -> None:
    """Put our token check in place of the SDK's (after `app.initialize()`, which builds it).

    microsoft-teams-apps 2.1.1 keeps its InboundActivityTokenValidator in the private
    `HttpServer._token_validator` and offers no way to pass one in; it fetches signing keys
    with blocking I/O on the event loop (see bot.teams.tokens). If a later version moves it,
    start-up fails here rather than quietly checking tokens the old way.
    """
    if endpoint.tokens is None:
        return
    server = app.server
    if getattr(server, "_token_validator", None) is None:
        raise RuntimeError(
            "microsoft-teams-apps no longer keeps its token validator where notpromoted "
            "replaces it (HttpServer._token_validator): check bot/teams/sdk.py"
        )
    server._token_validator = SdkTokenCheck(endpoint.tokens)  # type: ignore[assignment]
