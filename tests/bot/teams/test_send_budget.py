"""Teams' budget per tenant: a process's share of the deployment's requests a second, a wait
in line for each send beyond it, and a row handed back rather than a slot held for long."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot.core.db import make_sessions
from bot.core.delivery import DeliveryDeferred
from bot.core.storage import heartbeats
from bot.teams.send_budget import LONGEST_WAIT, SHARE_REFRESH_SECONDS, TenantBudget


class Time:
    """A clock that moves only when someone sleeps on it (or, `frozen`, not at all: sleepers
    that started together)."""

    def __init__(self, *, frozen: bool = False) -> None:
        self.now = 1000.0
        self.frozen = frozen
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if not self.frozen:
            self.now += seconds


def budget(per_second: float, senders: list[int], time: Time) -> TenantBudget:
    async def living() -> int:
        return senders[0]

    return TenantBudget(per_second, living, clock=time.clock, sleep=time.sleep)


def test_a_quarter_seconds_share_goes_at_once_then_each_send_waits_its_turn() -> None:
    time = Time()
    tenant = budget(40.0, [1], time)

    async def sends(count: int) -> None:
        for _ in range(count):
            await tenant.take("t1")

    asyncio.run(sends(10))
    assert time.slept == []
    asyncio.run(sends(4))
    assert time.slept == pytest.approx([0.025] * 4)


def test_concurrent_sends_queue_behind_each_other() -> None:
    time = Time(frozen=True)
    tenant = budget(2.0, [1], time)

    async def burst() -> None:
        await asyncio.gather(*(tenant.take("t1") for _ in range(5)))

    asyncio.run(burst())
    # One at once, then each one's place in line: half a second apart, counted from the start.
    assert sorted(time.slept) == pytest.approx([0.5, 1.0, 1.5, 2.0])


def test_living_senders_share_the_budget_and_the_share_follows_them() -> None:
    time = Time()
    senders = [4]
    tenant = budget(40.0, senders, time)
    assert asyncio.run(tenant.share()) == 10.0
    senders[0] = 1  # three died
    assert asyncio.run(tenant.share()) == 10.0  # read again only every few seconds
    time.now += SHARE_REFRESH_SECONDS
    assert asyncio.run(tenant.share()) == 40.0


def test_tenants_have_budgets_of_their_own() -> None:
    time = Time()
    tenant = budget(1.0, [1], time)

    async def one_each() -> None:
        await tenant.take("t1")
        await tenant.take("t2")

    asyncio.run(one_each())
    assert time.slept == []


def test_a_send_further_back_than_the_longest_wait_hands_its_row_back() -> None:
    time = Time(frozen=True)  # every sender before it still in line
    tenant = budget(1.0, [1], time)

    async def fill() -> None:
        await asyncio.gather(*(tenant.take("t1") for _ in range(int(LONGEST_WAIT) + 1)))

    asyncio.run(fill())
    waited = len(time.slept)
    with pytest.raises(DeliveryDeferred) as refused:
        asyncio.run(tenant.take("t1"))
    assert refused.value.retry_after > LONGEST_WAIT
    assert not refused.value.maybe_delivered
    assert len(time.slept) == waited  # it did not wait, and took no place in line


def test_the_living_senders_are_counted_from_their_heartbeats(engine: Engine) -> None:
    sessions = make_sessions(engine)
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    with sessions.begin() as session:
        heartbeats.beat(session, owner="a", now=now)
        heartbeats.beat(session, owner="b", now=now - timedelta(seconds=5))
        heartbeats.beat(session, owner="dead", now=now - heartbeats.DEAD_AFTER * 2)
    with sessions.begin() as session:
        assert heartbeats.count_living(session, now=now) == 2
