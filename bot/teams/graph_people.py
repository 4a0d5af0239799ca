"""The colleagues a Teams form offers when a person types a name, searched in Microsoft Graph
with the bot's own app-only token (TEAMS_DIRECTORY_SEARCH=graph).

Teams' people picker is documented for desktop and web only; a dataset the bot serves itself
(an `application/search` invoke, bot.teams.search_listeners) is documented for iOS and Android
too. The search is Microsoft Graph's List users (`GET /v1.0/users` with `$search` on
displayName and mail, `ConsistencyLevel: eventual`), which accepts the application permission
User.Read.All; the token is asked for the activity's own tenant, so a person only ever finds
colleagues of their own organisation.

Teams waits a few seconds for the answer, so the whole search (token and Graph) has a short
budget, and every failure (no consent, throttled, slow, down, nonsense back) answers with no
one and one log line per kind of failure, never an error.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from bot.teams.activity_reading import aad_id
from bot.teams.app_tokens import TokenUnavailable
from messages.model import clean_typed

logger = logging.getLogger(__name__)

# Teams asks for 15 (the most its dropdown shows) and so do we.
MAX_RESULTS = 15
# Fewer letters than this find half the company; more than this is not a name or an address.
MIN_QUERY = 2
MAX_QUERY = 64
# The token and Graph's answer together; Teams shows nothing if the invoke takes too long.
SEARCH_TIMEOUT_SECONDS = 3.0
# How long a 429 without Retry-After keeps the search quiet, and the most a Retry-After may.
THROTTLE_SECONDS = 5.0
MAX_THROTTLE_SECONDS = 60.0
TITLE_LIMIT = 150
SELECT = "id,displayName,mail,jobTitle"
PERMISSION = "User.Read.All"


class GraphTokens(Protocol):
    """The bot's token provider (bot.teams.app_tokens) as the search uses it."""

    async def graph_token(self, graph_url: str, tenant_id: str) -> str: ...

    def serves_tenant(self, tenant_id: str) -> bool: ...


@dataclass(frozen=True)
class Colleague:
    """One answer: what the dropdown shows, and the Entra object id the form submits."""

    title: str
    user_id: str


def search_clause(text: str) -> str | None:
    """Graph's `$search` for what a person typed: their words matched against display names
    (Graph splits both into words) or the start of a mail address. None for text too short or
    too long to search. Inside a clause a double quote and a backslash are escaped with a
    backslash (Graph's rules for `$search` on directory objects)."""
    words = " ".join(clean_typed(text).split())
    if not MIN_QUERY <= len(words) <= MAX_QUERY:
        return None
    escaped = words.replace("\\", "\\\\").replace('"', '\\"')
    return f'"displayName:{escaped}" OR "mail:{escaped}"'


def users_url(graph_url: str, clause: str) -> str:
    """List users with the search, the four properties shown, at most MAX_RESULTS. Built by
    hand: Graph's examples keep `$` and `,` as they are, and the clause is percent-encoded
    whole (a `&` or `+` typed is a letter of the name, not a separator)."""
    query = f"$search={quote(clause, safe='')}&$select={SELECT}&$top={MAX_RESULTS}"
    return f"{graph_url}/v1.0/users?{query}"


def colleagues_in(body: Any) -> list[Colleague]:
    """The people in Graph's answer, each with an object id and a name; anything else is
    skipped."""
    users = body.get("value") if isinstance(body, dict) else None
    found: list[Colleague] = []
    for user in users if isinstance(users, list) else []:
        if not isinstance(user, dict):
            continue
        user_id = aad_id(user.get("id"))
        name = _plain(user.get("displayName"))
        if user_id is None or not name:
            continue
        found.append(Colleague(_title(name, user), user_id))
    return found[:MAX_RESULTS]


def _title(name: str, user: dict[str, Any]) -> str:
    """ "Morgan Lee (Head of Sales, morgan@contoso.com)": two people of one name differ."""
    details = [part for part in (_plain(user.get("jobTitle")), _plain(user.get("mail"))) if part]
    title = f"{name} ({', '.join(details)})" if details else name
    return title[:TITLE_LIMIT]


def _plain(value: object) -> str:
    return " ".join(clean_typed(value).split()) if isinstance(value, str) else ""


class GraphPeople:
    """The search, for the life of the process: one HTTP client, and what it has already said
    in the log (a failure is logged when it starts or changes, not at every letter typed)."""

    def __init__(
        self,
        tokens: GraphTokens,
        graph_url: str,
        *,
        timeout: float = SEARCH_TIMEOUT_SECONDS,
    ) -> None:
        self.tokens = tokens
        self.graph_url = graph_url.rstrip("/")
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None
        # One token request per tenant at a time: letters typed while the login service is
        # slow wait for the same request instead of each holding a thread of their own.
        self._token_requests: dict[str, asyncio.Task[str]] = {}
        self._quiet_until: dict[str, float] = {}  # tenant -> monotonic end of a 429's wait
        self._last_problem: str | None = None

    async def search(self, tenant_id: str, text: str) -> list[Colleague]:
        clause = search_clause(text)
        if clause is None:
            return []
        if not self.tokens.serves_tenant(tenant_id):
            self._problem(
                "tenant",
                "Teams: a person of another tenant searched for a colleague; the bot's managed "
                "identity gets Microsoft Graph tokens for its own tenant only, so they find no one",
            )
            return []
        if time.monotonic() < self._quiet_until.get(tenant_id, 0.0):
            return []  # Graph asked us to wait
        try:
            async with asyncio.timeout(self.timeout):
                token = await asyncio.shield(self._token(tenant_id))
                response = await self._http().get(
                    users_url(self.graph_url, clause),
                    headers={"Authorization": f"Bearer {token}", "ConsistencyLevel": "eventual"},
                )
        except TimeoutError:
            self._problem(
                "timeout",
                f"Teams: Microsoft Graph did not answer the directory search within "
                f"{self.timeout:.0f} s; the form offered no one",
            )
            return []
        except TokenUnavailable:
            return []  # bot.teams.app_tokens has said why
        except httpx.HTTPError as error:
            self._problem(
                f"http {type(error).__name__}",
                f"Teams: Microsoft Graph could not be reached for the directory search "
                f"({type(error).__name__}); the form offered no one",
            )
            return []
        return self._read(tenant_id, response)

    def _token(self, tenant_id: str) -> asyncio.Task[str]:
        running = self._token_requests.get(tenant_id)
        if running is None or running.done():
            running = asyncio.ensure_future(self.tokens.graph_token(self.graph_url, tenant_id))
            running.add_done_callback(_consume)
            self._token_requests[tenant_id] = running
        return running

    def _read(self, tenant_id: str, response: httpx.Response) -> list[Colleague]:
        status = response.status_code
        if status == 200:
            try:
                body = response.json()
            except ValueError:
                self._problem("not json", "Teams: Microsoft Graph answered the search with no JSON")
                return []
            if self._last_problem is not None:
                logger.info("Teams: the directory search in Microsoft Graph works again")
                self._last_problem = None
            return colleagues_in(body)
        code = _graph_error(response)
        if status == 403:
            self._problem(
                "403",
                f"Teams: Microsoft Graph refused the directory search (403 {code}): give the "
                f"bot's app registration the Microsoft Graph application permission "
                f"{PERMISSION} and grant admin consent for the tenant (docs/deploy.md, "
                f'"Phones: the directory search"); until then the forms offer no one',
                level=logging.ERROR,
            )
        elif status == 429:
            wait = _retry_after(response)
            self._quiet_until[tenant_id] = time.monotonic() + wait
            self._problem(
                "429",
                f"Teams: Microsoft Graph throttles the directory search (429); it rests "
                f"{wait:.0f} s and offers no one meanwhile",
            )
        else:
            self._problem(
                f"status {status}",
                f"Teams: Microsoft Graph answered the directory search with {status} {code}; "
                f"the form offered no one",
            )
        return []

    def _problem(self, kind: str, line: str, *, level: int = logging.WARNING) -> None:
        if kind != self._last_problem:
            logger.log(level, line)
        self._last_problem = kind

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        return self._client

    async def close(self) -> None:
        for task in self._token_requests.values():
            task.cancel()
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _consume(task: asyncio.Task[str]) -> None:
    """A token request nobody waits for any more (the search timed out) still ends quietly."""
    if not task.cancelled():
        task.exception()


def _retry_after(response: httpx.Response) -> float:
    try:
        seconds = float(response.headers.get("Retry-After", THROTTLE_SECONDS))
    except ValueError:
        seconds = THROTTLE_SECONDS
    return min(max(seconds, 1.0), MAX_THROTTLE_SECONDS)


_CODE = re.compile(r"[A-Za-z0-9_.]{1,80}")


def _graph_error(response: httpx.Response) -> str:
    """Graph's error code (`Authorization_RequestDenied`, ...): no data, only the kind."""
    try:
        error = response.json().get("error")
        code = error.get("code") if isinstance(error, dict) else None
    except (ValueError, AttributeError):
        code = None
    return code if isinstance(code, str) and _CODE.fullmatch(code) else "(no error code)"
