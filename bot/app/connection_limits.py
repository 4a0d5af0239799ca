"""What one client may hold of `serve`: a deadline for its request head, one for its body, a
share of a connection limit kept below the open-file limit, and a bounded lingering close.

uvicorn (0.54, its h11 protocol) has none of these. A new connection has no timer at all until
its first response; its keep-alive timer stops at the first byte of the next request and is
not armed again, so a client sending a byte now and then holds a connection for good;
`limit_concurrency` is checked only once a whole request head has arrived, so idle sockets are
never refused; and after an early answer (our 413) it reads and discards the rest of the body
for as long as the client sends it. With 1,024 descriptors, 1,100 idle sockets left no
descriptor for calls to Slack, and asyncio's accept loop logged one traceback per attempt.

We keep uvicorn and add what it lacks here, rather than move to another server: hypercorn's
`read_timeout` is per read (a trickle never trips it) and it has no connection limit; granian
has a header read timeout and request backpressure but no body deadline or cap on idle
connections, and would replace the server our shutdown and sending-process code are tested
under. So `GuardedH11Protocol` subclasses uvicorn's h11 protocol (uvicorn's internals: its
tests in tests/bot/test_connection_limits.py would catch a change) and:

- gives each connection `header_timeout` seconds, from its accept or its last response, to
  deliver a whole request head; silent ones are closed, part-sent heads get a 408;
- gives each request `body_timeout` seconds from its head to its last body byte, then a 408;
- keeps at most `max_connections` open. When a new one would pass it, one lingering after its
  answer, or else the new connection that has waited longest for its first request head, or
  else the kept-alive one idle longest, is closed to make room, as nginx reuses idle
  connections; only when every connection is in the middle of a request is the new one refused
  with a 503 and Retry-After;
- after an answer sent before the body was read (a 413, on a kept-alive connection or one the
  client asked to close), or with a 408 or 503, it half-closes, reads and discards what the
  client still sends for at most `LINGER_SECONDS` and `LINGER_MAX_BYTES`, then closes, so the
  client reads the answer rather than a reset (closing with unread data sends a reset, which
  can discard the answer before the client reads it);
- accepts at most `ACCEPT_BATCH` connections per turn of the event loop, and closes at once a
  connection accepted when the open files are nearly used up (`GuardedListener`);
- summarises what it closed, and asyncio's failed accepts, in one log line per
  `SUMMARY_SECONDS` instead of a line (or a traceback) each.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import errno
import logging
import math
import resource
import socket
from collections import Counter
from collections.abc import Callable
from contextvars import Context
from dataclasses import dataclass, field
from typing import Any, ClassVar

import h11
import uvicorn
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

logger = logging.getLogger(__name__)

# Descriptors never used for incoming connections: the database pool, calls to Slack and
# Teams, the sending process's pipes, log files. At most an eighth of a small limit.
OUTBOUND_DESCRIPTORS = 128
# Connections accepted in one turn of the event loop (GuardedListener).
ACCEPT_BATCH = 16
# Descriptors kept free by the connection limit: the above, and room for the few batches
# accepted before the guard has seen them, and for connections closed to make room, which
# free their descriptors a few loop turns later. At most three eighths of a small limit.
RESERVED_DESCRIPTORS = 384
# Above this the bot has no use for more connections (Slack and Teams, or a proxy's few).
MAX_CONNECTIONS_CAP = 1000
# The lingering close after an early answer (nginx: lingering_time, lingering_timeout).
LINGER_SECONDS = 5.0
LINGER_MAX_BYTES = 16 * 1024 * 1024
# Refused connections that may linger at once; past that they are closed at once.
REFUSALS_LINGERING_AT_MOST = 64
SUMMARY_SECONDS = 10.0
# What the soft limit is raised to when the hard one is unlimited.
OPEN_FILES_WHEN_UNLIMITED = 65536

ACCEPT_FAILED = "socket.accept() out of system resource"


@dataclass(frozen=True)
class ConnectionLimits:
    header_timeout: float
    body_timeout: float
    max_connections: int
    # A connection accepted when this many descriptors are open is closed at once.
    descriptor_ceiling: int
    linger_seconds: float = LINGER_SECONDS
    linger_max_bytes: int = LINGER_MAX_BYTES


def raise_open_file_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard one (systemd's default soft limit is 1,024
    whatever the hard one); return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = OPEN_FILES_WHEN_UNLIMITED if hard == resource.RLIM_INFINITY else hard
    if soft >= wanted:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (ValueError, OSError):
        logger.warning("could not raise the open-file limit from %s to %s", soft, wanted)
        return soft
    logger.info("raised the open-file limit from %s to %s (the hard limit)", soft, wanted)
    return wanted


def connection_limits(
    open_files: int,
    *,
    header_timeout: float,
    body_timeout: float,
    max_connections: int | None,
) -> ConnectionLimits:
    """The limits for a process allowed `open_files` descriptors. `max_connections` (or a
    default) is lowered, with a warning, to what that limit allows once the reserve is kept."""
    reserve = min(RESERVED_DESCRIPTORS, open_files * 3 // 8)
    allowed = max(1, open_files - reserve)
    if max_connections is None:
        chosen = min(allowed, MAX_CONNECTIONS_CAP)
    elif max_connections > allowed:
        logger.warning(
            "NOTPROMOTED_MAX_CONNECTIONS=%s is more than the open-file limit allows (%s, less "
            "%s kept for the database, Slack and Teams): using %s",
            max_connections,
            open_files,
            reserve,
            allowed,
        )
        chosen = allowed
    else:
        chosen = max_connections
    return ConnectionLimits(
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        max_connections=chosen,
        descriptor_ceiling=open_files - min(OUTBOUND_DESCRIPTORS, open_files // 8),
    )


class ClosedSummary:
    """Counts of connections closed (and accepts failed), logged as one line per period."""

    def __init__(self, period: float = SUMMARY_SECONDS) -> None:
        self.period = period
        self.counts: Counter[str] = Counter()
        self.flushing: asyncio.TimerHandle | None = None

    def count(self, what: str) -> None:
        self.counts[what] += 1
        if self.flushing is None:  # in a context of its own, not the request's that counted
            loop = asyncio.get_running_loop()
            self.flushing = loop.call_later(self.period, self.flush, context=Context())

    def flush(self) -> None:
        if self.flushing is not None:
            self.flushing.cancel()
            self.flushing = None
        if self.counts:
            said = ", ".join(f"{what}: {n}" for what, n in self.counts.most_common())
            logger.warning("slow, idle or surplus connections closed (%s)", said)
            self.counts.clear()


@dataclass
class ConnectionGuard:
    """What the connections of one server share: the limits, who may be closed to make room
    (oldest first: dicts keep insertion order), and the summary."""

    limits: ConnectionLimits
    summary: ClosedSummary = field(default_factory=ClosedSummary)
    admitted: set[GuardedH11Protocol] = field(default_factory=set)
    # Waiting for a request head: on a new connection, or on one kept alive after an answer.
    # A client that has had an answer may send its next request on it at any moment (Slack's
    # own do), so new connections, where an idle flood lands, make room first.
    waiting_new: dict[GuardedH11Protocol, None] = field(default_factory=dict)
    waiting_kept: dict[GuardedH11Protocol, None] = field(default_factory=dict)
    lingering: dict[GuardedH11Protocol, None] = field(default_factory=dict)
    refused_lingering: int = 0

    def admit(self, connection: GuardedH11Protocol) -> bool:
        """Room for `connection`, making it if need be; False when every connection is busy."""
        if len(self.admitted) >= self.limits.max_connections:
            victims = self.lingering or self.waiting_new or self.waiting_kept
            if not victims:
                return False
            next(iter(victims)).close("closed to make room")
        self.admitted.add(connection)
        return True

    def wait(self, connection: GuardedH11Protocol, *, kept_alive: bool) -> None:
        self.stop_waiting(connection)
        (self.waiting_kept if kept_alive else self.waiting_new)[connection] = None

    def stop_waiting(self, connection: GuardedH11Protocol) -> None:
        self.waiting_new.pop(connection, None)
        self.waiting_kept.pop(connection, None)

    def forget(self, connection: GuardedH11Protocol) -> None:
        self.admitted.discard(connection)
        self.stop_waiting(connection)
        self.lingering.pop(connection, None)

    def quiet_accept_errors(
        self, previous: Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object] | None
    ) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
        """A loop exception handler that counts failed accepts instead of logging each.

        CPython 3.11's `_accept_connection` does not return after EMFILE: it reports and
        reschedules once per backlog slot (2,048 under uvicorn), every second while the limit
        lasts (python/cpython#151615, fixed upstream in #151616, not in 3.11). We keep it from
        happening through our own connections with the limit above; this keeps the log
        readable when something else uses the descriptors up.
        """

        def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            error = context.get("exception")
            if context.get("message") == ACCEPT_FAILED and isinstance(error, OSError):
                self.summary.count(f"accept failed ({errno.errorcode.get(error.errno or 0)})")
                return
            if previous is not None:
                previous(loop, context)
            else:
                loop.default_exception_handler(context)

        return handle


class Phase(enum.Enum):
    WAITING = "waiting for a request head"
    BODY = "reading a request body"
    BUSY = "answering"
    LINGERING = "lingering after an answer"


def plain_response(status: int, reason: str, text: str, *headers: str) -> bytes:
    body = text.encode()
    head = [
        f"HTTP/1.1 {status} {reason}",
        "content-type: text/plain; charset=utf-8",
        f"content-length: {len(body)}",
        "connection: close",
        *headers,
    ]
    return "\r\n".join(head).encode("latin-1") + b"\r\n\r\n" + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the deadlines, the limit and the lingering close above."""

    guard: ClassVar[ConnectionGuard]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.phase = Phase.WAITING
        self.deadline: asyncio.TimerHandle | None = None
        self.head_bytes = 0
        self.discarded = 0
        self.refused = False
        self.answered = False

    # -- uvicorn's protocol, followed -----------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if not self.guard.admit(self):
            self.refuse()
            return
        self.wait_for_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_deadline()
        self.guard.forget(self)
        if self.refused:
            self.refused = False
            self.guard.refused_lingering -= 1
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.phase is Phase.LINGERING:
            self.discarded += len(data)
            if self.discarded > self.guard.limits.linger_max_bytes:
                self.close("sent too much after its answer")
            return
        if self.phase is Phase.WAITING:
            self.head_bytes += len(data)
        super().data_received(data)
        self.follow_request()

    def on_response_complete(self) -> None:
        self.answered = True
        super().on_response_complete()
        self.follow_request()

    def shutdown(self) -> None:
        if self.phase is Phase.LINGERING:
            self.transport.close()
            return
        super().shutdown()

    def _should_upgrade(self) -> bool:
        """Never: the bot serves no WebSockets, and an upgraded connection would leave this
        guard (uvicorn would also log two warnings for each such request)."""
        return False

    def follow_request(self) -> None:
        """Set the deadline that fits where the client is in its request."""
        if self.transport.is_closing() or self.phase is Phase.LINGERING:
            return
        if self.cycle is not None and not isinstance(self.cycle.transport, CycleTransport):
            self.cycle.transport = CycleTransport(self)  # before its task first runs
        theirs, ours = self.conn.their_state, self.conn.our_state
        if theirs is h11.SEND_BODY and ours is h11.DONE:
            self.linger()  # answered before the body was read: a 413, say
        elif theirs is h11.SEND_BODY:
            if self.phase is not Phase.BODY:
                self.enter(Phase.BODY, self.guard.limits.body_timeout, self.body_too_slow)
        elif theirs is h11.IDLE:
            if self.phase is not Phase.WAITING:
                self.wait_for_head()
        elif self.phase is not Phase.BUSY:
            self.enter(Phase.BUSY, None, None)  # all of it is in: the app's time, not theirs

    # -- phases -------------------------------------------------------------------------

    def enter(
        self, phase: Phase, seconds: float | None, expired: Callable[[], None] | None
    ) -> None:
        self.stop_deadline()
        self.phase = phase
        if phase is Phase.WAITING:
            self.guard.wait(self, kept_alive=self.answered)
        else:
            self.guard.stop_waiting(self)
        if seconds is not None and expired is not None:
            self.deadline = self.loop.call_later(seconds, expired)

    def wait_for_head(self) -> None:
        self.head_bytes = 0
        self.enter(Phase.WAITING, self.guard.limits.header_timeout, self.head_too_slow)

    def head_too_slow(self) -> None:
        self.deadline = None
        if self.head_bytes == 0:
            self.close("idle")
            return
        self.answer(408, "Request Timeout", "the request head took too long", "slow head")

    def body_too_slow(self) -> None:
        self.deadline = None
        cycle = self.cycle
        if cycle is None or cycle.response_started:
            self.close("slow body")
            return
        # The app waiting for the body reads a disconnect, as if the client had left.
        cycle.disconnected = True
        cycle.message_event.set()
        self.answer(408, "Request Timeout", "the request body took too long", "slow body")

    def refuse(self) -> None:
        # Every connection is mid-request: each is done within the body deadline, or answered.
        retry = str(math.ceil(self.guard.limits.body_timeout))
        self.transport.write(
            plain_response(
                503, "Service Unavailable", "too many connections", f"retry-after: {retry}"
            )
        )
        self.guard.summary.count("refused with 503")
        if self.guard.refused_lingering >= REFUSALS_LINGERING_AT_MOST:
            self.transport.close()
            return
        self.refused = True
        self.guard.refused_lingering += 1
        self.linger(counted=False)

    def close_after_answer(self) -> None:
        """uvicorn closes after an answer to a request that asked for it (`Connection: close`),
        even while the client is still sending the body: linger, so it reads the answer."""
        if self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
            self.linger()
        else:
            self.transport.close()

    def answer(self, status: int, reason: str, text: str, why: str) -> None:
        self.guard.summary.count(why)
        self.transport.write(plain_response(status, reason, text))
        self.linger()

    def linger(self, *, counted: bool = True) -> None:
        """Half-close, then read and drop what the client still sends, within bounds."""
        self.enter(Phase.LINGERING, self.guard.limits.linger_seconds, self.stop_lingering)
        self._unset_keepalive_if_required()
        if counted:
            self.guard.lingering[self] = None
        self.discarded = 0
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.flow.resume_reading()

    def stop_lingering(self) -> None:
        self.deadline = None
        self.transport.close()

    def close(self, why: str) -> None:
        self.guard.summary.count(why)
        self.stop_deadline()
        self.guard.forget(self)
        self.transport.close()

    def stop_deadline(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None


class CycleTransport(asyncio.Transport):
    """The transport as uvicorn's request cycle sees it (it only writes, asks whether the
    connection is closing, and closes): its close goes through `close_after_answer`."""

    def __init__(self, protocol: GuardedH11Protocol) -> None:
        super().__init__()
        self.protocol = protocol

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.protocol.transport.write(data)

    def is_closing(self) -> bool:
        return self.protocol.transport.is_closing()

    def close(self) -> None:
        self.protocol.close_after_answer()


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedH11Protocol]:
    """The protocol class for one server (uvicorn makes each connection's from a class)."""

    class Guarded(GuardedH11Protocol):
        pass

    Guarded.guard = guard
    return Guarded


class QuietDisconnects:
    """Counts a request whose client left (or was cut off) before its body was read, instead
    of letting Starlette's ClientDisconnect reach uvicorn, which logs a traceback for each."""

    def __init__(self, app: ASGIApp, summary: ClosedSummary) -> None:
        self.app = app
        self.summary = summary

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            self.summary.count("requests whose body never came")


class GuardedListener(socket.socket):
    """The listening socket: at most `ACCEPT_BATCH` connections accepted per loop turn, and
    one accepted when `ceiling` descriptors are open is closed at once, so that calls to
    Slack, Teams and the database always find a descriptor.

    asyncio accepts up to uvicorn's backlog (2,048) connections in one turn, all before the
    guard sees any; and when accept fails with EMFILE, CPython 3.11's `_accept_connection`
    does not stop but reports and reschedules once per backlog slot, every second while the
    limit lasts (python/cpython#151615, fixed by #151616 in later releases): the 26 MB of
    log. Ending a turn's batch with BlockingIOError is what asyncio does when the queue is
    empty; the rest wait in the kernel's queue for the next turn. A new descriptor is the
    lowest free one, so its number is how many are open below it.
    """

    ceiling: int = 0
    summary: ClosedSummary | None = None
    accepted_this_turn: int = 0

    def accept(self) -> tuple[socket.socket, Any]:
        if self.accepted_this_turn >= ACCEPT_BATCH:
            raise BlockingIOError
        connection, address = super().accept()
        if self.accepted_this_turn == 0:
            asyncio.get_running_loop().call_soon(self.next_turn, context=Context())
        self.accepted_this_turn += 1
        if connection.fileno() < self.ceiling:
            return connection, address
        with contextlib.suppress(OSError):
            connection.send(plain_response(503, "Service Unavailable", "too many connections"))
        connection.close()
        if self.summary is not None:
            self.summary.count("closed at accept, open files nearly used up")
        raise BlockingIOError

    def next_turn(self) -> None:
        self.accepted_this_turn = 0


def listening_socket(host: str, port: int, guard: ConnectionGuard) -> GuardedListener:
    """Bound as uvicorn would bind `host` and `port` (it listens when the server starts)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = GuardedListener(family, socket.SOCK_STREAM)
    listener.ceiling = guard.limits.descriptor_ceiling
    listener.summary = guard.summary
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError:
        listener.close()
        raise
    return listener


class GuardedServer(uvicorn.Server):
    """uvicorn's server on our listening socket, with failed accepts counted rather than
    logged one by one, and the summary written out when it stops."""

    def __init__(self, config: Config, guard: ConnectionGuard, listener: GuardedListener) -> None:
        super().__init__(config)
        self.guard = guard
        self.listener = listener

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        await super().serve([self.listener] if sockets is None else sockets)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self.guard.quiet_accept_errors(loop.get_exception_handler()))
        await super().startup(sockets)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # Here rather than after `serve`: uvicorn re-raises SIGTERM as soon as that returns.
        try:
            await super().shutdown(sockets)
        finally:
            self.guard.summary.flush()


def guarded_server(
    app: ASGIApp,
    limits: ConnectionLimits,
    *,
    host: str,
    port: int,
    keep_alive_seconds: int,
    **options: Any,
) -> GuardedServer:
    """A uvicorn server for `app` within `limits`, bound to `host` and `port`; `options` go to
    uvicorn.Config as they are. No `limit_concurrency`: it counts the idle connections the
    guard would close to make room, and answers 503 where the guard would make room."""
    guard = ConnectionGuard(limits)
    config = Config(
        QuietDisconnects(app, guard.summary),
        http=guarded_protocol(guard),
        ws="none",
        timeout_keep_alive=keep_alive_seconds,
        **options,
    )
    return GuardedServer(config, guard, listening_socket(host, port, guard))
