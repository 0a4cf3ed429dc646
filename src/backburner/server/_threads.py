"""A pool of daemon threads for sync jobs.

``concurrent.futures.ThreadPoolExecutor`` joins its threads when the interpreter exits, so
one sync job that ignores cancellation would keep a stopping server alive forever. Daemon
threads let the process exit once every job it could stop has been put back in its queue.
"""

from __future__ import annotations

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
