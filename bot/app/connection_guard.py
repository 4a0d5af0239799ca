"""What the connections of one guarded server share: the limits, who may be closed to make room,
and the summary of what was closed, logged as one line per period (see connection_limits)."""

from __future__ import annotations

import asyncio
import errno
import logging
from collections import Counter
from collections.abc import Callable
from contextvars import Context
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.app.connection_limits import ConnectionLimits

if TYPE_CHECKING:
    from bot.app.guarded_protocol import GuardedH11Protocol

logger = logging.getLogger(__name__)

SUMMARY_SECONDS = 10.0

ACCEPT_FAILED = "socket.accept() out of system resource"


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
