"""The APScheduler job that sweeps due check-ins; the rows, not its job store, hold the state."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from scheduler.dispatcher import Dispatcher

logger = logging.getLogger(__name__)


async def _sweep(dispatcher: Dispatcher) -> None:
    try:
        sent = await dispatcher.run_once()
    except Exception:  # the database may be away for a moment; the next sweep tries again
        logger.exception("dispatch sweep failed")
        return
    if sent:
        logger.info("dispatch sweep sent %s check-in(s)", sent)


async def _prune(dispatcher: Dispatcher) -> None:
    try:
        await asyncio.to_thread(dispatcher.prune)
    except Exception:
        logger.exception("pruning processed events failed")


def start_dispatching(dispatcher: Dispatcher, *, interval_seconds: float) -> AsyncIOScheduler:
    """Start sweeping now and every `interval_seconds`; call inside a running event loop."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        _sweep,
        "interval",
        args=[dispatcher],
        seconds=interval_seconds,
        next_run_time=datetime.now(UTC),
        id="dispatch",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    scheduler.add_job(_prune, "interval", args=[dispatcher], hours=1, id="prune", coalesce=True)
    scheduler.start()
    return scheduler


async def stop_dispatching(scheduler: AsyncIOScheduler, dispatcher: Dispatcher) -> None:
    """No new sweeps; the running one finishes its current sends and hands back the rest.

    The dispatcher stops first: shutting the scheduler down cancels a running job, which
    would cut a post off halfway and leave its row to wait for the lease to run out.
    """
    await dispatcher.stop()
    scheduler.shutdown(wait=False)
