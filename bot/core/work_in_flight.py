"""Work an adapter goes on with after it has answered the platform (Slack's listeners after
their ack, Teams' after an invoke's answer), counted so that the demo, the tests and a
shutdown can wait for it: by what the adapter started itself, never by guessing from the
event loop's tasks."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")


class WorkInFlight:
    def __init__(self) -> None:
        self._running = 0
        self._tasks: set[asyncio.Task[Any]] = set()

    def track(self, work: Callable[_P, Awaitable[_T]]) -> Callable[_P, Coroutine[Any, Any, _T]]:
        """`work`, counted while it runs; its signature stays readable (functools.wraps), as
        Bolt reads a listener's parameters to know what to pass it."""

        @functools.wraps(work)
        async def tracked(*args: _P.args, **kwargs: _P.kwargs) -> _T:
            self._running += 1
            try:
                return await work(*args, **kwargs)
            finally:
                self._running -= 1

        return tracked

    def later(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` in a task of its own, kept (so that it is not collected) and counted."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def busy(self) -> bool:
        return self._running > 0 or any(not task.done() for task in self._tasks)

    async def settled(self, patience_seconds: float = 20.0) -> bool:
        """True once nothing counted here is running (False after `patience_seconds`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + patience_seconds
        while self.busy:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True
