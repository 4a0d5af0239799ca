"""Teams' tokens on /api/messages, checked at our edge before the Teams SDK sees an activity.

Why not leave it to the SDK: microsoft-teams-apps 2.1.1 (`microsoft_teams/apps/auth/
token_validator.py`, `InboundActivityTokenValidator`) reads the token's issuer unverified and,
for anything that looks like Entra (`https://sts.windows.net/<uuid>/` or the login URL),
builds a validator for the token's own `tid` whose keys, `{login}/{tid}/discovery/v2.0/keys`,
PyJWT's `PyJWKClient` fetches with urllib *on the event loop*. No valid signature is needed:
a forged token with a fresh `tid` per request stalled the whole server for up to 30 s each
(issue 15, item 1). That path exists for Agent 365 callers (microsoft/teams.py#462); this
bot is not one. The Bot Framework path fetches its keys the same way, on the first request
and whenever PyJWKClient's 5-minute cache expires.

So, the simplest design that does no blocking I/O on the loop:

- A token must be a Bot Framework token: its unverified issuer is the Bot Framework's. An
  Entra issuer (refused as `entra`) or any other is refused with no I/O at all.
- Its signature is checked with PyJWT against `SigningKeys`: the keys named by the OpenID
  metadata, fetched with httpx.AsyncClient, kept for `KEYS_MAX_AGE`, fetched again for an
  unknown key id at most once per `REFETCH_INTERVAL` and one fetch at a time, so a flood of
  made-up key ids costs one fetch a minute and a slow key server holds only the requests that
  wait for it.
- The SDK's own inbound validator is replaced by `SdkTokenCheck` (bot.teams.sdk), which asks
  the same keys: the SDK never fetches keys itself.

Refused tokens are counted in `notpromoted_teams_refused_tokens_total{reason}`; the log gets
at most one summary line per `SUMMARY_INTERVAL` (a flood must not write lines per token).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter as Tally
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from prometheus_client import Counter

logger = logging.getLogger(__name__)

# The Bot Framework asks bots to cache its keys and to look again for a key id they do not
# know (keys roll); a day is its own recommendation's upper bound, six hours is safer.
KEYS_MAX_AGE = 6 * 3600.0
# An unknown key id (or a failed fetch) sends us to the key server at most this often.
REFETCH_INTERVAL = 60.0
# Without any keys yet (the key server failed at start), sooner: Teams retries meanwhile.
NO_KEYS_RETRY = 5.0
# A request waits at most this long for keys; the loop serves others meanwhile.
FETCH_TIMEOUT = 10.0
SUMMARY_INTERVAL = 60.0
# What the SDK allows for clock skew (token_validator.JWT_LEEWAY_SECONDS).
LEEWAY_SECONDS = 300
ENTRA_V1_ISSUER_PREFIX = "https://sts.windows.net/"
# A token longer than this is not one the Bot Framework wrote.
MAX_TOKEN_LENGTH = 16_384


class TokenRefused(Exception):
    """The request's token is not a valid Bot Framework token for this bot (401), or the
    keys to check it could not be had (503: Teams retries)."""

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass
class _KeySet:
    keys: dict[str, jwt.PyJWK]
    endorsements: dict[str, frozenset[str]]


@dataclass
class SigningKeys:
    """Signing keys, fetched without blocking the event loop: the Bot Framework's (found
    through its OpenID metadata), or Entra ID's for the tab's sign-in (`keys_url`: the key set
    itself, bot.teams.tab_auth)."""

    metadata_url: str
    clock: Callable[[], float] = time.monotonic
    keys_url: str | None = None
    # Whose keys, for the log.
    owner: str = "Bot Framework"
    _current: _KeySet | None = None
    _fetched_at: float | None = None
    _tried_at: float | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def key(self, key_id: str) -> tuple[jwt.PyJWK, frozenset[str]] | None:
        """The key with that id and the channels it is endorsed for; None if unpublished."""
        if self._lock.locked():  # a fetch is under way: its result answers this request too
            async with self._lock:
                pass
        if self._needs_fetch(key_id):
            await self._fetch(key_id)
        if self._current is None:
            raise TokenRefused("keys_unavailable", status=503)
        found = self._current.keys.get(key_id)
        if found is None:
            return None
        return found, self._current.endorsements.get(key_id, frozenset())

    def _needs_fetch(self, key_id: str) -> bool:
        now = self.clock()
        if self._current is None or self._fetched_at is None:
            return self._tried_at is None or now - self._tried_at >= NO_KEYS_RETRY
        if now - self._fetched_at >= KEYS_MAX_AGE:
            return now - (self._tried_at or 0.0) >= REFETCH_INTERVAL
        unknown = key_id not in self._current.keys
        return unknown and now - (self._tried_at or 0.0) >= REFETCH_INTERVAL

    async def _fetch(self, key_id: str) -> None:
        async with self._lock:  # one fetch at a time; those who waited use its result
            if not self._needs_fetch(key_id):
                return
            self._tried_at = self.clock()
            try:
                fetched = await asyncio.wait_for(self._download(), FETCH_TIMEOUT)
            except Exception as error:  # keep the keys we have, if any
                logger.warning(
                    "could not fetch the %s signing keys: %s", self.owner, type(error).__name__
                )
                return
            self._current, self._fetched_at = fetched, self.clock()

    async def _download(self) -> _KeySet:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT) as client:
            if self.keys_url is not None:
                return _parse_keys((await client.get(self.keys_url)).raise_for_status().json())
            metadata = (await client.get(self.metadata_url)).raise_for_status().json()
            jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
            if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
                raise ValueError("the OpenID metadata names no jwks_uri")
            document = (await client.get(jwks_uri)).raise_for_status().json()
        return _parse_keys(document)


def _parse_keys(document: object) -> _KeySet:
    entries = document.get("keys") if isinstance(document, dict) else None
    keys: dict[str, jwt.PyJWK] = {}
    endorsements: dict[str, frozenset[str]] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK(entry, algorithm="RS256")
        except jwt.PyJWTError:
            continue
        named = entry.get("endorsements")
        if isinstance(named, list):
            endorsements[entry["kid"]] = frozenset(str(item) for item in named)
    if not keys:
        raise ValueError("the key set holds no usable RS256 key")
    return _KeySet(keys, endorsements)


@dataclass
class RefusalLog:
    """Counts refused tokens by reason; logs what it counted at most once per interval."""

    counter: Counter
    clock: Callable[[], float] = time.monotonic
    interval: float = SUMMARY_INTERVAL
    # The requests it counts, for the log (the tab counts its own with reasons "tab_...").
    where: str = "/api/messages"
    _since_last: Tally[str] = field(default_factory=Tally)
    _logged_at: float | None = None

    def refused(self, reason: str) -> None:
        self.counter.labels(reason=reason).inc()
        self._since_last[reason] += 1
        now = self.clock()
        if self._logged_at is not None and now - self._logged_at < self.interval:
            return
        counts = ", ".join(f"{name} {count}" for name, count in sorted(self._since_last.items()))
        logger.warning(
            "refused %d request(s) to %s for their token since the last such line "
            "(%s); notpromoted_teams_refused_tokens_total counts them all",
            sum(self._since_last.values()),
            self.where,
            counts,
        )
        self._since_last.clear()
        self._logged_at = now


@dataclass
class InboundTokens:
    """Whether a request's Bot Framework token lets it in: see the module's note."""

    app_id: str
    issuer: str
    login_url: str
    keys: SigningKeys
    refusals: RefusalLog

    async def check(self, authorization: str, activity: Mapping[str, Any]) -> None:
        """Raise TokenRefused (counted) unless the Authorization header carries a valid token
        for this activity: its service URL, and a key endorsed for its channel."""
        try:
            if not authorization.startswith("Bearer "):
                raise TokenRefused("missing")
            service_url = activity.get("serviceUrl")
            channel = activity.get("channelId")
            await self.claims(
                authorization.removeprefix("Bearer "),
                service_url=service_url if isinstance(service_url, str) else None,
                channel=channel if isinstance(channel, str) else None,
            )
        except TokenRefused as refused:
            self.refusals.refused(refused.reason)
            raise

    async def claims(
        self, raw: str, *, service_url: str | None, channel: str | None = None
    ) -> dict[str, Any]:
        """The verified claims of a Bot Framework token; TokenRefused (not counted) if not."""
        key_id = self._precheck(raw)
        found = await self.keys.key(key_id)
        if found is None:
            raise TokenRefused("unknown_key")
        key, endorsements = found
        # The Bot Framework's rule: a key that names channels signs only for those channels.
        if channel is not None and endorsements and channel not in endorsements:
            raise TokenRefused("endorsement")
        claims = verified_claims(
            raw,
            key.key,
            audience=[self.app_id, f"api://{self.app_id}", f"api://botid-{self.app_id}"],
            issuer=[self.issuer],
            required=("exp", "iss", "aud"),
        )
        claimed = claims.get("serviceurl")
        if service_url is not None and (
            not isinstance(claimed, str) or claimed.rstrip("/") != service_url.rstrip("/")
        ):
            raise TokenRefused("service_url")
        return claims

    def _precheck(self, raw: str) -> str:
        """The key id, after the checks that need no key: shape, algorithm and issuer."""
        key_id, unverified = unverified_token(raw)
        issuer = unverified.get("iss")
        if isinstance(issuer, str) and (
            issuer.startswith(ENTRA_V1_ISSUER_PREFIX) or issuer.startswith(self.login_url)
        ):
            raise TokenRefused("entra")  # Agent 365's path: not a caller this bot has
        if issuer != self.issuer:
            raise TokenRefused("issuer")
        return key_id


class SdkTokenCheck:
    """Stands in for the SDK's InboundActivityTokenValidator (same `validate_token`): the SDK
    checks each activity again after our edge did, with our keys, so it never fetches any."""

    def __init__(self, tokens: InboundTokens) -> None:
        self.tokens = tokens

    async def validate_token(self, raw_token: str, service_url: str | None = None) -> Any:
        try:
            return await self.tokens.claims(raw_token, service_url=service_url)
        except TokenRefused as refused:
            raise jwt.InvalidTokenError(refused.reason) from None


def unverified_token(raw: str) -> tuple[str, dict[str, Any]]:
    """A token's key id and claims, read before any key is fetched: a JWT of sane size,
    signed RS256, naming its key; TokenRefused("malformed") otherwise. Nothing here is
    trusted until the signature is checked."""
    if len(raw) > MAX_TOKEN_LENGTH:
        raise TokenRefused("malformed")
    try:
        header = jwt.get_unverified_header(raw)
        unverified: dict[str, Any] = jwt.decode(raw, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise TokenRefused("malformed") from None
    key_id = header.get("kid")
    if header.get("alg") != "RS256" or not isinstance(key_id, str):
        raise TokenRefused("malformed")
    return key_id, unverified


def verified_claims(
    raw: str, key: Any, *, audience: list[str], issuer: list[str], required: tuple[str, ...]
) -> dict[str, Any]:
    """A token's claims once its signature, audience, issuer and times hold (five minutes'
    skew); TokenRefused naming what failed otherwise."""
    try:
        claims: dict[str, Any] = jwt.decode(
            raw,
            key,
            algorithms=["RS256"],
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": list(required)},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRefused("expired") from None
    except jwt.InvalidAudienceError:
        raise TokenRefused("audience") from None
    except jwt.InvalidIssuerError:
        raise TokenRefused("issuer") from None
    except jwt.PyJWTError:
        raise TokenRefused("signature") from None
    return claims
