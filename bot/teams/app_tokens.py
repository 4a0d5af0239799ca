"""The bot's own tokens for the Bot Connector, from whichever credential the deployment has.

The Teams SDK asks its token provider (`get_app_token`); these answer it through MSAL, off the
event loop (MSAL speaks blocking `requests`), with the authority taken from TEAMS_LOGIN_URL and
`instance_discovery=False` (else MSAL asks login.microsoftonline.com about any other login
host, and a sovereign or test login URL could not be used). The SDK 2.1 has no certificate
option, and its own client-secret path lacks `instance_discovery=False`, so all four are ours:

- a client secret, a certificate or a federated token: MSAL's ConfidentialClientApplication,
  its client credential being the secret, the key and certificate (MSAL signs a client
  assertion with the key and sends the certificate in x5c), or a callable that reads the
  federated token file again whenever MSAL asks Entra ID for a token (the file rotates);
- a user-assigned managed identity: MSAL's ManagedIdentityClient, which asks the host's
  identity endpoint (IDENTITY_ENDPOINT and IDENTITY_HEADER, as App Service, Functions and
  Container Apps set them). Where the host sets neither, MSAL would turn to the Azure instance
  metadata service (169.254.169.254); the bot refuses to start instead (see
  `ManagedIdentityTokens`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

import requests
from msal import ConfidentialClientApplication, ManagedIdentityClient, UserAssignedManagedIdentity
from msal import managed_identity as msal_identity

from bot.core.config import ConfigError
from bot.core.teams_credentials import (
    Certificate,
    ClientSecret,
    FederatedToken,
    ManagedIdentity,
    TeamsCredentials,
    read_certificate,
)

logger = logging.getLogger(__name__)

# How long one request to the login service or the identity endpoint may take.
TOKEN_TIMEOUT_SECONDS = 20.0
DEFAULT_SUFFIX = "/.default"
BOT_CONNECTOR = "the Bot Connector"
MICROSOFT_GRAPH = "Microsoft Graph"
CONSEQUENCE = {
    BOT_CONNECTOR: "messages wait and are retried",
    MICROSOFT_GRAPH: "the forms' directory search finds no one until it has one",
}


class TokenUnavailable(Exception):
    """The login service did not give the bot a token (wrong credential, unreachable, ...)."""


class _Tokens:
    """What every credential shares: the SDK's call taken off the event loop, MSAL's answer
    read, and a failure logged once with its reason (again only when the reason changes)."""

    def __init__(self, credentials: TeamsCredentials, description: str) -> None:
        self.credentials = credentials
        self.description = description
        # The last failure for each resource asked for (the Bot Connector, Microsoft Graph).
        self._last_failure: dict[str, str] = {}
        logger.info("Teams: the bot %s signs in with %s", credentials.client_id, description)

    async def get_app_token(self, scope: str | list[str], tenant_id: str | None) -> str:
        scopes = [scope] if isinstance(scope, str) else list(scope)
        return await asyncio.to_thread(
            self._acquire, scopes, tenant_id or "botframework.com", BOT_CONNECTOR
        )

    async def graph_token(self, graph_url: str, tenant_id: str) -> str:
        """An app-only token for Microsoft Graph in this tenant (its audience is graph_url),
        for the forms' directory search (bot.teams.graph_people)."""
        return await asyncio.to_thread(
            self._acquire, [f"{graph_url}{DEFAULT_SUFFIX}"], tenant_id, MICROSOFT_GRAPH
        )

    def serves_tenant(self, tenant_id: str) -> bool:
        """Whether a token asked for `tenant_id` is that tenant's: an app registration asks
        each tenant's own authority; a managed identity only ever gets its own tenant's."""
        return True

    def _acquire(self, scopes: list[str], tenant_id: str, resource: str) -> str:
        try:
            result = self._request(scopes, tenant_id)
        except TokenUnavailable as error:
            self._failed(resource, str(error))
            raise
        except Exception as error:
            self._failed(resource, type(error).__name__)
            raise TokenUnavailable(type(error).__name__) from error
        token = result.get("access_token") if isinstance(result, dict) else None
        if not isinstance(token, str):
            reason = _reason(result)
            self._failed(resource, reason)
            raise TokenUnavailable(reason)
        if self._last_failure.pop(resource, None) is not None:
            logger.info("Teams: the login service gives the bot tokens for %s again", resource)
        return token

    def _request(self, scopes: list[str], tenant_id: str) -> Any:
        raise NotImplementedError

    def _failed(self, resource: str, reason: str) -> None:
        if reason != self._last_failure.get(resource):
            logger.warning(
                "Teams: no token for %s with %s: %s (%s)",
                resource,
                self.description,
                reason,
                CONSEQUENCE[resource],
            )
        self._last_failure[resource] = reason


class ConfidentialTokens(_Tokens):
    """App-only tokens from the bot's app registration: secret, certificate or federated."""

    def __init__(
        self,
        credentials: TeamsCredentials,
        description: str,
        client_credential: str | dict[str, Any],
        login_url: str,
    ) -> None:
        super().__init__(credentials, description)
        self.login_url = login_url
        self._client_credential = client_credential
        self._clients: dict[str, ConfidentialClientApplication] = {}
        self._lock = threading.Lock()

    def _request(self, scopes: list[str], tenant_id: str) -> Any:
        with self._lock:
            client = self._clients.get(tenant_id)
            if client is None:
                client = ConfidentialClientApplication(
                    self.credentials.client_id,
                    client_credential=self._client_credential,
                    authority=f"{self.login_url}/{tenant_id}",
                    instance_discovery=False,
                    timeout=TOKEN_TIMEOUT_SECONDS,
                )
                self._clients[tenant_id] = client
        # MSAL answers from its token cache until the token is about to expire.
        return client.acquire_token_for_client(scopes=scopes)


class ManagedIdentityTokens(_Tokens):
    """Tokens of the user-assigned managed identity the bot is, from the host.

    Only hosts that name their identity endpoint (IDENTITY_ENDPOINT and IDENTITY_HEADER) are
    accepted. With neither, MSAL asks the instance metadata service of an Azure VM: on any
    other machine that address is nobody's (or, on some networks, somebody else's), so the
    bot stops at start-up with a line saying what to do instead.
    """

    def __init__(self, credentials: ManagedIdentity) -> None:
        source = msal_identity.get_managed_identity_source()
        if source is not msal_identity.APP_SERVICE:
            raise ConfigError(
                "TEAMS_MANAGED_IDENTITY=true needs a host that names its identity endpoint "
                "(IDENTITY_ENDPOINT and IDENTITY_HEADER, as Azure App Service, Functions and "
                "Container Apps set them), and this one does not: on a VM or in Kubernetes use "
                "a certificate or a federated credential (TEAMS_FEDERATED_TOKEN_FILE)"
            )
        super().__init__(credentials, "its managed identity (from IDENTITY_ENDPOINT)")
        session = _TimedSession()
        self._client = ManagedIdentityClient(
            UserAssignedManagedIdentity(client_id=credentials.client_id), http_client=session
        )

    def serves_tenant(self, tenant_id: str) -> bool:
        return tenant_id.lower() == self.credentials.tenant_id.lower()

    def _request(self, scopes: list[str], tenant_id: str) -> Any:
        if len(scopes) != 1:
            raise TokenUnavailable("a managed identity takes one scope at a time")
        # The identity endpoint takes the resource, which is the scope without /.default.
        resource = scopes[0].removesuffix(DEFAULT_SUFFIX)
        return self._client.acquire_token_for_client(resource=resource)


class _TimedSession(requests.Session):
    """MSAL's managed-identity requests pass no timeout: a stalled endpoint would hold a
    worker thread for good."""

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", TOKEN_TIMEOUT_SECONDS)
        return super().request(method, url, *args, **kwargs)


def _federated_assertion(path: Path) -> Any:
    def assertion() -> str:
        try:
            token = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise TokenUnavailable(
                f"the federated token file {str(path)!r} cannot be read ({type(error).__name__})"
            ) from None
        if not token:
            raise TokenUnavailable(f"the federated token file {str(path)!r} is empty")
        return token

    return assertion


def _reason(result: Any) -> str:
    """MSAL's error and the first line of its description (AADSTS code and sentence): no
    secret is in either, and "invalid_client" alone does not say which of a dozen it was."""
    if not isinstance(result, dict):
        return "no access token"
    error = str(result.get("error") or "no access token")
    description = str(result.get("error_description") or "").strip().splitlines()
    return f"{error}: {description[0][:200]}" if description else error


BotTokens = _Tokens


def app_tokens(credentials: TeamsCredentials, login_url: str) -> _Tokens:
    """The token provider for the deployment's one credential."""
    if isinstance(credentials, ClientSecret):
        return ConfidentialTokens(credentials, "a client secret", credentials.secret, login_url)
    if isinstance(credentials, Certificate):
        certificate = read_certificate(credentials.path, credentials.password)
        return ConfidentialTokens(
            credentials,
            f"a certificate (thumbprint {certificate.sha1_thumbprint})",
            {
                "private_key": certificate.private_key_pem,
                "public_certificate": certificate.certificate_pem,
            },
            login_url,
        )
    if isinstance(credentials, FederatedToken):
        return ConfidentialTokens(
            credentials,
            f"a federated token from {str(credentials.token_file)!r}",
            {"client_assertion": _federated_assertion(credentials.token_file)},
            login_url,
        )
    return ManagedIdentityTokens(credentials)
