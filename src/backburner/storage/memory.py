"""In-memory storage: for tests and single-process experiments. Nothing survives the process."""

from __future__ import annotations

import datetime as dt
import heapq
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import _reasons, _serialization
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
from .._states import (
    FINAL_STATES,
    ContinueOn,
    JobState,
    can_delete,
    can_requeue,
    continuation_release,
    continuation_start,
)
from ._ports import DirectPort
from ._protocol import (
    BulkAction,
    Capabilities,
    ClaimedJob,
    CountQuery,
    HeldJob,
    JobQuery,
    NamesQuery,
    NewJob,
    Outcome,
    RecurringDefinition,
)
from ._read import (
    arguments_match,
    bulk_pick,
    check_limit,
    cut_page,
    decode_cursor,
    name_matches,
    query_ids,
    scan_size,
    split_names,
    summary,
)
from ._rows import decode_error, decode_history, decode_result, history_entry, int_id


@dataclass
class _Row:
    id: int
    name: str
    queue: str
    state: JobState
    args: str
    kwargs: str
    created_at: dt.datetime
    run_at: dt.datetime
    attempt: int = 0
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    server_id: str | None = None
    result: str | None = None
    error: str | None = None
    history: list[list[Any]] = field(default_factory=list)
    parent_id: int | None = None
    continue_on: ContinueOn | None = None
    recurring_id: str | None = None
    due_at: dt.datetime | None = None
    unique_key: str | None = None

    def move(self, state: JobState, at: dt.datetime, reason: str | None) -> None:
        self.state = state
        entry = history_entry(state, at, reason)
        if self.history:  # no earlier than the entry before it, as in the other backends
            entry[1] = max(entry[1], self.history[-1][1])
        self.history.append(entry)

    def to_job(self) -> Job:
        return Job(
            id=str(self.id),
            name=self.name,
            queue=self.queue,
            state=self.state,
            args=_serialization.loads(self.args),
            kwargs=_serialization.loads(self.kwargs),
            created_at=self.created_at,
            attempt=self.attempt,
            run_at=self.run_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
            result=decode_result(self.result),
            error=decode_error(self.error),
            history=decode_history(self.history),
            parent_id=None if self.parent_id is None else str(self.parent_id),
            continue_on=self.continue_on,
            server_id=self.server_id,
            recurring_id=self.recurring_id,
        )


@dataclass
class _Recurring:
    definition: RecurringDefinition
    next_run: dt.datetime | None
    created_at: dt.datetime
    paused: bool = False
    last_run: dt.datetime | None = None
    last_job_id: str | None = None

    def to_record(self) -> RecurringJob:
        d = self.definition
        return RecurringJob(
            id=d.id,
            name=d.name,
            cron=d.cron,
            timezone=d.timezone,
            queue=d.queue,
            args=_serialization.loads(d.args),
            kwargs=_serialization.loads(d.kwargs),
            misfire=d.misfire,
            paused=self.paused,
            next_run=self.next_run,
            last_run=self.last_run,
            last_job_id=self.last_job_id,
            created_at=self.created_at,
        )


class MemoryStorage:
    """Every verb under one lock; the reference the other backends are tested against."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._rows: dict[int, _Row] = {}
        self._next_id = 1
        self._unique: dict[str, int] = {}
        self._servers: dict[str, ServerInfo] = {}
        self._leases: dict[str, tuple[str, dt.datetime]] = {}
        # Per queue, a heap of (run_at, id) of enqueued jobs; stale entries are skipped.
        self._ready: dict[str, list[tuple[dt.datetime, int]]] = {}
        self._recurring: dict[str, _Recurring] = {}
        self._throughput: dict[tuple[dt.datetime, str, JobState], int] = {}
        self._paused: dict[str, QueuePause] = {}

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(shared_across_processes=False, poll_interval=1.0)

    def claim_port(self) -> DirectPort:
        # Its lock is only ever held for microseconds: waiting for it costs nothing.
        return DirectPort(self)

    def migrate(self) -> None:
        pass

    def check_schema(self) -> None:
        pass

    def close(self) -> None:
        pass

    # --- helpers -------------------------------------------------------------------

    def _push_ready(self, row: _Row) -> None:
        heapq.heappush(self._ready.setdefault(row.queue, []), (row.run_at, row.id))

    def _enqueue(self, row: _Row, at: dt.datetime, reason: str | None) -> None:
        row.move(JobState.ENQUEUED, at, reason)
        self._push_ready(row)

    def _finish(self, row: _Row, state: JobState, at: dt.datetime, reason: str | None) -> None:
        row.move(state, at, reason)
        row.finished_at = at
        self._release_children(row, at)

    def _release_children(self, parent: _Row, at: dt.datetime) -> None:
        for child in [r for r in self._rows.values() if r.parent_id == parent.id]:
            if child.state is not JobState.AWAITING:
                continue
            new_state = continuation_release(parent.state, child.continue_on or "succeeded")
            if new_state is JobState.ENQUEUED:
                child.run_at = at
                self._enqueue(child, at, _reasons.parent_outcome(parent.id, parent.state.value))
            elif new_state is JobState.DELETED:
                self._finish(
                    child, JobState.DELETED, at, _reasons.parent_outcome(parent.id, "deleted")
                )

    # --- jobs, client side -----------------------------------------------------------

    def job_insert_many(self, jobs: Sequence[NewJob], now: dt.datetime) -> list[str]:
        with self._lock:
            for job in jobs:
                if job.parent_id is not None:
                    parent_id = int_id(job.parent_id)
                    if parent_id is None or parent_id not in self._rows:
                        raise LookupError(f"no job with id {job.parent_id!r}")
            ids: list[str] = []
            for job in jobs:
                if job.unique_key is not None and job.unique_key in self._unique:
                    ids.append(str(self._unique[job.unique_key]))
                    continue
                state, reason = job.state, job.reason
                parent_id = None if job.parent_id is None else int(job.parent_id)
                if parent_id is not None:
                    parent = self._rows[parent_id]
                    state = continuation_start(parent.state, job.continue_on or "succeeded")
                    if state is not JobState.AWAITING:
                        reason = _reasons.parent_outcome(parent_id, parent.state.value)
                row = _Row(
                    id=self._next_id,
                    name=job.name,
                    queue=job.queue,
                    state=state,
                    args=job.args,
                    kwargs=job.kwargs,
                    created_at=now,
                    run_at=job.run_at,
                    parent_id=parent_id,
                    continue_on=job.continue_on,
                    recurring_id=job.recurring_id,
                    due_at=job.due_at,
                    unique_key=job.unique_key,
                )
                self._next_id += 1
                self._rows[row.id] = row
                if job.unique_key is not None:
                    self._unique[job.unique_key] = row.id
                if state is JobState.ENQUEUED:
                    self._enqueue(row, now, reason)
                elif state is JobState.DELETED:
                    self._finish(row, state, now, reason)
                else:
                    row.move(state, now, reason)
                ids.append(str(row.id))
            return ids

    def job_get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._rows.get(int_id(job_id) or -1)
            return None if row is None else row.to_job()

    def job_list(
        self,
        *,
        state: JobState | None = None,
        queue: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Job]:
        with self._lock:
            rows = [
                r
                for r in reversed(self._rows.values())
                if (state is None or r.state is state) and (queue is None or r.queue == queue)
            ]
            return [r.to_job() for r in rows[offset : offset + limit]]

    def job_requeue(self, job_id: str, now: dt.datetime, reason: str) -> bool:
        with self._lock:
            row = self._rows.get(int_id(job_id) or -1)
            if row is None or not can_requeue(row.state):
                return False
            row.run_at = now
            row.finished_at = None
            row.server_id = None
            self._enqueue(row, now, reason)
            return True

    def job_delete(self, job_id: str, now: dt.datetime, reason: str) -> bool:
        with self._lock:
            row = self._rows.get(int_id(job_id) or -1)
            if row is None or not can_delete(row.state):
                return False
            self._finish(row, JobState.DELETED, now, reason)
            return True

    def job_counts(self) -> Mapping[JobState, int]:
        with self._lock:
            counts = dict.fromkeys(JobState, 0)
            for row in self._rows.values():
                counts[row.state] += 1
            return counts

    def queue_counts(self) -> Mapping[str, int]:
        with self._lock:
            counts: dict[str, int] = {}
            for row in self._rows.values():
                if row.state is JobState.ENQUEUED:
                    counts[row.queue] = counts.get(row.queue, 0) + 1
            return counts

    # --- jobs, server side -----------------------------------------------------------

    def job_claim(
        self, server_id: str, queues: Sequence[str], limit: int, now: dt.datetime
    ) -> list[ClaimedJob]:
        claimed: list[ClaimedJob] = []
        with self._lock:
            for queue in queues:
                if queue in self._paused:
                    continue
                heap = self._ready.get(queue, [])
                later: list[tuple[dt.datetime, int]] = []
                while heap and len(claimed) < limit:
                    run_at, job_id = heapq.heappop(heap)
                    row = self._rows.get(job_id)
                    if row is None or row.state is not JobState.ENQUEUED or row.run_at != run_at:
                        continue
                    if run_at > now:
                        later.append((run_at, job_id))
                        break
                    row.attempt += 1
                    row.server_id = server_id
                    row.started_at = now
                    row.move(JobState.PROCESSING, now, _reasons.claimed_by(server_id))
                    claimed.append(
                        ClaimedJob(
                            id=str(row.id),
                            name=row.name,
                            queue=row.queue,
                            args=row.args,
                            kwargs=row.kwargs,
                            attempt=row.attempt,
                            due_at=row.due_at,
                            recurring_id=row.recurring_id,
                            started_at=now,
                            ready_at=run_at,
                        )
                    )
                for item in later:
                    heapq.heappush(heap, item)
                if len(claimed) >= limit:
                    break
        return claimed

    def job_finish_many(self, outcomes: Sequence[Outcome]) -> list[str]:
        applied: list[str] = []
        with self._lock:
            for outcome in outcomes:
                row = self._rows.get(int(outcome.job_id))
                if (
                    row is None
                    or row.state is not JobState.PROCESSING
                    or row.server_id != outcome.server_id
                    or row.attempt != outcome.attempt
                    or outcome.started_at not in (None, row.started_at)
                ):
                    continue
                applied.append(outcome.job_id)
                if outcome.error is not None:
                    row.error = outcome.error
                if outcome.state is JobState.SUCCEEDED:
                    row.result = outcome.result
                    row.error = None
                if outcome.state in FINAL_STATES:
                    self._finish(row, outcome.state, outcome.at, outcome.reason)
                    continue
                row.server_id = None
                if outcome.state is JobState.SCHEDULED:
                    row.run_at = outcome.run_at or outcome.at
                    row.move(JobState.SCHEDULED, outcome.at, outcome.reason)
                else:
                    row.attempt -= 1  # an interrupted run does not count as an attempt
                    self._enqueue(row, outcome.at, outcome.reason)
        return applied

    def job_stage_due(self, now: dt.datetime, limit: int = 1000) -> int:
        with self._lock:
            due = [
                r for r in self._rows.values() if r.state is JobState.SCHEDULED and r.run_at <= now
            ]
            for row in sorted(due, key=lambda r: (r.run_at, r.id))[:limit]:
                self._enqueue(row, now, "due")
            return min(len(due), limit)

    def job_next_due(self) -> dt.datetime | None:
        with self._lock:
            due = [r.run_at for r in self._rows.values() if r.state is JobState.SCHEDULED]
            return min(due, default=None)

    def job_lost(self, server_id: str, claims: Sequence[ClaimedJob]) -> list[str]:
        with self._lock:
            lost = []
            for claimed in claims:
                key = int_id(claimed.id)
                row = None if key is None else self._rows.get(key)
                if (
                    row is None
                    or row.state is not JobState.PROCESSING
                    or row.server_id != server_id
                    or row.attempt != claimed.attempt
                    or claimed.started_at not in (None, row.started_at)
                ):
                    lost.append(claimed.id)
            return lost

    def job_held(self, server_id: str) -> list[HeldJob]:
        with self._lock:
            return [
                HeldJob(str(r.id), r.attempt, r.started_at)
                for r in self._rows.values()
                if r.state is JobState.PROCESSING
                and r.server_id == server_id
                and r.started_at is not None
            ]

    def job_prune(
        self, finished_before: Mapping[JobState, dt.datetime], limit: int, now: dt.datetime
    ) -> int:
        with self._lock:
            pruned = 0
            for state, cutoff in finished_before.items():
                old = [
                    r.id
                    for r in self._rows.values()
                    if r.state is state and r.finished_at is not None and r.finished_at < cutoff
                ][:limit]
                self._release_pruned(set(old), now)
                for job_id in old:
                    row = self._rows.pop(job_id)
                    if row.unique_key is not None:
                        self._unique.pop(row.unique_key, None)
                pruned += len(old)
            return pruned

    def _release_pruned(self, pruned: set[int], now: dt.datetime) -> None:
        """Delete the continuations still awaiting a parent about to be pruned: else they
        could never run nor be pruned. Theirs follow as those of any deleted job."""
        orphans = [
            r for r in self._rows.values() if r.state is JobState.AWAITING and r.parent_id in pruned
        ]
        for child in orphans:
            parent = self._rows[child.parent_id or 0]
            reason = _reasons.parent_pruned(parent.id, parent.state.value)
            self._finish(child, JobState.DELETED, now, reason)

    # --- servers and maintenance -----------------------------------------------------

    def _requeue_processing(self, server_id: str, now: dt.datetime, reason: str) -> int:
        rows = [
            r
            for r in self._rows.values()
            if r.state is JobState.PROCESSING and r.server_id == server_id
        ]
        for row in rows:
            # run_at stays: a rescued job has waited longest and goes to the front.
            row.server_id = None
            self._enqueue(row, now, reason)
        return len(rows)

    def server_heartbeat(self, server: ServerInfo) -> None:
        with self._lock:
            self._servers[server.id] = server

    def server_remove(self, server_id: str, now: dt.datetime) -> int:
        with self._lock:
            self._servers.pop(server_id, None)
            return self._requeue_processing(server_id, now, _reasons.server_stopped(server_id))

    def server_list(self) -> list[ServerInfo]:
        with self._lock:
            return sorted(self._servers.values(), key=lambda s: s.started_at)

    def server_rescue_dead(
        self, server_id: str, heartbeat_before: dt.datetime, now: dt.datetime
    ) -> int:
        with self._lock:
            dead = [
                s.id
                for s in self._servers.values()
                if s.heartbeat_at < heartbeat_before and s.id != server_id
            ]
            rescued = 0
            for dead_id in dead:
                del self._servers[dead_id]
                rescued += self._requeue_processing(dead_id, now, _reasons.rescued(dead_id))
            # Jobs of servers that vanished without a row (never heartbeated) are dead too.
            orphans = {
                r.server_id
                for r in self._rows.values()
                if r.state is JobState.PROCESSING
                and r.server_id is not None
                and r.server_id != server_id
                and r.server_id not in self._servers
                and r.started_at is not None
                and r.started_at < heartbeat_before
            }
            for orphan_id in orphans:
                rescued += self._requeue_processing(orphan_id, now, _reasons.rescued(orphan_id))
            return rescued

    def clock_read(self) -> None:
        return None  # this process's clock

    def lease_acquire(self, name: str, holder: str, until: dt.datetime, now: dt.datetime) -> bool:
        with self._lock:
            current = self._leases.get(name)
            if current is not None and current[0] != holder and current[1] > now:
                return False
            self._leases[name] = (holder, until)
            return True

    def listen(self, on_change: Callable[[], None]) -> Callable[[], None]:
        return lambda: None

    # --- recurring jobs ----------------------------------------------------------------

    def recurring_upsert(
        self, definition: RecurringDefinition, next_run: dt.datetime, now: dt.datetime
    ) -> None:
        with self._lock:
            current = self._recurring.get(definition.id)
            if current is None:
                self._recurring[definition.id] = _Recurring(definition, next_run, now)
                return
            old = current.definition
            if (old.cron, old.timezone) != (definition.cron, definition.timezone):
                current.next_run = next_run
            current.definition = definition

    def recurring_get(self, recurring_id: str) -> RecurringJob | None:
        with self._lock:
            current = self._recurring.get(recurring_id)
            return None if current is None else current.to_record()

    def recurring_list(self) -> list[RecurringJob]:
        with self._lock:
            return [self._recurring[key].to_record() for key in sorted(self._recurring)]

    def recurring_remove(self, recurring_id: str) -> bool:
        with self._lock:
            return self._recurring.pop(recurring_id, None) is not None

    def recurring_set_paused(
        self, recurring_id: str, paused: bool, next_run: dt.datetime | None
    ) -> bool:
        with self._lock:
            current = self._recurring.get(recurring_id)
            if current is None:
                return False
            current.paused = paused
            if not paused:
                current.next_run = next_run
            return True

    def recurring_due(self, now: dt.datetime, limit: int) -> list[RecurringJob]:
        with self._lock:
            due = [
                r
                for r in self._recurring.values()
                if not r.paused and r.next_run is not None and r.next_run <= now
            ]
            due.sort(key=lambda r: (r.next_run, r.definition.id))
            return [r.to_record() for r in due[:limit]]

    def recurring_next_run(self) -> dt.datetime | None:
        with self._lock:
            runs = [r.next_run for r in self._recurring.values() if not r.paused and r.next_run]
            return min(runs, default=None)

    def recurring_advance(
        self,
        recurring_id: str,
        expected: dt.datetime,
        next_run: dt.datetime | None,
        jobs: Sequence[NewJob],
        now: dt.datetime,
    ) -> list[str] | None:
        with self._lock:
            current = self._recurring.get(recurring_id)
            if current is None or current.next_run != expected:
                return None
            ids = self.job_insert_many(jobs, now) if jobs else []
            current.next_run = next_run
            if ids:
                current.last_job_id = ids[-1]
                current.last_run = max(j.due_at or j.run_at for j in jobs)
            return ids

    def recurring_record_trigger(self, recurring_id: str, job_id: str, at: dt.datetime) -> None:
        with self._lock:
            current = self._recurring.get(recurring_id)
            if current is not None:
                current.last_job_id = job_id
                current.last_run = at

    # --- reading many jobs (dashboards) ----------------------------------------------

    def _candidates(self, query: JobQuery, scan: int) -> list[_Row]:
        """Rows the indexed filters select, newest first, at most ``scan`` (as _read says)."""
        states = set(query.states or JobState)
        before = decode_cursor(query.cursor)
        ids = set(query_ids(query)) if query.ids else None
        found = []
        for row in reversed(self._rows.values()):
            if (
                row.id < before
                and row.state in states
                and (not query.queues or row.queue in query.queues)
                and (ids is None or row.id in ids)
            ):
                found.append(row)
                if len(found) >= scan:
                    break
        return found

    def _matching(
        self, query: JobQuery, scan: int, allowed: frozenset[JobState] = frozenset()
    ) -> tuple[list[_Row], list[_Row]]:
        candidates = self._candidates(query, scan)
        exact, prefixes = split_names(query.names)
        matches = [
            r
            for r in candidates
            if (not allowed or r.state in allowed)
            and name_matches(r.name, exact, prefixes)
            and arguments_match(r.args, r.kwargs, query)
        ]
        return candidates, matches

    def job_search(self, query: JobQuery) -> JobPage:
        return self._search(query, frozenset())

    def _search(self, query: JobQuery, allowed: frozenset[JobState]) -> JobPage:
        with self._lock:
            scan = scan_size(query, allowed)
            candidates, matches = self._matching(query, scan, allowed)
            jobs = [_summary(r) for r in matches[: query.limit + 1]]
            oldest = candidates[-1].id if candidates else None
            return cut_page(jobs, len(candidates), oldest, query.limit, scan)

    def throughput_add(self, server_id: str, counts: Sequence[ThroughputCount]) -> None:
        with self._lock:
            for c in counts:
                key = (c.hour, server_id, c.state)
                self._throughput[key] = self._throughput.get(key, 0) + c.count

    def throughput_read(self, since: dt.datetime) -> list[ThroughputCount]:
        with self._lock:
            sums: dict[tuple[dt.datetime, JobState], int] = {}
            for (hour, _, state), n in self._throughput.items():
                if hour >= since:
                    sums[(hour, state)] = sums.get((hour, state), 0) + n
        return [ThroughputCount(h, s, n) for (h, s), n in sorted(sums.items())]

    def queue_pause(self, queue: str, at: dt.datetime, reason: str) -> bool:
        with self._lock:
            if queue in self._paused:
                return False
            self._paused[queue] = QueuePause(queue, at, reason)
            return True

    def queue_resume(self, queue: str) -> bool:
        with self._lock:
            return self._paused.pop(queue, None) is not None

    def queue_pauses(self) -> list[QueuePause]:
        with self._lock:
            return [self._paused[name] for name in sorted(self._paused)]

    def throughput_prune(self, before: dt.datetime) -> int:
        with self._lock:
            old = [key for key in self._throughput if key[0] < before]
            for key in old:
                del self._throughput[key]
            return len(old)

    def job_continuations(self, parent_id: str, limit: int) -> list[JobSummary]:
        check_limit(limit)
        key = int_id(parent_id)
        with self._lock:
            children = sorted(
                (r for r in self._rows.values() if key is not None and r.parent_id == key),
                key=lambda r: r.id,
            )
            return [_summary(r) for r in children[:limit]]

    def job_count_cells(self, query: CountQuery) -> Mapping[tuple[str, JobState], CountCell]:
        with self._lock:
            counts: dict[tuple[str, JobState], int] = {}
            for row in self._rows.values():
                if (not query.states or row.state in query.states) and (
                    not query.queues or row.queue in query.queues
                ):
                    key = (row.queue, row.state)
                    counts[key] = counts.get(key, 0) + 1
            return {key: CountCell(n, n <= query.threshold) for key, n in counts.items()}

    def queue_names(self, query: NamesQuery) -> list[str]:
        with self._lock:
            names = {r.queue for r in self._rows.values() if r.queue.startswith(query.prefix)}
            return sorted(names)[: query.limit]

    def job_names(self, query: NamesQuery) -> list[str]:
        with self._lock:
            seen: dict[tuple[str, JobState], int] = {}
            names = set()
            for row in reversed(self._rows.values()):
                key = (row.queue, row.state)
                seen[key] = seen.get(key, 0) + 1
                if seen[key] <= query.sample and row.name.startswith(query.prefix):
                    names.add(row.name)
            return sorted(names)[: query.limit]

    def queue_oldest_enqueued(self) -> Mapping[str, dt.datetime]:
        with self._lock:
            oldest: dict[str, dt.datetime] = {}
            for row in self._rows.values():
                if row.state is JobState.ENQUEUED:
                    current = oldest.get(row.queue)
                    oldest[row.queue] = row.run_at if current is None else min(current, row.run_at)
            return oldest

    def job_requeue_many(self, action: BulkAction) -> int:
        with self._lock:
            picked = bulk_pick(self._search, action, REQUEUEABLE)
            for job_id in picked:
                self.job_requeue(str(job_id), action.now, action.reason)
            return len(picked)

    def job_delete_many(self, action: BulkAction) -> int:
        with self._lock:
            picked = bulk_pick(self._search, action, DELETABLE)
            for job_id in picked:
                self.job_delete(str(job_id), action.now, action.reason)
            return len(picked)


REQUEUEABLE = frozenset(s for s in JobState if can_requeue(s))
DELETABLE = frozenset(s for s in JobState if can_delete(s))


def _summary(row: _Row) -> JobSummary:
    return summary(
        id=row.id,
        name=row.name,
        queue=row.queue,
        state=row.state.value,
        attempt=row.attempt,
        created_at=row.created_at,
        run_at=row.run_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        args=row.args,
        kwargs=row.kwargs,
        error=row.error,
        parent_id=row.parent_id,
        recurring_id=row.recurring_id,
        server_id=row.server_id,
    )
