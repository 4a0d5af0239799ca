"""Sent marks written in groups: what goes in one write, and when a write starts."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from scheduler.group_commit import GroupCommit


class Recorder:
    def __init__(self) -> None:
        self.groups: list[list[int]] = []

    def write(self, items: Sequence[int]) -> list[int]:
        self.groups.append(list(items))
        return [item * 10 for item in items]


async def _submit_all(commit: GroupCommit[int, int], items: range) -> list[int]:
    return list(await asyncio.gather(*(commit.submit(item) for item in items)))


def test_without_gathering_a_write_starts_at_once_and_what_arrives_meanwhile_goes_next() -> None:
    recorder = Recorder()
    first_write_runs, let_it_end = threading.Event(), threading.Event()

    def write(items: Sequence[int]) -> list[int]:
        if not recorder.groups:
            first_write_runs.set()
            let_it_end.wait(timeout=30)
        return recorder.write(items)

    commit = GroupCommit(write)

    async def while_one_is_written() -> list[int]:
        first = asyncio.ensure_future(commit.submit(1))
        await asyncio.to_thread(first_write_runs.wait, 30)  # alone, at once
        rest = asyncio.ensure_future(_submit_all(commit, range(2, 6)))
        await asyncio.sleep(0)
        let_it_end.set()
        return [await first, *await rest]

    assert asyncio.run(while_one_is_written()) == [10, 20, 30, 40, 50]
    assert recorder.groups == [[1], [2, 3, 4, 5]]


def test_a_gathering_write_takes_what_arrives_within_its_wait() -> None:
    recorder = Recorder()
    commit = GroupCommit(recorder.write, gather_seconds=0.2, enough=100)

    async def arrive_apart() -> list[int]:
        first = asyncio.ensure_future(commit.submit(1))
        await asyncio.sleep(0.01)
        rest = await _submit_all(commit, range(2, 5))
        return [await first, *rest]

    assert asyncio.run(arrive_apart()) == [10, 20, 30, 40]
    assert recorder.groups == [[1, 2, 3, 4]]


def test_a_gathering_write_starts_once_enough_wait_without_waiting_out_its_time() -> None:
    recorder = Recorder()
    commit = GroupCommit(recorder.write, gather_seconds=60.0, enough=3)

    async def three_then_one() -> list[int]:
        written = await asyncio.wait_for(_submit_all(commit, range(1, 4)), timeout=30)
        return written

    assert asyncio.run(three_then_one()) == [10, 20, 30]
    assert recorder.groups == [[1, 2, 3]]


def test_a_failed_write_fails_every_item_of_its_group_and_the_next_group_is_written() -> None:
    groups: list[list[int]] = []

    def write(items: Sequence[int]) -> list[int]:
        groups.append(list(items))
        if 2 in items:
            raise RuntimeError("the database went away")
        return list(items)

    commit = GroupCommit(write, gather_seconds=0.05, enough=2)

    async def run() -> list[object]:
        failed = await asyncio.gather(commit.submit(1), commit.submit(2), return_exceptions=True)
        later = await commit.submit(3)
        return [*failed, later]

    first, second, third = asyncio.run(run())
    assert isinstance(first, RuntimeError) and isinstance(second, RuntimeError)
    assert third == 3
    assert groups == [[1, 2], [3]]
