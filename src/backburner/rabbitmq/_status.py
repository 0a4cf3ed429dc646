"""How a consumer is doing: its connection and what its messages became (pure).

Counted in this process since it started; the broker holds what lasts (the messages and
their delivery counts).
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
from dataclasses import dataclass
from typing import Literal

from .._clock import utcnow
from .._records import HostedConsumer
from ..server._report import short

DURATION_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Upper bounds, in seconds, of the handler duration histogram."""


Outcome = Literal["processed", "retried", "dead_lettered", "returned"]


@dataclass(frozen=True)
class ConsumerStatus:
    """One consumer in this process. ``running``: a server here runs it; ``connected``:
    it holds a connection to the broker and is consuming. ``received``: deliveries
    taken; ``processed``: handled and acked; ``failed``: deliveries whose handler raised
    or timed out; ``retried``: of those, sent to wait for another delivery;
    ``dead_lettered``: moved to the dead-letter queue (failed for the last time, or a
    body that does not read). ``duration_buckets``: handler runs at or under each bound
    of ``DURATION_BUCKETS`` (cumulative), ``duration_sum`` their seconds."""

    name: str
    queue: str
    dead_letter_queue: str
    running: bool = False
    connected: bool = False
    connected_since: dt.datetime | None = None
    disconnected_since: dt.datetime | None = None
    reconnects: int = 0
    last_error: str | None = None
    in_flight: int = 0
    received: int = 0
    processed: int = 0
    failed: int = 0
    retried: int = 0
    dead_lettered: int = 0
    duration_buckets: tuple[int, ...] = (0,) * len(DURATION_BUCKETS)
    duration_count: int = 0
    duration_sum: float = 0.0


def consumer_report(status: ConsumerStatus) -> HostedConsumer:
    """A consumer's part of its server's heartbeat."""
    return HostedConsumer(
        queue=status.queue,
        connected=status.connected,
        in_flight=status.in_flight,
        processed=status.processed,
        failed=status.failed,
        dead_lettered=status.dead_lettered,
        last_error=short(status.last_error),
    )


class StatusBoard:
    """The counters of one consumer, kept by its runs and read from any thread.

    Plain attributes under one lock, turned into a ``ConsumerStatus`` only when read:
    counting is on the path of every message.
    """

    def __init__(self, name: str, queue: str, dead_letter_queue: str) -> None:
        self._lock = threading.Lock()
        self._names = (name, queue, dead_letter_queue)
        self._runs = self._sessions = self._reconnects = self._in_flight = 0
        self._connected_since: dt.datetime | None = None
        self._disconnected_since: dt.datetime | None = None
        self._last_error: str | None = None
        self._counts = dict.fromkeys(
            ("received", "processed", "failed", "retried", "dead_lettered"), 0
        )
        self._buckets = [0] * (len(DURATION_BUCKETS) + 1)
        self._duration_sum = 0.0

    def read(self) -> ConsumerStatus:
        with self._lock:
            cumulative, total = [], 0
            for count in self._buckets[:-1]:
                total += count
                cumulative.append(total)
            return ConsumerStatus(
                *self._names,
                running=self._runs > 0,
                connected=self._sessions > 0,
                connected_since=self._connected_since,
                disconnected_since=self._disconnected_since,
                reconnects=self._reconnects,
                last_error=self._last_error,
                in_flight=self._in_flight,
                received=self._counts["received"],
                processed=self._counts["processed"],
                failed=self._counts["failed"],
                retried=self._counts["retried"],
                dead_lettered=self._counts["dead_lettered"],
                duration_buckets=tuple(cumulative),
                duration_count=sum(self._buckets),
                duration_sum=self._duration_sum,
            )

    def run_started(self) -> None:
        with self._lock:
            self._runs += 1
            if self._sessions == 0:
                self._disconnected_since = utcnow()

    def run_ended(self) -> None:
        with self._lock:
            self._runs -= 1

    def connected(self) -> None:
        with self._lock:
            self._sessions += 1
            self._connected_since, self._disconnected_since = utcnow(), None

    def disconnected(self, error: BaseException | None) -> None:
        with self._lock:
            self._sessions -= 1
            if self._sessions == 0:
                self._connected_since, self._disconnected_since = None, utcnow()
            if error is not None:
                self._last_error = f"{type(error).__name__}: {error}"

    def connect_failed(self, error: BaseException) -> None:
        with self._lock:
            self._last_error = f"{type(error).__name__}: {error}"

    def reconnecting(self) -> None:
        with self._lock:
            self._reconnects += 1

    def received(self) -> None:
        with self._lock:
            self._counts["received"] += 1
            self._in_flight += 1

    def settled(self, outcome: Outcome) -> None:
        """A delivery is done with: ``processed``, ``retried``, ``dead_lettered``, or
        ``returned`` (left to the broker, unacked)."""
        with self._lock:
            self._in_flight -= 1
            if outcome != "returned":
                self._counts[outcome] += 1

    def handler_failed(self) -> None:
        with self._lock:
            self._counts["failed"] += 1

    def handler_ran(self, seconds: float) -> None:
        with self._lock:
            self._buckets[bisect.bisect_left(DURATION_BUCKETS, seconds)] += 1
            self._duration_sum += seconds
