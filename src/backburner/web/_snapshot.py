"""What every open page polls, read from storage at most once a second for all viewers."""

from __future__ import annotations

import datetime as dt
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._records import CountCell, QueueInfo, ServerInfo
from .._states import JobState

if TYPE_CHECKING:
    from .._app import Backburner

MAX_AGE = 1.0
"""Seconds a snapshot is served before storage is asked again."""
EARLY = 0.9
"""A snapshot this share of ``max_age`` old is read again (polls are not exactly on time)."""


@dataclass(frozen=True)
class Snapshot:
    """Counts, queues and servers as storage gave them at ``taken_at``."""

    taken_at: dt.datetime
    counts: Mapping[tuple[str, JobState], CountCell]
    queues: list[QueueInfo]
    servers: list[ServerInfo]
    recurring: int
    server_timeout: float

    def by_state(self) -> dict[str, CountCell]:
        totals = {state.value: CountCell(0) for state in JobState}
        for (_, state), cell in self.counts.items():
            total = totals[state.value]
            totals[state.value] = CountCell(total.count + cell.count, total.exact and cell.exact)
        return totals

    def stale(self, info: ServerInfo) -> bool:
        return info.heartbeat_at < self.taken_at - dt.timedelta(seconds=self.server_timeout)

    def alive(self) -> list[ServerInfo]:
        return [s for s in self.servers if not self.stale(s)]


class SnapshotCache:
    """One snapshot at a time: concurrent viewers wait for the read under way, not repeat it."""

    def __init__(self, app: Backburner, max_age: float = MAX_AGE) -> None:
        self._app = app
        self._max_age = max_age
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._read_at = 0.0

    def get(self) -> Snapshot:
        with self._lock:
            # The age counts from the start of the read, and a poll a little early still
            # reads again: a page polling every ``max_age`` seconds gets a fresh snapshot
            # each time, not every other time (which made its rates swing).
            started = time.monotonic()
            if self._snapshot is None or started - self._read_at >= EARLY * self._max_age:
                self._snapshot = self._read()
                self._read_at = started
            return self._snapshot

    def forget(self) -> None:
        """Read storage again on the next ``get()``: after an action changed what it shows."""
        with self._lock:
            self._snapshot = None

    def _read(self) -> Snapshot:
        app = self._app
        return Snapshot(
            taken_at=dt.datetime.now(dt.UTC),
            counts=app.jobs.counts(),
            queues=app.queues(),
            servers=servers(app),
            recurring=len(app.recurring.list()),
            server_timeout=app.settings.server.server_timeout,
        )


def servers(app: Backburner) -> list[ServerInfo]:
    """Every server with a row in storage: the one place the dashboard reads them."""
    return app.engine.servers(server_timeout=None)


_caches: weakref.WeakKeyDictionary[Backburner, SnapshotCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def cache_for(app: Backburner) -> SnapshotCache:
    """The process's one cache for this app, shared by all its dashboards and /metrics."""
    with _caches_lock:
        found = _caches.get(app)
        if found is None:
            found = _caches[app] = SnapshotCache(app)
        return found
