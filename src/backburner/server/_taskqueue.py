"""The in-process task queue: bounded, drained by the servers of this process, not stored.

Producers put a function and its arguments; a full queue makes them wait (``put``,
``put_blocking``) or raises ``QueueFull`` (``put_nowait``, or any put with
``when_full="raise"``). Producers may be on any thread or event loop: a web app's loop, a
thread of a sync framework, a job. The queue is a service of the server (``_services.py``):
``concurrency`` workers on the server's loop take the tasks in order, awaiting an
``async def`` function and running a plain one on a thread. On stop it takes no more work,
drains what it holds within the grace period, and logs what it had to drop.

Nothing here is stored: a crash loses what the queue holds. Work that must survive one is
a durable job.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import contextlib
import inspect
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .._records import HostedTaskQueue
from ._report import task_queue_report
from ._services import Service
from ._threads import DaemonThreadPool

log = logging.getLogger("backburner.taskqueue")

WhenFull = Literal["wait", "raise"]

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)
"""Seconds: the upper bounds of the duration and wait histograms (``+Inf`` besides)."""


class QueueFull(Exception):
    """The task queue holds ``capacity`` tasks already."""


class QueueStopped(RuntimeError):
    """The task queue's server is stopping or has stopped: it takes no more work."""


@dataclass
class Histogram:
    """Counts of observations at or under each bound of ``DURATION_BUCKETS``, and their sum."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(DURATION_BUCKETS) + 1))
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(DURATION_BUCKETS, seconds)] += 1
        self.total += seconds

    def cumulative(self) -> list[tuple[str, int]]:
        """``(upper bound, count at or under it)`` pairs, as Prometheus histograms give them."""
        pairs, running = [], 0
        for bound, count in zip((*DURATION_BUCKETS, float("inf")), self.counts, strict=True):
            running += count
            pairs.append(("+Inf" if bound == float("inf") else str(bound), running))
        return pairs


@dataclass(frozen=True)
class TaskQueueStatus:
    """How a task queue is doing. ``running``: whether a server of this process drains it;
    ``size``: tasks waiting; ``busy``: tasks being run now; ``dropped``: tasks held at a
    stop that the grace period did not leave time to run."""

    name: str
    capacity: int
    concurrency: int
    running: bool
    size: int
    busy: int
    processed: int
    failed: int
    dropped: int
    durations: Histogram
    waits: Histogram


@dataclass(frozen=True)
class _Task:
    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    put_at: float


class TaskQueue:
    """A bounded queue of function calls, run by the servers of this process.

    >>> orders = app.task_queue("orders", capacity=100, concurrency=2)
    >>> await orders.put(process_order, order_id)       # waits while the queue is full
    >>> orders.put_nowait(process_order, order_id)      # raises QueueFull when it is
    >>> orders.put_blocking(process_order, order_id)    # from sync code: blocks the thread
    """

    def __init__(
        self,
        name: str,
        *,
        capacity: int = 100,
        concurrency: int = 1,
        when_full: WhenFull = "wait",
        grace: float = 5.0,
    ) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"task queue {name}: capacity must be a whole number >= 1")
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"task queue {name}: concurrency must be a whole number >= 1")
        if when_full not in ("wait", "raise"):
            raise ValueError(f"task queue {name}: when_full must be 'wait' or 'raise'")
        self.name = name
        self.capacity = capacity
        self.concurrency = concurrency
        self.when_full = when_full
        self.grace = grace
        # Grace for the service a little over the drain's, so that the drain can log what it
        # dropped before the server cancels it.
        self.service = Service(
            f"task-queue:{name}", self._serve, grace=grace + 1.0, report=self.report
        )
        self._lock = threading.Lock()
        self._space = threading.Condition(self._lock)  # notified when a task is taken
        self._tasks: collections.deque[_Task] = collections.deque()
        self._async_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._stopped = False
        self._disabled: str | None = None
        self._running = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._has_work: asyncio.Event | None = None
        self._busy = 0
        self._processed = 0
        self._failed = 0
        self._dropped = 0
        self._durations = Histogram()
        self._waits = Histogram()

    # --- producers --------------------------------------------------------------------

    async def put(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Add ``func(*args, **kwargs)``; while the queue is full, wait for room (or raise
        ``QueueFull`` with ``when_full="raise"``)."""
        task = self._task(func, args, kwargs)
        while True:
            with self._lock:
                if self._offer(task):
                    break
                loop = asyncio.get_running_loop()
                room: asyncio.Future[None] = loop.create_future()
                self._async_waiters.append((loop, room))
            try:
                await room
            finally:
                with self._lock, contextlib.suppress(ValueError):
                    self._async_waiters.remove((loop, room))
        self._wake_workers()

    def put_nowait(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Add ``func(*args, **kwargs)``, or raise ``QueueFull`` at once."""
        task = self._task(func, args, kwargs)
        with self._lock:
            self._offer(task, wait=False)  # True, or it raised
        self._wake_workers()

    def put_blocking(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """``put`` for sync code: blocks this thread while the queue is full. Never call it on
        an event loop's thread (use ``await put``)."""
        task = self._task(func, args, kwargs)
        with self._lock:
            while not self._offer(task):
                self._space.wait()
        self._wake_workers()

    def disable(self, reason: str) -> None:
        """Refuse every put with ``QueueStopped(reason)``: no server of this process runs it."""
        with self._lock:
            self._disabled = reason

    def status(self) -> TaskQueueStatus:
        with self._lock:
            return TaskQueueStatus(
                name=self.name,
                capacity=self.capacity,
                concurrency=self.concurrency,
                running=self._running,
                size=len(self._tasks),
                busy=self._busy,
                processed=self._processed,
                failed=self._failed,
                dropped=self._dropped,
                durations=Histogram(list(self._durations.counts), self._durations.total),
                waits=Histogram(list(self._waits.counts), self._waits.total),
            )

    def report(self) -> HostedTaskQueue:
        """This queue's part of a server's heartbeat."""
        return task_queue_report(self.status())

    def __len__(self) -> int:
        with self._lock:
            return len(self._tasks)

    def _task(
        self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> _Task:
        if not callable(func):
            raise TypeError(f"task queue {self.name}: {func!r} is not callable")
        return _Task(func, args, kwargs, time.monotonic())

    def _offer(self, task: _Task, *, wait: bool = True) -> bool:
        """Under the lock: append ``task`` and return True, or False to wait for room."""
        if self._disabled is not None:
            raise QueueStopped(self._disabled)
        if self._stopped:
            raise QueueStopped(f"task queue {self.name} is stopped: it takes no more work")
        if len(self._tasks) < self.capacity:
            self._tasks.append(task)
            return True
        if not wait or self.when_full == "raise":
            raise QueueFull(f"task queue {self.name} is full ({self.capacity} tasks)")
        return False

    def _wake_workers(self) -> None:
        loop, has_work = self._loop, self._has_work
        if loop is not None and has_work is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nothing to wake
                loop.call_soon_threadsafe(has_work.set)

    def _made_room(self) -> None:
        """Under the lock: a task was taken (or the queue stopped); wake the waiting producers."""
        self._space.notify_all()
        for loop, room in self._async_waiters:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, room)

    # --- the service ------------------------------------------------------------------

    async def _serve(self, stop: asyncio.Event) -> None:
        loop, has_work = asyncio.get_running_loop(), asyncio.Event()
        with self._lock:
            first = not self._running  # else another server of this process drains it
            if first:
                self._running, self._stopped = True, False
                self._loop, self._has_work = loop, has_work
                held = len(self._tasks)
        if not first:
            await stop.wait()
            return
        if held:
            has_work.set()
        threads = DaemonThreadPool(self.concurrency, name=f"backburner-queue-{self.name}")
        draining = asyncio.Event()
        workers = [
            asyncio.create_task(self._work(threads, has_work, draining), name=f"{self.name}-{n}")
            for n in range(self.concurrency)
        ]
        try:
            await stop.wait()
        finally:
            with self._lock:
                self._stopped = True
                self._made_room()  # waiting producers now get QueueStopped
            draining.set()
            has_work.set()
            _done, late = await asyncio.wait(workers, timeout=self.grace)
            for worker in late:
                worker.cancel()
            interrupted = self._busy if late else 0
            if late:
                await asyncio.wait(late, timeout=0.5)
            with self._lock:
                dropped = len(self._tasks)
                self._dropped += dropped
                self._tasks.clear()
                self._running = False
            if dropped or interrupted:
                log.warning(
                    "task queue %s stopped: %d task(s) dropped, %d interrupted (grace %.1f s)",
                    self.name,
                    dropped,
                    interrupted,
                    self.grace,
                )
            threads.shutdown()

    async def _work(
        self, threads: DaemonThreadPool, has_work: asyncio.Event, draining: asyncio.Event
    ) -> None:
        while True:
            with self._lock:
                task = self._tasks.popleft() if self._tasks else None
                if task is not None:
                    self._busy += 1
                    self._made_room()
            if task is None:
                if draining.is_set():
                    return
                has_work.clear()
                if len(self) == 0 and not draining.is_set():
                    await has_work.wait()
                continue
            await self._run(task, threads)

    async def _run(self, task: _Task, threads: DaemonThreadPool) -> None:
        started = time.monotonic()
        ok = interrupted = False
        try:
            if inspect.iscoroutinefunction(task.func):
                await task.func(*task.args, **task.kwargs)
            else:
                call = threads.submit(lambda: task.func(*task.args, **task.kwargs))
                await asyncio.wrap_future(call)
            ok = True
        except asyncio.CancelledError:
            interrupted = True  # the grace period of a stop ran out
            raise
        except Exception:
            log.exception("task queue %s: %s failed", self.name, _name(task.func))
        finally:
            with self._lock:
                self._busy -= 1
                if interrupted:
                    self._dropped += 1
                elif ok:
                    self._processed += 1
                else:
                    self._failed += 1
                self._durations.observe(time.monotonic() - started)
                self._waits.observe(started - task.put_at)


def _resolve(room: asyncio.Future[None]) -> None:
    if not room.done():
        room.set_result(None)


def _name(func: Callable[..., Any]) -> str:
    return getattr(func, "__qualname__", None) or repr(func)
