"""The guard on what one client may hold (bot/connection_limits.py), through serve's own server
(`guarded_server`) around the real web app, with short limits, in a thread.

The whole attack, against a real `serve` process under 1,024 descriptors, is in
tests/faults/test_slow_clients.py.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from bot.app.connection_guard import ACCEPT_FAILED, ClosedSummary, ConnectionGuard
from bot.app.connection_limits import ConnectionLimits, connection_limits, raise_open_file_limit
from bot.app.guarded_server import GuardedServer, guarded_server
from bot.app.runtime import build_runtime
from bot.app.web import build_web_app
from bot.core.clock import ManualClock
from bot.core.config import ConfigError
from bot.core.config_loading import load_settings
from bot.core.db import make_engine
from bot.core.migrate import upgrade
from bot.demo.slack_standin import SlackStandIn
from bot.slack.guard import MAX_BODY_BYTES
from tests.conftest import MONDAY, make_settings

HEADER_TIMEOUT = 0.6
BODY_TIMEOUT = 0.8
LINGER_SECONDS = 1.0
# Generous: the deadlines are what is tested, not this machine's speed.
GRACE = 2.0


@dataclass
class Guarded:
    server: GuardedServer
    port: int

    def connect(self) -> socket.socket:
        connection = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        return connection


Start = Callable[..., Guarded]


@pytest.fixture
def start_guarded(standin: SlackStandIn, tmp_path: Path) -> Iterator[Start]:
    started: list[tuple[Guarded, threading.Thread]] = []

    def start(**limits: Any) -> Guarded:
        engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")
        upgrade(engine)
        runtime = build_runtime(make_settings(standin), clock=ManualClock(MONDAY), engine=engine)
        chosen = ConnectionLimits(
            header_timeout=HEADER_TIMEOUT,
            body_timeout=BODY_TIMEOUT,
            max_connections=100,
            descriptor_ceiling=1_000_000,
            linger_seconds=LINGER_SECONDS,
        )
        server = guarded_server(
            build_web_app(runtime, run_dispatcher=False),
            replace(chosen, **limits),
            host="127.0.0.1",
            port=0,
            keep_alive_seconds=5,
            log_level="warning",
            lifespan="on",
        )
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),))
        thread.start()
        for _ in range(500):
            if server.started:
                break
            time.sleep(0.01)
        assert server.started, "the guarded server did not start"
        guarded = Guarded(server=server, port=server.listener.getsockname()[1])
        started.append((guarded, thread))
        return guarded

    yield start
    for guarded, thread in started:
        guarded.server.should_exit = True
        thread.join(timeout=15)


def closed_within(connection: socket.socket, seconds: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes; and how long that took. Fails if it is
    still open after `seconds`."""
    started = time.monotonic()
    connection.settimeout(seconds)
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"still open after {seconds} s, having sent {received[:80]!r}")
    return received, time.monotonic() - started


def trickle(connection: socket.socket, data: bytes, every: float, until: float) -> None:
    """Send `data` one byte at a time, `every` seconds, for `until` seconds or until closed."""
    end = time.monotonic() + until
    for byte in data:
        if time.monotonic() > end:
            return
        try:
            connection.sendall(bytes([byte]))
        except OSError:
            return
        time.sleep(every)


SLOW_HEAD = b"POST /slack/events HTTP/1.1\r\nHost: bot\r\n" + b"X-Slow: " + b"a" * 200


def test_a_connection_that_sends_nothing_is_closed_after_the_header_timeout(
    start_guarded: Start,
) -> None:
    guarded = start_guarded()
    with guarded.connect() as idle:
        received, took = closed_within(idle, HEADER_TIMEOUT + GRACE)
    assert received == b""
    assert took >= HEADER_TIMEOUT * 0.8


def test_a_request_head_sent_a_byte_at_a_time_gets_408_at_the_header_timeout(
    start_guarded: Start,
) -> None:
    guarded = start_guarded()
    with guarded.connect() as slow:
        sender = threading.Thread(target=trickle, args=(slow, SLOW_HEAD, 0.05, 10))
        sender.start()
        received, _ = closed_within(slow, HEADER_TIMEOUT + GRACE)
        sender.join()
    assert received.startswith(b"HTTP/1.1 408 ")


def test_a_body_sent_a_byte_at_a_time_gets_408_and_no_traceback(
    start_guarded: Start, caplog: pytest.LogCaptureFixture
) -> None:
    guarded = start_guarded()
    with guarded.connect() as slow:
        slow.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
            b"Content-Length: 500\r\n\r\n{"
        )
        sender = threading.Thread(target=trickle, args=(slow, b"x" * 400, 0.05, 10))
        sender.start()
        received, took = closed_within(slow, BODY_TIMEOUT + GRACE)
        sender.join()
    assert received.startswith(b"HTTP/1.1 408 ")
    assert took >= BODY_TIMEOUT * 0.8
    assert not [record for record in caplog.records if record.exc_info], caplog.text


def test_a_client_that_leaves_mid_body_leaves_no_traceback(
    start_guarded: Start, caplog: pytest.LogCaptureFixture
) -> None:
    guarded = start_guarded()
    with guarded.connect() as leaving:
        leaving.sendall(
            b'POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: 500\r\n\r\n{"a"'
        )
        time.sleep(0.2)
    guarded.server.should_exit = True  # the summary is written when the server stops
    deadline = time.monotonic() + 10
    while "requests whose body never came" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [record for record in caplog.records if record.exc_info], caplog.text
    assert "requests whose body never came: 1" in caplog.text


def oversized_request(declared: int) -> bytes:
    """A request head without its blank line."""
    return (
        b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {declared}\r\n".encode()
    )


@pytest.mark.parametrize("connection_header", ["", "Connection: close\r\n"])
def test_an_oversized_body_sent_whole_reads_its_413(
    start_guarded: Start, connection_header: str
) -> None:
    """The 413 goes out while the body is still coming. Before: with `Connection: close`,
    uvicorn closed with the body unread, and the client's next write met a reset."""
    guarded = start_guarded()
    body = b"x" * (8 * MAX_BODY_BYTES)
    piece = 256 * 1024
    with guarded.connect() as client:
        client.sendall(oversized_request(len(body)) + connection_header.encode())
        client.sendall(b"\r\n")
        for start in range(0, len(body), piece):
            client.sendall(body[start : start + piece])
            time.sleep(0.01)
        received, _ = closed_within(client, LINGER_SECONDS + GRACE)
    assert received.startswith(b"HTTP/1.1 413 ")
    assert received.endswith(b"request body too large")


def test_after_its_413_a_client_that_keeps_sending_is_cut_off(start_guarded: Start) -> None:
    """Before: uvicorn read and dropped the rest of the body for as long as it came."""
    guarded = start_guarded()
    declared = 256 * 1024 * 1024
    chunk = b"x" * 65536
    sent = 0
    with guarded.connect() as client:
        client.sendall(oversized_request(declared) + b"\r\n")
        started = time.monotonic()
        try:
            while sent < declared:
                client.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        took = time.monotonic() - started
    # The lingering budget (16 MiB), and what the two sockets' buffers hold.
    assert sent < 64 * 1024 * 1024, f"sent {sent} bytes after the 413"
    assert took < LINGER_SECONDS + GRACE


def test_at_the_limit_the_longest_idle_connection_makes_room(start_guarded: Start) -> None:
    guarded = start_guarded(max_connections=3, header_timeout=30)
    idle = [guarded.connect() for _ in range(3)]
    time.sleep(0.2)
    with guarded.connect() as client:
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n")
        answer, _ = closed_within(client, GRACE)
    assert answer.startswith(b"HTTP/1.1 200 ")
    first, _ = closed_within(idle[0], GRACE)
    assert first == b""
    idle[2].settimeout(0.2)
    with pytest.raises(TimeoutError):  # the newest idle ones are still open
        idle[2].recv(1)
    for connection in idle:
        connection.close()


def read_answer(connection: socket.socket) -> bytes:
    """One answer on a kept-alive connection (our answers all carry a content-length)."""
    connection.settimeout(GRACE)
    received = b""
    while b"\r\n\r\n" not in received:
        received += read_some(connection)
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += read_some(connection)
    return head


def read_some(connection: socket.socket) -> bytes:
    chunk = connection.recv(65536)
    if not chunk:
        pytest.fail("the server closed the connection")
    return chunk


def test_a_kept_alive_client_keeps_its_connection_while_new_idle_ones_make_room(
    start_guarded: Start,
) -> None:
    """Slack sends its next request on a kept-alive connection at any moment: a flood of idle
    connections closes the flood's own, not that one."""
    guarded = start_guarded(max_connections=3, header_timeout=30)
    health = b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n"
    with guarded.connect() as kept:
        kept.sendall(health)
        assert read_answer(kept).startswith(b"HTTP/1.1 200 ")
        flood = [guarded.connect() for _ in range(4)]
        time.sleep(0.3)
        kept.sendall(health)
        assert read_answer(kept).startswith(b"HTTP/1.1 200 ")
    closed, _ = closed_within(flood[0], GRACE)
    assert closed == b""
    for connection in flood:
        connection.close()


def test_when_every_connection_is_mid_request_a_new_one_is_refused_with_503(
    start_guarded: Start,
) -> None:
    guarded = start_guarded(max_connections=2, body_timeout=30)
    busy = [guarded.connect() for _ in range(2)]
    for connection in busy:
        connection.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: 50\r\n\r\n{"
        )
    time.sleep(0.2)
    with guarded.connect() as client:
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\n")
        answer, _ = closed_within(client, LINGER_SECONDS + GRACE)
    assert answer.startswith(b"HTTP/1.1 503 ")
    assert b"retry-after: 30" in answer
    for connection in busy:
        connection.close()


def test_past_the_descriptor_ceiling_a_connection_is_closed_at_accept(
    start_guarded: Start,
) -> None:
    guarded = start_guarded(descriptor_ceiling=3)  # every new descriptor is above it
    with guarded.connect() as client:
        answer, _ = closed_within(client, GRACE)
    assert answer.startswith(b"HTTP/1.1 503 ")


def test_failed_accepts_are_counted_not_logged_one_by_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def fail_accepts() -> None:
        summary = ClosedSummary(period=3600)
        guard = ConnectionGuard(
            connection_limits(1024, header_timeout=1, body_timeout=1, max_connections=None), summary
        )
        handle = guard.quiet_accept_errors(None)
        loop = asyncio.get_running_loop()
        for _ in range(2048):
            error = OSError(errno.EMFILE, "Too many open files")
            handle(loop, {"message": ACCEPT_FAILED, "exception": error})
        summary.flush()

    with caplog.at_level(logging.WARNING):
        asyncio.run(fail_accepts())
    assert len(caplog.records) == 1
    assert "accept failed (EMFILE): 2048" in caplog.text


def test_the_connection_limit_keeps_descriptors_for_outbound_calls(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def limits(open_files: int, wanted: int | None) -> ConnectionLimits:
        return connection_limits(
            open_files, header_timeout=1, body_timeout=1, max_connections=wanted
        )

    assert (limits(1024, None).max_connections, limits(1024, None).descriptor_ceiling) == (
        640,
        896,
    )
    assert limits(1024, 10).max_connections == 10
    assert limits(524288, None).max_connections == 1000
    assert limits(524288, 5000).max_connections == 5000
    with caplog.at_level(logging.WARNING):
        assert limits(1024, 5000).max_connections == 640
    assert "NOTPROMOTED_MAX_CONNECTIONS=5000" in caplog.text


def test_the_soft_open_file_limit_is_raised_to_the_hard_one() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard <= 1024:
        pytest.skip(f"the hard limit here ({hard}) leaves nothing to raise")
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
    try:
        assert raise_open_file_limit() == hard
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NOTPROMOTED_HEADER_TIMEOUT_SECONDS", "soon"),
        ("NOTPROMOTED_BODY_TIMEOUT_SECONDS", "0"),
        ("NOTPROMOTED_KEEP_ALIVE_SECONDS", "1.5"),
        ("NOTPROMOTED_MAX_CONNECTIONS", "-3"),
    ],
)
def test_a_malformed_limit_stops_start_up_naming_it(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings({variable: value})


def test_the_limits_are_read_from_the_environment() -> None:
    settings = load_settings(
        {
            "NOTPROMOTED_HEADER_TIMEOUT_SECONDS": "4",
            "NOTPROMOTED_BODY_TIMEOUT_SECONDS": "6.5",
            "NOTPROMOTED_KEEP_ALIVE_SECONDS": "20",
            "NOTPROMOTED_MAX_CONNECTIONS": "300",
        }
    )
    assert settings.header_timeout_seconds == 4
    assert settings.body_timeout_seconds == 6.5
    assert settings.keep_alive_seconds == 20
    assert settings.max_connections == 300
    defaults = load_settings({})
    assert (defaults.header_timeout_seconds, defaults.body_timeout_seconds) == (10, 15)
    assert (defaults.keep_alive_seconds, defaults.max_connections) == (5, None)
