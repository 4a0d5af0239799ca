"""A stand-in for Slack's Web API on loopback, for the demo and the tests.

It keeps what a real workspace would: users with time zones and locales, DM channels and the
messages posted in them (with their metadata), the home views, and every call it received.
Failures can be queued per method to rehearse rate limits, server errors and gone users.

It also plays Slack's side of installing in several workspaces: the authorize page sends the
browser back with a code, oauth.v2.access trades it for a bot token of that workspace (with a
refresh token when token rotation is on, each usable once), and removing the app revokes them.

What it records is in slack_standin_records, its answer to each Web API method in
slack_standin_web_api, its HTTP server in slack_standin_http.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

from bot.demo.slack_standin_http import _make_handler, _QuietServer
from bot.demo.slack_standin_records import (
    Call,
    Failure,
    IssuedToken,
    Payload,
    PostedMessage,
    StandInTeam,
    StandInUser,
)
from bot.demo.slack_standin_web_api import WebApiMethods, _dm_channel


@dataclass
class SlackStandIn(WebApiMethods):
    """Start with `start()`, point SLACK_API_URL at `api_url`, read `calls` and `messages`."""

    team_id: str = "T0DEMO"
    bot_user_id: str = "U0BOT"
    default_tz: str = "Europe/London"
    users: dict[str, StandInUser] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    messages: list[PostedMessage] = field(default_factory=list)
    responses: list[Payload] = field(default_factory=list)
    home_views: dict[str, Payload] = field(default_factory=dict)
    opened_views: list[Payload] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    shared_files: list[Payload] = field(default_factory=list)
    socket_url: str | None = None
    # User groups by handle, with their members; ids users.info says it has never heard of.
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    missing_users: set[str] = field(default_factory=set)
    # What "now" is for message timestamps; the demo and tests pass their own clock.
    clock: Callable[[], float] = time.time
    # The Slack app's credentials and Redirect URL, as set on its OAuth & Permissions page.
    client_id: str = "111.222"
    client_secret: str = "standin-client-secret"  # noqa: S105 (a test fixture's)
    redirect_url: str | None = None
    # Token rotation: bot tokens that expire after `token_lifetime` seconds, refresh tokens.
    token_rotation: bool = False
    token_lifetime: int = 12 * 3600
    # How long a refresh takes to answer, to widen the window two workers could race in.
    refresh_delay: float = 0.0
    teams: dict[str, StandInTeam] = field(default_factory=dict)
    tokens: dict[str, IssuedToken] = field(default_factory=dict)
    # Refresh tokens presented again after they were spent: Slack refuses them, and so do we.
    refresh_reuses: int = 0
    # Slack allows about one post a second in a conversation; when set, a post sooner than
    # this after the last one in its channel is answered 429 with a Retry-After.
    post_interval_per_channel: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._failures: dict[str, list[Failure]] = {}
        self._last_ts = 0.0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._codes: dict[str, tuple[str, str]] = {}  # code: (team id, installing user)
        self._caller: IssuedToken | None = None  # whose token the answer being made is for
        self._last_post: dict[str, float] = {}  # channel: when its last post was taken
        self.add_team(self.team_id, "Stand-in")

    # -- running -------------------------------------------------------------------------

    def start(self) -> SlackStandIn:
        handler = _make_handler(self)
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    @property
    def connections(self) -> int:
        """How many TCP connections clients have opened to the stand-in so far."""
        return self._server.connections if isinstance(self._server, _QuietServer) else 0

    @property
    def api_url(self) -> str:
        return self.base_url + "api/"

    def response_url(self, name: str = "r") -> str:
        return f"{self.base_url}respond/{name}"

    # -- arranging -----------------------------------------------------------------------

    def add_user(self, user_id: str, **fields: Any) -> StandInUser:
        user = StandInUser(id=user_id, team_id=self.team_id, **{"tz": self.default_tz, **fields})
        with self._lock:
            self.users[user_id] = user
        return user

    def add_team(
        self, team_id: str, name: str, *, enterprise_id: str | None = None, org_wide: bool = False
    ) -> StandInTeam:
        team = StandInTeam(id=team_id, name=name, enterprise_id=enterprise_id, org_wide=org_wide)
        with self._lock:
            self.teams[team_id] = team
        return team

    def authorize(self, query: Payload) -> tuple[int, str]:
        """Slack's authorize page, with the admin pressing Allow: where the browser goes next.

        The workspace is the `team` asked for, else the stand-in's own; the redirect is the one
        the request names, which must match the app's Redirect URL when that is set.
        """
        if query.get("client_id") != self.client_id:
            return 400, "invalid_client_id"
        redirect = str(query.get("redirect_uri") or self.redirect_url or "")
        if not redirect or (self.redirect_url and redirect != self.redirect_url):
            return 400, "bad_redirect_uri"
        team_id = str(query.get("team") or self.team_id)
        if team_id not in self.teams:
            return 400, "invalid_team"
        code = f"{team_id}.{secrets.token_hex(8)}"
        with self._lock:
            self._codes[code] = (team_id, str(query.get("installer") or "U0ADMIN"))
        state = {"state": query["state"]} if query.get("state") else {}
        return 302, f"{redirect}?{urlencode({'code': code, **state})}"

    def uninstall(self, team_id: str) -> None:
        """What Slack does when an admin removes the app: every token of it stops working
        (for an org-wide installation, the org's)."""
        with self._lock:
            team = self.teams[team_id]
            for issued in self.tokens.values():
                org = team.org_wide and issued.team_id is None
                if issued.team_id == team_id or (
                    org and issued.enterprise_id == team.enterprise_id
                ):
                    issued.revoked = True

    def fail_next(self, method: str, failure: Failure, times: int = 1) -> None:
        with self._lock:
            self._failures.setdefault(method, []).extend([failure] * times)

    # -- reading -------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def dms_to(self, user_id: str) -> list[PostedMessage]:
        channel = _dm_channel(user_id)
        with self._lock:
            return [m for m in self.messages if m.channel == channel]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        with self._lock:
            return self._lock.wait_for(condition, timeout)

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        self.wait_for(lambda: len([c for c in self.calls if c.method == method]) >= count, timeout)
        return self.calls_to(method)

    # -- answering -----------------------------------------------------------------------

    def handle(
        self, method: str, args: Payload, token: str | None
    ) -> tuple[int, Payload, dict[str, str]]:
        with self._lock:
            issued = self.tokens.get(token or "")
            team_id = issued.team_id if issued else (self.team_id if token else None)
            self.calls.append(Call(method=method, args=args, token=token, team_id=team_id))
            queued = self._failures.get(method)
            failure = queued.pop(0) if queued else None
            self._lock.notify_all()
        if failure is not None:
            if failure.delay:
                time.sleep(failure.delay)
            headers = (
                {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            )
            if failure.status == 429:
                return 429, {"ok": False, "error": "ratelimited"}, headers
            return (
                failure.status,
                {"ok": False, "error": failure.error or "internal_error"},
                headers,
            )
        if method == "oauth.v2.access":  # the app's own credentials, no token
            if args.get("grant_type") == "refresh_token" and self.refresh_delay:
                time.sleep(self.refresh_delay)
            with self._lock:
                result = self._oauth_v2_access(args)
                self._lock.notify_all()
            return 200, result, {}
        problem = self._token_problem(method, token)
        if problem is not None:
            return 200, {"ok": False, "error": problem}, {}
        if method == "chat.postMessage" and self.post_interval_per_channel:
            wait = self._post_slot(str(args.get("channel") or ""))
            if wait:
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
        answer = getattr(self, "_" + method.replace(".", "_"), None)
        if answer is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        with self._lock:
            self._caller = issued
            result = answer(args)
            self._lock.notify_all()
        return 200, result, {}

    def _post_slot(self, channel: str) -> int:
        """0 if a post to `channel` may go now (and it is counted), else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            last = self._last_post.get(channel)
            if last is not None and now - last < self.post_interval_per_channel:
                return max(1, math.ceil(self.post_interval_per_channel - (now - last)))
            self._last_post[channel] = now
            return 0

    def _token_problem(self, method: str, token: str | None) -> str | None:
        if not token:
            return "not_authed"
        with self._lock:
            issued = self.tokens.get(token)
        if issued is not None:
            if issued.kind != "bot" or issued.revoked:
                return "token_revoked" if issued.revoked else "not_allowed_token_type"
            if issued.expires_at is not None and issued.expires_at <= time.time():
                return "token_expired"
            return None
        # Tokens it did not issue: the one workspace's configured token, as before.
        expected = "xapp-" if method == "apps.connections.open" else "xoxb-"
        return None if token.startswith(expected) else "invalid_auth"

    def _oauth_v2_access(self, args: Payload) -> Payload:
        if args.get("client_id") != self.client_id or args.get("client_secret") != (
            self.client_secret
        ):
            return {"ok": False, "error": "invalid_client_id"}
        if args.get("grant_type") == "refresh_token":
            issued = self.tokens.get(str(args.get("refresh_token") or ""))
            if issued is None or issued.kind != "refresh" or issued.revoked:
                return {"ok": False, "error": "invalid_refresh_token"}
            if issued.spent:
                self.refresh_reuses += 1
                return {"ok": False, "error": "invalid_refresh_token"}
            issued.spent = True
            tokens = self._issue_bot_tokens(issued.team_id, issued.enterprise_id)
            return {"ok": True, "token_type": "bot", **tokens}
        grant = self._codes.pop(str(args.get("code") or ""), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        team_id, installer = grant
        team = self.teams[team_id]
        enterprise = (
            {"id": team.enterprise_id, "name": f"Org {team.enterprise_id}"}
            if team.enterprise_id
            else None
        )
        return {
            "ok": True,
            "app_id": "A0NEXTSTEP",
            "authed_user": {"id": installer},
            "scope": str(args.get("scope") or "chat:write,commands"),
            "token_type": "bot",
            "bot_user_id": self.bot_user_id,
            "team": None if team.org_wide else {"id": team.id, "name": team.name},
            "enterprise": enterprise,
            "is_enterprise_install": team.org_wide,
            **self._issue_bot_tokens(None if team.org_wide else team.id, team.enterprise_id),
        }

    def _issue_bot_tokens(self, team_id: str | None, enterprise_id: str | None) -> Payload:
        place = team_id or enterprise_id
        if not self.token_rotation:
            token = f"xoxb-{place}-{secrets.token_hex(12)}"
            self.tokens[token] = IssuedToken(team_id, enterprise_id, "bot")
            return {"access_token": token}
        token = f"xoxe.xoxb-1-{place}-{secrets.token_hex(12)}"
        refresh = f"xoxe-1-{place}-{secrets.token_hex(12)}"
        self.tokens[token] = IssuedToken(
            team_id, enterprise_id, "bot", expires_at=time.time() + self.token_lifetime
        )
        self.tokens[refresh] = IssuedToken(team_id, enterprise_id, "refresh")
        return {"access_token": token, "refresh_token": refresh, "expires_in": self.token_lifetime}

    def record_upload(self, file_id: str, data: bytes) -> None:
        with self._lock:
            self.uploads[file_id] = data
            self._lock.notify_all()

    def record_response(self, path: str, body: Payload) -> None:
        with self._lock:
            self.responses.append({"path": path, **body})
            self._lock.notify_all()
