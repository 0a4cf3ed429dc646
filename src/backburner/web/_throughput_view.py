"""Throughput by hour and by day on the overview: bars drawn on the server, no script."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._throughput import by_period, day_of

if TYPE_CHECKING:
    from .._app import Backburner

HOURS = 48
DAYS = 30
HEIGHT = 100.0
"""The charts' height in SVG units; each bar is one unit wide."""


@dataclass(frozen=True)
class Bar:
    start: dt.datetime
    succeeded: int
    failed: int
    x: int
    succeeded_height: float
    failed_height: float


@dataclass(frozen=True)
class Chart:
    period: str
    bars: list[Bar]
    most: int
    succeeded: int
    failed: int


def _chart(period: str, rows: list[tuple[dt.datetime, int, int]]) -> Chart:
    most = max((s + f for _, s, f in rows), default=0)
    scale = HEIGHT / most if most else 0.0
    bars = [
        Bar(start, s, f, x, round(s * scale, 2), round(f * scale, 2))
        for x, (start, s, f) in enumerate(rows)
    ]
    return Chart(period, bars, most, sum(b.succeeded for b in bars), sum(b.failed for b in bars))


def charts(app: Backburner, now: dt.datetime) -> tuple[Chart, Chart]:
    """The last ``HOURS`` hours and ``DAYS`` days (UTC), from one read of the hourly counts
    (at most one row per hour and state: a bounded range of the table's primary key)."""
    since_days = day_of(now - dt.timedelta(days=DAYS - 1))
    counts = app.engine.throughput_read(since_days)
    hourly = by_period(counts, "hour", now - dt.timedelta(hours=HOURS - 1), now)
    return _chart("hour", hourly), _chart("day", by_period(counts, "day", since_days, now))
