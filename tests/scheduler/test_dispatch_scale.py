"""Several dispatchers sweeping the same outbox at once: every check-in goes out exactly once.

Each dispatcher runs in its own thread with its own event loop, as separate `notpromoted
worker` processes would, and claims pages of due rows with the conditional UPDATE (and, on
PostgreSQL, FOR UPDATE SKIP LOCKED). The stand-in counts what reached people.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.core.db import make_sessions
from bot.core.migrate import upgrade
from bot.core.models import Person
from bot.demo.slack_standin import SlackStandIn
from scheduler.dispatcher import Dispatcher
from tests.conftest import make_settings
from tests.scheduler.seeding import (
    assert_all_sent,
    assert_each_posted_once,
    make_dispatcher,
    seed_checkins,
    unfinished,
)

# Bounds, not expectations: a healthy run takes a fraction of them.
SWEEP_DEADLINE_SECONDS = 180.0
IDLE_PAUSE_SECONDS = 0.01


def _sweep_until_done(
    dispatcher: Dispatcher, engine: Engine, start: threading.Barrier
) -> list[int]:
    """What each of this dispatcher's run_once calls returned, until nothing is left to send.

    A fresh event loop per sweep, as the interval job of a worker would have; rows that other
    dispatchers hold are waited for, not taken (their leases are far from running out).
    """
    start.wait(timeout=30)
    returned: list[int] = []
    deadline = time.monotonic() + SWEEP_DEADLINE_SECONDS
    while unfinished(engine):
        assert time.monotonic() < deadline, f"{dispatcher.owner}: still rows to send"
        sent = asyncio.run(dispatcher.run_once())
        returned.append(sent)
        if not sent:
            time.sleep(IDLE_PAUSE_SECONDS)
    return returned


def _race(dispatchers: list[Dispatcher], engine: Engine) -> dict[str, int]:
    """Run all dispatchers at the same time; how many check-ins each says it sent.

    Each beats from a thread of its own, as a worker does (scheduler.runner): a dispatcher
    that beat only with its claims could look dead to the others on a loaded machine while
    its claimed rows wait behind its running sends, and be taken over (with a look-up)."""
    start = threading.Barrier(len(dispatchers))
    for dispatcher in dispatchers:
        dispatcher.heartbeat.start()
    try:
        with ThreadPoolExecutor(max_workers=len(dispatchers)) as pool:
            futures = {
                d.owner: pool.submit(_sweep_until_done, d, engine, start) for d in dispatchers
            }
            return {
                owner: sum(future.result(timeout=SWEEP_DEADLINE_SECONDS + 60))
                for owner, future in futures.items()
            }
    finally:
        for dispatcher in dispatchers:
            dispatcher.heartbeat.stop()


def _check_the_race(
    standin: SlackStandIn, engine: Engine, dispatchers: list[Dispatcher], count: int
) -> dict[str, int]:
    seeded = seed_checkins(
        engine, count, due_at=datetime.now(UTC) - timedelta(hours=1), now=datetime.now(UTC)
    )
    shares = _race(dispatchers, engine)

    assert_each_posted_once(standin, seeded)
    assert len(standin.calls_to("chat.postMessage")) == count
    assert_all_sent(engine, standin, seeded)
    # No row was reported sent by two dispatchers (a lost lease would still count as sent).
    assert sum(shares.values()) == count, shares
    assert sum(1 for share in shares.values() if share) > 1, f"one dispatcher did it all: {shares}"
    # Nothing needed a history look-up: no send had an unknown outcome.
    assert standin.calls_to("conversations.history") == []
    assert standin.calls_to("users.info") == standin.calls_to("conversations.open") == []
    return shares


@pytest.mark.postgres
def test_three_dispatchers_send_two_thousand_checkins_exactly_once_on_postgres(
    standin: SlackStandIn, postgres_engine: Engine
) -> None:
    upgrade(postgres_engine)
    settings = make_settings(standin, lease_seconds=300.0)  # the engine is passed in
    dispatchers = [
        make_dispatcher(settings, postgres_engine, owner=f"scale-{name}")
        for name in ("a", "b", "c")
    ]
    shares = _check_the_race(standin, postgres_engine, dispatchers, 2000)
    print(f"\npostgres: 2000 check-ins, 3 dispatchers, shares {shares}")


def test_two_dispatchers_in_one_process_send_two_hundred_checkins_exactly_once_on_sqlite(
    standin: SlackStandIn, sqlite_engine: Engine
) -> None:
    """SQLite serves one process, but two sweeps in it must still never share a row."""
    upgrade(sqlite_engine)
    settings = make_settings(standin, lease_seconds=300.0)
    # Smaller pages than the default, so the two sweeps interleave more often.
    dispatchers = [
        make_dispatcher(settings, sqlite_engine, owner=f"sqlite-{name}") for name in ("a", "b")
    ]
    shares = _check_the_race(standin, sqlite_engine, dispatchers, 200)
    print(f"\nsqlite: 200 check-ins, 2 dispatchers, shares {shares}")


def test_a_sweep_keeps_the_profiles_it_read_beside_the_marks_it_writes_at_once(
    standin: SlackStandIn, engine: Engine
) -> None:
    """On PostgreSQL a group of sent marks with nothing else to keep is one statement that
    commits itself; a row whose person's profile was read on the way (or whose DM is new)
    is marked in a transaction that keeps that too. A sweep mixes both: every row is sent
    once and marked, and what was read or opened is kept."""
    upgrade(engine)
    settings = make_settings(standin, lease_seconds=300.0)
    seeded = seed_checkins(
        engine, 40, due_at=datetime.now(UTC) - timedelta(hours=1), now=datetime.now(UTC)
    )
    stale, new_dm = seeded[::4], seeded[1::4]
    stale_users, new_dm_users = {s.user_id for s in stale}, {s.user_id for s in new_dm}
    with make_sessions(engine).begin() as session:
        for person in session.exec(select(Person)):
            if person.user_id in stale_users:
                person.profile_checked_at = None
                standin.add_user(person.user_id, tz="Asia/Tokyo")
            elif person.user_id in new_dm_users:
                person.dm_channel_id = None
    dispatcher = make_dispatcher(settings, engine, owner="mixed")
    dispatcher.heartbeat.start()
    try:
        assert asyncio.run(dispatcher.run_once()) == 40
    finally:
        dispatcher.heartbeat.stop()

    assert_each_posted_once(standin, seeded)
    assert_all_sent(engine, standin, seeded)
    assert len(standin.calls_to("users.info")) == len(stale)
    with make_sessions(engine).begin() as session:
        people = {person.user_id: person for person in session.exec(select(Person))}
    for s in seeded:
        expected_zone = "Asia/Tokyo" if s in stale else "UTC"
        assert people[s.user_id].time_zone == expected_zone, s
        assert people[s.user_id].dm_channel_id == s.channel, s
