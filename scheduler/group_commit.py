"""Writes from concurrent tasks that share one transaction: whatever is waiting when the
previous write ends goes in the next, so a commit is paid once per group, not once per row.

Nothing waits on a timer: the first write starts at once, alone; the writes that arrive while
it runs form the next group. With one task there is no delay at all; with eight sends
finishing together, one commit instead of eight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    def __init__(self, write: Callable[[Sequence[Item]], Sequence[Result]]) -> None:
        """`write` runs in a thread, takes a group, and returns one result per item, in order
        (or raises: every item of that group then raises the same error)."""
        self._write = write
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Write `item` with whatever else is waiting; return once it is committed."""
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write_while_waiting())
        return await done

    async def _write_while_waiting(self) -> None:
        group: list[tuple[Item, asyncio.Future[Result]]] = []
        try:
            while self._waiting:
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
