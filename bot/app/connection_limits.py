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

The limits are here; what a server's connections share in connection_guard, the protocol in
guarded_protocol, the listener and the server in guarded_server.
"""

from __future__ import annotations

import logging
import resource
from dataclasses import dataclass

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
# What the soft limit is raised to when the hard one is unlimited.
OPEN_FILES_WHEN_UNLIMITED = 65536


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
