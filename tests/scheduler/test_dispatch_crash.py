"""`notpromoted worker` killed with SIGKILL again and again: every check-in still arrives once.

The real command runs as a subprocess against PostgreSQL and the Slack stand-in. Slack is made
a little slow (each post is answered 20 ms after it was taken), so a kill often lands between
Slack taking a post and the row being marked sent: the case the posting mark and the DM
history look-up (find_delivered) exist for. Every fourth round kills the worker exactly there:
the stand-in keeps the post and holds its answer until the worker is dead.
"""

from __future__ import annotations

import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.core.migrate import upgrade
from bot.demo.slack_standin import SlackStandIn
from bot.demo.slack_standin_records import Call, Payload
from tests.scheduler.seeding import (
    assert_all_sent,
    assert_each_posted_once,
    checkin_of,
    rows,
    seed_checkins,
    unfinished,
)
from tests.scheduler.worker_processes import (
    START_TIMEOUT_SECONDS,
    STOP_TIMEOUT_SECONDS,
    Workers,
    workers_on,
)

pytestmark = pytest.mark.postgres

ROWS = 2000  # enough that 16 kills land before a worker sending 8 at a time is done
KILLS = 16
HOLD_EVERY = 4  # rounds 4, 8, 12, 16 kill while Slack holds the answer to a post it took
SEED = 20261123
POST_LATENCY_SECONDS = 0.02
# Bounds, not expectations.
FINISH_TIMEOUT_SECONDS = 120.0


@dataclass
class SlowSlack:
    """The stand-in's `handle`, wrapped: posts are answered late, and one can be held."""

    standin: SlackStandIn
    lock: threading.Lock = field(default_factory=threading.Lock)
    armed: bool = False
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    held: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.original = self.standin.handle

    def handle(
        self, method: str, args: Payload, token: str | None
    ) -> tuple[int, Payload, dict[str, str]]:
        answer = self.original(method, args, token)  # Slack has taken (and kept) the post
        if method != "chat.postMessage" or not answer[1].get("ok"):
            return answer
        with self.lock:
            hold = self.armed
            if hold:
                self.armed = False
                self.held.append(checkin_of(Call(method=method, args=args, token=token)))
                self.holding.set()
        if hold:
            self.release.wait(START_TIMEOUT_SECONDS)
        else:
            time.sleep(POST_LATENCY_SECONDS)
        return answer

    def arm(self) -> None:
        with self.lock:
            self.armed = True
            self.holding.clear()
            self.release.clear()

    def disarm(self) -> None:
        with self.lock:
            self.armed = False
        self.release.set()


@pytest.fixture
def workers(tmp_path: Path, standin: SlackStandIn, postgres_engine: Engine) -> Iterator[Workers]:
    started = workers_on(
        postgres_engine,
        standin,
        tmp_path,
        NOTPROMOTED_DISPATCH_INTERVAL_SECONDS="0.2",
        NOTPROMOTED_LEASE_SECONDS="2",
    )
    yield started
    started.close()


def _called_since(standin: SlackStandIn, before: int) -> Callable[[], bool]:
    return lambda: len(standin.calls) > before


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=STOP_TIMEOUT_SECONDS)
    assert process.returncode == -signal.SIGKILL


def test_a_worker_killed_at_random_moments_sends_every_checkin_exactly_once(
    standin: SlackStandIn,
    postgres_engine: Engine,
    workers: Workers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upgrade(postgres_engine)
    now = datetime.now(UTC)
    seeded = seed_checkins(postgres_engine, ROWS, due_at=now - timedelta(minutes=5), now=now)
    slack = SlowSlack(standin)
    monkeypatch.setattr(standin, "handle", slack.handle)
    chance = random.Random(SEED)

    kills = 0
    for round_number in range(1, KILLS + 1):
        assert unfinished(postgres_engine), f"all sent after {kills} kills: too few for the test"
        hold = round_number % HOLD_EVERY == 0
        if hold:
            slack.arm()
        calls_before = len(standin.calls)
        process = workers.start()
        if hold:
            # Slack has the post; the worker waits for the answer and dies before it comes.
            assert slack.holding.wait(START_TIMEOUT_SECONDS), workers.output()
        else:
            # Interpreter start-up takes longer than the whole window: count from the first
            # request this worker makes, then kill at a random moment of its sending.
            assert standin.wait_for(_called_since(standin, calls_before), START_TIMEOUT_SECONDS), (
                workers.output()
            )
            time.sleep(chance.uniform(0.05, 0.6))
        _kill(process)
        slack.disarm()
        kills += 1

    final = workers.start()
    deadline = time.monotonic() + FINISH_TIMEOUT_SECONDS
    while unfinished(postgres_engine):
        assert final.poll() is None, workers.output()
        assert time.monotonic() < deadline, f"{unfinished(postgres_engine)} rows left"
        time.sleep(0.1)
    final.send_signal(signal.SIGTERM)
    final.wait(timeout=STOP_TIMEOUT_SECONDS)
    output = workers.output()
    assert final.returncode == 0, output
    assert "Traceback" not in output and "unexpected error" not in output, output

    assert_each_posted_once(standin, seeded)
    assert_all_sent(postgres_engine, standin, seeded)
    history = standin.calls_to("conversations.history")
    # Each held post was found in the DM history instead of being posted again.
    assert len(slack.held) == KILLS // HOLD_EVERY
    assert len(history) >= len(slack.held)
    final_rows = rows(postgres_engine)
    assert all(final_rows[held].posting_since is not None for held in slack.held)
    retried = sum(1 for row in final_rows.values() if row.attempts > 1)
    print(
        f"\ncrash: {ROWS} check-ins, {kills} kills ({len(slack.held)} while Slack held a post), "
        f"{len(standin.calls_to('chat.postMessage'))} posts, {len(history)} history look-ups, "
        f"{retried} rows claimed more than once, "
        f"max attempts {max(row.attempts for row in final_rows.values())}"
    )
