"""The storage protocol: job-lifecycle verbs that every backend implements.

Backends are plain data access. They never import job functions, never serialize Python
values (arguments and results arrive and leave as JSON text) and never read the clock:
every time they store comes from the caller as an aware UTC ``datetime`` (a heartbeat's
is moved on by however long its write waited). A backend whose database has a clock of
its own shows it through ``clock_read()``, so that callers can correct theirs. The facade in
``backburner._app`` wraps them with serialization, validation and in-process wake-ups.

Every write that moves a job out of ``processing`` is *fenced*: it applies only while the
job is still ``processing`` on the same server and attempt (and, when the outcome gives
it, from the same claim), so a worker that was presumed dead cannot overwrite the newer
state of a job that was rescued and run elsewhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .._records import (
    CountCell,
    Job,
    JobPage,
    JobSummary,
    QueuePause,
    RecurringJob,
    ServerInfo,
    ThroughputCount,
)
from .._states import ContinueOn, JobState, Misfire


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do, so callers and the conformance suite need not guess."""

    shared_across_processes: bool
    """Servers and clients in other processes see the same jobs."""
    poll_interval: float
    """How often a server looks for work that another process may have added (seconds)."""


# Not frozen: enqueue_many() builds thousands at a time, and frozen fields cost 3 µs each.
@dataclass(slots=True)
class NewJob:
    """A job to insert. ``state`` is ENQUEUED, SCHEDULED or AWAITING (with ``parent_id``)."""

    name: str
    queue: str
    args: str
    kwargs: str
    state: JobState
    run_at: dt.datetime
    """When the job is (or was) ready to run; for ENQUEUED jobs usually the insert time."""
    reason: str | None = None
    parent_id: str | None = None
    continue_on: ContinueOn | None = None
    recurring_id: str | None = None
    due_at: dt.datetime | None = None
    """The instant a delayed or recurring run was meant for."""
    unique_key: str | None = None
    """At most one job ever stored with this key; inserting it again returns the first id."""


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job a server has just claimed for running."""

    id: str
    name: str
    queue: str
    args: str
    kwargs: str
    attempt: int
    due_at: dt.datetime | None = None
    recurring_id: str | None = None
    started_at: dt.datetime | None = None
    """The claim's time, as stored: outcomes carry it back as part of their fence."""
    ready_at: dt.datetime | None = None
    """When the job became ready to run (its ``run_at`` at the claim), for queue wait."""


@dataclass(frozen=True, slots=True)
class HeldJob:
    """A job PROCESSING on a server as storage has it: the claim it came from."""

    id: str
    attempt: int
    started_at: dt.datetime
    """The claim's time, as ``ClaimedJob.started_at`` had it."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a claimed run ended, written back in batches by ``job_finish_many``.

    ``state`` is SUCCEEDED (with ``result``), SCHEDULED (a retry at ``run_at``, with
    ``error``), FAILED (with ``error``) or ENQUEUED (the run was interrupted, for example
    by a server shutting down, and goes back to its queue as it was).
    """

    job_id: str
    server_id: str
    attempt: int
    state: JobState
    at: dt.datetime
    reason: str | None = None
    result: str | None = None
    """JSON text of the return value."""
    error: str | None = None
    """JSON text of ``{"type", "message", "traceback"}``."""
    run_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    """The ``started_at`` of the claim this run came from. When given, the outcome applies
    only to that claim: a claim lost with a crash of the database, and the same job claimed
    again by the same server with the same attempt number, cannot take this run's outcome."""


@dataclass(frozen=True, slots=True)
class RecurringDefinition:
    """What ``app.recurring.add_or_update`` stores; ``args`` and ``kwargs`` are JSON text."""

    id: str
    name: str
    cron: str
    timezone: str
    queue: str
    args: str
    kwargs: str
    misfire: Misfire


MAX_PAGE = 1000
"""The most jobs one search page lists, and one bulk action changes."""


@dataclass(frozen=True, slots=True)
class JobQuery:
    """Which jobs a search lists or a bulk action changes; every filter given must hold.

    ``names`` are exact names, or prefixes when they end in ``*`` (``"emails.*"``).
    ``args`` is JSON text of a list whose every value must be among the positional
    arguments, ``kwargs`` JSON text of an object the keyword arguments must contain (both
    compared as JSON containment, PostgreSQL's ``jsonb @>``). ``cursor`` comes from a
    previous ``JobPage.next``. Searches by name or arguments examine at most ``scan``
    jobs per page.
    """

    states: tuple[JobState, ...] = ()
    queues: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    args: str | None = None
    kwargs: str | None = None
    limit: int = 50
    cursor: str | None = None
    scan: int = 10_000

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE}, not {self.limit}")
        if self.scan < 1:
            raise ValueError(f"scan must be at least 1, not {self.scan}")
        from ._read import decode_cursor  # late: _read imports this module

        decode_cursor(self.cursor)


@dataclass(frozen=True, slots=True)
class CountQuery:
    """Which (queue, state) cells to count; each is exact up to ``threshold`` jobs."""

    states: tuple[JobState, ...] = ()
    queues: tuple[str, ...] = ()
    threshold: int = 10_000

    def __post_init__(self) -> None:
        if self.threshold < 0:
            raise ValueError(f"threshold must not be negative, not {self.threshold}")


@dataclass(frozen=True, slots=True)
class NamesQuery:
    """Names starting with ``prefix``, sorted, at most ``limit``. Job names are those of
    the newest ``sample`` jobs of each queue and state."""

    prefix: str = ""
    limit: int = 1000
    sample: int = 500

    def __post_init__(self) -> None:
        if self.limit < 1 or self.sample < 1:
            raise ValueError(f"limit and sample must be at least 1, not {self.limit, self.sample}")


@dataclass(frozen=True, slots=True)
class BulkAction:
    """A bulk requeue or delete: up to ``query.limit`` matching jobs, newest first."""

    query: JobQuery
    now: dt.datetime
    reason: str


class ClaimPort(Protocol):
    """A server's claims and outcomes, awaited on its event loop: ``job_claim`` and
    ``job_finish_many`` with exactly the meaning of the ``Storage`` verbs of those names.

    These are a server's hot path, so each backend makes them the cheapest way it can
    without blocking the loop for long: in place when the write is local and takes no
    lock that another thread or process holds, on connections of the loop's own when the
    write waits on the network, and on a thread of the port's otherwise. A claim and a
    batch of outcomes may be awaited at the same time (a server claims while its flusher
    records); neither holds the other up.
    """

    async def job_claim(
        self, server_id: str, queues: Sequence[str], limit: int, now: dt.datetime
    ) -> list[ClaimedJob]: ...

    async def job_finish_many(self, outcomes: Sequence[Outcome]) -> list[str]: ...

    async def close(self) -> None:
        """Release what the port holds (connections, threads); call it on the same loop."""


@runtime_checkable
class Storage(Protocol):
    """Job-lifecycle verbs, named noun-then-verb. All methods are thread-safe."""

    @property
    def capabilities(self) -> Capabilities: ...

    def migrate(self) -> None:
        """Create or upgrade the schema; safe to call from many processes at once."""

    def check_schema(self) -> None:
        """Raise ``StorageError`` unless every migration has been applied."""

    def close(self) -> None: ...

    def claim_port(self) -> ClaimPort:
        """Claims and outcomes as coroutines, for the one event loop that awaits them.

        Make it on that loop and close it there when done; it needs no call before use.
        """
        ...

    # --- jobs, client side -----------------------------------------------------------

    def job_insert_many(self, jobs: Sequence[NewJob], now: dt.datetime) -> list[str]:
        """Insert jobs in one transaction and return their ids, in order.

        A continuation's starting state is decided inside the transaction from its
        parent's state (``_states.continuation_start``): it may start ENQUEUED or DELETED
        instead of AWAITING. An unknown parent raises ``LookupError`` and stores nothing.
        """

    def job_get(self, job_id: str) -> Job | None: ...

    def job_list(
        self,
        *,
        state: JobState | None = None,
        queue: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Job]:
        """Jobs newest first (by id), optionally of one state and queue."""

    def job_requeue(self, job_id: str, now: dt.datetime, reason: str) -> bool:
        """Put a finished (or scheduled) job back in its queue; False if it cannot be."""

    def job_delete(self, job_id: str, now: dt.datetime, reason: str) -> bool:
        """Mark a job DELETED (a processing job's server notices through ``job_lost``).

        Releases or deletes its awaiting continuations. False for unknown or deleted jobs.
        """

    def job_counts(self) -> Mapping[JobState, int]: ...

    def queue_counts(self) -> Mapping[str, int]:
        """Enqueued jobs per queue name (queues with none may be left out)."""

    # --- jobs, server side -----------------------------------------------------------

    def job_claim(
        self, server_id: str, queues: Sequence[str], limit: int, now: dt.datetime
    ) -> list[ClaimedJob]:
        """Claim up to ``limit`` ENQUEUED jobs with ``run_at <= now`` and mark them PROCESSING.

        Queues are served in the order given, FIFO by (run_at, id) within a queue; paused
        queues (``queue_pause``) are skipped. The attempt counter goes up by one. No job is
        ever handed to two claims.
        """

    def job_finish_many(self, outcomes: Sequence[Outcome]) -> list[str]:
        """Record outcomes in one transaction (fenced); return the ids that were applied.

        SUCCEEDED and FAILED release awaiting continuations as ``continuation_release`` says.
        """

    def job_stage_due(self, now: dt.datetime, limit: int = 1000) -> int:
        """Move SCHEDULED jobs whose ``run_at <= now`` to ENQUEUED; return how many."""

    def job_next_due(self) -> dt.datetime | None:
        """The earliest ``run_at`` among SCHEDULED jobs."""

    def job_lost(self, server_id: str, claims: Sequence[ClaimedJob]) -> list[str]:
        """The ids of ``claims`` whose job is no longer PROCESSING on ``server_id`` under
        that claim: deleted, rescued, or claimed again since (another attempt, or another
        ``started_at`` when the claim gives one). In the order given."""

    def job_held(self, server_id: str) -> list[HeldJob]:
        """The jobs PROCESSING on ``server_id``, with the claim each came from.

        A server compares them with the claims it received: a claim whose reply was lost
        after its commit holds jobs that the server never heard of.
        """

    def job_prune(
        self, finished_before: Mapping[JobState, dt.datetime], limit: int, now: dt.datetime
    ) -> int:
        """Delete up to ``limit`` jobs in each given final state finished before its cutoff.

        Continuations still awaiting a pruned parent become DELETED at ``now``, with the
        reason ``parent <id> pruned (<state>)``; theirs follow as those of any deleted job.
        """

    # --- servers and maintenance -----------------------------------------------------

    def server_heartbeat(self, server: ServerInfo) -> None:
        """Insert or refresh a server's row, stamped with the time of the write.

        ``server.heartbeat_at`` is the caller's clock when it called; a backend moves it on
        by however long the call waited (for a lock, for a connection) before writing, so
        a heartbeat that waited out a stall is not stored as old.
        """

    def server_remove(self, server_id: str, now: dt.datetime) -> int:
        """Remove a server that stops; put its PROCESSING jobs back in their queues."""

    def server_list(self) -> list[ServerInfo]: ...

    def server_rescue_dead(
        self, server_id: str, heartbeat_before: dt.datetime, now: dt.datetime
    ) -> int:
        """Remove servers silent since before ``heartbeat_before`` and requeue their jobs.

        ``server_id`` is the caller's: a server never rescues itself, however old its own
        row looks (after a stall, its heartbeat may not have been written yet).
        """

    def clock_read(self) -> dt.datetime | None:
        """The database's clock, for a backend shared by many hosts (``_clock.measure``
        corrects this host's by it); None where storage lives on this host."""

    def lease_acquire(self, name: str, holder: str, until: dt.datetime, now: dt.datetime) -> bool:
        """Take or renew the lease ``name`` for ``holder`` until ``until``, if free or expired."""

    def listen(self, on_change: Callable[[], None]) -> Callable[[], None]:
        """Call ``on_change`` (from any thread) when another process may have added work.

        Returns a function that stops listening. A hint only: servers also poll.
        """

    # --- recurring jobs ----------------------------------------------------------------

    def recurring_upsert(
        self, definition: RecurringDefinition, next_run: dt.datetime, now: dt.datetime
    ) -> None:
        """Insert or update a recurring job.

        ``next_run`` is stored when the job is new or its cron or time zone changed; an
        update that keeps both keeps the stored next run (and its pause).
        """

    def recurring_get(self, recurring_id: str) -> RecurringJob | None: ...

    def recurring_list(self) -> list[RecurringJob]:
        """All recurring jobs, by id."""

    def recurring_remove(self, recurring_id: str) -> bool: ...

    def recurring_set_paused(
        self, recurring_id: str, paused: bool, next_run: dt.datetime | None
    ) -> bool:
        """Pause or resume; resuming stores ``next_run`` (runs missed while paused are skipped)."""

    def recurring_due(self, now: dt.datetime, limit: int) -> list[RecurringJob]:
        """Recurring jobs not paused whose ``next_run <= now``, earliest first."""

    def recurring_next_run(self) -> dt.datetime | None:
        """The earliest ``next_run`` of the recurring jobs not paused."""

    def recurring_advance(
        self,
        recurring_id: str,
        expected: dt.datetime,
        next_run: dt.datetime | None,
        jobs: Sequence[NewJob],
        now: dt.datetime,
    ) -> list[str] | None:
        """Move ``next_run`` from ``expected`` on and insert ``jobs``, in one transaction.

        Only one caller wins for a given ``expected`` instant: the others get None and
        nothing is stored. The jobs carry unique keys, so a due instant never makes two
        jobs even if a definition changed in between. Sets ``last_run`` to the latest
        ``due_at`` of the jobs and ``last_job_id`` to the last id.
        """

    def recurring_record_trigger(self, recurring_id: str, job_id: str, at: dt.datetime) -> None:
        """Note a run started by hand: ``last_job_id`` and ``last_run`` change, not ``next_run``."""

    # --- paused queues ------------------------------------------------------------------

    def queue_pause(self, queue: str, at: dt.datetime, reason: str) -> bool:
        """Pause the queue named ``queue`` (it need hold no job): ``job_claim`` takes none
        of its jobs until it is resumed; inserting into it still works. True when it was
        not paused; pausing again keeps the first pause's time and reason."""
        ...

    def queue_resume(self, queue: str) -> bool:
        """Let ``job_claim`` take the queue's jobs again; True when it was paused.

        Like a new job, a resume may wake servers in other processes (``listen``).
        """
        ...

    def queue_pauses(self) -> list[QueuePause]:
        """The paused queues, by name."""
        ...

    # --- reading many jobs (dashboards) ----------------------------------------------

    def job_search(self, query: JobQuery) -> JobPage:
        """Summaries of matching jobs, newest first (by id), one keyset page at a time."""
        ...

    def throughput_add(self, server_id: str, counts: Sequence[ThroughputCount]) -> None:
        """Add ``counts`` to those stored for this server, hour and state, in one
        transaction (each server adds only to its own rows)."""
        ...

    def throughput_read(self, since: dt.datetime) -> list[ThroughputCount]:
        """The counts of the hours from ``since`` on, summed over servers, oldest first."""
        ...

    def throughput_prune(self, before: dt.datetime) -> int:
        """Delete the counts of hours before ``before``; how many rows went."""
        ...

    def job_continuations(self, parent_id: str, limit: int) -> list[JobSummary]:
        """Summaries of the jobs that continue job ``parent_id`` (``NewJob.parent_id``), in
        any state, oldest first, at most ``limit`` (1 to ``MAX_PAGE``)."""
        ...

    def job_count_cells(self, query: CountQuery) -> Mapping[tuple[str, JobState], CountCell]:
        """Jobs per (queue, state), for the cells that hold any.

        Exact up to ``query.threshold``; above it an estimate (``exact=False``, and a count
        above the threshold), so that no call counts every finished job.
        """
        ...

    def queue_names(self, query: NamesQuery) -> list[str]:
        """Names of the queues that hold any job."""
        ...

    def job_names(self, query: NamesQuery) -> list[str]:
        """Names of recent jobs (``query.sample`` says how recent), for filters."""
        ...

    def queue_oldest_enqueued(self) -> Mapping[str, dt.datetime]:
        """Per queue holding enqueued jobs, the earliest ``run_at`` among them."""
        ...

    def job_requeue_many(self, action: BulkAction) -> int:
        """``job_requeue`` for the matching jobs that can be requeued; how many were."""
        ...

    def job_delete_many(self, action: BulkAction) -> int:
        """``job_delete`` for the matching jobs that are not deleted; how many were."""
        ...
