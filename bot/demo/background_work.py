"""Waiting for the work Bolt listeners do after their ack (the demo and tests need it)."""

from __future__ import annotations

import asyncio

# Bolt runs each listener in a task named after this function once ack() has answered Slack.
_LISTENER_TASK = "run_ack_function"


_PATIENCE_SECONDS = 20.0


async def listeners_settled() -> bool:
    """True once no listener task of this event loop is still running (False after 20 s)."""
    current = asyncio.current_task()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _PATIENCE_SECONDS
    while loop.time() < deadline:
        running = [
            task
            for task in asyncio.all_tasks()
            if task is not current and not task.done() and _LISTENER_TASK in repr(task.get_coro())
        ]
        if not running:
            return True
        await asyncio.sleep(0.01)
    return False
