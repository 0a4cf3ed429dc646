"""Throughput kept by the hour: what servers count and what the overview sums (pure).

Each server counts the final outcomes it records (succeeded, failed for good) by the hour
they happened in, and adds its counts to storage with its heartbeats: no cost on the
claim path, and no row that two servers write. Storage keeps ``KEPT`` of hours.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence

from ._records import ThroughputCount
from ._states import JobState

KEPT = dt.timedelta(days=35)
"""How long the hourly counts are kept; older hours are pruned."""

COUNTED = (JobState.SUCCEEDED, JobState.FAILED)


def hour_of(moment: dt.datetime) -> dt.datetime:
    """The start of the UTC hour ``moment`` falls in."""
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def day_of(moment: dt.datetime) -> dt.datetime:
    """The start of the UTC day ``moment`` falls in."""
    return hour_of(moment).replace(hour=0)


class Tally:
    """Counts not yet stored, safe to add to from one thread and take from another."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[dt.datetime, JobState], int] = {}

    def add(self, outcomes: Iterable[tuple[dt.datetime, JobState]]) -> None:
        """Count each ``(at, state)`` whose state is a final outcome."""
        with self._lock:
            for at, state in outcomes:
                if state in COUNTED:
                    key = (hour_of(at), state)
                    self._counts[key] = self._counts.get(key, 0) + 1

    def take(self) -> list[ThroughputCount]:
        """The counts so far, which the tally forgets (``give_back`` if storing fails)."""
        with self._lock:
            taken, self._counts = self._counts, {}
        return [ThroughputCount(hour, state, n) for (hour, state), n in sorted(taken.items())]

    def give_back(self, counts: Sequence[ThroughputCount]) -> None:
        with self._lock:
            for c in counts:
                key = (c.hour, c.state)
                self._counts[key] = self._counts.get(key, 0) + c.count


def by_period(
    counts: Iterable[ThroughputCount], period: str, since: dt.datetime, until: dt.datetime
) -> list[tuple[dt.datetime, int, int]]:
    """``(start, succeeded, failed)`` of every hour (``period="hour"``) or day from the
    one holding ``since`` to the one holding ``until``, empty ones included, oldest first."""
    start_of = hour_of if period == "hour" else day_of
    step = dt.timedelta(hours=1) if period == "hour" else dt.timedelta(days=1)
    totals: dict[dt.datetime, list[int]] = {}
    moment = start_of(since)
    while moment <= until:
        totals[moment] = [0, 0]
        moment += step
    for c in counts:
        cell = totals.get(start_of(c.hour))
        if cell is not None:
            cell[0 if c.state is JobState.SUCCEEDED else 1] += c.count
    return [(moment, s, f) for moment, (s, f) in totals.items()]
