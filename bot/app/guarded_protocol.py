"""uvicorn's h11 protocol with the request-head and body deadlines, the connection limit and
the lingering close (see connection_limits), one connection at a time."""

from __future__ import annotations

import asyncio
import enum
import math
from collections.abc import Callable
from typing import Any, ClassVar

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from bot.app.connection_guard import ConnectionGuard

# Refused connections that may linger at once; past that they are closed at once.
REFUSALS_LINGERING_AT_MOST = 64


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
