"""Claims due check-in rows and hands them to the sender of the person's platform: one row
at once (`send_now`), or sweeps of everything due, each row claimed as a slot frees."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from bot.core.db import checkpoint
from bot.core.delivery import Composer, Sender
from bot.core.dependencies import Services
from bot.core.metrics import Metrics
from bot.core.storage import events, heartbeats
from scheduler.group_commit import GroupCommit
from scheduler.heartbeat import Heartbeat
from scheduler.row_delivery import RowDelivery
from scheduler.row_leases import Job, SendOutcome

logger = logging.getLogger(__name__)

# Rows `send_now` sends at once in one process; more are left to a sweep.
SENDS_IN_HAND = 64
# Posted rows whose sent marks a sweep may have in writing before it waits for them.
MARKS_IN_HAND = 64
# How long a group of sent marks waits for more (up to two rounds of slots' worth) before it
# is written. The post is out; the mark only makes the person's next row due, and a few
# milliseconds there go unseen, while groups of 16 instead of about 6 halve the marks' CPU a
# row (dispatch benchmark, 8 at a time).
MARK_GATHER_SECONDS = 0.02
# Rounds' worth of claimed rows a sweep keeps waiting for a free slot. A claim round takes
# about as long as a round of posts, so with one round in hand the slots empty together and
# wait for the next claim (a third of the time, measured); and a round costs about the same
# whether it claims 8 rows or 32, so fewer, larger rounds spend less on claiming (half the
# claiming CPU a row from 2 rounds ahead to 4, in the dispatch benchmark). What a death
# strands is these and the rows being sent: at most (1 + CLAIMED_AHEAD) x concurrency rows.
CLAIMED_AHEAD = 4


class Dispatcher(RowDelivery):
    def __init__(
        self,
        services: Services,
        senders: Mapping[str, Sender],
        composer: Composer,
        *,
        owner: str | None = None,
        lease: timedelta | None = None,
        max_attempts: int = 8,
        concurrency: int = 8,
        metrics: Metrics | None = None,
    ) -> None:
        self.services = services
        self.composer = composer
        self.metrics = metrics
        self.senders = senders
        self.owner = owner or new_owner()
        self.heartbeat = Heartbeat(services, self.owner)
        self.lease = lease or timedelta(seconds=services.settings.lease_seconds)
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self.stopping = False
        self._sweeping = asyncio.Lock()
        # Requests a person is waiting on, in this process, now (see `answering`).
        self._answering = 0
        self._in_hand = 0  # rows send_now is sending
        self.sends_in_hand = SENDS_IN_HAND
        self._extra_sweep: asyncio.Task[None] | None = None
        self._sweep_asked = False
        engine = services.sessions().get_bind()
        assert isinstance(engine, Engine)
        self._engine = engine
        if engine.dialect.name == "postgresql":
            self._at_once = engine.execution_options(isolation_level="AUTOCOMMIT")
        # Set in a web process whose sending runs in a process beside it (`serve`): send_now
        # passes the row there (a row id and a response URL; False when it could not).
        self.handoff: Callable[[int, str | None], bool] | None = None
        self.sent_marks = GroupCommit(
            self._mark_sent, gather_seconds=MARK_GATHER_SECONDS, enough=2 * concurrency
        )
        self.marking = set()

    async def send_now(self, checkin_id: int, reply_to: str | None = None) -> SendOutcome:
        """Send one row at once (the command path); a no-op if another worker has it.

        With a `handoff`, the row goes to the sending process instead, with `reply_to` (the
        command's response URL) for telling the person if their DM cannot be sent; here that
        is the caller's to do, on FAILED.

        Under a burst, at most `sends_in_hand` of these run at a time; beyond that the row is
        left in the outbox, where it already is, and a sweep is started to send it: memory
        stays flat however many commands arrive, and nothing is lost.
        """
        if self.handoff is not None:
            handed = self.handoff(checkin_id, reply_to)
            return SendOutcome.HANDED_OFF if handed else SendOutcome.DEFERRED
        if self.stopping:  # left in the outbox for the next process's sweep
            return SendOutcome.DEFERRED
        if self._in_hand >= self.sends_in_hand:
            self._sweep_soon()
            return SendOutcome.DEFERRED
        self._in_hand += 1
        try:
            await self._after_answers()
            job = await asyncio.to_thread(self._claim_and_load, checkin_id)
            if job is None:
                return SendOutcome.SKIPPED
            return await self._send(job)
        finally:
            self._in_hand -= 1

    def _sweep_soon(self) -> None:
        """Sweep as soon as the sweep under way (if any) is done: it may have found nothing
        due before these rows were. Asked again while that sweep runs, it sweeps once more
        after."""
        self._sweep_asked = True
        if self._extra_sweep is None and not self.stopping:
            self._extra_sweep = asyncio.get_running_loop().create_task(self._sweep_while_asked())

    async def _sweep_while_asked(self) -> None:
        try:
            while self._sweep_asked and not self.stopping:
                self._sweep_asked = False
                await self.run_once()
        except Exception:
            logger.exception("a sweep for the sends that overflowed failed; the next one retries")
        finally:
            self._extra_sweep = None

    async def run_once(self) -> int:
        """Send everything due; return how many went.

        Up to `concurrency` people are sent to at once, and none waits on another: each row
        is a task of its own, and a free slot takes the next claimed row at once. Rows are
        claimed a round at a time, one per person and none of a person whose row is in
        anyone's hands (one person's rows go one after another, in the order they were due),
        so a person whose sends are slow or rate-limited holds one slot, never the sweep. The
        next round is claimed while rows are sent, once fewer than `concurrency` wait for a
        slot, as many as bring what is in hand to (1 + CLAIMED_AHEAD) x `concurrency`; a slot
        moves on once its post is taken, its sent mark written beside it, and the sweep ends
        when those marks are written. Memory stays flat, and a death strands at most that many
        rows.
        """
        sent = 0
        async with self._sweeping:
            self._look_for_the_dead_at = 0.0  # a sweep's first round looks for them
            running: set[asyncio.Task[SendOutcome]] = set()
            claimed: deque[Job] = deque()
            # The next round is claimed while the last one's rows are sent, one claim at a time.
            claiming: asyncio.Task[list[Job]] | None = None
            exhausted = False
            while True:
                while claimed and len(running) < self.concurrency and not self.stopping:
                    send = self._send(claimed.popleft(), in_sweep=True)
                    running.add(asyncio.get_running_loop().create_task(send))
                # Then the next round, while these are sent (their slots were filled first).
                wanted = not claiming and not exhausted and not self.stopping
                if wanted and len(claimed) < self.concurrency:
                    asked = (1 + CLAIMED_AHEAD) * self.concurrency - len(claimed) - len(running)
                    claiming = asyncio.get_running_loop().create_task(self._claim_round(asked))
                if not running and not claiming:
                    if not self.marking:
                        break
                    # Rows posted and being marked sent: once marked, their people's next
                    # rows may be due.
                    await self._marked()
                    exhausted = False
                    continue
                waiting: set[asyncio.Task[Any]] = {*running, *([claiming] if claiming else [])}
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if claiming in done:
                    round_ = claiming.result()
                    claiming = None
                    exhausted = len(round_) < asked
                    claimed.extend(round_)
                for task in done & running:
                    running.discard(task)
                    exhausted = False  # a lane is free again: its next row may be due
                    if self._outcome_of(task) is SendOutcome.SENT:
                        sent += 1
                if len(self.marking) > MARKS_IN_HAND:
                    await self._marked()
            if claimed:  # stopping: what was claimed and not started goes back at once
                await asyncio.to_thread(self._hand_back, list(claimed))
            if not self.stopping:
                # On SQLite a web process beside this one leaves the checkpoints to its sweeps.
                await asyncio.to_thread(checkpoint, self._engine)
        return sent

    async def _claim_round(self, asked: int) -> list[Job]:
        await self._after_answers()
        return await asyncio.to_thread(self._claim_next, asked)

    async def _marked(self) -> None:
        """Wait for the sent marks in hand; one that failed is logged (its row stays held by
        this living process until its lease runs out, then a sweep finds the post)."""
        for result in await asyncio.gather(*self.marking, return_exceptions=True):
            if isinstance(result, BaseException):
                logger.error("a sent check-in could not be recorded", exc_info=result)

    def _outcome_of(self, task: asyncio.Task[SendOutcome]) -> SendOutcome | None:
        """A send that failed with the database under it is logged; its row stays held by
        this living process until its lease runs out, then a sweep sends it."""
        error = task.exception()
        if error is None:
            return task.result()
        logger.error("a check-in could not be recorded", exc_info=error)
        return None

    async def stop(self) -> None:
        """Claim nothing more, finish the messages being sent, and stop sweeping; then stop
        the heartbeat (whatever this process still holds is free for others at once)."""
        self.stopping = True
        async with self._sweeping:
            pass
        await asyncio.to_thread(self.heartbeat.stop)

    async def rescue(self) -> int:
        """Sweep at once if a claimed row is held by no living sender (its process died):
        what a death costs is then DEAD_AFTER and one rescue interval, not a whole lease."""
        if self.stopping or not await asyncio.to_thread(self._rows_to_rescue):
            return 0
        return await self.run_once()

    def _rows_to_rescue(self) -> bool:
        with self.services.sessions.begin() as session:
            return heartbeats.rows_to_rescue(session, now=self.services.clock(), asking=self.owner)

    def prune(self) -> None:
        now = self.services.clock()
        with self.services.sessions.begin() as session:
            events.forget_old_events(session, before=now - timedelta(days=1))
            heartbeats.forget_the_long_dead(session, now=now)


def new_owner() -> str:
    """A name for one sending process (what its claims and heartbeat carry)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
