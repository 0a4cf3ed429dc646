"""What happens to jobs and servers, told to whoever subscribes: ``app.events``.

Dispatch is synchronous, in the thread that made the change (a client's, a server's event
loop or one of its I/O threads), so a subscriber must be quick: logging, a metric, a push
to a dashboard's queue. Nobody listening costs one set lookup per change and no event
object; a subscriber that raises is logged and never breaks a job or a call.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

log = logging.getLogger("backburner.events")

LOG_EVERY = 60.0
"""A subscriber that keeps raising is logged at most once per this many seconds."""


@dataclass(frozen=True, slots=True)
class Event:
    """The base of every event; subscribe to it to hear them all."""


@dataclass(frozen=True, slots=True)
class JobEnqueued(Event):
    """A job was stored: ``state`` says whether it is ready, scheduled or awaiting."""

    id: str
    name: str
    queue: str
    state: Literal["enqueued", "scheduled", "awaiting"]
    at: dt.datetime
    """When it was stored."""


@dataclass(frozen=True, slots=True)
class JobStarted(Event):
    """A server claimed a job and started its run."""

    id: str
    name: str
    queue: str
    attempt: int
    server_id: str
    waited: float | None
    """Seconds from the instant the job was due (scheduled or recurring) to its start;
    None for a job enqueued to run at once."""
    queued: float | None = None
    """Seconds from when this run became ready (enqueued, due, released by its parent,
    requeued or due for a retry) to its start: its wait in the queue."""


@dataclass(frozen=True, slots=True)
class JobSucceeded(Event):
    """A run's success was recorded."""

    id: str
    name: str
    queue: str
    attempt: int
    server_id: str
    duration: float
    """Seconds from the claim to the outcome."""


@dataclass(frozen=True, slots=True)
class JobFailed(Event):
    """A run's failure was recorded; ``will_retry`` says whether another run is scheduled
    (at ``retry_at``) or the job has failed for good."""

    id: str
    name: str
    queue: str
    attempt: int
    server_id: str
    duration: float
    error_type: str
    will_retry: bool
    retry_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class JobRequeued(Event):
    """A job was put back in its queue by ``app.jobs.requeue()`` (a retry by hand)."""

    id: str
    queue: str
    reason: str


@dataclass(frozen=True, slots=True)
class JobDeleted(Event):
    """A job was deleted; ``reason`` says by whom (as its history does)."""

    id: str
    reason: str


@dataclass(frozen=True, slots=True)
class QueuePaused(Event):
    """A queue was paused by ``app.queues.pause()``: servers claim none of its jobs."""

    queue: str
    reason: str


@dataclass(frozen=True, slots=True)
class QueueResumed(Event):
    """A paused queue was resumed by ``app.queues.resume()``."""

    queue: str
    reason: str


@dataclass(frozen=True, slots=True)
class ServerStarted(Event):
    """A server started taking jobs."""

    server_id: str
    queues: tuple[str, ...]
    workers: int


@dataclass(frozen=True, slots=True)
class ServerStopped(Event):
    """A server stopped, its jobs drained or handed back."""

    server_id: str


@dataclass(frozen=True, slots=True)
class RecurringEnqueued(Event):
    """A recurring job enqueued its run for ``instant`` (by schedule or by hand)."""

    recurring_id: str
    job_id: str
    instant: dt.datetime


E = TypeVar("E", bound=Event)
Subscriber = Callable[[Any], object]


class EventHub:
    """Subscribers by event kind.

    >>> unsubscribe = app.events.subscribe(lambda e: print(e.id, e.duration), JobSucceeded)
    >>> unsubscribe()

    With no kinds a subscriber hears every event. ``wants(kind)`` says whether anyone
    listens, so that an emitter builds no event nobody hears.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[tuple[Subscriber, tuple[type[Event], ...]]] = []
        # Rebuilt on each (rare) change, read without a lock on each (frequent) emit.
        self._by_kind: dict[type[Event], tuple[Subscriber, ...]] = {}
        self.active = False
        """Whether anyone subscribes at all: one attribute read on a hot path."""
        self._logged_at: dict[int, float] = {}

    def subscribe(self, callback: Callable[[E], object], *kinds: type[E]) -> Callable[[], None]:
        """Call ``callback(event)`` for each event of ``kinds`` (every event when none are
        given); returns a function that unsubscribes it."""
        if not callable(callback):
            raise TypeError(f"subscribe() takes a callable, not {callback!r:.40}")
        for kind in kinds:
            if not (isinstance(kind, type) and issubclass(kind, Event)):
                raise TypeError(f"subscribe() takes event classes as kinds, not {kind!r:.40}")
        entry: tuple[Subscriber, tuple[type[Event], ...]] = (callback, kinds or (Event,))
        with self._lock:
            self._subscribers.append(entry)
            self._rebuild()

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subscribers:
                    self._subscribers.remove(entry)
                    self._rebuild()

        return unsubscribe

    def _rebuild(self) -> None:
        by_kind: dict[type[Event], tuple[Subscriber, ...]] = {}
        for kind in _KINDS:
            listening = tuple(
                callback
                for callback, kinds in self._subscribers
                if any(issubclass(kind, wanted) for wanted in kinds)
            )
            if listening:
                by_kind[kind] = listening
        self._by_kind = by_kind
        self.active = bool(by_kind)

    def wants(self, kind: type[Event]) -> bool:
        """Whether anyone listens to ``kind``."""
        return kind in self._by_kind

    def emit(self, event: Event) -> None:
        """Tell every subscriber of the event's kind, in the order they subscribed."""
        for callback in self._by_kind.get(type(event), ()):
            try:
                callback(event)
            except Exception:
                self._log_failure(callback, event)

    def _log_failure(self, callback: Subscriber, event: Event) -> None:
        now = time.monotonic()
        key = id(callback)
        last = self._logged_at.get(key)
        if last is not None and now - last < LOG_EVERY:
            return
        self._logged_at[key] = now
        log.exception(
            "event subscriber %r raised on %s (logged at most once a minute)",
            callback,
            type(event).__name__,
        )


_KINDS: tuple[type[Event], ...] = (
    JobEnqueued,
    JobStarted,
    JobSucceeded,
    JobFailed,
    JobRequeued,
    JobDeleted,
    QueuePaused,
    QueueResumed,
    ServerStarted,
    ServerStopped,
    RecurringEnqueued,
)
