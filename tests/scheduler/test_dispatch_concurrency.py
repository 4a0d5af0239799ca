"""One dispatcher sends to several people at once, never to one person twice at once.

The stand-in answers each post after a short delay and counts how many posts are in flight,
in all and per person. One person's check-ins must arrive in the order they were due.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot.core.db import make_sessions
from bot.core.ids import CHECKIN_KIND_STAGE
from bot.core.migrate import upgrade
from bot.core.models import Checkin, CheckinStatus
from bot.demo.slack_standin import SlackStandIn
from bot.demo.slack_standin_records import Payload
from scheduler.dispatcher import CLAIMED_AHEAD
from tests.conftest import make_settings
from tests.scheduler.seeding import STAGE, checkin_of, make_dispatcher, rows, seed_checkins

PEOPLE = 12
EXTRA_PER_PERSON = 2
POST_DELAY_SECONDS = 0.05


@dataclass
class CountingSlack:
    standin: SlackStandIn
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0
    most_in_flight: int = 0
    per_channel: Counter[str] = field(default_factory=Counter)
    overlapping_channels: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.original = self.standin.handle

    def handle(
        self, method: str, args: Payload, token: str | None
    ) -> tuple[int, Payload, dict[str, str]]:
        if method != "chat.postMessage":
            return self.original(method, args, token)
        channel = str(args.get("channel"))
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.per_channel[channel] += 1
            if self.per_channel[channel] > 1:
                self.overlapping_channels.add(channel)
        try:
            time.sleep(POST_DELAY_SECONDS)
            return self.original(method, args, token)
        finally:
            with self.lock:
                self.in_flight -= 1
                self.per_channel[channel] -= 1


def _add_later_rows(engine: Engine, seeded_ids: list[int], due_at: datetime) -> dict[int, int]:
    """Two more rows per journey, due seconds after its first; people a minute apart.

    So in due order one person's rows come together (A, A, A, B, B, B, ...): a dispatcher
    that sent rows rather than people in parallel would send to A three times at once.
    Returns every row's id with its rank within the person's rows.
    """
    ranks: dict[int, int] = {}
    with make_sessions(engine).begin() as session:
        for person_number, checkin_id in enumerate(seeded_ids):
            first = session.get(Checkin, checkin_id)
            assert first is not None
            first.due_at = due_at + timedelta(minutes=person_number)
            session.add(first)
            ranks[checkin_id] = 0
            for rank in range(1, EXTRA_PER_PERSON + 1):
                later = Checkin(
                    journey_id=first.journey_id,
                    kind=CHECKIN_KIND_STAGE,
                    key=f"{CHECKIN_KIND_STAGE}:{STAGE}:{rank + 1}",
                    stage_id=STAGE,
                    due_at=first.due_at + timedelta(seconds=rank),
                    within_hours=False,
                    created_at=due_at,
                )
                session.add(later)
                session.flush()
                assert later.id is not None
                ranks[later.id] = rank
    return ranks


@pytest.mark.parametrize("concurrency", [1, 4])
def test_people_are_sent_to_in_parallel_and_each_person_in_order(
    standin: SlackStandIn,
    sqlite_engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    concurrency: int,
) -> None:
    upgrade(sqlite_engine)
    now = datetime.now(UTC)
    due = now - timedelta(hours=1)
    seeded = seed_checkins(sqlite_engine, PEOPLE, due_at=due, now=now)
    ranks = _add_later_rows(sqlite_engine, [s.checkin_id for s in seeded], due)
    slack = CountingSlack(standin)
    monkeypatch.setattr(standin, "handle", slack.handle)
    dispatcher = make_dispatcher(
        make_settings(standin), sqlite_engine, owner="one", concurrency=concurrency
    )

    sent = asyncio.run(dispatcher.run_once())

    assert sent == PEOPLE * (1 + EXTRA_PER_PERSON)
    assert slack.overlapping_channels == set()
    assert slack.most_in_flight == concurrency
    order: dict[str, list[int]] = {}
    for call in standin.calls_to("chat.postMessage"):
        order.setdefault(str(call.args["channel"]), []).append(ranks[checkin_of(call)])
    assert order == {person.channel: [0, 1, 2] for person in seeded}
    assert {row.status for row in rows(sqlite_engine).values()} == {CheckinStatus.SENT}


def test_the_next_round_is_claimed_while_every_slot_waits_for_slack(
    standin: SlackStandIn, sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With all slots waiting for Slack's answers, the sweep has already claimed the next
    rounds, so a slot that frees starts its next post at once rather than after a claim; and
    no more than CLAIMED_AHEAD rounds wait (what a death would strand)."""
    upgrade(sqlite_engine)
    now = datetime.now(UTC)
    seed_checkins(sqlite_engine, 40, due_at=now - timedelta(hours=1), now=now)
    answer = threading.Event()
    original = standin.handle

    def held(method: str, args: Payload, token: str | None) -> tuple[int, Payload, dict[str, str]]:
        if method == "chat.postMessage":
            answer.wait(timeout=30)
        return original(method, args, token)

    monkeypatch.setattr(standin, "handle", held)
    dispatcher = make_dispatcher(make_settings(standin), sqlite_engine, owner="one", concurrency=4)
    in_hand = (1 + CLAIMED_AHEAD) * 4

    def claimed() -> int:
        return sum(row.status == CheckinStatus.CLAIMED for row in rows(sqlite_engine).values())

    async def sweep_while_slack_waits() -> tuple[int, int]:
        sweep = asyncio.create_task(dispatcher.run_once())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and await asyncio.to_thread(claimed) < in_hand:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # time for another round, which must not come
        seen = await asyncio.to_thread(claimed)
        answer.set()
        return seen, await sweep

    seen, sent = asyncio.run(sweep_while_slack_waits())
    assert seen == in_hand  # 4 posts waiting for answers, and the rows of the next rounds
    assert sent == 40
