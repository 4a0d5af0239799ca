"""The threads that run blocking work (database transactions) for the event loop.

Few threads, and answers first. Every `asyncio.to_thread` in the process lands here once the
runtime is open (it becomes the loop's default executor). Work a person is waiting on (a
command before its acknowledgement, a form, a health probe) is submitted with `submit_first`
and runs before any queued sending work. With SQLite one thread does it all: transactions
are serialised by SQLite anyway, and one worker avoids handing the GIL and the write lock back
and forth between threads on a busy core, which cost more than the SQL itself.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

_T = TypeVar("_T")
_FIRST, _NORMAL, _STOP = 0, 1, 2

_Work = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]]
_Item = tuple[int, int, _Work | None]


class BlockingWork(ThreadPoolExecutor):
    """A thread pool with two classes of work; answers before sending.

    A ThreadPoolExecutor by type only (asyncio's default executor must be one): it keeps its
    own queue and threads. Threads start on first use and stop at `shutdown`; work submitted
    after a shutdown starts them again, so a runtime outlives one event loop (tests, demo).
    """

    def __init__(self, threads: int, *, name: str = "blocking") -> None:
        self._threads_wanted = threads
        self._name = name
        self._queue: queue.PriorityQueue[_Item] = queue.PriorityQueue()
        self._order = itertools.count()
        self._workers: list[threading.Thread] = []
        self._guard = threading.Lock()

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        return self._put(_NORMAL, fn, args, kwargs)

    def submit_first(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        """Run before everything submitted with `submit` that has not started yet."""
        return self._put(_FIRST, fn, args, kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._guard:
            threads, self._workers = self._workers, []
            for _ in threads:
                self._queue.put((_STOP, next(self._order), None))
        if wait:
            for thread in threads:
                thread.join()

    def _put(
        self, priority: int, fn: Callable[..., _T], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Future[_T]:
        future: Future[_T] = Future()
        self._queue.put((priority, next(self._order), (future, fn, args, kwargs)))
        with self._guard:
            while len(self._workers) < self._threads_wanted:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._workers)}", daemon=True
                )
                self._workers.append(thread)
                thread.start()
        return future

    def _work(self) -> None:
        while True:
            _, _, item = self._queue.get()
            if item is None:
                return
            future, fn, args, kwargs = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(result)
