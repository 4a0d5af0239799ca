"""A dispatcher starting after downtime, on both databases: what fell due goes out once, what a
dead worker left half-sent is looked up in the DM history before anything is posted again."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, update
from sqlmodel import col

from bot.core.clock import Clock, ManualClock, system_clock
from bot.core.db import make_sessions
from bot.core.delivery import Delivered, Profile, Recipient, Sender
from bot.core.ids import MESSAGE_METADATA_TYPE
from bot.core.migrate import upgrade
from bot.core.models import Checkin, CheckinStatus
from bot.core.storage import heartbeats, outbox
from bot.demo.slack_standin import SlackStandIn
from bot.demo.slack_standin_records import Failure
from bot.slack.client import make_web_client
from messages.model import Message
from scheduler import row_leases
from scheduler.dispatcher import Dispatcher
from scheduler.row_leases import SendOutcome
from tests.conftest import make_settings
from tests.scheduler.seeding import (
    Seeded,
    assert_all_sent,
    assert_each_posted_once,
    make_dispatcher,
    posts_by_checkin,
    rows,
    seed_checkins,
)

LEASE_SECONDS = 30.0
DEAD = "dead-worker"


def _dispatcher(
    standin: SlackStandIn,
    engine: Engine,
    *,
    owner: str = "fresh",
    clock: Clock = system_clock,
    concurrency: int = 8,
) -> Dispatcher:
    settings = make_settings(standin, lease_seconds=LEASE_SECONDS)
    return make_dispatcher(settings, engine, owner=owner, clock=clock, concurrency=concurrency)


def _left_by_a_dead_worker(
    engine: Engine, *, now: datetime, lease_expired: bool = True, number: int = 900
) -> Seeded:
    """A row a worker claimed and marked as being posted, and then died holding."""
    [seeded] = seed_checkins(engine, 1, due_at=now - timedelta(minutes=10), now=now, first=number)
    expires = now + (-1 if lease_expired else 1) * timedelta(seconds=LEASE_SECONDS / 2)
    with make_sessions(engine).begin() as session:
        session.exec(
            update(Checkin)
            .where(col(Checkin.id) == seeded.checkin_id)
            .values(
                status=CheckinStatus.CLAIMED,
                lease_owner=DEAD,
                lease_expires_at=expires,
                attempts=1,
                posting_since=now - timedelta(seconds=LEASE_SECONDS),
            )
        )
    return seeded


def _post_as_the_dead_worker(standin: SlackStandIn, seeded: Seeded) -> str:
    """The post Slack took from the worker just before it died; its ts."""

    async def post() -> str:
        client = make_web_client(make_settings(standin))
        response = await client.chat_postMessage(
            channel=seeded.channel,
            text="Step 1 of 10",
            metadata={
                "event_type": MESSAGE_METADATA_TYPE,
                "event_payload": {"checkin_id": seeded.checkin_id},
            },
        )
        return str(response["ts"])

    return asyncio.run(post())


# -- after downtime ------------------------------------------------------------------------


def test_checkins_that_fell_due_while_down_go_out_once_at_start(
    standin: SlackStandIn, engine: Engine
) -> None:
    now = datetime.now(UTC)
    overdue = seed_checkins(engine, 50, due_at=now - timedelta(hours=6), now=now)
    future = seed_checkins(engine, 10, due_at=now + timedelta(hours=6), now=now, first=100)

    assert asyncio.run(_dispatcher(standin, engine).run_once()) == 50
    assert_each_posted_once(standin, overdue)
    assert_all_sent(engine, standin, overdue)
    after = rows(engine)
    for s in future:
        assert after[s.checkin_id].status == CheckinStatus.PENDING
        assert after[s.checkin_id].attempts == 0

    # A second sweep (or a second fresh process) finds nothing to do.
    assert asyncio.run(_dispatcher(standin, engine, owner="fresh-2").run_once()) == 0
    assert len(standin.calls_to("chat.postMessage")) == 50
    assert standin.calls_to("conversations.history") == []


# -- a dead worker's half-done send ------------------------------------------------------------


def test_a_post_slack_took_before_the_worker_died_is_found_not_repeated(
    standin: SlackStandIn, engine: Engine
) -> None:
    now = datetime.now(UTC)
    seeded = _left_by_a_dead_worker(engine, now=now)
    ts = _post_as_the_dead_worker(standin, seeded)

    assert asyncio.run(_dispatcher(standin, engine).run_once()) == 1
    assert posts_by_checkin(standin) == {seeded.checkin_id: [seeded.channel]}
    assert len(standin.calls_to("chat.postMessage")) == 1  # the dead worker's, no other
    [lookup] = standin.calls_to("conversations.history")
    assert lookup.args["channel"] == seeded.channel
    row = rows(engine)[seeded.checkin_id]
    assert (row.status, row.channel_id, row.message_ts) == (CheckinStatus.SENT, seeded.channel, ts)
    assert row.lease_owner is None

    assert asyncio.run(_dispatcher(standin, engine, owner="fresh-2").run_once()) == 0
    assert len(standin.calls_to("chat.postMessage")) == 1


def test_a_post_that_never_reached_slack_is_sent_once_after_the_look_up(
    standin: SlackStandIn, engine: Engine
) -> None:
    now = datetime.now(UTC)
    seeded = _left_by_a_dead_worker(engine, now=now)

    assert asyncio.run(_dispatcher(standin, engine).run_once()) == 1
    assert len(standin.calls_to("conversations.history")) == 1
    assert_each_posted_once(standin, [seeded])
    assert_all_sent(engine, standin, [seeded])

    assert asyncio.run(_dispatcher(standin, engine, owner="fresh-2").run_once()) == 0
    assert len(standin.calls_to("chat.postMessage")) == 1


def test_a_row_whose_holder_still_beats_is_left_alone(
    standin: SlackStandIn, engine: Engine
) -> None:
    """The worker holding it may only be slow, not dead: while its heartbeat is fresh and
    its lease runs, nobody else looks or posts."""
    now = datetime.now(UTC)
    seeded = _left_by_a_dead_worker(engine, now=now, lease_expired=False)
    with make_sessions(engine).begin() as session:
        heartbeats.beat(session, owner=DEAD, now=now - heartbeats.DEAD_AFTER / 2)

    assert asyncio.run(_dispatcher(standin, engine, clock=ManualClock(now)).run_once()) == 0
    assert standin.calls == []
    row = rows(engine)[seeded.checkin_id]
    assert (row.status, row.lease_owner, row.attempts) == (CheckinStatus.CLAIMED, DEAD, 1)


@pytest.mark.parametrize("last_beat", [None, "stale"])
def test_a_row_whose_holder_stopped_beating_is_taken_before_its_lease_runs_out(
    standin: SlackStandIn, engine: Engine, last_beat: str | None
) -> None:
    """A holder with no heartbeat, or one older than DEAD_AFTER, is dead: its row goes out
    now (looked for first, as it was marked posting), not when its long lease runs out."""
    now = datetime.now(UTC)
    seeded = _left_by_a_dead_worker(engine, now=now, lease_expired=False)
    if last_beat == "stale":
        with make_sessions(engine).begin() as session:
            beat_at = now - heartbeats.DEAD_AFTER - timedelta(seconds=1)
            heartbeats.beat(session, owner=DEAD, now=beat_at)

    assert asyncio.run(_dispatcher(standin, engine, clock=ManualClock(now)).run_once()) == 1
    assert len(standin.calls_to("conversations.history")) == 1
    assert len(standin.calls_to("chat.postMessage")) == 1
    assert rows(engine)[seeded.checkin_id].status == CheckinStatus.SENT


def test_a_beating_sweep_on_postgres_takes_a_dead_senders_row_in_its_first_round(
    standin: SlackStandIn, postgres_engine: Engine
) -> None:
    """With its heartbeat beating (as `worker` runs), a sweep on PostgreSQL claims rounds in
    one statement, which leaves rows of the dead alone; its first round looks for them."""
    upgrade(postgres_engine)
    now = datetime.now(UTC)
    dead = _left_by_a_dead_worker(postgres_engine, now=now, lease_expired=False)
    fresh = seed_checkins(postgres_engine, 20, due_at=now - timedelta(minutes=1), now=now)
    dispatcher = _dispatcher(standin, postgres_engine)
    assert dispatcher._at_once is not None
    dispatcher.heartbeat.start()
    try:
        assert asyncio.run(dispatcher.run_once()) == 21
    finally:
        dispatcher.heartbeat.stop()
    assert len(standin.calls_to("conversations.history")) == 1  # the dead one's, looked up
    assert_each_posted_once(standin, [dead, *fresh])


def test_a_long_sweep_on_postgres_looks_for_rows_of_the_dead_as_it_goes(
    standin: SlackStandIn, postgres_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between its looks, a round claimed at once takes only rows no one holds; a row whose
    sender died while the sweep ran is taken by the next look, DEAD_LOOKUP_SECONDS on."""
    upgrade(postgres_engine)
    monkeypatch.setattr(row_leases, "DEAD_LOOKUP_SECONDS", 0.5)
    now = datetime.now(UTC)
    seed_checkins(postgres_engine, 4, due_at=now - timedelta(minutes=1), now=now)
    dispatcher = _dispatcher(standin, postgres_engine)
    dispatcher.heartbeat.start()
    try:
        assert len(dispatcher._claim_next(2)) == 2  # the sweep's first round, which looks
        dead = _left_by_a_dead_worker(postgres_engine, now=now, lease_expired=False)
        second = [job.checkin_id for job in dispatcher._claim_next(8)]
        assert len(second) == 2  # the other two fresh rows, not the dead sender's
        assert dead.checkin_id not in second
        assert rows(postgres_engine)[dead.checkin_id].lease_owner == DEAD
        time.sleep(0.6)
        taken = [job.checkin_id for job in dispatcher._claim_next(8)]
    finally:
        dispatcher.heartbeat.stop()
    assert taken == [dead.checkin_id]
    assert rows(postgres_engine)[dead.checkin_id].lease_owner == dispatcher.owner


@pytest.mark.parametrize(
    ("retry_after", "times"),
    [
        (1, 2),  # a short wait is waited out once inside the call; limited again, it goes back
        (120, 1),  # a long wait is never waited out inside the call
    ],
)
def test_a_rate_limited_history_look_up_puts_the_row_back_without_posting(
    standin: SlackStandIn, engine: Engine, retry_after: int, times: int
) -> None:
    now = datetime.now(UTC)
    clock = ManualClock(now)
    seeded = _left_by_a_dead_worker(engine, now=now)
    standin.fail_next("conversations.history", Failure(status=429, retry_after=retry_after), times)

    assert asyncio.run(_dispatcher(standin, engine, clock=clock).run_once()) == 0
    assert len(standin.calls_to("conversations.history")) == times
    assert standin.calls_to("chat.postMessage") == []
    row = rows(engine)[seeded.checkin_id]
    assert row.status == CheckinStatus.PENDING
    assert row.lease_owner is None and row.lease_expires_at is None
    assert row.due_at >= now + timedelta(seconds=retry_after)
    assert row.last_error == "rate limited"
    # Whether the dead worker's post arrived is still unknown: the next try looks again.
    assert row.posting_since is not None

    # Not before it is due again,
    assert asyncio.run(_dispatcher(standin, engine, clock=clock).run_once()) == 0
    assert len(standin.calls_to("conversations.history")) == times
    # and then: looked up once more, not found, posted once.
    clock.move_to(row.due_at)
    assert asyncio.run(_dispatcher(standin, engine, clock=clock).run_once()) == 1
    assert len(standin.calls_to("conversations.history")) == times + 1
    assert_each_posted_once(standin, [seeded])
    assert_all_sent(engine, standin, [seeded])


def test_one_short_rate_limit_on_the_look_up_is_waited_out_within_the_call(
    standin: SlackStandIn, engine: Engine
) -> None:
    """A single 429 with Retry-After: 1 does not put the row back: the client waits and asks
    again, and the look-up finds the dead worker's post."""
    now = datetime.now(UTC)
    seeded = _left_by_a_dead_worker(engine, now=now)
    ts = _post_as_the_dead_worker(standin, seeded)
    standin.fail_next("conversations.history", Failure(status=429, retry_after=1))

    assert asyncio.run(_dispatcher(standin, engine).run_once()) == 1
    assert len(standin.calls_to("conversations.history")) == 2
    assert len(standin.calls_to("chat.postMessage")) == 1
    row = rows(engine)[seeded.checkin_id]
    assert (row.status, row.message_ts) == (CheckinStatus.SENT, ts)


# -- bugs ------------------------------------------------------------------------------------


@dataclass
class SlowSender:
    """Delegates to a real sender; the first send takes longer than the lease (a slow Slack),
    and before the second reaches Slack, `meanwhile` runs (another worker's sweep)."""

    real: Sender
    clock: ManualClock
    lease: timedelta
    meanwhile: Dispatcher | None = None
    sends: int = 0

    async def fetch_profile(self, recipient: Recipient) -> Profile:
        return await self.real.fetch_profile(recipient)

    async def deliver(
        self, recipient: Recipient, message: Message, *, checkin_id: int
    ) -> Delivered:
        self.sends += 1
        if self.sends == 1:
            self.clock.move_to(self.clock.now + 2 * self.lease)
        elif self.meanwhile is not None:
            await self.meanwhile.run_once()
        return await self.real.deliver(recipient, message, checkin_id=checkin_id)

    async def replace(
        self, recipient: Recipient, channel_id: str, message_ts: str, message: Message
    ) -> None:
        await self.real.replace(recipient, channel_id, message_ts, message)

    async def find_delivered(
        self, recipient: Recipient, *, checkin_id: int, since: datetime
    ) -> Delivered | None:
        return await self.real.find_delivered(recipient, checkin_id=checkin_id, since=since)


def test_a_row_whose_lease_ran_out_while_it_waited_in_the_page_is_not_posted_twice(
    standin: SlackStandIn, engine: Engine
) -> None:
    now = datetime.now(UTC)
    clock = ManualClock(now)
    seeded = seed_checkins(engine, 2, due_at=now - timedelta(minutes=1), now=now)
    # One at a time, so that the second row waits in the claimed page behind the first.
    slow = _dispatcher(standin, engine, owner="slow", clock=clock, concurrency=1)
    other = _dispatcher(standin, engine, owner="other", clock=clock)
    lease = timedelta(seconds=LEASE_SECONDS)
    slow.senders = {"slack": SlowSender(slow.senders["slack"], clock, lease, meanwhile=other)}

    asyncio.run(slow.run_once())  # both rows in one page; the first send outlasts the lease
    asyncio.run(other.run_once())  # whatever is left over
    assert_each_posted_once(standin, seeded)
    assert_all_sent(engine, standin, seeded)


def test_a_row_whose_senders_died_counts_their_tries_and_still_gets_the_rest(
    standin: SlackStandIn, engine: Engine
) -> None:
    """A claim is made only to send at once, so it counts a try: a row whose senders died with
    it in hand three times has five tries left, and a passing fault on the next is retried."""
    now = datetime.now(UTC)
    clock = ManualClock(now)
    lease = timedelta(seconds=LEASE_SECONDS)
    [seeded] = seed_checkins(engine, 1, due_at=now - 10 * lease, now=now)
    for dead in range(3):
        with make_sessions(engine).begin() as session:
            assert outbox.claim_rows(
                session,
                checkin_ids=[seeded.checkin_id],
                owner=f"{DEAD}-{dead}",
                now=now - (3 - dead) * lease,
                lease=lease / 2,
                taking_over=True,
            )
    standin.fail_next("chat.postMessage", Failure(status=500, error="internal_error"))

    assert asyncio.run(_dispatcher(standin, engine, clock=clock).run_once()) == 0
    row = rows(engine)[seeded.checkin_id]
    assert row.status == CheckinStatus.PENDING, (row.status, row.attempts, row.last_error)
    assert row.attempts == 4
    # Its claims marked it as possibly posted: the next try looks in the conversation first.
    assert row.posting_since is not None


# -- a burst of commands -------------------------------------------------------------------------


def test_sends_beyond_the_limit_in_hand_are_left_to_a_sweep_and_go_out_once(
    standin: SlackStandIn, engine: Engine
) -> None:
    """More first messages at once than a process keeps in hand: the rest stay in the outbox
    (no coroutine per row piles up in memory), and a sweep started at once sends them."""
    now = datetime.now(UTC)
    seeded = seed_checkins(engine, 30, due_at=now, now=now)
    dispatcher = _dispatcher(standin, engine)
    dispatcher.sends_in_hand = 4

    async def burst() -> list[SendOutcome]:
        outcomes = await asyncio.gather(*(dispatcher.send_now(s.checkin_id) for s in seeded))
        while dispatcher._extra_sweep is not None:  # the sweep the overflow started
            await asyncio.sleep(0.01)
        return list(outcomes)

    outcomes = asyncio.run(burst())
    # Four were taken in hand; the sweep may claim one of them first (then that send skips).
    in_hand = outcomes.count(SendOutcome.SENT) + outcomes.count(SendOutcome.SKIPPED)
    assert in_hand == 4 and outcomes.count(SendOutcome.DEFERRED) == 26
    assert_each_posted_once(standin, seeded)
    assert_all_sent(engine, standin, seeded)
