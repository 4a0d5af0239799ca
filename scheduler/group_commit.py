"""Writes from concurrent tasks that share one write: whatever is waiting when the previous
write ends goes in the next, so a write's fixed cost (a round trip, a commit) is paid once
per group, not once per row.

A write may also gather: wait up to `gather_seconds` for `enough` items before it starts
(the dispatcher's sent marks: a mark waits a few milliseconds, which nobody sees, and the
groups are larger). Without it nothing waits on a timer: the first write
starts at once, alone, and the writes that arrive while it runs form the next group.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    def __init__(
        self,
        write: Callable[[Sequence[Item]], Sequence[Result]],
        *,
        gather_seconds: float = 0.0,
        enough: int = 1,
    ) -> None:
        """`write` runs in a thread, takes a group, and returns one result per item, in order
        (or raises: every item of that group then raises the same error)."""
        self._write = write
        self._gather_seconds = gather_seconds
        self._enough = enough
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None
        # While a write gathers: done once `enough` items wait.
        self._filled: asyncio.Future[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Write `item` with whatever else is waiting; return once it is committed."""
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_while_waiting())
        elif self._filled is not None and len(self._waiting) >= self._enough:
            _settle(self._filled)
        return await done

    async def _gather(self) -> None:
        """Wait until `enough` items wait, or `gather_seconds` have passed."""
        if len(self._waiting) >= self._enough or self._gather_seconds <= 0:
            return
        loop = asyncio.get_running_loop()
        self._filled = filled = loop.create_future()
        timer = loop.call_later(self._gather_seconds, _settle, filled)
        try:
            await filled
        finally:
            timer.cancel()
            self._filled = None

    async def _write_while_waiting(self) -> None:
        group: list[tuple[Item, asyncio.Future[Result]]] = []
        try:
            while self._waiting:
                await self._gather()
                group, self._waiting = self._waiting, []
                try:
                    results = await asyncio.to_thread(self._write, [item for item, _ in group])
                except Exception as error:  # every waiter of the group gets it
                    for _, done in group:
                        if not done.done():
                            done.set_exception(error)
                    continue
                for (_, done), result in zip(group, results, strict=True):
                    if not done.done():
                        done.set_result(result)
        except asyncio.CancelledError:  # the loop is going away: nobody is left waiting
            for _, done in group + self._waiting:
                done.cancel()
            self._waiting = []
            raise
        finally:
            self._writer = None


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
