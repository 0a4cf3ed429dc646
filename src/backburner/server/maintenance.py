"""Heartbeats, dead-server rescue, cancelling lost jobs and pruning: a server's upkeep.

Each is a service (``_services.py``) on a thread of its own, so that heartbeats go on
while the event loop is busy; pruning is leader-only, so one server of a fleet prunes.
After any storage outage a server heartbeats for a whole ``server_timeout`` before it
rescues anyone: every other server needs that long to show it is alive again. A heartbeat
that came late (a stall: another process held SQLite's lock, the network hung) counts as
an outage, since the same stall held up the other servers' heartbeats. A server never
rescues itself.

On the event loop, the claims a server holds in storage are checked against the ones it
received: a claim whose reply was lost after its commit holds jobs the server never heard
of, and they go back to their queues.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
import time
from typing import TYPE_CHECKING

from .. import _clock, _throughput
from .._clock import utcnow
from ._services import Service

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger("backburner.maintenance")

PRUNE_INTERVAL = 60.0
PRUNE_FIRST = 5.0  # seconds after a server starts leading
PRUNE_BATCH = 1000
STALL = 2.0
"""A heartbeat more than this many intervals after the one before marks a stall."""
SKEW_WARNING = 1.0
"""Seconds of difference from the database's clock worth a warning."""


class Maintenance:
    """The upkeep of one server, as services; see ``services()``."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self._healthy_since: float | None = None
        self._last_heartbeat = 0.0
        self._skew_reported = 0.0

    def services(self, staging: Service) -> list[Service]:
        """The upkeep services, with the server's ``staging`` of due jobs, in the order
        they start."""
        return [
            Service("heartbeat", self.run_heartbeat),
            Service("lost-jobs", self.run_lost_jobs),
            Service("rescue", self.run_rescue),
            Service("claims", self.watch_claims),
            staging,
            Service("prune", self.run_prune, leader_only=True),
        ]

    def started(self) -> None:
        """The server has just heartbeated: count it healthy from now."""
        self._healthy_since = self._last_heartbeat = time.monotonic()

    def _failed(self, what: str, error: Exception) -> None:
        # An outage, most likely: no rescue until heartbeats have gone well for a while.
        self._healthy_since = None
        log.warning("server %s: upkeep failed (%s: %s); retrying", self.server.id, what, error)

    def run_heartbeat(self, stop: threading.Event) -> None:
        while not stop.wait(self.server.options.heartbeat_interval):
            try:
                self.heartbeat()
            except Exception as error:
                self._failed("heartbeat", error)
                continue
            try:
                self.add_throughput()
            except Exception as error:  # kept, and added with the next heartbeat
                log.warning("server %s: throughput not stored (%s)", self.server.id, error)

    def run_lost_jobs(self, stop: threading.Event) -> None:
        while not stop.wait(self._tick):
            try:
                self.check_lost_jobs()
            except Exception as error:
                self._failed("lost jobs", error)

    def run_rescue(self, stop: threading.Event) -> None:
        # Every tick, not every heartbeat: a dead server's jobs come back at most half a
        # second after its heartbeat turns ``server_timeout`` old.
        while not stop.wait(self._tick):
            try:
                self.rescue_dead_servers()
            except Exception as error:
                self._failed("rescue", error)

    def run_prune(self, stop: threading.Event) -> None:
        wait = PRUNE_FIRST
        while not stop.wait(wait):
            wait = PRUNE_INTERVAL
            try:
                self.prune(stop)
            except Exception as error:
                log.warning("server %s: pruning failed (%s); retrying", self.server.id, error)

    @property
    def _tick(self) -> float:
        return min(0.5, self.server.options.heartbeat_interval)

    def heartbeat(self) -> None:
        server = self.server
        server.engine.server_heartbeat(server.info())
        done = time.monotonic()
        late = done - self._last_heartbeat
        # The rescue thread reads these two: a fresh heartbeat must never be seen with the
        # health from before a stall, so health is set first.
        if self._healthy_since is None:
            log.info("server %s: storage reachable again", server.id)
            self._healthy_since = done
        elif late > STALL * server.options.heartbeat_interval:
            # Other servers' heartbeats were most likely held up by the same stall.
            log.warning(
                "server %s: %.1f s between two heartbeats (storage stalled); rescuing no "
                "server for the next %g s",
                server.id,
                late,
                server.options.server_timeout,
            )
            self._healthy_since = done
        self._last_heartbeat = done
        self.check_clock()

    def check_clock(self) -> None:
        """Measure the offset from the database's clock again; warn when it moved by more
        than ``SKEW_WARNING`` since the last warning (the first time: from 0)."""
        offset = self.server.engine.measure_clock()
        if offset is not None and abs(offset - self._skew_reported) > SKEW_WARNING:
            self._skew_reported = offset
            log.warning(
                "server %s: %s; times are corrected", self.server.id, _clock.describe(offset)
            )

    def rescue_dead_servers(self) -> int:
        now = utcnow()  # before the checks: a stall after them cannot make it late
        timeout = self.server.options.server_timeout
        if self._healthy_since is None or time.monotonic() - self._healthy_since < timeout:
            return 0
        if time.monotonic() - self._last_heartbeat > STALL * self.server.options.heartbeat_interval:
            # This server's heartbeats are held up right now (a stall its heartbeat thread
            # has not come out of yet): so, most likely, are everyone else's.
            return 0
        rescued = self.server.engine.server_rescue_dead(
            self.server.id, heartbeat_before=now - dt.timedelta(seconds=timeout), now=now
        )
        if rescued:
            log.warning(
                "server %s: %d job(s) of dead servers back in their queues", self.server.id, rescued
            )
            self.server.wake()
        return rescued

    def check_lost_jobs(self) -> None:
        claims = self.server.running_claims()
        if claims:
            lost = set(self.server.engine.job_lost(self.server.id, claims))
            if lost:
                self.server.cancel_lost([claimed for claimed in claims if claimed.id in lost])

    def add_throughput(self) -> None:
        """Add the server's counts of final outcomes to storage's hourly throughput."""
        counts = self.server.throughput.take()
        if counts:
            try:
                self.server.engine.throughput_add(self.server.id, counts)
            except Exception:
                self.server.throughput.give_back(counts)
                raise

    def prune(self, stop: threading.Event | None = None) -> int:
        """Delete the jobs past their retention, in batches until none is left (or
        ``stop`` is set), and the hourly throughput older than ``_throughput.KEPT``."""
        now = utcnow()
        self.server.engine.throughput_prune(_throughput.hour_of(now - _throughput.KEPT))
        cutoffs = {
            state: now - keep
            for state, keep in self.server.options.retention.items()
            if keep is not None
        }
        if not cutoffs:
            return 0
        total = 0
        while stop is None or not stop.is_set():
            pruned = self.server.engine.job_prune(cutoffs, PRUNE_BATCH, now)
            total += pruned
            if pruned < PRUNE_BATCH:
                break
        if total:
            log.info("server %s: pruned %d expired job(s)", self.server.id, total)
        return total

    # --- on the event loop ---------------------------------------------------------

    async def watch_claims(self, stop: asyncio.Event) -> None:
        """Every two heartbeat intervals, put back the jobs of claims lost on the way."""
        every = 2 * self.server.options.heartbeat_interval
        while not await _stopped(stop, every):
            try:
                await self.recover_lost_claims()
            except Exception as error:
                log.warning("server %s: checking its claims failed (%s)", self.server.id, error)

    async def recover_lost_claims(self) -> int:
        """Requeue the jobs storage has PROCESSING here from claims this server never got.

        A claim received before the read began has its jobs in the read, if any is still
        processing; one in flight at either end may commit on either side of it. Anything
        else held is from a claim whose reply was lost: its jobs go back to their queue as
        interrupted runs (fenced by the claim's time; not counted as attempts).
        """
        server = self.server
        received, in_flight = server.claim_times()
        held = await server._io_call(server.engine.job_held, server.id)
        received_after, in_flight_after = server.claim_times()
        known = received | in_flight | received_after | in_flight_after
        server.forget_claims(received - {h.started_at for h in held})
        lost = [h for h in held if h.started_at not in known]
        if not lost:
            return 0
        requeued = await server._io_call(
            server.engine.job_requeue_lost_claims, server.id, lost, utcnow()
        )
        if requeued:
            log.warning(
                "server %s: %d job(s) of claims whose reply was lost back in their queues",
                server.id,
                len(requeued),
            )
            server.wake()
        return len(requeued)


async def _stopped(stop: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds`` or until ``stop`` is set; whether it is."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()
