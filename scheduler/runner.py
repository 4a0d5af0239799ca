"""The APScheduler jobs: the sweep of due check-ins, pruning, and the daily retention purge.

The rows, not APScheduler's job store, hold the state; every job is safe in several processes.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core import logs
from bot.core.retention import purge_expired
from scheduler.dispatcher import Dispatcher

logger = logging.getLogger(__name__)

# How often a sending process looks for rows that a dead one held.
RESCUE_SECONDS = 4.0
# The first purge waits a little after start, so a fleet restarting together spreads it out.
RETENTION_FIRST_RUN_SECONDS = (60, 600)


async def _sweep(dispatcher: Dispatcher) -> None:
    logs.request_id.set(logs.new_request_id("sweep-"))  # this job's own task and context
    try:
        sent = await dispatcher.run_once()
    except Exception:  # the database may be away for a moment; the next sweep tries again
        logger.exception("dispatch sweep failed")
        return
    if sent:
        logger.info("dispatch sweep sent %s check-in(s)", sent)


async def _rescue(dispatcher: Dispatcher) -> None:
    try:
        sent = await dispatcher.rescue()
    except Exception:  # the next rescue, or the next sweep, tries again
        logger.exception("rescue of rows held by a stopped sender failed")
        return
    if sent:
        logger.info("rescued and sent %s check-in(s) a stopped sender held", sent)


async def _prune(dispatcher: Dispatcher) -> None:
    try:
        await asyncio.to_thread(dispatcher.prune)
    except Exception:
        logger.exception("pruning processed events failed")


async def _purge(dispatcher: Dispatcher) -> None:
    logs.request_id.set(logs.new_request_id("retention-"))
    try:
        purged = await asyncio.to_thread(purge_expired, dispatcher.services)
    except Exception:  # tomorrow's run tries again; nothing is half-erased (one transaction)
        logger.exception("retention purge failed")
        return
    if dispatcher.metrics is not None:
        dispatcher.metrics.count("purged", purged.journeys_erased)


def start_dispatching(
    dispatcher: Dispatcher, *, interval_seconds: float, first_sweep_in: float = 0
) -> AsyncIOScheduler:
    """Start sweeping in `first_sweep_in` seconds (now by default), then every
    `interval_seconds`; call inside a running event loop."""
    dispatcher.heartbeat.start()  # before the first claim: its rows are a living process's
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_job(
        _sweep,
        "interval",
        args=[dispatcher],
        seconds=interval_seconds,
        next_run_time=datetime.now(UTC) + timedelta(seconds=first_sweep_in),
        id="dispatch",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    # Rows a dead process held go out within DEAD_AFTER and this, whatever the sweep interval.
    scheduler.add_job(
        _rescue,
        "interval",
        args=[dispatcher],
        seconds=RESCUE_SECONDS,
        id="rescue",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    scheduler.add_job(_prune, "interval", args=[dispatcher], hours=1, id="prune", coalesce=True)
    first_purge = datetime.now(UTC) + timedelta(
        seconds=random.uniform(*RETENTION_FIRST_RUN_SECONDS)
    )
    scheduler.add_job(
        _purge,
        "interval",
        args=[dispatcher],
        days=1,
        next_run_time=first_purge,
        id="retention",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    scheduler.start()
    return scheduler


async def stop_dispatching(scheduler: AsyncIOScheduler, dispatcher: Dispatcher) -> None:
    """No new sweeps; the running one finishes its current sends and hands back the rest.

    The dispatcher stops first: shutting the scheduler down cancels a running job, which
    would cut a post off halfway and leave its row to wait for the lease to run out.
    """
    await dispatcher.stop()
    scheduler.shutdown(wait=False)
