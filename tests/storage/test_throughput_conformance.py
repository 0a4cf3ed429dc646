"""Hourly throughput: servers add their counts, readers get them summed, on every backend."""

from __future__ import annotations

import datetime as dt

from backburner._records import ThroughputCount
from backburner._states import JobState
from backburner.storage import Storage

from .conftest import T0

HOUR = dt.timedelta(hours=1)
OK, FAILED = JobState.SUCCEEDED, JobState.FAILED


def test_counts_add_up_per_server_and_are_summed_over_servers(storage: Storage) -> None:
    assert storage.throughput_read(T0 - HOUR) == []
    storage.throughput_add("s1", [ThroughputCount(T0, OK, 3), ThroughputCount(T0, FAILED, 1)])
    storage.throughput_add("s1", [ThroughputCount(T0, OK, 2)])
    storage.throughput_add("s2", [ThroughputCount(T0, OK, 10), ThroughputCount(T0 + HOUR, OK, 4)])
    storage.throughput_add("s2", [])
    assert storage.throughput_read(T0) == [
        ThroughputCount(T0, FAILED, 1),
        ThroughputCount(T0, OK, 15),
        ThroughputCount(T0 + HOUR, OK, 4),
    ]
    assert storage.throughput_read(T0 + HOUR) == [ThroughputCount(T0 + HOUR, OK, 4)]
    [first, *_] = storage.throughput_read(T0)
    assert first.hour.utcoffset() == dt.timedelta(0)


def test_pruning_drops_the_hours_before_a_time(storage: Storage) -> None:
    storage.throughput_add("s1", [ThroughputCount(T0 + n * HOUR, OK, 1) for n in range(5)])
    storage.throughput_add("s2", [ThroughputCount(T0, OK, 1)])
    assert storage.throughput_prune(T0 + 2 * HOUR) == 3  # s1's two first hours, s2's one
    assert [c.hour for c in storage.throughput_read(T0)] == [T0 + n * HOUR for n in (2, 3, 4)]
    assert storage.throughput_prune(T0) == 0
