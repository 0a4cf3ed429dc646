"""Counting outcomes by the hour, and summing hours into periods (pure)."""

from __future__ import annotations

import datetime as dt

from backburner._records import ThroughputCount
from backburner._states import JobState
from backburner._throughput import Tally, by_period, hour_of

T0 = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
OK, FAILED = JobState.SUCCEEDED, JobState.FAILED


def test_a_tally_counts_final_outcomes_by_hour_and_forgets_what_it_gave() -> None:
    tally = Tally()
    tally.add(
        [
            (T0 + dt.timedelta(minutes=5), OK),
            (T0 + dt.timedelta(minutes=59), OK),
            (T0 + dt.timedelta(minutes=61), FAILED),
            (T0, JobState.SCHEDULED),  # a retry: not an end
            (T0, JobState.ENQUEUED),  # an interrupted run: not an end
        ]
    )
    taken = tally.take()
    assert taken == [
        ThroughputCount(T0, OK, 2),
        ThroughputCount(T0 + dt.timedelta(hours=1), FAILED, 1),
    ]
    assert tally.take() == []
    tally.give_back(taken)
    tally.add([(T0, OK)])
    assert tally.take()[0] == ThroughputCount(T0, OK, 3)


def test_hours_are_utc_hours() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    assert hour_of(dt.datetime(2026, 3, 1, 11, 30, tzinfo=paris)) == T0


def test_periods_include_the_empty_ones_and_sum_hours_into_days() -> None:
    counts = [
        ThroughputCount(T0, OK, 2),
        ThroughputCount(T0 + dt.timedelta(hours=2), FAILED, 1),
        ThroughputCount(T0 + dt.timedelta(days=1), OK, 5),
        ThroughputCount(T0 - dt.timedelta(days=9), OK, 99),  # before the range
    ]
    hours = by_period(counts, "hour", T0, T0 + dt.timedelta(hours=2, minutes=30))
    assert hours == [
        (T0, 2, 0),
        (T0 + dt.timedelta(hours=1), 0, 0),
        (T0 + dt.timedelta(hours=2), 0, 1),
    ]
    midnight = T0.replace(hour=0)
    days = by_period(counts, "day", T0, T0 + dt.timedelta(days=1))
    assert days == [(midnight, 2, 1), (midnight + dt.timedelta(days=1), 5, 0)]
