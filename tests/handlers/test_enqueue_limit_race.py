"""The outbox limit holds when one person's requests arrive at once, as from several processes
of a deployment: on PostgreSQL (each thread its own connection and transaction, as separate
processes would have) and on SQLite. With nineteen queued, only one of several concurrent
requests may pass."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import Engine

from bot.core import ids
from bot.core.clock import ManualClock
from bot.core.config import Settings
from bot.core.db import make_sessions
from bot.core.dependencies import Services
from bot.core.models import Checkin
from handlers.enqueue_limit import PER_MINUTE, TEXT_KEY
from handlers.feedback import FormResult, request_feedback
from handlers.start import start_or_resume
from tests.handlers.sqlite_services import CONTENT, EN, KEY, T0, ref, rows

ALEX = "UALEX"
THREADS = 8


def ask(services: Services) -> FormResult:
    return request_feedback(services, ref(ALEX), decider="UBOSS", focus="", tone="warm")


def test_concurrent_requests_at_nineteen_let_exactly_one_through(engine: Engine) -> None:
    services = Services(
        settings=Settings(secret_key=KEY),
        sessions=make_sessions(engine),
        content=CONTENT,
        clock=ManualClock(T0),
    )
    start_or_resume(services, ref(ALEX))
    assert isinstance(services.clock, ManualClock)
    services.clock.move_to(T0 + timedelta(seconds=61))
    for _ in range(PER_MINUTE - 1):
        assert ask(services).errors == {}
    barrier = threading.Barrier(THREADS)

    def run(_: int) -> FormResult:
        barrier.wait(timeout=10)
        return ask(services)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        answers = list(pool.map(run, range(THREADS)))

    passed = [answer for answer in answers if not answer.errors]
    assert len(passed) == 1
    refused = [answer.errors for answer in answers if answer.errors]
    assert refused == [{"decider": EN.text(TEXT_KEY)}] * (THREADS - 1)
    drafts = [r for r in rows(services, Checkin) if r.kind == ids.CHECKIN_KIND_FEEDBACK_REQUEST]
    assert len(drafts) == PER_MINUTE
