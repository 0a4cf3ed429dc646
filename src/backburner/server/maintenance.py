"""Heartbeats, dead-server rescue, cancelling lost jobs and pruning: a server's upkeep.

It runs on a thread of its own so that heartbeats go on while the event loop is busy.
After any storage outage a server heartbeats for a whole ``server_timeout`` before it
rescues anyone: every other server needs that long to show it is alive again.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import TYPE_CHECKING

from .._client import utcnow

if TYPE_CHECKING:
    from .server import Server

log = logging.getLogger("backburner.maintenance")

PRUNE_INTERVAL = 60.0
PRUNE_BATCH = 1000


class Maintenance:
    def __init__(self, server: Server) -> None:
        self.server = server
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._healthy_since: float | None = None
        self._next_prune = time.monotonic() + 5.0

    def start(self) -> None:
        self._healthy_since = time.monotonic()
        self._thread = threading.Thread(
            target=self._run, name=f"backburner-maintenance-{self.server.id}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        interval = self.server.options.heartbeat_interval
        lost_check = min(0.5, interval)
        next_heartbeat = time.monotonic() + interval
        while not self._stop.wait(lost_check):
            try:
                self.check_lost_jobs()
                if time.monotonic() >= next_heartbeat:
                    next_heartbeat = time.monotonic() + interval
                    self.heartbeat()
                # Every tick, not every heartbeat: a dead server's jobs come back at most
                # half a second after its heartbeat turns ``server_timeout`` old.
                self.rescue_dead_servers()
                if time.monotonic() >= self._next_prune:
                    self._next_prune = time.monotonic() + PRUNE_INTERVAL
                    self.prune()
            except Exception as error:
                self._healthy_since = None
                log.warning("server %s: upkeep failed (%s); retrying", self.server.id, error)

    def heartbeat(self) -> None:
        self.server.storage.server_heartbeat(self.server.info())
        if self._healthy_since is None:
            log.info("server %s: storage reachable again", self.server.id)
            self._healthy_since = time.monotonic()

    def rescue_dead_servers(self) -> int:
        timeout = self.server.options.server_timeout
        if self._healthy_since is None or time.monotonic() - self._healthy_since < timeout:
            return 0
        now = utcnow()
        rescued = self.server.storage.server_rescue_dead(
            heartbeat_before=now - dt.timedelta(seconds=timeout), now=now
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
            lost = set(self.server.storage.job_lost(self.server.id, claims))
            if lost:
                self.server.cancel_lost([claimed for claimed in claims if claimed.id in lost])

    def prune(self) -> int:
        now = utcnow()
        cutoffs = {
            state: now - keep
            for state, keep in self.server.options.retention.items()
            if keep is not None
        }
        if not cutoffs:
            return 0
        lease_until = now + dt.timedelta(seconds=PRUNE_INTERVAL)
        if not self.server.storage.lease_acquire("prune", self.server.id, lease_until, now):
            return 0
        total = 0
        while not self._stop.is_set():
            pruned = self.server.storage.job_prune(cutoffs, PRUNE_BATCH)
            total += pruned
            if pruned < PRUNE_BATCH:
                break
        if total:
            log.info("server %s: pruned %d expired job(s)", self.server.id, total)
        return total
