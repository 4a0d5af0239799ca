"""Microsoft's side of Teams, on loopback: a Bot Connector that records what the bot sends,
OpenID metadata and signing keys that Teams' tokens are checked against, and a login
service (over TLS, as MSAL insists) that gives the bot its own tokens.

Activities are signed here with a generated RSA key, as the Bot Framework signs them, so
tests run with authentication on.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "test-teams-client-secret"
TENANT = "99999999-8888-7777-6666-555555555555"
ISSUER = "https://api.botframework.com"
KEY_ID = "test-signing-key"

Payload = dict[str, Any]


@dataclass
class Sent:
    """An activity the bot posted (or updated) in a conversation."""

    conversation_id: str
    activity_id: str
    activity: Payload
    updates: list[Payload] = field(default_factory=list)

    @property
    def card(self) -> Payload:
        """The latest version of the card it carries (empty if it carries none)."""
        latest = self.updates[-1] if self.updates else self.activity
        for attachment in latest.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                content: Payload = attachment.get("content") or {}
                return content
        return {}

    @property
    def text(self) -> str:
        latest = self.updates[-1] if self.updates else self.activity
        return str(latest.get("text") or "")


@dataclass
class Failure:
    status: int
    retry_after: int | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # a client hung up
        pass


@dataclass
class TeamsCloud:
    """Start with `start()`; point the settings at `service_url`, `openid_url`, `login_url`."""

    sent: list[Sent] = field(default_factory=list)
    tokens_issued: int = 0
    token_requests: list[Payload] = field(default_factory=list)
    connector_calls: list[tuple[str, str, str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        # How often the signing keys were asked for; while `keys_held` is set they are
        # answered only once it is cleared (a slow key server).
        self.key_requests = 0
        self.keys_held = threading.Event()
        self.keys_down = False  # the key server answers 503
        self._keys_released = threading.Event()
        self._failures: list[Failure] = []
        self._next_id = 0
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.tokens: set[str] = set()
        self._servers: list[ThreadingHTTPServer] = []

    # -- running ---------------------------------------------------------------------------

    def start(self, workdir: Path) -> TeamsCloud:
        self._http = self._serve(None)
        cert, key = _self_signed_certificate(workdir)
        self.ca_file = str(cert)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._https = self._serve(context)
        return self

    def _serve(self, context: ssl.SSLContext | None) -> ThreadingHTTPServer:
        server = _Server(("127.0.0.1", 0), _make_handler(self))
        if context is not None:
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._servers.append(server)
        return server

    def hold_keys(self) -> None:
        self._keys_released.clear()
        self.keys_held.set()

    def release_keys(self) -> None:
        self.keys_held.clear()
        self._keys_released.set()

    def stop(self) -> None:
        self.release_keys()
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
        port = self._http.server_address[1]
        return f"http://127.0.0.1:{port}/v1/.well-known/openidconfiguration"

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

    # -- arranging and reading ----------------------------------------------------------------

    def fail_next(self, failure: Failure, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([failure] * times)

    def to(self, conversation_id: str) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.conversation_id == conversation_id]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
        return True

    # -- answering ---------------------------------------------------------------------------

    def jwks(self) -> Payload:
        numbers = self.key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": KEY_ID,
                    "alg": "RS256",
                    "n": _b64(numbers.n),
                    "e": _b64(numbers.e),
                    "endorsements": ["msteams"],
                }
            ]
        }

    def issue_token(self, tenant: str, form: dict[str, list[str]]) -> tuple[int, Payload]:
        request = {key: values[0] for key, values in form.items()}
        with self._lock:
            self.token_requests.append({"tenant": tenant, **request})
        if (
            request.get("grant_type") != "client_credentials"
            or request.get("client_id") != CLIENT_ID
            or request.get("client_secret") != CLIENT_SECRET
        ):
            return 401, {"error": "invalid_client", "error_description": "bad client"}
        with self._lock:
            self.tokens_issued += 1
            now = int(time.time())
            claims = {"aud": "https://api.botframework.com", "appid": CLIENT_ID, "tid": tenant}
            token = jwt.encode(
                {**claims, "iat": now, "exp": now + 3600, "n": self.tokens_issued},
                self.key,
                algorithm="RS256",
            )
            self.tokens.add(token)
        return 200, {"token_type": "Bearer", "expires_in": 3600, "access_token": token}

    def connector(
        self, method: str, path: str, body: Payload, token: str | None
    ) -> tuple[int, Payload, dict[str, str]]:
        parts = path.strip("/").split("/")  # teams v3 conversations {id} activities [{id}]
        with self._lock:
            self.connector_calls.append((method, path, token))
            self._lock.notify_all()
            if token not in self.tokens:
                return 401, {"error": {"code": "Unauthorized"}}, {}
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return failure.status, {"error": {"code": "Failure"}}, headers
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


def _make_handler(cloud: TeamsCloud) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(
            self, status: int, body: Payload, headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self) -> None:
            path = urlparse(self.path).path
            port = self.server.server_address[1]  # type: ignore[index]
            base = f"http://127.0.0.1:{port}"
            if path == "/v1/.well-known/openidconfiguration":
                self._answer(
                    200,
                    {
                        "issuer": ISSUER,
                        "jwks_uri": f"{base}/v1/.well-known/keys",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    },
                )
            elif path == "/v1/.well-known/keys":
                with cloud._lock:
                    cloud.key_requests += 1
                    cloud._lock.notify_all()
                if cloud.keys_held.is_set():
                    cloud._keys_released.wait(30)
                if cloud.keys_down:
                    self._answer(503, {"error": "unavailable"})
                else:
                    self._answer(200, cloud.jwks())
            elif path.endswith("/v2.0/.well-known/openid-configuration"):
                tenant = path.strip("/").split("/")[0]
                login = f"https://127.0.0.1:{port}/{tenant}"
                self._answer(
                    200,
                    {
                        "issuer": f"{login}/v2.0",
                        "authorization_endpoint": f"{login}/oauth2/v2.0/authorize",
                        "token_endpoint": f"{login}/oauth2/v2.0/token",
                    },
                )
            else:
                self._answer(404, {"error": "not found"})

        def do_POST(self) -> None:
            path = urlparse(self.path).path
            raw = self._body()
            if path.endswith("/oauth2/v2.0/token"):
                tenant = path.strip("/").split("/")[0]
                status, body = cloud.issue_token(tenant, parse_qs(raw.decode()))
                self._answer(status, body)
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
                self._answer(400, {"error": {"code": "BadSyntax"}})
                return
            status, answer, headers = cloud.connector(method, path, body, token)
            self._answer(status, answer, headers)

    return Handler


class BlackHole:
    """A host that accepts connections and never answers (a key server that hangs): counts
    the connections it took; closes them all when stopped."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.connections: list[socket.socket] = []
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stopped:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections.append(connection)

    def stop(self) -> None:
        self._stopped = True
        self.server.close()
        for connection in self.connections:
            connection.close()


class Recorder:
    """Someone else's HTTP server on loopback: records every request it receives."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str | None]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _record(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.requests.append(
                    (self.command, self.path, self.headers.get("Authorization"))
                )
                self.send_response(201)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PUT = _record

        self.server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/teams/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _b64(number: int) -> str:
    data = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _self_signed_certificate(workdir: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = workdir / "login-cert.pem", workdir / "login-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
