"""Sending in a process of its own, beside the web process that answers Slack and Teams.

`notpromoted serve` answers requests in one process and sends check-ins from a child: a send
(three Slack calls and three transactions) costs several times what an acknowledgement does,
and in one interpreter an answer waits for whatever sending step holds it. In a child at the
lowest CPU priority the operating system lets an answer go first, at once.

The two talk over the child's standard streams, in JSON lines:

- down, on its stdin: ``{"send": <check-in id>, "reply_to": <response_url or null>}``, a row
  the web process just wrote and wants sent now. The row is already in the outbox: a message
  that never arrives (the child restarting) only means the next sweep sends it.
- up, on its stdout: ``{"count": <metric>, "labels": {...}, "by": <n>}``, what it counted, so
  that the web process's `/metrics` shows the sends too.

End of stdin tells the child to stop: it hands back its claims and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bot.core.metrics import FORWARDED_COUNTERS, Metrics
from scheduler.dispatcher import new_owner

logger = logging.getLogger(__name__)

# What a child is started with: the worker, told it runs beside a web process.
CHILD_COMMAND = (sys.executable, "-m", "bot.app.cli", "worker", "--beside-web")
# Unread wake-ups beyond this are dropped (the rows wait for the child's sweep instead), so a
# stuck child cannot make the web process hold an ever-growing buffer.
MOST_BUFFERED_BYTES = 1 << 20
RESTART_PAUSES_SECONDS = (0.5, 1, 2, 5, 10, 30)
STEADY_SECONDS = 60.0  # a child that ran this long before it died: back to the shortest pause
STOP_WAIT_SECONDS = 15.0


def wake_line(checkin_id: int, reply_to: str | None) -> bytes:
    return json.dumps({"send": checkin_id, "reply_to": reply_to}).encode() + b"\n"


def read_wake_line(line: bytes) -> tuple[int, str | None] | None:
    """The row id and response URL a wake-up line carries; None for anything else."""
    try:
        message = json.loads(line)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    checkin_id, reply_to = message.get("send"), message.get("reply_to")
    if not isinstance(checkin_id, int) or isinstance(checkin_id, bool) or checkin_id <= 0:
        return None
    if reply_to is not None and not isinstance(reply_to, str):
        return None
    return checkin_id, reply_to


def count_line(name: str, labels: dict[str, str], by: float) -> bytes:
    return json.dumps({"count": name, "labels": labels, "by": by}).encode() + b"\n"


def apply_count_line(metrics: Metrics, line: bytes) -> bool:
    """Add a child's count to this process's metrics; False if the line is not one."""
    try:
        message = json.loads(line)
        name, labels, by = message["count"], message["labels"], message["by"]
    except (ValueError, KeyError, TypeError):
        return False
    if (
        name not in FORWARDED_COUNTERS
        or not isinstance(labels, dict)
        or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items())
        or not isinstance(by, int | float)
        or by < 0
    ):
        return False
    try:
        metrics.count(name, by, **labels)
    except ValueError:  # labels that metric does not have
        return False
    return True


class SendingProcess:
    """The web process's side: starts the child, wakes it, restarts it if it dies, and stops
    it (its claims handed back) when the web process stops."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        command: Sequence[str] = CHILD_COMMAND,
        release: Callable[[str], Awaitable[int]] | None = None,
    ) -> None:
        self.metrics = metrics
        self.command = tuple(command)
        # Frees the rows a child held, by its owner name, when it dies (so they do not wait
        # for its heartbeat to age out); returns how many.
        self.release = release
        self.owner = ""
        self.process: asyncio.subprocess.Process | None = None
        self._stopping = False
        self._supervisor: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._spawn()
        self._supervisor = asyncio.get_running_loop().create_task(self._supervise())

    async def _spawn(self) -> None:
        self.owner = new_owner()
        self.process = await asyncio.create_subprocess_exec(
            *self.command,
            "--owner",
            self.owner,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=os.environ.copy(),
        )
        logger.info("sending process %s started", self.process.pid)

    def wake(self, checkin_id: int, reply_to: str | None = None) -> bool:
        """Ask the child to send this row now; False if it could not be asked (then the row
        waits for the child's next sweep, or for a restarted child's first one)."""
        process = self.process
        if process is None or process.returncode is not None or process.stdin is None:
            return False
        transport = process.stdin.transport
        if transport.is_closing():
            return False
        if transport.get_write_buffer_size() > MOST_BUFFERED_BYTES:
            return False
        process.stdin.write(wake_line(checkin_id, reply_to))
        return True

    async def _supervise(self) -> None:
        """Read what the child counts; when it exits without being asked to, start another."""
        failures = 0
        loop = asyncio.get_running_loop()
        while True:
            process = self.process
            assert process is not None
            began = loop.time()
            await self._read_counts(process)
            code = await process.wait()
            if self._stopping:
                return
            freed = await self._free_rows_of(self.owner)
            if loop.time() - began >= STEADY_SECONDS:  # it had been running well: start over
                failures = 0
            pause = RESTART_PAUSES_SECONDS[min(failures, len(RESTART_PAUSES_SECONDS) - 1)]
            logger.error(
                "sending process exited with %s; %s row(s) it held freed; starting another in %ss",
                code,
                freed,
                pause,
            )
            failures += 1
            await asyncio.sleep(pause)
            if self._stopping:
                return
            try:
                await self._spawn()
            except OSError:
                logger.exception("could not start a sending process")

    async def _free_rows_of(self, owner: str) -> int | str:
        """The rows a dead child held, free for the next one's first sweep at once."""
        if self.release is None:
            return "no"
        try:
            return await self.release(owner)
        except Exception:  # they wait for its heartbeat to age out instead
            logger.exception("could not free the rows the sending process held")
            return "no"

    async def _read_counts(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while True:
            try:
                line = await process.stdout.readline()
            except ValueError:  # a line past the reader's limit: not a count
                logger.warning("sending process wrote an overlong line")
                continue
            if not line:
                return
            if not apply_count_line(self.metrics, line):
                logger.warning("sending process wrote a line that is not a count")

    async def stop(self) -> None:
        """Close the child's stdin (its signal to hand back claims and exit) and wait for it."""
        self._stopping = True
        process = self.process
        if process is not None and process.returncode is None:
            if process.stdin is not None:
                process.stdin.close()
            try:
                await asyncio.wait_for(process.wait(), STOP_WAIT_SECONDS)
            except TimeoutError:
                logger.error(
                    "sending process did not stop within %ss; killing it", STOP_WAIT_SECONDS
                )
                process.kill()
                await process.wait()
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor


async def read_wake_ups(on_wake: Callable[[int, str | None], Any]) -> None:
    """The child's side: call `on_wake(checkin_id, reply_to)` for each line on stdin until it
    ends (the web process stopped or closed it)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 16)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        try:
            line = await reader.readline()
        except ValueError:  # a line longer than the limit: not ours
            continue
        if not line:
            return
        wake = read_wake_line(line)
        if wake is None:
            logger.warning("ignored a line on stdin that is not a wake-up")
            continue
        on_wake(*wake)


def lower_own_priority() -> str:
    """Run below everything else on the machine's CPUs: SCHED_IDLE where Linux offers it, else
    the highest niceness. Returns what was done, for the log."""
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return "SCHED_IDLE"
        except OSError:
            pass
    try:
        os.nice(19)
        return "nice 19"
    except OSError:
        return "unchanged"
