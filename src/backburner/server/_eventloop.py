"""Running a server's event loop to its end, even when a job will not let go of it.

``asyncio.run()`` cancels the tasks still pending when its coroutine returns, and waits
for them: one ``async def`` job that swallows ``CancelledError`` would keep a stopped
server from ever returning. Here that wait is bounded. Runs that never end are left
pending and held for good: a coroutine that swallows exceptions cannot even be closed by
the garbage collector, which would report it as an error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger("backburner.server")
T = TypeVar("T")

LEFTOVER_GRACE = 0.5
"""Seconds the tasks left when the server's coroutine returns get to end once cancelled."""

_abandoned: set[asyncio.Task[Any]] = set()


def abandon(task: asyncio.Task[Any]) -> None:
    """Leave ``task`` pending when its loop closes: it ignored its cancellation."""
    _abandoned.add(task)


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, with a bounded wait for what is left when ``main`` returns."""
    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(main)
    finally:
        try:
            _end(loop, _leftovers(loop))
            _end(loop, [loop.create_task(loop.shutdown_asyncgens())])
            _end(loop, [loop.create_task(loop.shutdown_default_executor())])
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _leftovers(loop: asyncio.AbstractEventLoop) -> list[asyncio.Task[Any]]:
    tasks = [task for task in asyncio.all_tasks(loop) if task not in _abandoned]
    for task in tasks:
        task.cancel()
    return tasks


def _end(loop: asyncio.AbstractEventLoop, tasks: list[asyncio.Task[Any]]) -> None:
    if not tasks:
        return
    done, pending = loop.run_until_complete(asyncio.wait(tasks, timeout=LEFTOVER_GRACE))
    for task in pending:
        log.warning("task %s did not end when cancelled: left behind", task.get_name())
        abandon(task)
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler(
                {
                    "message": "unhandled exception in a task left when the server stopped",
                    "exception": task.exception(),
                    "task": task,
                }
            )
