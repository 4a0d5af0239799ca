"""Teams' limit per app per tenant, shared by every process of a deployment that sends.

Microsoft documents, for the bot APIs, a global limit of 50 requests a second per app per
tenant, and limits per bot per conversation (a few messages in 3 seconds, 1,800 an hour) that a
bot of one-to-one chats stays far below: a person's messages go one at a time
(`bot.core.storage.outbox`), days apart. Beyond either, Teams answers 429.

The deployment's budget, `NOTPROMOTED_TEAMS_REQUESTS_PER_SECOND` (40 by default, under
Microsoft's 50 to leave room for the answers to people's own clicks and words), is split in
equal shares between the processes that send: each counts the living senders from the heartbeat
table (`bot.core.storage.heartbeats`) every few seconds and keeps a token bucket per tenant with
its share. No row is written per message, and a process that dies frees its share within a
heartbeat's silence. A send that would wait longer than LONGEST_WAIT for its turn is not held:
its row goes back to the outbox with the wait as its Retry-After, and its slot serves others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.delivery import DeliveryDeferred

# How long a send waits in line for its tenant's budget before its row is handed back.
LONGEST_WAIT = 5.0
# How often the number of living senders is read again.
SHARE_REFRESH_SECONDS = 5.0
# What may go at once after a quiet spell: a quarter of a second's share (at least one send),
# so that no second ever sees more than 1.25 times the budget (50 for the default 40).
BURST_SECONDS = 0.25


@dataclass
class _Bucket:
    tokens: float
    at: float


class TenantBudget:
    def __init__(
        self,
        per_second: float,
        living_senders: Callable[[], Awaitable[int]],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`per_second`: the whole deployment's budget for one tenant; `living_senders`: how
        many processes share it now (at least this one)."""
        self.per_second = per_second
        self._living_senders = living_senders
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}
        self._share = per_second
        self._share_read_at: float | None = None

    async def take(self, tenant: str) -> None:
        """Wait for this process's turn to send to `tenant`; DeliveryDeferred if that is
        further away than LONGEST_WAIT (the caller's row is retried after the wait)."""
        share = await self.share()
        now = self._clock()
        bucket = self._buckets.get(tenant)
        most = max(share * BURST_SECONDS, 1.0)
        if bucket is None:
            bucket = self._buckets[tenant] = _Bucket(tokens=most, at=now)
        bucket.tokens = min(most, bucket.tokens + (now - bucket.at) * share)
        bucket.at = now
        wait = (1.0 - bucket.tokens) / share if bucket.tokens < 1.0 else 0.0
        if wait > LONGEST_WAIT:
            raise DeliveryDeferred("over Teams' budget for this tenant", retry_after=wait)
        bucket.tokens -= 1.0  # taken now; the wait below is this send's place in line
        if wait > 0:
            await self._sleep(wait)

    async def share(self) -> float:
        """This process's requests a second for one tenant."""
        now = self._clock()
        if self._share_read_at is None or now - self._share_read_at >= SHARE_REFRESH_SECONDS:
            self._share_read_at = now
            self._share = self.per_second / max(1, await self._living_senders())
        return self._share
