"""Each workspace's bot token, from its stored installation: for sends and for Bolt's requests.

With token rotation on, Slack's bot tokens live twelve hours and come with a refresh token
that works once. A token close to expiry is refreshed here inside a transaction that holds its
row (SELECT ... FOR UPDATE on PostgreSQL, so a worker in another process waits and then finds
the new token; on SQLite the single-writer lock of bot/core/db.py does the same within the one
process). Tokens are remembered for a minute at most, never past their own refresh time.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Connection, Engine, Row, and_, select, update

from bot.core.encryption import TokenCipher
from bot.core.models import slack_bots, slack_installations

# Refresh this long before Slack's expiry (Bolt's default too).
REFRESH_MARGIN_SECONDS = 120 * 60
CACHE_SECONDS = 60.0
CACHE_SIZE = 1024


class NotInstalled(Exception):
    """No installation with a bot token for this workspace: never installed, or removed."""


class TokenRefreshFailed(Exception):
    """Slack did not give a new token. `lasting`: it refused (reinstall needed), not a blip."""

    def __init__(self, reason: str, *, lasting: bool) -> None:
        super().__init__(reason)
        self.lasting = lasting


@dataclass(frozen=True)
class _Known:
    token: str
    good_until: float  # time.monotonic()


@dataclass(frozen=True)
class _Fresh:
    token: str
    expires_at: float | None  # wall-clock seconds


class WorkspaceTokens:
    def __init__(
        self,
        *,
        engine: Engine,
        cipher: TokenCipher,
        client_id: str,
        client_secret: str,
        api_url: str,
        refresh_margin_seconds: float = REFRESH_MARGIN_SECONDS,
        cache_seconds: float = CACHE_SECONDS,
        cache_size: int = CACHE_SIZE,
        wall_clock: Callable[[], float] = time.time,
        timeout: int = 10,
    ) -> None:
        self.engine = engine
        self.cipher = cipher
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_margin_seconds = refresh_margin_seconds
        self.cache_seconds = cache_seconds
        self.cache_size = cache_size
        self.wall_clock = wall_clock
        # Synchronous: the refresh runs on a thread, inside the transaction that holds the row.
        self.oauth_client = WebClient(base_url=api_url, timeout=timeout)
        self._known: OrderedDict[tuple[str | None, str | None], _Known] = OrderedDict()

    async def for_workspace(self, workspace_id: str, enterprise_id: str | None) -> str:
        """The token for a person's workspace (PersonRef.workspace_id is the org's id itself
        for what happens at the level of a Grid org)."""
        team_id = None if workspace_id == enterprise_id else workspace_id
        return await self.bot_token(enterprise_id=enterprise_id, team_id=team_id)

    async def bot_token(self, *, enterprise_id: str | None, team_id: str | None) -> str:
        key = (enterprise_id, team_id)
        known = self._known.get(key)
        if known is not None and known.good_until > time.monotonic():
            self._known.move_to_end(key)
            return known.token
        fresh = await asyncio.to_thread(self._current, enterprise_id, team_id)
        if fresh is None:
            self._known.pop(key, None)
            raise NotInstalled(f"no installation for {team_id or enterprise_id}")
        lifetime = self.cache_seconds
        if fresh.expires_at is not None:
            until_refresh = fresh.expires_at - self.refresh_margin_seconds - self.wall_clock()
            lifetime = min(lifetime, max(until_refresh, 0.0))
        self._known[key] = _Known(fresh.token, time.monotonic() + lifetime)
        self._known.move_to_end(key)
        while len(self._known) > self.cache_size:
            self._known.popitem(last=False)
        return fresh.token

    def forget(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Drop what is remembered for a workspace (or, with no team, a whole org)."""
        for key in list(self._known):
            known_enterprise, known_team = key
            if (team_id is not None and known_team == team_id) or (
                team_id is None and enterprise_id is not None and known_enterprise == enterprise_id
            ):
                del self._known[key]

    # -- on a thread -------------------------------------------------------------------------

    def _current(self, enterprise_id: str | None, team_id: str | None) -> _Fresh | None:
        with self.engine.begin() as connection:
            row = self._latest(connection, enterprise_id, team_id, lock=False)
        if row is None:
            return None
        if not self._expiring(row):
            return self._fresh(row)
        return self._refresh(enterprise_id, team_id)

    def _refresh(self, enterprise_id: str | None, team_id: str | None) -> _Fresh | None:
        with self.engine.begin() as connection:
            row = self._latest(connection, enterprise_id, team_id, lock=True)
            if row is None:
                return None
            if not self._expiring(row) or row.bot_refresh_token is None:
                return self._fresh(row)  # another worker refreshed it while this one waited
            answer = self._ask_slack(self.cipher.open(row.bot_refresh_token))
            expires_at = self.wall_clock() + int(answer["expires_in"])
            values = {
                "bot_token": self.cipher.seal(answer["access_token"]),
                "bot_refresh_token": self.cipher.seal(answer["refresh_token"]),
                "bot_token_expires_at": datetime.fromtimestamp(expires_at, UTC).replace(
                    tzinfo=None
                ),
            }
            connection.execute(update(slack_bots).where(slack_bots.c.id == row.id).values(values))
            # The installation row keeps a copy of the bot's tokens: the spent ones go too.
            columns = slack_installations.c
            connection.execute(
                update(slack_installations)
                .where(
                    columns.client_id == self.client_id,
                    columns.enterprise_id == row.enterprise_id,
                    columns.team_id == row.team_id,
                    columns.installed_at == row.installed_at,
                )
                .values(values)
            )
            return _Fresh(token=answer["access_token"], expires_at=expires_at)

    def _ask_slack(self, refresh_token: str) -> dict[str, Any]:
        try:
            response = self.oauth_client.oauth_v2_access(
                client_id=self.client_id,
                client_secret=self.client_secret,
                grant_type="refresh_token",
                refresh_token=refresh_token,
            )
        except SlackApiError as error:
            status = error.response.status_code
            code = str(error.response.get("error") or status)
            raise TokenRefreshFailed(
                f"oauth.v2.access: {code}", lasting=status < 500 and status != 429
            ) from None
        except OSError as error:  # connection refused, reset, timed out
            raise TokenRefreshFailed(
                f"oauth.v2.access: {type(error).__name__}", lasting=False
            ) from None
        if response.get("token_type") != "bot" or not response.get("access_token"):
            raise TokenRefreshFailed("oauth.v2.access: no bot token in the answer", lasting=True)
        return dict(response.data) if isinstance(response.data, dict) else {}

    def _latest(
        self,
        connection: Connection,
        enterprise_id: str | None,
        team_id: str | None,
        *,
        lock: bool,
    ) -> Row[Any] | None:
        """The newest bot row of the workspace, else of an org-wide installation in its org.

        A team id is unique across Slack, so a workspace's own row is found by it alone, even
        for a person whose org was not known when they were first seen.
        """
        columns = slack_bots.c
        places = []
        if team_id is not None:
            places.append(columns.team_id == team_id)
        if enterprise_id is not None:
            places.append(and_(columns.enterprise_id == enterprise_id, columns.team_id.is_(None)))
        for place in places:
            query = (
                select(slack_bots)
                .where(columns.client_id == self.client_id, place, columns.bot_token.is_not(None))
                .order_by(columns.installed_at.desc())
                .limit(1)
            )
            if lock and connection.dialect.name == "postgresql":
                query = query.with_for_update()
            row = connection.execute(query).first()
            if row is not None:
                return row
        return None

    def _expiring(self, row: Row[Any]) -> bool:
        expires_at = _seconds(row.bot_token_expires_at)
        return (
            expires_at is not None and expires_at - self.refresh_margin_seconds <= self.wall_clock()
        )

    def _fresh(self, row: Row[Any]) -> _Fresh:
        return _Fresh(
            token=self.cipher.open(row.bot_token), expires_at=_seconds(row.bot_token_expires_at)
        )


def _seconds(moment: datetime | None) -> float | None:
    """slack-sdk keeps naive UTC datetimes."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class StoredTokenAuthorize(AsyncAuthorize):
    """Bolt's authorize for requests from any installed workspace, with the same tokens (and
    the same serialized refresh) as the sends; Bolt's own would refresh without the row lock."""

    def __init__(self, tokens: WorkspaceTokens, *, cache_size: int = 256) -> None:
        self.tokens = tokens
        self.cache_size = cache_size
        self._results: OrderedDict[str, AuthorizeResult] = OrderedDict()

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        try:
            token = await self.tokens.bot_token(
                enterprise_id=enterprise_id,
                team_id=None if context.is_enterprise_install else team_id,
            )
        except (NotInstalled, TokenRefreshFailed):
            return None
        known = self._results.get(token)
        if known is not None:
            self._results.move_to_end(token)
            return known
        try:
            answer = await context.client.auth_test(token=token)
        except SlackApiError:
            return None
        result = AuthorizeResult.from_auth_test_response(auth_test_response=answer, bot_token=token)
        self._results[token] = result
        while len(self._results) > self.cache_size:
            self._results.popitem(last=False)
        return result
