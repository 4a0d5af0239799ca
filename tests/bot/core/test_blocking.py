"""The executor for blocking work: answers before sending, and it outlives an event loop."""

from __future__ import annotations

import asyncio
import threading

from bot.core.blocking import BlockingWork


def test_work_a_person_waits_on_runs_before_queued_sending() -> None:
    work = BlockingWork(threads=1)
    busy, release = threading.Event(), threading.Event()
    order: list[str] = []

    def hold() -> None:
        busy.set()
        release.wait(5)

    work.submit(hold)
    assert busy.wait(5)  # the one thread is taken: what follows queues
    queued = [work.submit(order.append, "send 1"), work.submit(order.append, "send 2")]
    queued.append(work.submit_first(order.append, "answer"))
    release.set()
    for future in queued:
        future.result(5)
    assert order == ["answer", "send 1", "send 2"]
    work.shutdown()


def test_errors_reach_the_caller_and_the_thread_goes_on() -> None:
    work = BlockingWork(threads=1)

    def fail() -> None:
        raise ValueError("no")

    failed = work.submit(fail)
    assert isinstance(failed.exception(5), ValueError)
    assert work.submit(lambda: 42).result(5) == 42
    work.shutdown()


def test_it_is_the_default_executor_of_one_loop_after_another() -> None:
    """asyncio.run shuts the default executor down at the end; the next loop starts it again."""
    work = BlockingWork(threads=2)

    async def on_a_thread() -> str:
        asyncio.get_running_loop().set_default_executor(work)
        return await asyncio.to_thread(lambda: threading.current_thread().name)

    assert asyncio.run(on_a_thread()).startswith("blocking-")
    assert asyncio.run(on_a_thread()).startswith("blocking-")
