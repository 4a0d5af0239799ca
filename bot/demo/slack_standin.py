"""A stand-in for Slack's Web API on loopback, for the demo and the tests.

It keeps what a real workspace would: users with time zones and locales, DM channels and the
messages posted in them (with their metadata), the home views, and every call it received.
Failures can be queued per method to rehearse rate limits, server errors and gone users.

It also plays Slack's side of installing in several workspaces: the authorize page sends the
browser back with a code, oauth.v2.access trades it for a bot token of that workspace (with a
refresh token when token rotation is on, each usable once), and removing the app revokes them.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

Payload = dict[str, Any]


@dataclass
class Call:
    method: str
    args: Payload
    token: str | None
    team_id: str | None = None  # the workspace the token belongs to


@dataclass
class StandInTeam:
    id: str
    name: str
    enterprise_id: str | None = None
    # Installed for the whole Grid org rather than this one workspace.
    org_wide: bool = False


@dataclass
class IssuedToken:
    """A token oauth.v2.access gave out, and what became of it."""

    team_id: str | None
    enterprise_id: str | None
    kind: str  # "bot" or "refresh"
    expires_at: float | None = None  # wall-clock seconds; None never expires
    revoked: bool = False
    spent: bool = False  # a refresh token already used


@dataclass
class Failure:
    error: str | None = None
    status: int = 200
    retry_after: int | None = None
    delay: float = 0.0


@dataclass
class StandInUser:
    id: str
    tz: str = "Europe/London"
    locale: str = "en-GB"
    deleted: bool = False
    is_bot: bool = False
    team_id: str = "T0DEMO"


@dataclass
class PostedMessage:
    channel: str
    ts: str
    text: str
    blocks: list[Payload]
    metadata: Payload | None
    updates: int = 0


@dataclass
class SlackStandIn:
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

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._failures: dict[str, list[Failure]] = {}
        self._last_ts = 0.0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._codes: dict[str, tuple[str, str]] = {}  # code: (team id, installing user)
        self._caller: IssuedToken | None = None  # whose token the answer being made is for
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
        deadline = time.monotonic() + timeout
        with self._lock:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
        return True

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
        answer = getattr(self, "_" + method.replace(".", "_"), None)
        if answer is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        with self._lock:
            self._caller = issued
            result = answer(args)
            self._lock.notify_all()
        return 200, result, {}

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

    def _next_ts(self) -> str:
        """Slack's message ts: the posting time in seconds, unique within the stand-in."""
        self._last_ts = max(self.clock(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _user(self, user_id: str) -> StandInUser | None:
        if user_id in self.missing_users:
            return None
        user = self.users.get(user_id)
        if user is None and user_id.startswith(("U", "W")):
            user = StandInUser(id=user_id, tz=self.default_tz, team_id=self.team_id)
            self.users[user_id] = user
        return user

    def _auth_test(self, _args: Payload) -> Payload:
        caller = self._caller
        team = self.teams.get(caller.team_id or "") if caller else self.teams[self.team_id]
        enterprise_id = caller.enterprise_id if caller else None
        return {
            "ok": True,
            "team_id": team.id if team else None,
            "enterprise_id": enterprise_id,
            "user_id": self.bot_user_id,
            "bot_id": "B0BOT",
            "team": team.name if team else None,
            "user": "next-step",
            "url": "https://standin.invalid/",
            "is_enterprise_install": caller is not None and caller.team_id is None,
        }

    def _users_info(self, args: Payload) -> Payload:
        user = self._user(str(args.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        info: Payload = {
            "id": user.id,
            "team_id": user.team_id,
            "deleted": user.deleted,
            "is_bot": user.is_bot,
            "tz": user.tz,
            "tz_offset": 0,
        }
        if str(args.get("include_locale", "")).lower() in ("true", "1"):
            info["locale"] = user.locale
        return {"ok": True, "user": info}

    def _usergroups_list(self, args: Payload) -> Payload:
        with_users = str(args.get("include_users", "")).lower() in ("true", "1")
        groups: list[Payload] = []
        for number, (handle, members) in enumerate(sorted(self.usergroups.items()), start=1):
            group: Payload = {"id": f"S{number:08d}", "team_id": self.team_id, "handle": handle}
            if with_users:
                group["users"] = list(members)
            groups.append(group)
        return {"ok": True, "usergroups": groups}

    def _conversations_open(self, args: Payload) -> Payload:
        users = str(args.get("users", ""))
        user = self._user(users)
        if user is None or "," in users:
            return {"ok": False, "error": "user_not_found"}
        if user.deleted:
            return {"ok": False, "error": "user_disabled"}
        if user.is_bot:
            return {"ok": False, "error": "cannot_dm_bot"}
        return {"ok": True, "channel": {"id": _dm_channel(user.id)}}

    def _chat_postMessage(self, args: Payload) -> Payload:
        channel = str(args.get("channel", ""))
        if not channel.startswith("D"):
            return {"ok": False, "error": "channel_not_found"}
        user = self.users.get(channel[1:])
        if user is not None and user.deleted:
            return {"ok": False, "error": "account_inactive"}
        ts = self._next_ts()
        metadata = _json_field(args.get("metadata"))
        message = PostedMessage(
            channel=channel,
            ts=ts,
            text=str(args.get("text", "")),
            blocks=_json_field(args.get("blocks")) or [],
            metadata=metadata,
        )
        self.messages.append(message)
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "message": {"text": message.text, "blocks": message.blocks, "ts": ts},
        }

    def _chat_update(self, args: Payload) -> Payload:
        for message in self.messages:
            if message.channel == args.get("channel") and message.ts == args.get("ts"):
                message.text = str(args.get("text", message.text))
                message.blocks = _json_field(args.get("blocks")) or message.blocks
                message.updates += 1
                return {"ok": True, "channel": message.channel, "ts": message.ts}
        return {"ok": False, "error": "message_not_found"}

    def _chat_postEphemeral(self, args: Payload) -> Payload:
        return {"ok": True, "message_ts": self._next_ts()}

    def _files_getUploadURLExternal(self, args: Payload) -> Payload:
        file_id = f"F{len(self.uploads) + len(self.shared_files) + 1:05d}"
        self.uploads.setdefault(file_id, b"")
        return {"ok": True, "upload_url": f"{self.base_url}upload/{file_id}", "file_id": file_id}

    def _files_completeUploadExternal(self, args: Payload) -> Payload:
        files = _json_field(args.get("files")) or []
        shared = []
        for entry in files:
            data = self.uploads.get(str(entry.get("id")))
            if data is None:
                return {"ok": False, "error": "file_not_found"}
            shared.append(
                {
                    "id": entry["id"],
                    "title": entry.get("title"),
                    "channel": args.get("channel_id"),
                    "comment": args.get("initial_comment"),
                    "content": data,
                }
            )
        self.shared_files.extend(shared)
        return {"ok": True, "files": [{"id": f["id"], "title": f["title"]} for f in shared]}

    def _views_open(self, args: Payload) -> Payload:
        view = _json_field(args.get("view")) or {}
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        self.opened_views.append(view)
        return {"ok": True, "view": {"id": f"V{len(self.opened_views):04d}", **view}}

    def _views_publish(self, args: Payload) -> Payload:
        view = _json_field(args.get("view")) or {}
        self.home_views[str(args.get("user_id"))] = view
        return {"ok": True, "view": {"id": "V0HOME", **view}}

    def _conversations_history(self, args: Payload) -> Payload:
        channel = args.get("channel")
        oldest = float(args.get("oldest") or 0)
        found = [
            {
                "type": "message",
                "ts": m.ts,
                "text": m.text,
                "bot_id": "B0BOT",
                **({"metadata": m.metadata} if m.metadata else {}),
            }
            for m in reversed(self.messages)
            if m.channel == channel and float(m.ts) >= oldest
        ]
        return {"ok": True, "messages": found, "has_more": False}

    def _apps_connections_open(self, _args: Payload) -> Payload:
        if self.socket_url is None:
            return {"ok": False, "error": "socket_mode_not_available"}
        return {"ok": True, "url": self.socket_url}


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up (timeouts being rehearsed, shutdowns) are not errors here.

    Counts the connections it accepted, so tests can see whether clients reuse them.
    """

    connections = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections += 1
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _dm_channel(user_id: str) -> str:
    return f"D{user_id}"


def _json_field(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _make_handler(standin: SlackStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are written separately; with Nagle's algorithm on, a kept-alive
        # connection would wait for the client's delayed ACK (about 40 ms) on every answer.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/oauth/v2/authorize":
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                status, where = standin.authorize(query)
                if status == 302:
                    self._send(302, {}, {"Location": where})
                else:
                    self._send(status, {"ok": False, "error": where}, {})
                return
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def _answer(self) -> None:
            url = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if url.path.startswith("/upload/"):  # a file's bytes, as files_upload_v2 sends them
                standin.record_upload(url.path.removeprefix("/upload/"), raw)
                self._send(200, {"ok": True}, {})
                return
            args: Payload = {k: v[-1] for k, v in parse_qs(url.query).items()}
            content_type = self.headers.get("Content-Type", "")
            if raw:
                if "json" in content_type:
                    try:
                        loaded = json.loads(raw)
                    except ValueError:
                        loaded = {}
                    if isinstance(loaded, dict):
                        args.update(loaded)
                else:
                    args.update({k: v[-1] for k, v in parse_qs(raw.decode()).items()})
            if url.path.startswith("/respond/"):
                standin.record_response(url.path, args)
                self._send(200, {"ok": True}, {})
                return
            if not url.path.startswith("/api/"):
                self._send(404, {"ok": False, "error": "not_found"}, {})
                return
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):  # an app's client id and secret (oauth.v2.access)
                client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                args.update(client_id=client_id, client_secret=secret)
                auth = ""
            token = auth.removeprefix("Bearer ").strip() or args.pop("token", None)
            status, body, headers = standin.handle(url.path[len("/api/") :], args, token)
            self._send(status, body, headers)

        def _send(self, status: int, body: Payload, headers: dict[str, str]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            # The client may have given up already (a timeout being rehearsed).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data)

    return Handler
