"""The server: one event loop that claims jobs, runs them and records their outcomes.

Claims are sized to free worker slots plus a small buffer of jobs claimed ahead (as many
as the workers would start in about ``AHEAD_SECONDS`` at their recent pace, at most
``claim_ahead``); a freed slot starts the next buffered job at once. Outcomes are written
back in batches by one flusher, so a busy server makes few, large transactions.
Everything else it does runs as services (``_services.py``): staging due jobs on the loop;
heartbeats, dead-server rescue and pruning each on a thread of their own
(``maintenance.py``), so that a job that blocks the event loop cannot make its server look
dead.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import socket
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from .. import _reasons
from .._clock import utcnow
from .._context import JobContext
from .._engine import Engine
from .._events import JobFailed, JobStarted, JobSucceeded, ServerStarted, ServerStopped
from .._names import check_name
from .._records import ServerInfo
from .._recurring import enqueue_due
from .._settings import RetentionSettings, ServerSettings
from .._states import JobState
from .._throughput import Tally
from ..storage import ClaimedJob, ClaimPort, Outcome
from ..storage._url import StorageError
from . import _eventloop
from ._emit import emit_outcomes, started_event
from ._report import hosting
from ._services import Service, ServiceCrashed, Services, ServiceStatus
from ._threads import DaemonThreadPool
from .maintenance import Maintenance
from .runner import NO_OUTCOME, Runner, unstorable_outcome

if TYPE_CHECKING:
    from .._jobs import JobFunction

log = logging.getLogger("backburner.server")
T = TypeVar("T")

SCHEDULE_MIN_GAP = 0.1  # seconds between two passes of the schedule loop
CANCEL_GRACE = 1.0  # seconds jobs asked to stop at shutdown get before they are requeued
AHEAD_SECONDS = 0.05  # the buffer holds what the workers would start in this time
PACE_WINDOW = 0.1  # seconds over which the pace of finished jobs is measured

_DEFAULTS = ServerSettings()


@dataclass(frozen=True)
class ServerOptions:
    """How a server runs. ``server_timeout``: how long a silent server is presumed alive.

    The defaults are those of the settings (``ServerSettings``, ``RetentionSettings``).
    """

    queues: tuple[str, ...] = _DEFAULTS.queues
    workers: int = _DEFAULTS.workers
    server_timeout: float = _DEFAULTS.server_timeout
    shutdown_timeout: float = _DEFAULTS.shutdown_timeout
    claim_ahead: int = _DEFAULTS.claim_ahead
    retention: dict[JobState, dt.timedelta | None] = field(
        default_factory=lambda: RetentionSettings().by_state()
    )

    def __post_init__(self) -> None:
        if not self.queues:
            raise ValueError("a server needs at least one queue")
        for queue in self.queues:
            check_name(queue, "queue name")
        if self.workers < 0:
            raise ValueError(f"workers must be 0 (run no jobs) or more, not {self.workers}")
        if self.server_timeout <= 0:
            raise ValueError("server_timeout must be positive")
        if self.claim_ahead < 0:
            raise ValueError(f"claim_ahead must be 0 or more, not {self.claim_ahead}")

    @property
    def heartbeat_interval(self) -> float:
        return max(0.1, min(2.0, self.server_timeout / 5))


@dataclass(eq=False)
class _Running:
    claimed: ClaimedJob
    context: JobContext
    task: asyncio.Task[None] | None = None
    abandoned: bool = False
    """It ignored its cancellation at shutdown: requeued, and whatever it does later is
    dropped."""


def _is_outage(error: BaseException) -> bool:
    """Whether ``error`` says the storage cannot be reached or is busy for now (worth
    writing the same outcomes again later) rather than that it refuses these outcomes."""
    if isinstance(error, StorageError | OSError | sqlite3.OperationalError):
        return True
    # By name, so that PostgreSQL's errors need no import of its driver here.
    return any(
        kind.__name__ in ("OperationalError", "TransactionRollback") for kind in type(error).__mro__
    )


class Server:
    """Runs jobs from its queues until stopped; see ``app.start_server()``, ``app.run_server()``."""

    def __init__(
        self,
        registry: Callable[[str], JobFunction[..., Any] | None],
        engine: Engine,
        options: ServerOptions,
        *,
        startup: Callable[[], None] | None = None,
    ) -> None:
        """A server that runs the jobs ``registry`` finds by name, storing through
        ``engine``; ``startup`` is called on an I/O thread once storage answers, before
        the first claim (the app syncs its declared recurring jobs there)."""
        self.registry = registry
        self.engine = engine
        self.options = options
        self._startup = startup
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.started_at = utcnow()
        self._running: dict[str, _Running] = {}  # the latest claim of each job running here
        self._displaced: set[_Running] = set()  # older claims of the same jobs, still going
        # The times of claims sent and not yet answered, and of claims answered with jobs:
        # a job storage holds here from neither was claimed by a call whose reply was lost.
        self._claims_in_flight: set[dt.datetime] = set()
        self._claims_received: set[dt.datetime] = set()
        self._busy = 0
        self._ready: deque[ClaimedJob] = deque()  # claimed ahead, to start as slots free
        self._ahead = 0  # how many jobs the buffer aims to hold now
        self._finished = 0  # runs ended, for the pace that sizes the buffer
        self._pace_mark = (time.monotonic(), 0)
        self._outcomes: list[Outcome] = []
        self._threads = DaemonThreadPool(options.workers)
        self._io = ThreadPoolExecutor(2, thread_name_prefix="backburner-io")
        self._claim_port: ClaimPort | None = None  # made on the loop, in serve()
        self._runner = Runner(registry, self.id, self._threads)
        self._loop: asyncio.AbstractEventLoop | None = None
        # asyncio events bind to the loop that first waits on them, so they can be made here.
        self._stopping = asyncio.Event()
        self._work_hint = asyncio.Event()
        self._flush_hint = asyncio.Event()
        self._schedule_hint = asyncio.Event()
        self._drained = False  # no job runs and none will start: the flusher may end
        self.started = threading.Event()
        self._hurry = threading.Event()
        self.maintenance = Maintenance(self)
        self._events = engine.events
        self._names: dict[tuple[str, int], tuple[str, str]] = {}  # for outcome events
        self.throughput = Tally()
        """Final outcomes recorded and not yet added to storage (by the heartbeat)."""
        self._services = Services(self.id, engine)
        self._services.on_fatal = self.request_stop
        self._upkeep: set[str] = set()  # its own services, left out of its heartbeat's report
        for service in self.maintenance.services(staging=Service("schedule", self._schedule_loop)):
            self._services.add(service)
            self._upkeep.add(service.name)
        self.jobs_started = 0

    def info(self) -> ServerInfo:
        """This server as its heartbeat stores it: a snapshot, from any thread."""
        return ServerInfo(
            id=self.id,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            queues=self.options.queues,
            workers=self.options.workers,
            started_at=self.started_at,
            heartbeat_at=utcnow(),
            busy=self._busy,
            hosting=hosting(self._services.described(), upkeep=self._upkeep, leader=self.leading),
        )

    # --- called from any thread ------------------------------------------------------

    def wake(self, queue: str | None = None) -> None:
        """New work may be waiting (in ``queue``, or anywhere)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if queue is not None and queue not in self.options.queues:
            return
        with contextlib.suppress(RuntimeError):  # the loop may close in between
            loop.call_soon_threadsafe(self._wake_all)

    def request_stop(self, *, immediately: bool = False) -> None:
        """Stop gracefully; ``immediately`` interrupts running jobs without waiting."""
        if immediately:
            self._hurry.set()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop may close in between
                loop.call_soon_threadsafe(self._stopping.set)

    def add_service(self, service: Service) -> None:
        """Run ``service`` in this server, after its own services; only before it starts."""
        self._services.add(service)

    def services(self) -> list[ServiceStatus]:
        """How each service of this server is doing, in the order they start."""
        return self._services.statuses()

    @property
    def leading(self) -> bool:
        """Whether this server holds the leader lease (runs the leader-only services)."""
        return self._services.leading

    def claim_times(self) -> tuple[set[dt.datetime], set[dt.datetime]]:
        """On the loop: the times of the claims received (with jobs) and still in flight."""
        return set(self._claims_received), set(self._claims_in_flight)

    def forget_claims(self, times: set[dt.datetime]) -> None:
        """On the loop: claims none of whose jobs storage holds here any more."""
        self._claims_received -= times

    def running_claims(self) -> list[ClaimedJob]:
        """The claims of the jobs running here (the latest claim of each job), and of
        those claimed ahead and waiting for a worker."""
        return [running.claimed for running in list(self._running.values())] + list(self._ready)

    def cancel_lost(self, claims: Sequence[ClaimedJob]) -> None:
        """Claims of jobs deleted or rescued elsewhere while running here: ask them to stop."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop may close in between
                loop.call_soon_threadsafe(self._cancel_claims, list(claims))

    # --- on the loop -----------------------------------------------------------------

    def _wake_all(self) -> None:
        """Something changed elsewhere: look for work, and for newly scheduled jobs."""
        self._work_hint.set()
        self._schedule_hint.set()

    def _wake_now(self) -> None:
        """This server made work (released continuations, staged due jobs): go and fetch."""
        self._work_hint.set()

    def _cancel_claims(self, claims: list[ClaimedJob]) -> None:
        # Claimed ahead and not started: dropped, as storage no longer holds them here.
        lost = {id(claimed) for claimed in claims}
        if any(id(claimed) in lost for claimed in self._ready):
            self._ready = deque(c for c in self._ready if id(c) not in lost)
        # Only those very claims: the same job may have been claimed again since.
        runs = [self._running.get(claimed.id) for claimed in claims]
        self._cancel(
            [r for r, c in zip(runs, claims, strict=True) if r is not None and r.claimed is c],
            "deleted",
        )

    def _active(self) -> list[_Running]:
        return [*self._running.values(), *self._displaced]

    def _cancel(self, runs: Sequence[_Running], reason: str) -> None:
        for running in runs:
            claimed = running.claimed
            log.info("job %s (%s): cancelling, %s", claimed.id, claimed.name, reason)
            running.context.cancel(reason)
            job = self.registry(running.claimed.name)
            if running.task is not None and job is not None and job.is_async:
                running.task.cancel()

    async def _io_call(self, fn: Callable[..., T], *args: Any) -> T:
        assert self._loop is not None
        return await self._loop.run_in_executor(self._io, fn, *args)

    # Claims and outcomes, the hot path: through the storage's claim port, which makes
    # each the cheapest way its backend can without blocking the loop.

    @property
    def _port(self) -> ClaimPort:
        if self._claim_port is None:
            self._claim_port = self.engine.claim_port()
        return self._claim_port

    async def _claim(self, free: int) -> list[ClaimedJob]:
        now = utcnow()
        self._claims_in_flight.add(now)
        try:
            claimed = await self._port.job_claim(self.id, self.options.queues, free, now)
        finally:
            self._claims_in_flight.discard(now)
        if claimed:
            self._claims_received.add(now)
        return claimed

    async def _record(self, outcomes: Sequence[Outcome]) -> None:
        applied = await self._port.job_finish_many(outcomes)
        if applied:
            done = set(applied)
            self.throughput.add((o.at, o.state) for o in outcomes if o.job_id in done)
        if self._names:
            emit_outcomes(self._events, outcomes, applied, self._names)

    async def serve(self) -> None:
        """Run until ``request_stop()``; then stop gracefully."""
        self._loop = asyncio.get_running_loop()
        try:
            await self._io_call(self.engine.server_heartbeat, self.info())
            await self._io_call(self.maintenance.check_clock)
            if self._startup is not None:
                await self._io_call(self._startup)
        finally:
            self.started.set()
        self.maintenance.started()
        stop_listening = self.engine.listen(self.wake)
        self._claim_port = self.engine.claim_port()
        await self._services.start(
            lease_period=self.options.server_timeout,
            renew_every=self.options.heartbeat_interval,
        )
        if self._events.wants(ServerStarted):
            self._events.emit(ServerStarted(self.id, self.options.queues, self.options.workers))
        log.info(
            "server %s started: queues %s, %d workers, storage %s",
            self.id,
            ",".join(self.options.queues),
            self.options.workers,
            self.engine.storage_url,
        )
        flusher = asyncio.create_task(self._flush_loop(), name="backburner-flush")
        try:
            await self._fetch_loop()
        finally:
            await self._drain()
            self._drained = True
            self._flush_hint.set()
            await flusher
            if self._claim_port is not None:
                with contextlib.suppress(Exception):  # closing: nothing is left to write
                    await self._claim_port.close()
            stop_listening()
            # Heartbeats go on until here: the drain may take shutdown_timeout.
            await self._services.stop()
            with contextlib.suppress(Exception):  # at worst, the last seconds go uncounted
                await self._io_call(self.maintenance.add_throughput)
            try:
                requeued = await self._io_call(self.engine.server_remove, self.id, utcnow())
                if requeued:
                    log.info(
                        "server %s: %d unfinished job(s) back in their queues", self.id, requeued
                    )
            except Exception:
                log.exception("server %s could not remove itself; it will be rescued", self.id)
            self._threads.shutdown()
            self._io.shutdown(wait=False)
            log.info("server %s stopped", self.id)
            if self._events.wants(ServerStopped):
                self._events.emit(ServerStopped(self.id))
        if self._services.crashed is not None:
            service, error = self._services.crashed
            raise ServiceCrashed(f"service {service.name} crashed: {error}") from error

    async def _fetch_loop(self) -> None:
        poll = self.engine.poll_interval()
        failures = 0
        while not self._stopping.is_set():
            want = self._claim_size()
            claimed: list[ClaimedJob] = []
            self._work_hint.clear()
            if want > 0:
                try:
                    claimed = await self._claim(want)
                    failures = 0
                except Exception as error:
                    failures += 1
                    log.warning("server %s: claiming jobs failed (%s); retrying", self.id, error)
                    await self._sleep(min(5.0, 0.1 * 2**failures))
                    continue
                self._ready.extend(claimed)
                self._start_ready()
            if claimed and len(claimed) == want:
                continue  # maybe more is waiting; the next pass claims the slots freed meanwhile
            waits = [
                asyncio.ensure_future(self._work_hint.wait()),
                asyncio.ensure_future(self._stopping.wait()),
            ]
            _done, pending = await asyncio.wait(
                # Jittered, so that many servers that started together do not poll together.
                waits,
                timeout=poll * random.uniform(0.75, 1.25),
                return_when=asyncio.FIRST_COMPLETED,
            )
            for waiter in pending:
                waiter.cancel()

    def _claim_size(self) -> int:
        """How many jobs to claim now: the free slots and the buffer's shortfall, once the
        buffer is down to half its aim (so that claims stay large); else none."""
        self._ahead = self._aim()
        buffered = len(self._ready)
        if buffered > self._ahead // 2:
            return 0
        free = self.options.workers - self._busy
        return max(0, free + self._ahead - buffered)

    def _aim(self) -> int:
        """The buffer's aim: the jobs the workers would start in ``AHEAD_SECONDS`` at the
        pace of the last ``PACE_WINDOW`` (or longer), capped by ``claim_ahead``."""
        cap = self.options.claim_ahead if self.options.workers else 0
        if cap == 0:
            return 0
        now = time.monotonic()
        since, finished = self._pace_mark
        elapsed = now - since
        if elapsed < PACE_WINDOW:
            return self._ahead
        self._pace_mark = (now, self._finished)
        pace = (self._finished - finished) / elapsed
        return min(cap, int(pace * AHEAD_SECONDS))

    def _start_ready(self) -> None:
        """Start buffered jobs in the free slots."""
        while self._ready and self._busy < self.options.workers:
            self._start(self._ready.popleft())

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def _start(self, claimed: ClaimedJob) -> None:
        context = JobContext(
            id=claimed.id,
            name=claimed.name,
            queue=claimed.queue,
            attempt=claimed.attempt,
            due_at=claimed.due_at,
            recurring_id=claimed.recurring_id,
        )
        running = _Running(claimed, context)
        older = self._running.get(claimed.id)
        if older is not None:
            # Deleted or rescued, then claimed again before upkeep noticed: the older
            # claim is no longer this server's, so its run stops now.
            self._displaced.add(older)
            self._cancel([older], "claimed again")
        self._running[claimed.id] = running
        self._busy += 1
        self.jobs_started += 1
        running.task = asyncio.create_task(self._run(running))
        if self._events.active:
            self._started(claimed)

    def _started(self, claimed: ClaimedJob) -> None:
        if self._events.wants(JobStarted):
            self._events.emit(started_event(claimed, self.id))
        if self._events.wants(JobSucceeded) or self._events.wants(JobFailed):
            self._names[claimed.id, claimed.attempt] = (claimed.name, claimed.queue)

    async def _run(self, running: _Running) -> None:
        outcome: Outcome | None
        still_running: Future[Any] | None = None
        try:
            outcome, still_running = await self._runner.run(running.claimed, running.context)
        except BaseException as error:
            # The runner's own failure path failed: the job fails, the server goes on.
            log.exception("job %s (%s): its run failed", running.claimed.id, running.claimed.name)
            outcome = self._runner.last_resort(running.claimed, error)
        # A deleted run that ignored its cancellation may end after the same job was
        # requeued and claimed again here: remove only this run's entry.
        if self._running.get(running.claimed.id) is running:
            del self._running[running.claimed.id]
        else:
            self._displaced.discard(running)
        if running.abandoned:
            return  # requeued when it was abandoned; the server has stopped since
        if outcome is not None:
            self._outcomes.append(outcome)
            self._flush_hint.set()
        if still_running is None:
            self._free_slot()
        else:
            # A sync job that ignored its cancellation keeps its thread, and so its slot.
            loop = asyncio.get_running_loop()
            still_running.add_done_callback(lambda _: loop.call_soon_threadsafe(self._free_slot))

    def _free_slot(self) -> None:
        self._busy -= 1
        self._finished += 1
        if self._ready and not self._stopping.is_set():
            self._start(self._ready.popleft())
            if len(self._ready) > self._ahead // 2:
                return  # enough is buffered: no claim yet
        self._work_hint.set()

    async def _flush_loop(self) -> None:
        failures = 0
        while True:
            await self._flush_hint.wait()
            self._flush_hint.clear()
            if self._outcomes:
                batch, self._outcomes = self._outcomes, []
                try:
                    await self._record_batch(batch)
                    failures = 0
                except Exception as error:
                    failures += 1
                    log.warning(
                        "server %s: recording %d outcome(s) failed (%s); retrying",
                        self.id,
                        len(batch),
                        error,
                    )
                    self._outcomes[:0] = batch
                    await asyncio.sleep(min(5.0, 0.1 * 2**failures))
                    self._flush_hint.set()
                    continue
                self._after_recording(batch)
            # Checked after recording too: the last outcomes and the drain's end can arrive
            # in one wake-up, after which no hint would come.
            if self._drained and not self._outcomes:
                return

    async def _record_batch(self, batch: Sequence[Outcome]) -> None:
        """Record ``batch``; raises only for an outage of the storage. When the storage
        refuses the batch for what it holds, the outcomes go one by one, and each one it
        refuses becomes a failure of that job saying why: one bad outcome must not hold
        up the others, nor be retried for ever."""
        try:
            await self._record(batch)
            return
        except Exception as error:
            if _is_outage(error):
                raise
            refused = error
        log.warning(
            "server %s: recording %d outcome(s) failed (%s); recording them one by one",
            self.id,
            len(batch),
            refused,
        )
        for outcome in batch:
            try:
                await self._record([outcome])
                continue
            except Exception as error:
                if _is_outage(error):
                    raise
                refused = error
            log.error(
                "server %s: the outcome of job %s could not be stored (%s); it fails",
                self.id,
                outcome.job_id,
                refused,
            )
            try:
                await self._record([unstorable_outcome(outcome, refused)])
            except Exception as error:
                if _is_outage(error):
                    raise
                log.error(
                    "server %s: job %s: even its failure could not be stored (%s); "
                    "it stays processing until this server stops",
                    self.id,
                    outcome.job_id,
                    error,
                )

    def _after_recording(self, batch: Sequence[Outcome]) -> None:
        if any(o.state.is_final for o in batch):
            self._wake_now()  # continuations may have been released
        if any(o.state is JobState.SCHEDULED for o in batch):
            self._schedule_hint.set()  # a retry may be due before the next pass

    async def _schedule_loop(self, stop: asyncio.Event) -> None:
        """Moves due scheduled jobs to their queues, on time to well under a second.

        A pass runs when the next job is due, when woken, and at least every half second;
        wake-ups come often while other processes write, so passes are at least
        ``SCHEDULE_MIN_GAP`` apart (which also bounds the cost of a job due in the past).
        """
        while not stop.is_set():
            self._schedule_hint.clear()
            passed = time.monotonic()
            try:
                staged = await self._io_call(self.engine.job_stage_due, utcnow())
                staged += await self._io_call(enqueue_due, self.engine, utcnow())
                if staged:
                    self._wake_now()
                next_due = await self._io_call(self._next_due)
            except Exception as error:
                log.warning("server %s: staging scheduled jobs failed (%s)", self.id, error)
                next_due = None
            wait = 0.5
            if next_due is not None:
                wait = max(0.0, min(wait, (next_due - utcnow()).total_seconds()))
            hint, stopped = (asyncio.ensure_future(e.wait()) for e in (self._schedule_hint, stop))
            _done, pending = await asyncio.wait(
                (hint, stopped), timeout=wait, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in pending:
                waiter.cancel()
            gap = SCHEDULE_MIN_GAP - (time.monotonic() - passed)
            if gap > 0:
                await asyncio.sleep(gap)

    def _next_due(self) -> dt.datetime | None:
        return min((t for t in self.engine.next_due() if t is not None), default=None)

    async def _drain(self) -> None:
        """Graceful stop: give back the jobs claimed ahead, wait for running jobs, then ask
        the rest to stop and requeue them.

        Bounded: ``shutdown_timeout`` (skipped by ``request_stop(immediately=True)``), then
        ``CANCEL_GRACE``; runs still going then are abandoned.
        """
        self._release_ready()
        deadline = time.monotonic() + self.options.shutdown_timeout
        if self._active():
            log.info("server %s: waiting for %d running job(s)", self.id, len(self._active()))
        while self._active() and time.monotonic() < deadline and not self._hurry.is_set():
            await asyncio.sleep(0.05)
        if not self._active():
            return
        self._cancel(self._active(), "server shutting down")
        grace = time.monotonic() + CANCEL_GRACE
        while self._active() and time.monotonic() < grace:
            await asyncio.sleep(0.05)
        # Sync jobs that ignore the signal: their runs go back to the queue now, and what
        # they do later is fenced out of storage.
        tasks = [r.task for r in self._active() if r.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=0.2)
        # Async jobs that swallow their cancellation would never end: leave them behind.
        self._abandon([r for r in self._active() if r.task is not None and not r.task.done()])

    def _release_ready(self) -> None:
        """Jobs claimed ahead and never started go back to their queues, not counted as
        attempts (through the flusher, fenced by their claim like any outcome)."""
        if not self._ready:
            return
        released, self._ready = list(self._ready), deque()
        now = utcnow()
        reason = _reasons.released(self.id)
        self._outcomes.extend(
            Outcome(
                c.id, self.id, c.attempt, JobState.ENQUEUED, now, reason, started_at=c.started_at
            )
            for c in released
        )
        self._flush_hint.set()
        log.info("server %s: %d job(s) claimed ahead back in their queues", self.id, len(released))

    def _abandon(self, runs: list[_Running]) -> None:
        if not runs:
            return
        for running in runs:
            running.abandoned = True
            if self._running.get(running.claimed.id) is running:
                del self._running[running.claimed.id]
            self._displaced.discard(running)
            assert running.task is not None
            _eventloop.abandon(running.task)
            if running.context.cancel_reason in NO_OUTCOME:
                continue
            claimed = running.claimed
            self._outcomes.append(
                Outcome(
                    job_id=claimed.id,
                    server_id=self.id,
                    attempt=claimed.attempt,
                    state=JobState.ENQUEUED,
                    at=utcnow(),
                    reason="interrupted: server shutting down; the job ignored its cancellation",
                    started_at=claimed.started_at,
                )
            )
        self._flush_hint.set()
        log.warning(
            "server %s: abandoned %d job(s) that ignored their cancellation, back in their "
            "queues: %s",
            self.id,
            len(runs),
            ", ".join(f"{r.claimed.id} ({r.claimed.name})" for r in runs),
        )


def run_in_thread(server: Server) -> Future[None]:
    """Start ``server`` on an event loop in a background thread; the future ends with it."""
    done: Future[None] = Future()

    def main() -> None:
        try:
            _eventloop.run(server.serve())
            done.set_result(None)
        except BaseException as error:
            done.set_exception(error)
            server.started.set()

    threading.Thread(target=main, name=f"backburner-{server.id}", daemon=True).start()
    server.started.wait()
    if done.done():
        done.result()  # raise what stopped it from starting
    return done
