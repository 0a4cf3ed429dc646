"""Periodic work: a function run inside servers every interval or on a cron, not stored.

Each periodic function is a service of the server (``_services.py``): its loop waits for
the next run, calls the function, and waits again, so a run never overlaps the one before
it. A run that raises is logged with its traceback and the next run still comes, later
by a back-off while the failures go on. Unlike a recurring job it keeps no history and
runs on every server that has it, unless ``leader_only`` (one server of the fleet).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .._cron import CronSchedule, parse_cron, resolve_timezone
from .._records import HostedPeriodic
from ._report import periodic_report
from ._services import Restart, Service

log = logging.getLogger("backburner.periodic")

MAX_BACKOFF = 300.0
"""Seconds: the longest a run of failures pushes the next run of an interval back."""


@dataclass(frozen=True)
class PeriodicStatus:
    """How a periodic function is doing. ``running_since``: the start of the run going on
    now, if any; ``stuck``: that run has lasted over ``stuck_after`` intervals;
    ``next_run_at``: when the next run is due, while a server waits for it."""

    name: str
    schedule: str
    leader_only: bool
    runs: int = 0
    failures: int = 0
    consecutive_failures: int = 0
    last_run_at: dt.datetime | None = None
    last_success_at: dt.datetime | None = None
    last_duration: float | None = None
    last_error: str | None = None
    running_since: dt.datetime | None = None
    stuck: bool = False
    next_run_at: dt.datetime | None = None


_UNITS = ((86_400, "day"), (3_600, "hour"), (60, "minute"))


def interval_words(seconds: float) -> str:
    """An interval as people say it: "every 30 minutes", "every hour", "every 45 s"."""
    for size, unit in _UNITS:
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"every {unit}" if count == 1 else f"every {count} {unit}s"
    return f"every {seconds:g} s"


class Periodic:
    """A function called every ``every`` seconds, or at the instants of ``cron`` (with
    seconds, in ``timezone``), inside each server that runs it."""

    def __init__(
        self,
        name: str,
        func: Callable[[], Any],
        *,
        every: float | dt.timedelta | None = None,
        cron: str | None = None,
        timezone: str | None = None,
        leader_only: bool = False,
        stuck_after: float = 3.0,
        restart: Restart = "always",
    ) -> None:
        if (every is None) == (cron is None):
            raise ValueError(f"periodic {name}: give either every= or cron=, not both or neither")
        seconds = every.total_seconds() if isinstance(every, dt.timedelta) else every
        if seconds is not None and (
            isinstance(seconds, bool) or not math.isfinite(seconds) or seconds <= 0
        ):
            raise ValueError(f"periodic {name}: every= must be a positive duration, not {every!r}")
        if not math.isfinite(stuck_after) or stuck_after <= 1:
            raise ValueError(f"periodic {name}: stuck_after= must be more than 1 interval")
        self.name = name
        self.func = func
        self.every = seconds
        self._cron: CronSchedule | None = parse_cron(cron) if cron is not None else None
        self._tz = resolve_timezone(timezone)
        self.stuck_after = stuck_after
        self.leader_only = leader_only
        self.is_async = inspect.iscoroutinefunction(func)
        schedule = f"every {seconds:g} s" if seconds is not None else f"cron {cron} ({self._tz})"
        if self._cron is not None:
            self._words = f"{self._cron.describe()} ({self._tz})".replace(" (UTC)", " UTC")
        else:
            assert seconds is not None  # every= or cron=, checked above
            self._words = interval_words(seconds)
        self._status = PeriodicStatus(name, schedule, leader_only)
        self._started_mono: float | None = None
        self._lock = threading.Lock()
        self.service = Service(
            name,
            self._run_async if self.is_async else self._run_sync,
            leader_only,
            restart,
            report=self.report,
        )

    # --- when ------------------------------------------------------------------------

    def _interval(self) -> float:
        """The usual gap between two runs (for a cron: between its next two instants)."""
        if self.every is not None:
            return self.every
        assert self._cron is not None
        first = self._cron.next_after(dt.datetime.now(dt.UTC), self._tz)
        second = None if first is None else self._cron.next_after(first, self._tz)
        return 3600.0 if first is None or second is None else (second - first).total_seconds()

    def _delay(self) -> float:
        """Seconds until the next run, pushed back while runs keep failing."""
        failures = self._status.consecutive_failures
        if self._cron is not None:
            now = dt.datetime.now(dt.UTC)
            after = self._cron.next_after(now, self._tz)
            # A cron that never fires again waits for ever (checked each hour).
            return 3600.0 if after is None else max(0.0, (after - now).total_seconds())
        assert self.every is not None
        if failures == 0:
            return self.every
        return float(min(self.every * 2**failures, max(self.every, MAX_BACKOFF)))

    # --- status ------------------------------------------------------------------------

    def status(self) -> PeriodicStatus:
        with self._lock:
            status = self._status
            started = self._started_mono
        if started is not None:
            stuck = time.monotonic() - started > self.stuck_after * self._interval()
            status = replace(status, stuck=stuck)
        return status

    def report(self) -> HostedPeriodic:
        """This function's part of a server's heartbeat."""
        return periodic_report(self.status(), self._words)

    def _waiting(self) -> float:
        """The seconds to wait for the next run, noted as its time."""
        delay = self._delay()
        self._set(next_run_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay))
        return delay

    def _set(self, **changes: Any) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)

    def _starting(self) -> None:
        with self._lock:
            self._started_mono = time.monotonic()
            self._status = replace(
                self._status, running_since=dt.datetime.now(dt.UTC), next_run_at=None
            )

    def _ended(self, error: BaseException | None) -> None:
        with self._lock:
            started = self._started_mono or time.monotonic()
            self._started_mono = None
            status = self._status
            ran = replace(
                status,
                runs=status.runs + 1,
                last_run_at=status.running_since,
                last_duration=time.monotonic() - started,
                running_since=None,
            )
            if error is None:
                self._status = replace(
                    ran, consecutive_failures=0, last_success_at=dt.datetime.now(dt.UTC)
                )
            else:
                self._status = replace(
                    ran,
                    failures=status.failures + 1,
                    consecutive_failures=status.consecutive_failures + 1,
                    last_error=f"{type(error).__name__}: {error}",
                )
        if error is not None:
            log.error(
                "periodic %s failed (%s); next run in %.1f s",
                self.name,
                error,
                self._delay(),
                exc_info=error,
                extra={"service": self.name},
            )

    # --- the loops -------------------------------------------------------------------

    async def _run_async(self, stop: asyncio.Event) -> None:
        try:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._waiting())
                if stop.is_set():
                    return
                self._starting()
                try:
                    await self.func()
                except asyncio.CancelledError:
                    self._ended(None)
                    raise
                except Exception as error:
                    self._ended(error)
                else:
                    self._ended(None)
        finally:
            self._set(next_run_at=None)

    def _run_sync(self, stop: threading.Event) -> None:
        try:
            while not stop.wait(self._waiting()):
                self._starting()
                try:
                    self.func()
                except Exception as error:
                    self._ended(error)
                else:
                    self._ended(None)
        finally:
            self._set(next_run_at=None)
