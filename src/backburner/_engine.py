"""The engine: the one caller of a storage backend.

The client, ``app.jobs``, ``app.recurring``, the app's own reads, the CLI and the servers
all go through it, so that what wraps a storage call lives once, here: the clock (read
after storage opens, which measures this host's clock against the database's), the words
of history reasons, in-process wake-ups of servers, and the events of ``app.events``.
Backends stay plain data access.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from . import _clock, _reasons
from ._events import (
    EventHub,
    JobDeleted,
    JobEnqueued,
    JobRequeued,
    QueuePaused,
    QueueResumed,
    RecurringEnqueued,
)
from ._records import (
    CountCell,
    Job,
    JobPage,
    JobSummary,
    QueueInfo,
    QueuePause,
    RecurringJob,
    ServerInfo,
    ThroughputCount,
)
from ._states import JobState
from .storage import (
    BulkAction,
    ClaimedJob,
    ClaimPort,
    CountQuery,
    HeldJob,
    JobQuery,
    NamesQuery,
    NewJob,
    Outcome,
    RecurringDefinition,
    Storage,
)

_WAITING = (JobState.ENQUEUED, JobState.PROCESSING, JobState.SCHEDULED)
_NONE = CountCell(0)
_NEW_STATES: dict[JobState, Literal["enqueued", "scheduled", "awaiting"]] = {
    JobState.ENQUEUED: "enqueued",
    JobState.SCHEDULED: "scheduled",
    JobState.AWAITING: "awaiting",
}


class Engine:
    """Job-lifecycle calls on storage, with the clock, wake-ups and events around them."""

    def __init__(
        self,
        storage: Callable[[], Storage],
        clock: Callable[[], dt.datetime],
        wake: Callable[[str | None], None],
        events: EventHub,
        url: Callable[[], str] = lambda: "storage",
    ) -> None:
        self._storage = storage
        self._url = url
        self._clock = clock
        self._wake = wake
        self.events = events

    def now(self) -> dt.datetime:
        """The time to store: storage first, since opening it measures the clock's offset."""
        self._storage()
        return self._clock()

    # --- new jobs ----------------------------------------------------------------------

    def insert(self, jobs: Sequence[NewJob], now: dt.datetime) -> list[str]:
        """Store new jobs (all or none) and wake the servers of their queues."""
        ids = self._storage().job_insert_many(jobs, now)
        for queue in {job.queue for job in jobs}:
            self._wake(queue)
        if self.events.wants(JobEnqueued):
            self._enqueued(jobs, ids, now)
        return ids

    def _enqueued(self, jobs: Sequence[NewJob], ids: Sequence[str], now: dt.datetime) -> None:
        for job, job_id in zip(jobs, ids, strict=True):
            state = _NEW_STATES[job.state]
            self.events.emit(JobEnqueued(job_id, job.name, job.queue, state, now))

    # --- reading jobs ------------------------------------------------------------------

    def job_get(self, job_id: str) -> Job | None:
        return self._storage().job_get(job_id)

    def job_list(
        self, state: JobState | None, queue: str | None, limit: int, offset: int
    ) -> list[Job]:
        return self._storage().job_list(state=state, queue=queue, limit=limit, offset=offset)

    def job_search(self, query: JobQuery) -> JobPage:
        return self._storage().job_search(query)

    def job_continuations(self, parent_id: str, limit: int) -> list[JobSummary]:
        return self._storage().job_continuations(parent_id, limit)

    def job_count_cells(self, query: CountQuery) -> Mapping[tuple[str, JobState], CountCell]:
        return self._storage().job_count_cells(query)

    def job_names(self, query: NamesQuery) -> list[str]:
        return self._storage().job_names(query)

    # --- acting on jobs ----------------------------------------------------------------

    def job_requeue(self, job_id: str, reason: str = _reasons.REQUEUED) -> bool:
        """Run a finished or scheduled job again now; False when it is in no such state."""
        job = self._storage().job_get(job_id)
        if job is None:
            return False
        done = self._storage().job_requeue(job_id, self.now(), reason)
        if done:
            self._wake(job.queue)
            if self.events.wants(JobRequeued):
                self.events.emit(JobRequeued(job_id, job.queue, reason))
        return done

    def job_delete(self, job_id: str, reason: str = _reasons.DELETED) -> bool:
        done = self._storage().job_delete(job_id, self.now(), reason)
        if done and self.events.wants(JobDeleted):
            self.events.emit(JobDeleted(job_id, reason))
        return done

    def job_requeue_many(self, query: JobQuery, reason: str = _reasons.REQUEUED) -> int:
        storage = self._storage()
        done = storage.job_requeue_many(BulkAction(query, self.now(), reason))
        if done:
            for queue in query.queues or storage.queue_names(NamesQuery()):
                self._wake(queue)
        return done

    def job_delete_many(self, query: JobQuery, reason: str = _reasons.DELETED) -> int:
        return self._storage().job_delete_many(BulkAction(query, self.now(), reason))

    # --- recurring jobs ----------------------------------------------------------------

    def recurring_upsert(
        self, definition: RecurringDefinition, next_run: dt.datetime, now: dt.datetime
    ) -> None:
        self._storage().recurring_upsert(definition, next_run, now)
        self._wake(None)

    def recurring_get(self, recurring_id: str) -> RecurringJob | None:
        return self._storage().recurring_get(recurring_id)

    def recurring_list(self) -> list[RecurringJob]:
        return self._storage().recurring_list()

    def recurring_remove(self, recurring_id: str) -> bool:
        return self._storage().recurring_remove(recurring_id)

    def recurring_pause(self, recurring_id: str) -> bool:
        return self._storage().recurring_set_paused(recurring_id, True, None)

    def recurring_resume(self, recurring_id: str, next_run: dt.datetime | None) -> bool:
        done = self._storage().recurring_set_paused(recurring_id, False, next_run)
        self._wake(None)
        return done

    def recurring_trigger(self, recurring_id: str, job: NewJob, now: dt.datetime) -> str:
        """Store a run triggered by hand and note it on the recurring job."""
        [job_id] = self.insert([job], now)
        self._storage().recurring_record_trigger(recurring_id, job_id, now)
        if self.events.wants(RecurringEnqueued):
            self.events.emit(RecurringEnqueued(recurring_id, job_id, now))
        return job_id

    def recurring_due(self, now: dt.datetime, limit: int) -> list[RecurringJob]:
        return self._storage().recurring_due(now, limit)

    def recurring_advance(
        self,
        record: RecurringJob,
        following: dt.datetime | None,
        jobs: Sequence[NewJob],
        now: dt.datetime,
    ) -> list[str]:
        """Move a due recurring job on to ``following`` and store its runs, if it was still
        due at its ``next_run`` (another server may have moved it first)."""
        assert record.next_run is not None
        ids = self._storage().recurring_advance(record.id, record.next_run, following, jobs, now)
        if ids:
            if self.events.wants(JobEnqueued):
                self._enqueued(jobs, ids, now)
            if self.events.wants(RecurringEnqueued):
                for job, job_id in zip(jobs, ids, strict=True):
                    self.events.emit(RecurringEnqueued(record.id, job_id, job.run_at))
        return ids or []

    # --- paused queues ------------------------------------------------------------------
    # The claim itself leaves paused queues out (in SQL on the databases), so a pause
    # holds from every server's next claim on, and a resume needs only a wake-up.

    def queue_pause(self, queue: str, reason: str = _reasons.QUEUE_PAUSED) -> bool:
        """Pause a queue; False when it was paused already (the first pause stays)."""
        done = self._storage().queue_pause(queue, self.now(), reason)
        if done and self.events.wants(QueuePaused):
            self.events.emit(QueuePaused(queue, reason))
        return done

    def queue_resume(self, queue: str, reason: str = _reasons.QUEUE_RESUMED) -> bool:
        """Resume a paused queue and wake its servers; False when it was not paused."""
        done = self._storage().queue_resume(queue)
        if done:
            self._wake(queue)
            if self.events.wants(QueueResumed):
                self.events.emit(QueueResumed(queue, reason))
        return done

    def queue_pauses(self) -> list[QueuePause]:
        return self._storage().queue_pauses()

    # --- the app's overviews -----------------------------------------------------------

    def servers(self, server_timeout: float | None) -> list[ServerInfo]:
        """The servers that heartbeated within ``server_timeout`` seconds (every server
        with a row in storage when None)."""
        # A server killed outright keeps its row until a live one rescues its jobs.
        servers = self._storage().server_list()
        if server_timeout is None:
            return servers
        alive_since = self._clock() - dt.timedelta(seconds=server_timeout)
        return [s for s in servers if s.heartbeat_at >= alive_since]

    def job_counts(self) -> Mapping[JobState, int]:
        return self._storage().job_counts()

    def queues(self) -> list[QueueInfo]:
        """Every queue that holds jobs or is paused: see ``app.queues.list()``."""
        storage = self._storage()
        cells = storage.job_count_cells(CountQuery(states=_WAITING))
        oldest = storage.queue_oldest_enqueued()
        pauses = {p.queue: p for p in storage.queue_pauses()}
        names = sorted(set(storage.queue_names(NamesQuery())) | {q for q, _ in cells} | set(pauses))
        now = self._clock()
        return [
            QueueInfo(
                name=name,
                enqueued=cells.get((name, JobState.ENQUEUED), _NONE),
                processing=cells.get((name, JobState.PROCESSING), _NONE),
                scheduled=cells.get((name, JobState.SCHEDULED), _NONE),
                oldest_waiting=(
                    max(now - oldest[name], dt.timedelta(0)) if name in oldest else None
                ),
                pause=pauses.get(name),
            )
            for name in names
        ]

    # --- what servers call -------------------------------------------------------------
    # A server makes its claims and records its outcomes through the claim port (on its
    # event loop); the rest of its storage calls are these, from its I/O threads.

    @property
    def storage_url(self) -> str:
        """Where jobs are stored, with any password hidden (for logs)."""
        return self._url()

    def claim_port(self) -> ClaimPort:
        """A new claim port; make it on the server's event loop (``Storage.claim_port``)."""
        return self._storage().claim_port()

    def poll_interval(self) -> float:
        """How often a server polls storage when no wake-up comes."""
        return self._storage().capabilities.poll_interval

    def listen(self, on_change: Callable[[], None]) -> Callable[[], None]:
        """Call ``on_change`` when another process changes jobs; returns a stop function."""
        return self._storage().listen(on_change)

    def measure_clock(self) -> float | None:
        """Measure this host's offset from the database's clock again (``_clock.measure``)."""
        return _clock.measure(self._storage())

    def server_heartbeat(self, server: ServerInfo) -> None:
        self._storage().server_heartbeat(server)

    def throughput_add(self, server_id: str, counts: Sequence[ThroughputCount]) -> None:
        self._storage().throughput_add(server_id, counts)

    def throughput_read(self, since: dt.datetime) -> list[ThroughputCount]:
        return self._storage().throughput_read(since)

    def throughput_prune(self, before: dt.datetime) -> int:
        return self._storage().throughput_prune(before)

    def server_remove(self, server_id: str, now: dt.datetime) -> int:
        """Forget a stopping server; its jobs still running go back to their queues."""
        return self._storage().server_remove(server_id, now)

    def server_rescue_dead(
        self, server_id: str, heartbeat_before: dt.datetime, now: dt.datetime
    ) -> int:
        return self._storage().server_rescue_dead(server_id, heartbeat_before, now)

    def lease_acquire(self, name: str, holder: str, until: dt.datetime, now: dt.datetime) -> bool:
        return self._storage().lease_acquire(name, holder, until, now)

    def job_stage_due(self, now: dt.datetime) -> int:
        return self._storage().job_stage_due(now)

    def next_due(self) -> list[dt.datetime | None]:
        """When the next scheduled job and the next recurring run are due."""
        storage = self._storage()
        return [storage.job_next_due(), storage.recurring_next_run()]

    def job_lost(self, server_id: str, claims: Sequence[ClaimedJob]) -> list[str]:
        return self._storage().job_lost(server_id, claims)

    def job_held(self, server_id: str) -> list[HeldJob]:
        return self._storage().job_held(server_id)

    def job_requeue_lost_claims(
        self, server_id: str, held: Sequence[HeldJob], now: dt.datetime
    ) -> list[str]:
        """Put back jobs held under ``server_id`` from claims whose reply never reached it,
        as interrupted runs (fenced by the claim's time; not counted as attempts)."""
        reason = _reasons.claim_lost(server_id)
        outcomes = [
            Outcome(
                h.id, server_id, h.attempt, JobState.ENQUEUED, now, reason, started_at=h.started_at
            )
            for h in held
        ]
        return self._storage().job_finish_many(outcomes)

    def job_prune(
        self, finished_before: Mapping[JobState, dt.datetime], limit: int, now: dt.datetime
    ) -> int:
        return self._storage().job_prune(finished_before, limit, now)
