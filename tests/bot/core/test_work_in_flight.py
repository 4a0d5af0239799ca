"""Work an adapter goes on with after its answer, counted by what it started itself."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from bot.core.work_in_flight import WorkInFlight


def test_a_tracked_function_counts_while_it_runs_and_keeps_its_signature() -> None:
    async def scenario() -> None:
        work = WorkInFlight()
        release = asyncio.Event()

        async def listener(ack: object, body: dict[str, object]) -> str:
            await release.wait()
            return "done"

        tracked = work.track(listener)
        # Bolt reads the parameters to know what to pass; they stay the listener's.
        assert inspect.getfullargspec(inspect.unwrap(tracked)).args == ["ack", "body"]
        running = asyncio.create_task(tracked(None, {}))
        await asyncio.sleep(0)
        assert work.busy
        assert await work.settled(patience_seconds=0.05) is False
        release.set()
        assert await work.settled() is True
        assert await running == "done"

    asyncio.run(scenario())


def test_work_started_for_later_is_waited_for_and_a_failure_still_settles() -> None:
    async def scenario() -> None:
        work = WorkInFlight()
        finished: list[str] = []

        async def later() -> None:
            await asyncio.sleep(0.02)
            finished.append("later")

        async def failing() -> None:
            raise RuntimeError("logged by whoever started it")

        work.later(later())
        tracked = work.track(failing)
        with pytest.raises(RuntimeError):
            await tracked()
        assert await work.settled() is True
        assert finished == ["later"] and not work.busy

    asyncio.run(scenario())
