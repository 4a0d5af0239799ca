"""Who is looking at the personal tab: the Teams single sign-on token, checked here.

In Teams the page asks `authentication.getAuthToken()` for an Entra ID access token to the
app's own API, `api://<TEAMS_TAB_DOMAIN>/botid-<client id>` (the manifest's
`webApplicationInfo.resource`), and sends it as a Bearer header to the tab's JSON API. Nothing
else says who is looking: no cookie, no query parameter.

The check needs no blocking I/O on the event loop and no help from the Teams SDK (whose own
validator raises instead of answering for some bad tokens, and fetches keys with urllib on the
loop, see bot.teams.tokens):

- a JWT of sane size, RS256 with a key id; its unverified issuer must be one of the bot's
  tenant's two (`{login}/{tenant}/v2.0` for v2 tokens, `https://sts.windows.net/{tenant}/`
  for v1), so a token from elsewhere costs no fetch at all;
- its signature, against Entra ID's published keys for that tenant
  (`{login}/{tenant}/discovery/v2.0/keys`), fetched with httpx by the same `SigningKeys` as the
  bot's keys: cached, an unknown key id sends us to the key server at most once a minute, one
  fetch at a time, a slow key server holds only the requests that wait for it;
- audience (the app's URI), expiry and not-before (five minutes' skew, as for the bot), issuer;
- `tid` is the bot's tenant, `oid` an Entra object id, and `scp` holds `access_as_user` (a
  delegated token: an app-only token for the same API carries no person).

Any failure is `TokenRefused` (401; the keys could not be had: 503). The person is
PersonRef(teams, tid, oid): the row the bot keys from the chat (bot.teams.activity_reading).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.config import Settings
from bot.core.metrics import Metrics
from bot.core.models import Platform
from bot.core.person_ref import PersonRef
from bot.teams.activity_reading import aad_id
from bot.teams.tokens import (
    ENTRA_V1_ISSUER_PREFIX,
    RefusalLog,
    SigningKeys,
    TokenRefused,
    unverified_token,
    verified_claims,
)

# The delegated scope the app registration exposes for Teams (docs/teams-home-tab.md).
TAB_SCOPE = "access_as_user"
TAB_API_PATH = "/tab/api"


@dataclass
class TabTokens:
    """Checks the tab's SSO tokens for one app registration in one tenant."""

    audience: str
    tenant_id: str
    login_url: str
    keys: SigningKeys
    refusals: RefusalLog

    @property
    def issuers(self) -> tuple[str, str]:
        return (
            f"{self.login_url}/{self.tenant_id}/v2.0",
            f"{ENTRA_V1_ISSUER_PREFIX}{self.tenant_id}/",
        )

    async def person(self, authorization: str) -> PersonRef:
        """The person the request's Bearer token names; TokenRefused (counted) otherwise."""
        try:
            scheme, _, raw = authorization.partition(" ")
            if scheme.lower() != "bearer" or not raw.strip():
                raise TokenRefused("missing")
            claims = await self.claims(raw.strip())
            user = aad_id(claims.get("oid"))
            if user is None:
                raise TokenRefused("no_person")
            return PersonRef(platform=Platform.TEAMS, workspace_id=self.tenant_id, user_id=user)
        except TokenRefused as refused:
            self.refusals.refused(f"tab_{refused.reason}")
            raise

    async def claims(self, raw: str) -> dict[str, Any]:
        key_id = self._precheck(raw)
        found = await self.keys.key(key_id)
        if found is None:
            raise TokenRefused("unknown_key")
        key, _ = found
        claims = verified_claims(
            raw,
            key.key,
            audience=[self.audience],
            issuer=list(self.issuers),
            required=("exp", "iss", "aud", "tid", "oid"),
        )
        if aad_id(claims.get("tid")) != self.tenant_id:
            raise TokenRefused("tenant")
        scopes = claims.get("scp")
        if not isinstance(scopes, str) or TAB_SCOPE not in scopes.split():
            raise TokenRefused("scope")
        return claims

    def _precheck(self, raw: str) -> str:
        """The key id, after the checks that need no key: size, shape, algorithm, issuer."""
        key_id, unverified = unverified_token(raw)
        if unverified.get("iss") not in self.issuers:
            raise TokenRefused("issuer")
        return key_id


def tab_tokens(settings: Settings, metrics: Metrics) -> TabTokens | None:
    """The tab's token check, when the tab is served (TEAMS_TAB_DOMAIN and the bot's app
    registration are set); None otherwise."""
    audience = settings.teams_tab_audience
    tenant = aad_id(settings.teams_tenant_id)
    if audience is None or tenant is None:
        return None
    login = settings.teams_login_url.rstrip("/")
    keys_url = f"{login}/{tenant}/discovery/v2.0/keys"
    return TabTokens(
        audience=audience,
        tenant_id=tenant,
        login_url=login,
        keys=SigningKeys(metadata_url=keys_url, keys_url=keys_url, owner="Entra ID"),
        refusals=RefusalLog(metrics.teams_refused_tokens, where=TAB_API_PATH),
    )
