"""The dispatcher on the real clock, moved with time-machine: what is due goes, the rest waits."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import time_machine
from sqlmodel import select

from bot.core import ids
from bot.core.clock import system_clock
from bot.core.db import make_engine, make_sessions
from bot.core.dependencies import Services
from bot.core.migrate import upgrade
from bot.core.models import Checkin, CheckinStatus
from bot.core.person_ref import PersonRef
from bot.demo.slack_standin import SlackStandIn
from bot.slack.client import make_web_client
from bot.slack.sender import SlackSender
from handlers.outbox import OutboxComposer
from handlers.start import start_or_resume
from messages.loader import load_content
from scheduler.dispatcher import Dispatcher
from tests.conftest import make_settings

# Monday 23 November 2026, 10:00 in London.
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_check_ins_follow_the_system_clock(standin: SlackStandIn, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'clock.db'}")
    upgrade(engine)
    settings = make_settings(standin)
    services = Services(
        settings=settings,
        sessions=make_sessions(engine),
        content=load_content(),
        clock=system_clock,
    )
    dispatcher = Dispatcher(
        services, {"slack": SlackSender(make_web_client(settings))}, OutboxComposer()
    )
    ref = PersonRef("slack", "T0TEST", "U0CLOCK")
    with time_machine.travel(MONDAY, tick=False):
        first = start_or_resume(services, ref)
        assert asyncio.run(dispatcher.run_once()) == 1  # the first step, due at once
        assert first.send_now
    with time_machine.travel(datetime(2026, 11, 26, 9, 59, tzinfo=UTC), tick=False):
        assert asyncio.run(dispatcher.run_once()) == 0  # Thursday, a minute early
    with time_machine.travel(datetime(2026, 11, 26, 10, 15, tzinfo=UTC), tick=False):
        assert asyncio.run(dispatcher.run_once()) == 1
    with services.sessions.begin() as session:
        feedback = session.exec(
            select(Checkin).where(Checkin.kind == ids.CHECKIN_KIND_FEEDBACK_NUDGE)
        ).one()
        assert feedback.status == CheckinStatus.SENT
    engine.dispose()
