"""A sending process's heartbeat: written every BEAT_SECONDS from a thread of its own, so the
rows the process holds stay its own while it lives (whatever its event loop is busy with) and
are free for another within bot.core.storage.heartbeats.DEAD_AFTER of its death.

The thread runs where sending goes on for long (`serve`'s sending process, `worker`, Socket
Mode: scheduler.runner starts it). A dispatcher without it (the tests' in-process app, the
demo) beats in each claim's own transaction instead, which covers sends shorter than
DEAD_AFTER."""

from __future__ import annotations

import logging
import threading

from bot.core.dependencies import Services
from bot.core.storage import heartbeats

logger = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, services: Services, owner: str) -> None:
        self.services = services
        self.owner = owner
        self._lock = threading.Lock()
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def beating(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        """Beat once now (before this process claims anything), then keep beating."""
        with self._lock:
            if self._thread is not None:
                return
            self._beat()
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name=f"heartbeat {self.owner}", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop beating and say so: rows still held become free for others at once (a
        process without the thread beat with each claim; it says so too)."""
        with self._lock:
            thread, stop = self._thread, self._stop
            self._thread = self._stop = None
        if thread is not None and stop is not None:
            stop.set()
            thread.join()
        try:
            with self.services.sessions.begin() as session:
                heartbeats.forget(session, owner=self.owner)
        except Exception:  # it ages out: DEAD_AFTER from its last beat
            logger.warning("could not remove the heartbeat of %s", self.owner, exc_info=True)

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(heartbeats.BEAT_SECONDS):
            try:
                self._beat()
            except Exception:  # the database may be away a moment; the next beat tries again
                logger.warning("heartbeat of %s not written", self.owner, exc_info=True)

    def _beat(self) -> None:
        with self.services.sessions.begin() as session:
            heartbeats.beat(session, owner=self.owner, now=self.services.clock())
