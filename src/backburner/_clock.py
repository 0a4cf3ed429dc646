"""The one place that reads the wall clock, and the correction for a host whose clock is off.

Every time Backburner stores (enqueues, claims, outcomes, heartbeats) comes from
``utcnow()``. On PostgreSQL many hosts write the same rows, so their clocks must agree: a
server whose clock ran 20 s behind the others looked dead to them and could not claim jobs
enqueued by a host with a right clock. So ``utcnow()`` is this host's clock corrected by
its offset from the database's, measured when storage opens, when a server starts and
with each of its heartbeats. Storage that lives on this host (SQLite, memory) has no clock
of its own: the offset stays 0.

The offset is one per process, measured against the last storage that has a clock.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol

UTC = dt.UTC

# A reading whose round trip took longer is too uncertain to correct anything with: the
# database read its clock somewhere in that round trip.
MAX_ROUND_TRIP = 0.25
_TRIES = 3
AGREE = 0.001

_offset = dt.timedelta(0)


class HasClock(Protocol):
    def clock_read(self) -> dt.datetime | None: ...


def system_now() -> dt.datetime:
    """This host's clock, uncorrected: the only read of the wall clock."""
    return dt.datetime.now(UTC)


def utcnow() -> dt.datetime:
    """Now, in UTC, on the storage's clock: this host's, corrected by the measured offset."""
    offset = _offset
    now = system_now()
    return now + offset if offset else now


def offset() -> float:
    """Seconds to add to this host's clock to read the storage's (0 until measured)."""
    return _offset.total_seconds()


def set_offset(seconds: float) -> None:
    global _offset
    _offset = dt.timedelta(seconds=seconds)


def measure(storage: HasClock) -> float | None:
    """Measure this host's offset from ``storage``'s clock and correct ``utcnow()`` by it.

    The storage's reading is taken to be from the middle of its round trip; of a few
    tries the shortest round trip wins (the first may include connecting). Returns the
    offset in seconds, or None when the storage has no clock of its own or no round trip
    was short enough, which leaves the offset as it was.
    """
    best: tuple[float, dt.timedelta] | None = None
    for _ in range(_TRIES):
        sent = system_now()
        started = time.monotonic()
        theirs = storage.clock_read()
        round_trip = time.monotonic() - started
        if theirs is None:
            return None
        midpoint = sent + dt.timedelta(seconds=round_trip / 2)
        if best is None or round_trip < best[0]:
            best = (round_trip, theirs - midpoint)
        if round_trip <= MAX_ROUND_TRIP / 5:
            break
    assert best is not None
    round_trip, measured = best
    if round_trip > MAX_ROUND_TRIP:
        return None
    seconds = measured.total_seconds()
    # Within what the round trip leaves uncertain (and a millisecond for reading the
    # clocks), the clocks may as well agree, as they do when the database runs on this
    # host: then times stay exactly this host's.
    set_offset(0.0 if abs(seconds) <= round_trip / 2 + AGREE else seconds)
    return offset()


def describe(seconds: float) -> str:
    """``"this host's clock is 20.0 s behind the database's"``, or ahead of it."""
    side = "behind" if seconds > 0 else "ahead of"
    return f"this host's clock is {abs(seconds):.1f} s {side} the database's"
