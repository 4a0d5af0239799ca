"""SIGTERM while commands arrive and the dispatcher is in the middle of a sweep.

Requests already in flight are answered; the dispatcher finishes the message it is sending and
hands back the rest of its claims at once (no waiting for leases to run out); the next start
carries on, and every message goes out exactly once.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.db import make_engine
from bot.core.migrate import upgrade
from bot.core.models import Checkin, CheckinStatus
from bot.demo.slack_standin import SlackStandIn
from bot.demo.slack_standin_records import Payload
from tests.faults.running import Served, serve
from tests.scheduler.seeding import posts_by_checkin, seed_checkins

pytestmark = pytest.mark.slow

SEEDED = 400
POST_SECONDS = 0.03  # Slack answers each post this late, so the sweep is still going
TRAFFIC_SECONDS = 1.5  # commands arrive for this long before SIGTERM
FINISH_TIMEOUT_SECONDS = 90.0


class Traffic(threading.Thread):
    """Commands from distinct people, one after another, until told to stop."""

    def __init__(self, bot: Served) -> None:
        super().__init__(daemon=True)
        self.bot = bot
        self.stopping = threading.Event()
        # (sent at, status or None when the connection was refused or reset)
        self.results: list[tuple[float, int | None]] = []

    def run(self) -> None:
        number = 0
        while not self.stopping.is_set():
            number += 1
            sent = time.monotonic()
            try:
                response, _ = self.bot.command(f"U7{number:05d}")
                self.results.append((sent, response.status_code))
            except httpx.TransportError:
                self.results.append((sent, None))
                time.sleep(0.01)


def test_sigterm_finishes_requests_hands_back_claims_and_the_next_start_carries_on(
    standin: SlackStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    engine = make_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    seeded = seed_checkins(engine, SEEDED, due_at=now - timedelta(minutes=1), now=now)
    original = standin.handle

    def slow(method: str, args: Payload, token: str | None) -> tuple[int, Payload, dict[str, str]]:
        if method == "chat.postMessage":
            time.sleep(POST_SECONDS)
        return original(method, args, token)

    monkeypatch.setattr(standin, "handle", slow)
    # A long lease: only a hand-back, not an expiry, can let the next start send these rows.
    variables = {"NOTPROMOTED_LEASE_SECONDS": "600", "NOTPROMOTED_DISPATCH_INTERVAL_SECONDS": "1"}
    first = serve(standin, url, tmp_path, **variables)
    traffic = Traffic(first)
    traffic.start()
    time.sleep(TRAFFIC_SECONDS)
    term_at = time.monotonic()
    code = first.stop()
    traffic.stopping.set()
    traffic.join(timeout=30)
    assert code in (0, -15), first.text()[-3000:]
    assert "Traceback" not in first.text(), first.text()[-3000:]

    # In flight at SIGTERM: answered. Nothing got a 5xx.
    answered = [status for sent, status in traffic.results if status is not None]
    assert answered and all(status == 200 for status in answered)
    early = [status for sent, status in traffic.results if sent < term_at - 0.2]
    assert early and None not in early
    # The sweep was cut short, and what it held was handed back, not left to a lease.
    sent_before = len(posts_by_checkin(standin))
    assert 0 < sent_before < SEEDED + len(answered)
    with Session(engine) as session:
        claimed = session.exec(
            select(func.count())
            .select_from(Checkin)
            .where(col(Checkin.status) == CheckinStatus.CLAIMED)
        ).one()
    assert claimed == 0

    second = serve(standin, url, tmp_path, **variables)
    try:
        deadline = time.monotonic() + FINISH_TIMEOUT_SECONDS
        while True:
            with Session(engine) as session:
                left = session.exec(
                    select(func.count())
                    .select_from(Checkin)
                    .where(
                        col(Checkin.status).in_([CheckinStatus.PENDING, CheckinStatus.CLAIMED]),
                        col(Checkin.due_at) <= datetime.now(UTC),  # not the days-later ones
                    )
                ).one()
            if not left:
                break
            assert time.monotonic() < deadline, f"{left} rows left: {second.text()[-2000:]}"
            time.sleep(0.3)
    finally:
        second.stop()
    posts = posts_by_checkin(standin)
    twice = {checkin: channels for checkin, channels in posts.items() if len(channels) > 1}
    assert not twice, twice
    assert all(s.checkin_id in posts for s in seeded)
    print(
        f"\nSIGTERM after {TRAFFIC_SECONDS} s of traffic: {len(answered)} commands answered "
        f"(all 200), {sent_before} messages sent before it, no row left claimed; the next start "
        f"sent the remaining {len(posts) - sent_before}, none twice"
    )
    engine.dispose()
