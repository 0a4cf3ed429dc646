"""A pool of daemon threads for sync jobs, and a batched way back to the event loop.

``concurrent.futures.ThreadPoolExecutor`` joins its threads when the interpreter exits, so
one sync job that ignores cancellation would keep a stopping server alive forever. Daemon
threads let the process exit once every job it could stop has been put back in its queue.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class DaemonThreadPool:
    def __init__(self, max_threads: int, name: str = "backburner-worker") -> None:
        self._max = max_threads
        self._name = name
        self._tasks: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._idle == 0 and len(self._threads) < self._max:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
            else:
                self._idle -= 1
        self._tasks.put((future, fn))
        return future

    def _work(self) -> None:
        while (item := self._tasks.get()) is not None:
            future, fn = item
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as error:
                    future.set_exception(error)
            with self._lock:
                self._idle += 1

    def shutdown(self) -> None:
        """Let idle threads end; busy ones end when their job returns."""
        for _ in self._threads:
            self._tasks.put(None)


class LoopHandoff:
    """Hands the results of worker-thread futures to one event loop, many per wake-up.

    ``asyncio.wrap_future`` wakes the loop once per future. When hundreds of short sync
    jobs end each second, those wake-ups cost more than the jobs: here a worker thread
    only wakes the loop when no earlier wake-up is still pending, and the loop then takes
    every result that has arrived since.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._done: collections.deque[tuple[Future[Any], asyncio.Future[Any]]] = collections.deque()
        self._lock = threading.Lock()
        self._wake_pending = False

    def watch(self, future: Future[T]) -> asyncio.Future[T]:
        """An asyncio future resolved like ``future``; cancelling it cancels ``future``."""
        waiter: asyncio.Future[T] = self._loop.create_future()
        waiter.add_done_callback(lambda w: future.cancel() if w.cancelled() else None)
        future.add_done_callback(lambda f: self._arrived(f, waiter))
        return waiter

    def _arrived(self, future: Future[Any], waiter: asyncio.Future[Any]) -> None:
        self._done.append((future, waiter))
        with self._lock:
            if self._wake_pending:
                return
            self._wake_pending = True
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            self._loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            self._wake_pending = False
        while self._done:
            future, waiter = self._done.popleft()
            if waiter.done():
                continue
            if future.cancelled():
                waiter.cancel()
            elif (error := future.exception()) is not None:
                waiter.set_exception(error)
            else:
                waiter.set_result(future.result())
