"""Installing in several workspaces: Bolt's OAuth flow on our database, with sealed tokens.

GET /slack/install shows a page with the "Add to Slack" link (Slack's authorize URL, which
GovSlack deployments change with SLACK_AUTHORIZE_URL); Slack sends the admin back to
/slack/oauth_redirect, where the code is exchanged at SLACK_API_URL's oauth.v2.access.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from bot.core.dependencies import Services
from bot.core.encryption import TokenCipher
from bot.core.logs import BOLT_LOGGER
from bot.core.models import Platform
from bot.core.person_ref import PersonRef
from bot.slack.bot_tokens import StoredTokenAuthorize, WorkspaceTokens
from bot.slack.install_pages import (
    build_install_failed_page,
    build_install_page,
    build_installed_page,
)
from bot.slack.installations import (
    STATE_SECONDS,
    AsyncInstallations,
    AsyncOAuthStates,
    SealedInstallationStore,
)
from bot.slack.manifest import bot_scopes
from handlers.workspaces import record_install

logger = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"

_HTML = {"Content-Type": "text/html; charset=utf-8"}
# Bolt's reasons for a failed callback, and what the admin is told.
_CANCELLED = frozenset({"access_denied"})
_EXPIRED = frozenset({"invalid_browser", "invalid_state", "missing_code", "invalid_code"})


@dataclass(frozen=True)
class SlackInstalls:
    """What running in several workspaces adds: the flow, the stores, the tokens."""

    flow: AsyncOAuthFlow
    authorize: StoredTokenAuthorize
    store: SealedInstallationStore
    installations: AsyncInstallations
    tokens: WorkspaceTokens


def build_installs(services: Services, engine: Engine, client: AsyncWebClient) -> SlackInstalls:
    settings = services.settings
    assert settings.slack_client_id and settings.slack_client_secret
    cipher = TokenCipher(settings.require_encryption_keys())
    store = SealedInstallationStore(
        client_id=settings.slack_client_id, engine=engine, cipher=cipher
    )
    installations = AsyncInstallations(store)
    tokens = WorkspaceTokens(
        engine=engine,
        cipher=cipher,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        api_url=settings.slack_api_url,
    )
    callbacks = _Callbacks(services, tokens)
    oauth_settings = AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=bot_scopes(),
        user_scopes=[],
        redirect_uri=settings.slack_redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        callback_options=AsyncCallbackOptions(success=callbacks.success, failure=callbacks.failure),
        authorization_url=settings.slack_authorize_url,
        installation_store=installations,
        state_store=AsyncOAuthStates(engine),
        state_expiration_seconds=STATE_SECONDS,
        logger=logging.getLogger(BOLT_LOGGER),
    )
    flow = InstallFlow(
        services, client=client, logger=logging.getLogger(BOLT_LOGGER), settings=oauth_settings
    )
    return SlackInstalls(
        flow=flow,
        authorize=StoredTokenAuthorize(tokens),
        store=store,
        installations=installations,
        tokens=tokens,
    )


class InstallFlow(AsyncOAuthFlow):
    """Bolt's flow (its client is the app's, so oauth.v2.access goes to SLACK_API_URL), with
    our pages, and a kind page instead of an error whatever goes wrong on the way back."""

    def __init__(
        self,
        services: Services,
        *,
        client: AsyncWebClient,
        logger: logging.Logger,
        settings: AsyncOAuthSettings,
    ) -> None:
        super().__init__(client=client, logger=logger, settings=settings)
        self.services = services

    async def build_install_page_html(self, url: str, request: AsyncBoltRequest) -> str:
        return build_install_page(
            self.services.content.for_locale(None, Platform.SLACK),
            app_name=self.services.settings.display_name,
            authorize_url=url,
        )

    async def handle_installation(self, request: AsyncBoltRequest) -> BoltResponse:
        try:
            return await super().handle_installation(request)
        except Exception:  # the state could not be stored
            logger.exception("the install page could not be shown")
            return failure_page(self.services, "install_unavailable", 503)

    async def handle_callback(self, request: AsyncBoltRequest) -> BoltResponse:
        try:
            return await super().handle_callback(request)
        except Exception:  # Slack or the database did not answer; the state is spent
            logger.exception("the OAuth callback could not finish")
            return failure_page(self.services, "install_unavailable", 503)


def failure_page(services: Services, reason_key: str, status: int) -> BoltResponse:
    html = build_install_failed_page(
        services.content.for_locale(None, Platform.SLACK),
        app_name=services.settings.display_name,
        reason_key=reason_key,
        install_path=INSTALL_PATH,
    )
    return BoltResponse(status=status, body=html, headers=dict(_HTML))


class _Callbacks:
    def __init__(self, services: Services, tokens: WorkspaceTokens) -> None:
        self.services = services
        self.tokens = tokens

    async def success(self, args: AsyncSuccessArgs) -> BoltResponse:
        installation = args.installation
        team_id = None if installation.is_enterprise_install else installation.team_id
        self.tokens.forget(enterprise_id=installation.enterprise_id, team_id=team_id)
        place = team_id or installation.enterprise_id
        if place is not None:
            installer = PersonRef(
                Platform.SLACK,
                place,
                installation.user_id,
                enterprise_id=installation.enterprise_id,
            )
            try:
                await asyncio.to_thread(record_install, self.services, installer)
            except Exception:  # the installation itself is saved: still say so
                logger.exception("could not audit the installation in %s", place)
        logger.info("installed in %s", place)
        html = build_installed_page(
            self.services.content.for_locale(None, Platform.SLACK),
            app_name=self.services.settings.display_name,
            team=installation.team_name or installation.enterprise_name or place or "",
        )
        return BoltResponse(status=200, body=html, headers=dict(_HTML))

    async def failure(self, args: AsyncFailureArgs) -> BoltResponse:
        logger.info("an installation did not finish: %r", args.reason[:40])
        if args.reason in _CANCELLED:
            return failure_page(self.services, "install_cancelled", 200)
        if args.reason in _EXPIRED:
            return failure_page(self.services, "install_expired", 400)
        return failure_page(self.services, "install_unavailable", 503)
