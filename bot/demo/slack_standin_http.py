"""The Slack stand-in's HTTP server on loopback: the Web API under /api/, the OAuth authorize
page, response URLs and file uploads, each handed to the SlackStandIn it serves."""

from __future__ import annotations

import base64
import contextlib
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

from bot.demo.slack_standin_records import Payload

if TYPE_CHECKING:
    from bot.demo.slack_standin import SlackStandIn


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
