"""A stand-in for Microsoft's side of Teams on loopback, for the demo and the tests: a Bot
Connector that keeps what the bot posts in each conversation (and its updates), the OpenID
metadata and signing keys that Teams' tokens are checked against, a login service that
gives the bot its own tokens (bot.demo.teams_standin_login, over TLS), and Entra ID's side of
the Home tab's sign-in: a tenant's keys and, for the tab's test mode, a person's token.

What Teams sends a bot is signed here with a generated RSA key, as the Bot Framework signs
it, so the bot runs with authentication on. Tests extend it (tests/bot/teams/fakes.py) with
failures, other credentials, a managed-identity endpoint and OneDrive.
"""

from __future__ import annotations

import base64
import json
import ssl
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.demo.teams_standin_login import LoginService, tenant_configuration, tls_certificate
from bot.demo.teams_standin_records import (
    BOT_RESOURCE,
    CLIENT_ID,
    CLIENT_SECRET,
    ISSUER,
    KEY_ID,
    TENANT,
    Payload,
    Sent,
)

OPENID_PATH = "/v1/.well-known/openidconfiguration"
KEYS_PATH = "/v1/.well-known/keys"
# Entra ID's signing keys of a tenant (the Home tab's sign-in tokens), under the login URL.
ENTRA_KEYS_PATH = "/discovery/v2.0/keys"
# Where the Home tab's page takes its token in test mode (NOTPROMOTED_TEAMS_TAB_TEST_TOKEN_URL):
# what Teams' getAuthToken() would give the person signed in here (`signed_in`).
TAB_TOKEN_PATH = "/tab-sso/token"  # noqa: S105 (a path)
ENTRA_KEY_ID = "stand-in-entra-key"
# An answer: its status, its JSON body and any headers.
Answer = tuple[int, Payload, dict[str, str]]


class QuietServer(ThreadingHTTPServer):
    """Clients that hang up (a shutdown, a timeout) are not errors here."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError | ssl.SSLError | TimeoutError):
            super().handle_error(request, client_address)


@dataclass
class TeamsStandIn(LoginService):
    """Start with `start(folder)`; point the settings at `service_url`, `openid_url` and
    `login_url`, and trust `ca_file` for the login service; read `sent`."""

    sent: list[Sent] = field(default_factory=list)
    tokens_issued: int = 0
    token_requests: list[Payload] = field(default_factory=list)
    connector_calls: list[tuple[str, str, str | None]] = field(default_factory=list)
    # How long an issued token lasts.
    token_lifetime: int = 3600
    # The app registration's secret.
    client_secret: str = CLIENT_SECRET
    # The Home tab's single sign-on: who is signed in to Teams here (an Entra object id, or
    # None: nobody, the token URL answers 401), and the audience of the tokens it gives.
    signed_in: str | None = None
    tab_audience: str = ""

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._next_id = 0
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        # Entra ID's own key, for the people's sign-in tokens (the Bot Framework's is apart).
        self.entra_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.tokens: dict[str, str] = {}
        self.token_claims: dict[str, Payload] = {}
        self._servers: list[ThreadingHTTPServer] = []
        self.ca_file = ""

    # -- running ---------------------------------------------------------------------------

    def start(self, workdir: Path) -> Self:
        """Serve on loopback: the connector and keys over HTTP, the login service over TLS
        (its certificate and key are written to `workdir`)."""
        self._http = self.serve(_make_handler(self))
        cert, key = tls_certificate(workdir)
        self.ca_file = str(cert)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._https = self.serve(_make_handler(self), context)
        return self

    def serve(
        self, handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext | None = None
    ) -> ThreadingHTTPServer:
        server = QuietServer(("127.0.0.1", 0), handler)
        if context is not None:
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._servers.append(server)
        return server

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}/teams/"

    @property
    def connector_host(self) -> str:
        return f"127.0.0.1:{self._http.server_address[1]}"

    @property
    def openid_url(self) -> str:
        return f"http://127.0.0.1:{self._http.server_address[1]}{OPENID_PATH}"

    @property
    def login_url(self) -> str:
        return f"https://127.0.0.1:{self._https.server_address[1]}"

    # -- what Teams sends --------------------------------------------------------------------

    def sign(self, *, service_url: str | None = None, **overrides: Any) -> str:
        """A Bot Framework token for one request to the bot, signed with the published key."""
        now = int(time.time())
        claims: Payload = {
            "iss": ISSUER,
            "aud": CLIENT_ID,
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "serviceurl": service_url or self.service_url,
            **overrides,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KEY_ID})

    def sign_user(self, user: str, *, tenant: str = TENANT, **overrides: Any) -> str:
        """An Entra ID v2 access token for `user`, as Teams' getAuthToken() gives the Home tab
        (audience `tab_audience`, the delegated scope access_as_user), signed with the key
        published at the tenant's {login}/{tenant}/discovery/v2.0/keys."""
        now = int(time.time())
        claims: Payload = {
            "iss": f"{self.login_url}/{tenant}/v2.0",
            "aud": self.tab_audience,
            "tid": tenant,
            "oid": user,
            "scp": "access_as_user",
            "ver": "2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            **overrides,
        }
        return jwt.encode(claims, self.entra_key, algorithm="RS256", headers={"kid": ENTRA_KEY_ID})

    @property
    def tab_token_url(self) -> str:
        """NOTPROMOTED_TEAMS_TAB_TEST_TOKEN_URL for a bot whose tab signs in here."""
        return f"http://127.0.0.1:{self._http.server_address[1]}{TAB_TOKEN_PATH}"

    # -- reading -------------------------------------------------------------------------------

    def to(self, conversation_id: str) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.conversation_id == conversation_id]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> bool:
        with self._lock:
            return self._lock.wait_for(condition, timeout)

    # -- answering ---------------------------------------------------------------------------

    def jwks(self) -> Payload:
        return {"keys": [{**_public_jwk(self.key, KEY_ID), "endorsements": ["msteams"]}]}

    def signing_keys(self) -> Answer:
        return 200, self.jwks(), {}

    def entra_keys(self) -> Answer:
        """A tenant's Entra ID signing keys (no endorsements: those are the Bot Framework's)."""
        return 200, {"keys": [_public_jwk(self.entra_key, ENTRA_KEY_ID)]}, {}

    def tab_token(self) -> Answer:
        """The test mode's stand-in for getAuthToken(): a token for whoever is signed in, to
        a page on another loopback port (hence the CORS header)."""
        cors = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}
        with self._lock:
            user = self.signed_in
        if user is None:
            return 401, {"error": "nobody is signed in"}, cors
        return 200, {"token": self.sign_user(user)}, cors

    def answer_get(self, path: str, query: dict[str, str], headers: Any, port: int) -> Answer:
        """A GET to the stand-in (on either port): metadata, keys, a tenant's configuration."""
        if path == OPENID_PATH:
            metadata = {
                "issuer": ISSUER,
                "jwks_uri": f"http://127.0.0.1:{port}{KEYS_PATH}",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
            return 200, metadata, {}
        if path == KEYS_PATH:
            return self.signing_keys()
        if path.endswith(ENTRA_KEYS_PATH) and path.count("/") == 4:
            return self.entra_keys()
        if path == TAB_TOKEN_PATH:
            return self.tab_token()
        if path.endswith("/v2.0/.well-known/openid-configuration"):
            return 200, tenant_configuration(port, path.strip("/").split("/")[0]), {}
        return 404, {"error": "not found"}, {}

    def refusal(self) -> Answer | None:
        """What the connector answers instead of doing a call the bot was entitled to make
        (None: it does it). Tests queue failures here."""
        return None

    def connector(self, method: str, path: str, body: Payload, token: str | None) -> Answer:
        """The Bot Connector: post an activity to a conversation, or replace one."""
        parts = path.strip("/").split("/")  # teams v3 conversations {id} activities [{id}]
        with self._lock:
            self.connector_calls.append((method, path, token))
            self._lock.notify_all()
            if token is None or self.token_claims.get(token, {}).get("aud") != BOT_RESOURCE:
                return 401, {"error": {"code": "Unauthorized"}}, {}
        refused = self.refusal()
        if refused is not None:
            return refused
        if len(parts) < 5 or parts[:3] != ["teams", "v3", "conversations"]:
            return 404, {"error": {"code": "NotFound"}}, {}
        conversation = parts[3]
        with self._lock:
            if method == "POST" and len(parts) == 5:
                self._next_id += 1
                activity_id = f"1700000000{self._next_id:06d}"
                self.sent.append(Sent(conversation, activity_id, body))
                self._lock.notify_all()
                return 201, {"id": activity_id}, {}
            if method == "PUT" and len(parts) == 6:
                for sent in self.sent:
                    if sent.conversation_id == conversation and sent.activity_id == parts[5]:
                        sent.updates.append(body)
                        self._lock.notify_all()
                        return 200, {"id": parts[5]}, {}
        return 404, {"error": {"code": "ActivityNotFound"}}, {}


def _make_handler(standin: TeamsStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, answer: Answer) -> None:
            status, body, headers = answer
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        @property
        def _port(self) -> int:
            return int(self.server.server_address[1])  # type: ignore[index]

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            self._answer(standin.answer_get(url.path, query, self.headers, self._port))

        def do_POST(self) -> None:
            path = urlparse(self.path).path
            raw = self._body()
            if path.endswith("/oauth2/v2.0/token"):
                tenant = path.strip("/").split("/")[0]
                endpoint = f"https://127.0.0.1:{self._port}{path}"
                status, body = standin.issue_token(tenant, parse_qs(raw.decode()), endpoint)
                self._answer((status, body, {}))
                return
            self._connector("POST", path, raw)

        def do_PUT(self) -> None:
            self._connector("PUT", urlparse(self.path).path, self._body())

        def _connector(self, method: str, path: str, raw: bytes) -> None:
            auth = self.headers.get("Authorization") or ""
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._answer((400, {"error": {"code": "BadSyntax"}}, {}))
                return
            self._answer(standin.connector(method, path, body, token))

    return Handler


def _public_jwk(key: rsa.RSAPrivateKey, key_id: str) -> Payload:
    numbers = key.public_key().public_numbers()
    return {
        "kty": "RSA",
        "use": "sig",
        "kid": key_id,
        "alg": "RS256",
        "n": _b64(numbers.n),
        "e": _b64(numbers.e),
    }


def _b64(number: int) -> str:
    data = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
