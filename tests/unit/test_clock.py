"""Correcting this host's clock by the database's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from backburner import _clock


class FakeDatabase:
    def __init__(self, ahead: float | None) -> None:
        self.ahead = ahead

    def clock_read(self) -> dt.datetime | None:
        if self.ahead is None:
            return None
        return _clock.system_now() + dt.timedelta(seconds=self.ahead)


@pytest.fixture(autouse=True)
def _keep_offset() -> Iterator[None]:
    before = _clock.offset()
    yield
    _clock.set_offset(before)


def test_the_offset_from_the_database_corrects_utcnow() -> None:
    _clock.set_offset(0)
    assert _clock.measure(FakeDatabase(20.0)) == pytest.approx(20.0, abs=0.05)
    corrected = _clock.utcnow() - _clock.system_now()
    assert corrected.total_seconds() == pytest.approx(20.0, abs=0.05)


def test_a_storage_without_a_clock_leaves_the_offset_alone() -> None:
    _clock.set_offset(3.0)
    assert _clock.measure(FakeDatabase(None)) is None
    assert _clock.offset() == 3.0


def test_clocks_that_agree_within_the_round_trip_leave_times_as_they_are() -> None:
    _clock.set_offset(5.0)
    assert _clock.measure(FakeDatabase(0.0)) == 0.0
    assert _clock.utcnow() - _clock.system_now() < dt.timedelta(milliseconds=1)


def test_the_skew_is_described_from_this_hosts_side() -> None:
    assert _clock.describe(20.0) == "this host's clock is 20.0 s behind the database's"
    assert _clock.describe(-1.5) == "this host's clock is 1.5 s ahead of the database's"
