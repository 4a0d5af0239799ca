"""The guarded uvicorn server `serve` runs: its listening socket (accepts batched, and refused
when open files run short), the app wrapped to count early disconnects, and the assembly."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from contextvars import Context
from typing import Any

import uvicorn
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.config import Config

from bot.app.connection_guard import ClosedSummary, ConnectionGuard
from bot.app.connection_limits import ACCEPT_BATCH, ConnectionLimits
from bot.app.guarded_protocol import guarded_protocol, plain_response


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
