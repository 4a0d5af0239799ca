"""Microsoft's side of Teams, on loopback, for the tests: the package's stand-in
(bot.demo.teams_standin: a Bot Connector that records what the bot sends, OpenID metadata and
signing keys that Teams' tokens are checked against, a login service over TLS that gives the
bot its own tokens for a client secret) with what only the tests need on top: queued
failures, a slow or failing key server, a certificate's signed assertion or a federated token
as the bot's credential, a host's managed-identity endpoint (App Service's protocol:
IDENTITY_ENDPOINT and IDENTITY_HEADER), a person's OneDrive that takes uploads into the
sessions a file consent hands out, and Microsoft Graph's List users over each tenant's
directory (the forms' directory search), its tokens carrying the roles an admin granted.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlparse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from bot.demo.teams_standin import Answer, QuietServer, TeamsStandIn
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

IDENTITY_HEADER = "test-identity-header"
# The application permissions that let an app-only token list users (Graph's List users page).
LIST_USERS_ROLES = frozenset(
    {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

__all__ = [
    "BOT_RESOURCE",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "ISSUER",
    "KEY_ID",
    "TENANT",
    "Payload",
    "Sent",
]


@dataclass
class Failure:
    status: int
    retry_after: int | None = None


@dataclass
class UploadSession:
    """A OneDrive upload session Teams made when a person accepted a file consent card."""

    name: str
    session_id: str
    unique_id: str
    received: bytearray = field(default_factory=bytearray)
    total: int | None = None
    # Every PUT: its Content-Range, Authorization header (never wanted) and body's length.
    puts: list[tuple[str | None, str | None, int]] = field(default_factory=list)
    finished: bool = False


class Hold:
    """A service that, while held, keeps each request waiting (up to 30 s) until released:
    a hang, or a slow answer."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()

    @property
    def held(self) -> bool:
        return not self._open.is_set()

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def wait(self) -> None:
        self._open.wait(30)


@dataclass
class TeamsCloud(TeamsStandIn):
    """Start with `start()`; point the settings at `service_url`, `openid_url`, `login_url`."""

    # Certificate assertions that were checked: their JWT header and claims.
    assertions: list[tuple[Payload, Payload]] = field(default_factory=list)
    # Requests to the managed-identity endpoint: the query and the identity header.
    identity_requests: list[tuple[dict[str, str], str | None]] = field(default_factory=list)
    # The header the managed-identity endpoint wants.
    identity_header: str = IDENTITY_HEADER
    # Microsoft Graph: each tenant's people (id, displayName, mail, jobTitle), the
    # application permissions an admin granted the bot in each tenant (in its tokens' roles),
    # and every request to List users: its query and its headers.
    directory: dict[str, list[Payload]] = field(default_factory=dict)
    graph_roles: dict[str, set[str]] = field(default_factory=lambda: {TENANT: {"User.Read.All"}})
    graph_requests: list[tuple[dict[str, str], dict[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__post_init__()
        # How often the signing keys were asked for; while held they are answered only once
        # released (a slow key server).
        self.key_requests = 0
        self.keys_hold = Hold()
        self.keys_down = False  # the key server answers 503
        self._failures: list[Failure] = []
        # The app registration's credentials besides the secret: certificates (by SHA-256
        # thumbprint) and the federated tokens it trusts.
        self.certificates: dict[str, x509.Certificate] = {}
        self.federated_tokens: set[str] = set()
        # OneDrive: upload sessions by id, and the answers the next PUTs get instead.
        self.uploads: dict[str, UploadSession] = {}
        self.upload_failures: list[int] = []
        # While held, OneDrive takes a PUT and answers only once released (a hang).
        self.upload_hold = Hold()
        # Graph's answers to the next List users requests instead of the directory's
        # (status, Retry-After), and while held, it answers only once released.
        self.graph_failures: list[Failure] = []
        self.graph_hold = Hold()

    # -- running ---------------------------------------------------------------------------

    def start(self, workdir: Path) -> Self:
        super().start(workdir)
        self._onedrive = self.serve(_onedrive_handler(self))
        return self

    def hold_keys(self) -> None:
        self.keys_hold.hold()

    def release_keys(self) -> None:
        self.keys_hold.release()

    def hold_graph(self) -> None:
        self.graph_hold.hold()

    def release_graph(self) -> None:
        self.graph_hold.release()

    def stop(self) -> None:
        for hold in (self.keys_hold, self.graph_hold, self.upload_hold):
            hold.release()
        super().stop()

    @property
    def graph_url(self) -> str:
        """Microsoft Graph's base URL (TEAMS_GRAPH_URL in the tests): plain http, on loopback."""
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    @property
    def upload_host(self) -> str:
        """The fake OneDrive's host and port (what TEAMS_UPLOAD_HOSTS names in the tests)."""
        return f"127.0.0.1:{self._onedrive.server_address[1]}"

    @property
    def identity_endpoint(self) -> str:
        """What App Service puts in IDENTITY_ENDPOINT (plain http, on the host itself)."""
        return f"http://127.0.0.1:{self._http.server_address[1]}/msi/token"

    # -- arranging and reading ----------------------------------------------------------------

    def fail_next(self, failure: Failure, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([failure] * times)

    def upload_session(self, name: str) -> Payload:
        """What Teams puts in `uploadInfo` when a person accepts a file consent card: a new
        upload session in their OneDrive for the file `name`."""
        session = UploadSession(name, uuid.uuid4().hex, str(uuid.uuid4()).upper())
        with self._lock:
            self.uploads[session.session_id] = session
        base = f"http://{self.upload_host}"
        return {
            "contentUrl": f"{base}/personal/Documents/Applications/{name}",
            "name": name,
            "uploadUrl": f"{base}/up/{session.session_id}",
            "uniqueId": session.unique_id,
            "fileType": name.rpartition(".")[2],
            "etag": "1",
        }

    def fail_uploads(self, status: int, times: int = 1) -> None:
        with self._lock:
            self.upload_failures.extend([status] * times)

    def hold_uploads(self) -> None:
        self.upload_hold.hold()

    def release_uploads(self) -> None:
        self.upload_hold.release()

    def upload_puts(self) -> int:
        with self._lock:
            return sum(len(session.puts) for session in self.uploads.values())

    def put_range(
        self, session_id: str, content_range: str | None, authorization: str | None, body: bytes
    ) -> tuple[int, Payload]:
        """OneDrive's "upload bytes to the upload session": ranges in order, with the same
        total; 202 and the next expected range until the last byte, then 201 and the item."""
        with self._lock:
            session = self.uploads.get(session_id)
            if session is None:
                return 404, {"error": {"code": "itemNotFound"}}
            session.puts.append((content_range, authorization, len(body)))
            self._lock.notify_all()
            if self.upload_failures:
                return self.upload_failures.pop(0), {"error": {"code": "serviceNotAvailable"}}
            if authorization is not None:
                return 401, {"error": {"code": "unauthenticated"}}
            parsed = _content_range(content_range)
            if parsed is None or session.finished:
                return 400, {"error": {"code": "invalidRange"}}
            first, last, total = parsed
            if session.total not in (None, total) or last >= total or len(body) != last - first + 1:
                return 400, {"error": {"code": "invalidRange"}}
            if first != len(session.received):
                return 416, {"error": {"code": "invalidRange"}}
            session.total = total
            session.received += body
            if len(session.received) < total:
                return 202, {"nextExpectedRanges": [f"{len(session.received)}-"]}
            session.finished = True
            return 201, {"id": session.unique_id, "name": session.name, "size": total, "file": {}}

    def uploaded(self) -> dict[str, bytes]:
        """The finished files, by name."""
        with self._lock:
            return {s.name: bytes(s.received) for s in self.uploads.values() if s.finished}

    # -- answering ---------------------------------------------------------------------------

    def refusal(self) -> Answer | None:
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is None:
            return None
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
        return failure.status, {"error": {"code": "Failure"}}, headers

    def signing_keys(self) -> Answer:
        return self._keys(super().signing_keys)

    def entra_keys(self) -> Answer:
        """Entra ID's keys, held and failed like the Bot Framework's (one key server here)."""
        return self._keys(super().entra_keys)

    def _keys(self, answer: Callable[[], Answer]) -> Answer:
        """A key server's answer, counted, after any hold, or a 503 while it is down."""
        with self._lock:
            self.key_requests += 1
            self._lock.notify_all()
        self.keys_hold.wait()
        if self.keys_down:
            return 503, {"error": "unavailable"}, {}
        return answer()

    def answer_get(self, path: str, query: dict[str, str], headers: Any, port: int) -> Answer:
        if path == "/msi/token":
            status, body = self.identity_token(query, headers.get("X-IDENTITY-HEADER"))
            return status, body, {}
        if path == "/v1.0/users":
            return self.list_users(query, {key.lower(): value for key, value in headers.items()})
        return super().answer_get(path, query, headers, port)

    def granted(self, tenant: str, audience: str) -> Payload:
        """A Graph token carries the application permissions granted in its tenant, in
        `roles`, as Entra ID's do."""
        if audience != self.graph_url:
            return {}
        return {"roles": sorted(self.graph_roles.get(tenant, set()))}

    def trust_certificate(self, certificate: x509.Certificate) -> None:
        """Upload a certificate to the app registration (Certificates & secrets)."""
        self.certificates[_thumbprint(certificate, hashes.SHA256())] = certificate

    def credential_kind(
        self, request: dict[str, str], token_endpoint: str
    ) -> tuple[str | None, str | None]:
        """Besides a secret: a client assertion that is a trusted federated token or a JWT
        signed with a registered certificate's key."""
        if "client_secret" in request or request.get("client_assertion_type") != ASSERTION_TYPE:
            return super().credential_kind(request, token_endpoint)
        assertion = request.get("client_assertion") or ""
        if assertion in self.federated_tokens:
            return "federated", None
        problem = self._check_certificate_assertion(assertion, token_endpoint)
        return (None, problem) if problem is not None else ("certificate", None)

    def _check_certificate_assertion(self, assertion: str, token_endpoint: str) -> str | None:
        """None if the assertion is signed by a registered certificate's key, names it by its
        SHA-256 thumbprint, carries it in x5c, and is meant for this token endpoint."""
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            header = {}
        if "x5t#S256" not in header and "x5t" not in header:  # not a certificate's
            return "AADSTS70021: No matching federated identity record found for the assertion."
        # base64url, with or without its padding (MSAL keeps it)
        certificate = self.certificates.get(str(header.get("x5t#S256")).rstrip("="))
        if certificate is None:
            return "AADSTS700027: The certificate used to sign the assertion is not registered."
        der = certificate.public_bytes(serialization.Encoding.DER)
        x5c = header.get("x5c")
        sent = ["".join(str(entry).split()) for entry in x5c] if isinstance(x5c, list) else []
        if sent[:1] != [base64.b64encode(der).decode()]:
            return "AADSTS700027: x5c does not hold the certificate."
        if header.get("alg") not in ("PS256", "RS256"):
            return "AADSTS700027: unsupported algorithm."
        try:
            claims = jwt.decode(
                assertion,
                certificate.public_key(),  # type: ignore[arg-type]
                algorithms=[str(header["alg"])],
                audience=token_endpoint,
                issuer=CLIENT_ID,
                options={"require": ["exp", "aud", "iss", "sub", "jti"]},
            )
        except jwt.PyJWTError as error:
            return f"AADSTS700027: Client assertion failed signature validation ({error})."
        if claims.get("sub") != CLIENT_ID:
            return "AADSTS700027: the subject is not the client."
        with self._lock:
            self.assertions.append((header, claims))
        return None

    def identity_token(self, query: dict[str, str], header: str | None) -> tuple[int, Payload]:
        """App Service's managed-identity endpoint: the identity header, api-version
        2019-08-01, and a token for the resource, for the user-assigned identity named."""
        with self._lock:
            self.identity_requests.append((query, header))
        if header != self.identity_header:
            return 401, {"statusCode": 401, "message": "Unauthorized: wrong X-IDENTITY-HEADER"}
        resource = query.get("resource")
        if query.get("api-version") != "2019-08-01" or resource not in (
            BOT_RESOURCE,
            self.graph_url,
        ):
            return 400, {"statusCode": 400, "message": "Bad request"}
        if query.get("client_id") != CLIENT_ID:
            return 400, {"statusCode": 400, "message": "No managed identity with that client id"}
        issued = self.issue("managed identity", TENANT, str(resource))
        return 200, {
            "access_token": issued["access_token"],
            "expires_on": str(int(time.time()) + self.token_lifetime),
            "resource": resource,
            "token_type": "Bearer",
            "client_id": CLIENT_ID,
        }

    def list_users(
        self, query: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, Payload, dict[str, str]]:
        """Graph's List users with `$search`, as its documentation describes it: a token for
        Graph (audience) with a role that may list users, else 401/403; `$search` only with
        `ConsistencyLevel: eventual`; clauses `"property:text"` joined by OR, displayName
        matched word by word (each typed word starts a word of the name), mail by its start;
        `$select` and `$top` applied. The tenant is the token's."""
        with self._lock:
            self.graph_requests.append((query, headers))
            self._lock.notify_all()
        self.graph_hold.wait()
        auth = headers.get("authorization") or ""
        claims = self.token_claims.get(auth.removeprefix("Bearer "), {})
        if not auth.startswith("Bearer ") or claims.get("aud") != self.graph_url:
            return 401, _graph_error("InvalidAuthenticationToken"), {}
        if not LIST_USERS_ROLES & set(claims.get("roles") or []):
            return 403, _graph_error("Authorization_RequestDenied"), {}
        with self._lock:
            failure = self.graph_failures.pop(0) if self.graph_failures else None
        if failure is not None:
            retry = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return failure.status, _graph_error("TooManyRequests"), retry
        search = query.get("$search")
        if search is not None and headers.get("consistencylevel") != "eventual":
            return 400, _graph_error("Request_UnsupportedQuery"), {}
        clauses = _search_clauses(search) if search is not None else []
        if clauses is None:
            return 400, _graph_error("Request_BadRequest"), {}
        people = [
            person
            for person in self.directory.get(str(claims["tid"]), [])
            if not clauses or any(_matches(person, prop, text) for prop, text in clauses)
        ]
        top = int(query.get("$top") or 100)
        select = (query.get("$select") or "id,displayName,mail,jobTitle").split(",")
        found = [{key: person.get(key) for key in select} for person in people[:top]]
        return 200, {"@odata.context": "$metadata#users", "value": found}, {}


def _graph_error(code: str) -> Payload:
    return {"error": {"code": code, "message": code}}


_CLAUSE = re.compile(r'"((?:[^"\\]|\\.)*)"')


def _search_clauses(search: str) -> list[tuple[str, str]] | None:
    """`"displayName:mor" OR "mail:mor"` as (property, text) pairs; None if malformed."""
    clauses: list[tuple[str, str]] = []
    rest = search.strip()
    while rest:
        found = _CLAUSE.match(rest)
        if found is None:
            return None
        prop, colon, text = re.sub(r"\\(.)", r"\1", found.group(1)).partition(":")
        if not colon or prop not in ("displayName", "mail"):
            return None
        clauses.append((prop, text))
        rest = rest[found.end() :].strip()
        if rest:
            if not rest.startswith("OR "):
                return None
            rest = rest[3:].strip()
    return clauses


def _matches(person: Payload, prop: str, text: str) -> bool:
    value = str(person.get(prop) or "").lower()
    if prop == "mail":
        return bool(text) and value.startswith(text.lower())
    words = re.findall(r"\w+", value)
    typed = re.findall(r"\w+", text.lower())
    return bool(typed) and all(any(w.startswith(t) for w in words) for t in typed)


def _onedrive_handler(cloud: TeamsCloud) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = urlparse(self.path).path
            cloud.upload_hold.wait()
            session_id = path.removeprefix("/up/") if path.startswith("/up/") else ""
            status, answer = cloud.put_range(
                session_id,
                self.headers.get("Content-Range"),
                self.headers.get("Authorization"),
                body,
            )
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _content_range(value: str | None) -> tuple[int, int, int] | None:
    """`bytes first-last/total`, or None."""
    unit, _, spec = (value or "").partition(" ")
    span, _, total = spec.partition("/")
    first, _, last = span.partition("-")
    try:
        parsed = int(first), int(last), int(total)
    except ValueError:
        return None
    return parsed if unit == "bytes" and 0 <= parsed[0] <= parsed[1] else None


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

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def service_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/teams/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _thumbprint(certificate: x509.Certificate, algorithm: hashes.HashAlgorithm) -> str:
    digest = certificate.fingerprint(algorithm)
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def bot_certificate(
    workdir: Path, *, password: str | None = None, name: str = "bot"
) -> tuple[Path, x509.Certificate]:
    """A certificate for the bot's app registration, and a PEM file with its key and it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name}.notpromoted.test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    path = workdir / f"{name}.pem"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        + certificate.public_bytes(serialization.Encoding.PEM)
    )
    return path, certificate
