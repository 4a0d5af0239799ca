"""One person's backlog never holds up another person's message (issue 17).

A person who queued a flood of messages to themselves, with Slack allowing one post a second
in a conversation: before, a sweep claimed a page of 50 and waited for every lane of it, so
another person's check-in due behind the flood waited for pages of the flooder's posts (78 s
in the security review). Now each row is a task of its own and a busy person holds one slot.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from bot.core.db import make_sessions
from bot.core.ids import CHECKIN_KIND_STAGE
from bot.core.models import Checkin
from bot.demo.slack_standin import SlackStandIn
from tests.conftest import make_settings
from tests.scheduler.seeding import STAGE, make_dispatcher, seed_checkins

FLOOD = 120  # more than a page of the old sweep, so the other's row was pages away
DEADLINE_SECONDS = 30.0


def _flood(engine: Engine, journey_id: int, *, due_at: datetime, now: datetime) -> None:
    with make_sessions(engine).begin() as session:
        session.add_all(
            Checkin(
                journey_id=journey_id,
                kind=CHECKIN_KIND_STAGE,
                key=f"flood:{number}",
                stage_id=STAGE,
                due_at=due_at + timedelta(milliseconds=number),
                within_hours=False,
                created_at=now,
            )
            for number in range(FLOOD)
        )


def test_a_flood_to_one_person_does_not_delay_anothers_check_in(
    standin: SlackStandIn, engine: Engine
) -> None:
    standin.post_interval_per_channel = 1.0
    now = datetime.now(UTC)
    [flooder] = seed_checkins(engine, 1, due_at=now - timedelta(minutes=2), now=now)
    [other] = seed_checkins(engine, 1, due_at=now - timedelta(seconds=5), now=now, first=1)
    with make_sessions(engine).begin() as session:
        first = session.get(Checkin, flooder.checkin_id)
        assert first is not None and first.journey_id is not None
        journey_id = first.journey_id
    _flood(engine, journey_id, due_at=now - timedelta(minutes=1), now=now)
    dispatcher = make_dispatcher(make_settings(standin), engine, owner="fair")

    async def scenario() -> float:
        sweep = asyncio.get_running_loop().create_task(dispatcher.run_once())
        started = time.monotonic()
        while not standin.dms_to(other.user_id):
            assert time.monotonic() - started < DEADLINE_SECONDS, "the other is still waiting"
            assert not sweep.done(), sweep
            await asyncio.sleep(0.02)
        waited = time.monotonic() - started
        await dispatcher.stop()  # the flooder's post in hand finishes; the rest stays queued
        await sweep
        return waited

    waited = asyncio.run(scenario())
    flooded = len(standin.dms_to(flooder.user_id))
    assert waited < 5.0, waited
    assert 1 <= flooded < FLOOD  # still being sent, one a second
    print(
        f"\n{FLOOD + 1} messages queued to one person, Slack allowing one post a second per "
        f"conversation: another person's check-in went out {waited:.2f} s into the sweep"
    )
