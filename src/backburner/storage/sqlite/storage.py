"""SQLite storage: WAL, one writer per process, ``BEGIN IMMEDIATE`` for every write.

Several processes may share one file. Within a process a lock serialises writers so they
queue in order instead of spinning in SQLite's busy handler; across processes the busy
timeout does the waiting. Every write transaction is short and batched.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from ... import _reasons
from ..._records import (
    CountCell,
    Hosting,
    Job,
    JobPage,
    JobSummary,
    QueuePause,
    RecurringJob,
    ServerInfo,
    ThroughputCount,
)
from ..._states import JobState, continuation_release, continuation_start
from .. import _rows
from .._protocol import (
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
from .._read import check_limit
from .._rows import int_id
from .._sql import load_migrations, load_queries
from .._url import StorageError
from . import _read
from ._connections import SYNCHRONOUS, Connections
from ._port import LocalPort, WouldWait

Q = load_queries(__package__ or "backburner.storage.sqlite")
UTC = dt.UTC


def _ts(value: dt.datetime) -> float:
    return value.timestamp()


def _dt(value: float | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromtimestamp(value, UTC)


class SQLiteStorage:
    """Jobs in one SQLite file.

    ``busy_timeout`` is how long a writer waits for another process (seconds);
    ``synchronous`` is ``"normal"`` (a power loss may undo the last commits) or ``"full"``
    (every commit reaches the disk before it returns).
    """

    def __init__(
        self,
        path: str,
        *,
        busy_timeout: float = 30.0,
        poll_interval: float = 0.005,
        synchronous: str = "normal",
    ):
        if not 0 <= busy_timeout < math.inf:
            raise StorageError(f"busy_timeout takes seconds (0 or more), not {busy_timeout!r}")
        if synchronous not in SYNCHRONOUS:
            raise StorageError(f"synchronous takes normal or full, not {synchronous!r}")
        self.path = os.path.abspath(path)
        self._busy_timeout_ms = int(busy_timeout * 1000)
        self._poll_interval = poll_interval
        self._local = threading.local()
        self._db = Connections(
            self.path, busy_timeout_ms=self._busy_timeout_ms, synchronous=synchronous
        )
        self._write_lock = threading.Lock()

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(shared_across_processes=True, poll_interval=1.0)

    # --- connections and transactions ----------------------------------------------

    def check_file(self) -> None:
        """Raise ``StorageError`` if the file was deleted or replaced since it was opened."""
        self._db.check_file()

    def claim_port(self) -> LocalPort:
        return LocalPort(self)

    @contextmanager
    def _without_waiting(self) -> Iterator[None]:
        """In this block, on this thread, a write that would wait for a lock (held by
        another thread or process) raises ``WouldWait`` instead, having changed nothing."""
        self._local.no_wait = True
        try:
            yield
        finally:
            self._local.no_wait = False

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        no_wait = getattr(self._local, "no_wait", False)
        if not self._write_lock.acquire(blocking=not no_wait):
            raise WouldWait("another thread of this process is writing")
        try:
            conn = self._db.writer()
            if no_wait:
                self._begin_at_once(conn)
            else:
                conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                # The one writer of the process must never be left inside a transaction;
                # SQLite has already rolled back after some errors (a full disk, I/O).
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        finally:
            self._write_lock.release()

    def _begin_at_once(self, conn: sqlite3.Connection) -> None:
        """BEGIN IMMEDIATE that fails at once instead of waiting for another process."""
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise WouldWait(f"another process is writing ({error})") from None
        finally:
            conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")

    def migrate(self) -> None:
        with self._write() as conn:
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            for version, _name, script in load_migrations(__package__ or ""):
                if version <= current:
                    continue
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version}")

    def schema_version(self) -> int:
        with self._db.reader() as conn:
            version: int = conn.execute("PRAGMA user_version").fetchone()[0]
        return version

    def check_schema(self) -> None:
        current = self.schema_version()
        missing = [
            name for version, name, _ in load_migrations(__package__ or "") if version > current
        ]
        if missing:
            raise StorageError(
                f"the SQLite file {self.path} lacks migrations {', '.join(missing)}: "
                "run `backburner migrate` first"
            )

    def close(self) -> None:
        self._db.close(self._write_lock)

    # --- jobs, client side -----------------------------------------------------------

    def job_insert_many(self, jobs: Sequence[NewJob], now: dt.datetime) -> list[str]:
        with self._write() as conn:
            return self._insert_jobs(conn, jobs, now)

    def _insert_jobs(
        self, conn: sqlite3.Connection, jobs: Sequence[NewJob], now: dt.datetime
    ) -> list[str]:
        created = _ts(now)
        # One writer holds the file, so ids can be handed out here and inserted in bulk.
        first_id = next_id = conn.execute(Q["last_id"]).fetchone()[0] + 1
        batch_keys: dict[str, str] = {}
        rows = []
        ids: list[str] = []
        for job in jobs:
            state, reason, parent_id = job.state, job.reason, None
            if job.unique_key is not None:
                if job.unique_key in batch_keys:
                    ids.append(batch_keys[job.unique_key])
                    continue
                found = conn.execute(Q["job_by_unique_key"], (job.unique_key,)).fetchone()
                if found is not None:
                    ids.append(str(found[0]))
                    continue
                batch_keys[job.unique_key] = str(next_id)
            if job.parent_id is not None:
                parent_id = int_id(job.parent_id)
                parent = conn.execute(Q["job_state"], (parent_id,)).fetchone()
                if parent is None:
                    raise LookupError(f"no job with id {job.parent_id!r}")
                parent_state = JobState(parent[0])
                state = continuation_start(parent_state, job.continue_on or "succeeded")
                if state is not JobState.AWAITING:
                    reason = _reasons.parent_outcome(job.parent_id, parent_state.value)
            finished = created if state is JobState.DELETED else None
            rows.append(
                (
                    next_id,
                    job.name,
                    job.queue,
                    state.value,
                    job.args,
                    job.kwargs,
                    created,
                    _ts(job.run_at),
                    state.value,
                    created,
                    reason,
                    parent_id,
                    job.continue_on,
                    job.recurring_id,
                    None if job.due_at is None else _ts(job.due_at),
                    job.unique_key,
                    finished,
                )
            )
            ids.append(str(next_id))
            next_id += 1
        conn.executemany(Q["insert_job"], rows)
        if next_id != first_id:
            conn.execute(Q["set_last_id"], (next_id - 1,))
        return ids

    def job_get(self, job_id: str) -> Job | None:
        with self._db.reader() as conn:
            cursor = conn.execute(Q["get_job"], (int_id(job_id),))
            row = cursor.fetchone()
            return None if row is None else _job_from_row(cursor, row)

    def job_list(
        self,
        *,
        state: JobState | None = None,
        queue: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Job]:
        with self._db.reader() as conn:
            cursor = conn.execute(
                Q["list_jobs"], (None if state is None else state.value, queue, limit, offset)
            )
            return [_job_from_row(cursor, row) for row in cursor.fetchall()]

    def job_requeue(self, job_id: str, now: dt.datetime, reason: str) -> bool:
        with self._write() as conn:
            return conn.execute(Q["requeue"], (_ts(now), reason, int_id(job_id))).rowcount == 1

    def job_delete(self, job_id: str, now: dt.datetime, reason: str) -> bool:
        with self._write() as conn:
            deleted = conn.execute(Q["delete"], (_ts(now), reason, int_id(job_id))).rowcount
            if deleted:
                self._release_children(conn, {int_id(job_id) or 0: JobState.DELETED}, now)
            return deleted == 1

    def job_counts(self) -> Mapping[JobState, int]:
        counts = dict.fromkeys(JobState, 0)
        with self._db.reader() as conn:
            for state, count in conn.execute(Q["counts"]).fetchall():
                counts[JobState(state)] = count
        return counts

    def queue_counts(self) -> Mapping[str, int]:
        with self._db.reader() as conn:
            return dict(conn.execute(Q["queue_counts"]).fetchall())

    # --- jobs, server side -----------------------------------------------------------

    def job_claim(
        self, server_id: str, queues: Sequence[str], limit: int, now: dt.datetime
    ) -> list[ClaimedJob]:
        claimed: list[ClaimedJob] = []
        reason = _reasons.claimed_by(server_id)
        with self._write() as conn:
            for queue in queues:
                want = limit - len(claimed)
                if want <= 0:
                    break
                rows = conn.execute(Q["claim"], (server_id, _ts(now), queue, want, reason))
                batch = sorted(rows.fetchall(), key=lambda r: (r[8], r[0]))
                claimed.extend(_rows.claimed_job(r, _dt(r[6]), now, _dt(r[8])) for r in batch)
        return claimed

    def job_finish_many(self, outcomes: Sequence[Outcome]) -> list[str]:
        applied: list[str] = []
        released: dict[int, JobState] = {}
        with self._write() as conn:
            for o in outcomes:
                at = _ts(o.at)
                started = None if o.started_at is None else _ts(o.started_at)
                fence = (int_id(o.job_id), o.server_id, o.attempt, started)
                if o.state is JobState.SUCCEEDED:
                    cursor = conn.execute(Q["finish_succeeded"], (o.result, at, o.reason, *fence))
                elif o.state is JobState.FAILED:
                    cursor = conn.execute(Q["finish_failed"], (o.error, at, o.reason, *fence))
                elif o.state is JobState.SCHEDULED:
                    run_at = _ts(o.run_at or o.at)
                    cursor = conn.execute(
                        Q["finish_retry"], (o.error, at, o.reason, *fence, run_at)
                    )
                elif o.state is JobState.ENQUEUED:
                    cursor = conn.execute(Q["finish_interrupted"], (None, at, o.reason, *fence))
                else:
                    raise ValueError(f"an outcome cannot move a job to {o.state.value}")
                if cursor.rowcount == 1:
                    applied.append(o.job_id)
                    if o.state.is_final:
                        released[int(o.job_id)] = o.state
            if released:
                self._release_children(conn, released, outcomes[-1].at)
        return applied

    def _release_children(
        self, conn: sqlite3.Connection, parents: dict[int, JobState], now: dt.datetime
    ) -> None:
        if conn.execute(Q["any_awaiting"]).fetchone() is None:
            return
        while parents:
            children = conn.execute(Q["awaiting_children"], (json.dumps(list(parents)),))
            deleted: dict[int, JobState] = {}
            for child_id, continue_on in children.fetchall():
                parent_id, parent_state = self._parent_of(conn, child_id, parents)
                new_state = continuation_release(parent_state, continue_on)
                if new_state is None:
                    continue
                reason = _reasons.parent_outcome(parent_id, parent_state.value)
                conn.execute(Q["release_child"], (new_state.value, _ts(now), reason, child_id))
                if new_state is JobState.DELETED:
                    deleted[child_id] = JobState.DELETED
            parents = deleted

    @staticmethod
    def _parent_of(
        conn: sqlite3.Connection, child_id: int, parents: dict[int, JobState]
    ) -> tuple[int, JobState]:
        parent_id = conn.execute("SELECT parent_id FROM bb_jobs WHERE id = ?", (child_id,))
        found: int = parent_id.fetchone()[0]
        return found, parents[found]

    def job_stage_due(self, now: dt.datetime, limit: int = 1000) -> int:
        with self._write() as conn:
            return conn.execute(Q["stage_due"], (_ts(now), limit)).rowcount

    def job_next_due(self) -> dt.datetime | None:
        with self._db.reader() as conn:
            return _dt(conn.execute(Q["next_due"]).fetchone()[0])

    def job_lost(self, server_id: str, claims: Sequence[ClaimedJob]) -> list[str]:
        keys = [int_id(claimed.id) for claimed in claims]
        ids = json.dumps([key for key in keys if key is not None])
        # Compared here rather than in SQL: the claim times are the very floats stored, and
        # a float read back from JSON text might differ in its last bit.
        with self._db.reader() as conn:
            rows = conn.execute(Q["held_among"], (ids, server_id)).fetchall()
        held = {r[0]: (r[1], r[2]) for r in rows}
        return [
            claimed.id
            for claimed, key in zip(claims, keys, strict=True)
            if key not in held
            or held[key][0] != claimed.attempt
            or (claimed.started_at is not None and held[key][1] != _ts(claimed.started_at))
        ]

    def job_held(self, server_id: str) -> list[HeldJob]:
        with self._db.reader() as conn:
            rows = conn.execute(Q["held"], (server_id,)).fetchall()
        return [HeldJob(str(r[0]), r[1], dt.datetime.fromtimestamp(r[2], UTC)) for r in rows]

    def job_prune(
        self, finished_before: Mapping[JobState, dt.datetime], limit: int, now: dt.datetime
    ) -> int:
        pruned = 0
        with self._write() as conn:
            awaiting = conn.execute(Q["any_awaiting"]).fetchone() is not None
            for state, cutoff in finished_before.items():
                found = conn.execute(Q["prunable"], (state.value, _ts(cutoff), limit))
                ids = json.dumps([r[0] for r in found.fetchall()])
                if awaiting:
                    reasons = (_reasons.PARENT_PRUNED, _reasons.PARENT_OUTCOME)
                    conn.execute(Q["release_pruned"], (ids, _ts(now), *reasons))
                pruned += conn.execute(Q["prune"], (ids,)).rowcount
        return pruned

    # --- servers and maintenance -----------------------------------------------------

    def server_heartbeat(self, server: ServerInfo) -> None:
        # Where a server learns, and logs, that its file went away under it.
        self.check_file()
        asked = time.monotonic()
        with self._write() as conn:
            # Another process may have held the file's lock for seconds: the heartbeat is
            # as old as its write, not as its call.
            written = server.heartbeat_at + dt.timedelta(seconds=time.monotonic() - asked)
            conn.execute(
                Q["heartbeat"],
                (
                    server.id,
                    server.hostname,
                    server.pid,
                    json.dumps(list(server.queues)),
                    server.workers,
                    _ts(server.started_at),
                    _ts(written),
                    server.busy,
                    json.dumps(server.hosting.as_json()),
                ),
            )

    def server_remove(self, server_id: str, now: dt.datetime) -> int:
        with self._write() as conn:
            conn.execute(Q["remove_server"], (server_id,))
            reason = _reasons.server_stopped(server_id)
            return conn.execute(Q["requeue_processing"], (_ts(now), reason, server_id)).rowcount

    def server_list(self) -> list[ServerInfo]:
        with self._db.reader() as conn:
            rows = conn.execute(Q["list_servers"]).fetchall()
        return [
            ServerInfo(
                id=r[0],
                hostname=r[1],
                pid=r[2],
                queues=tuple(json.loads(r[3])),
                workers=r[4],
                started_at=dt.datetime.fromtimestamp(r[5], UTC),
                heartbeat_at=dt.datetime.fromtimestamp(r[6], UTC),
                busy=r[7],
                hosting=_hosting(r[8]),
            )
            for r in rows
        ]

    def server_rescue_dead(
        self, server_id: str, heartbeat_before: dt.datetime, now: dt.datetime
    ) -> int:
        rescued = 0
        with self._write() as conn:
            given = (_ts(heartbeat_before), server_id)
            dead = [r[0] for r in conn.execute(Q["dead_servers"], given).fetchall()]
            dead += [r[0] for r in conn.execute(Q["orphan_servers"], given).fetchall()]
            for server_id in dead:
                conn.execute(Q["remove_server"], (server_id,))
                reason = _reasons.rescued(server_id)
                rescued += conn.execute(
                    Q["requeue_processing"], (_ts(now), reason, server_id)
                ).rowcount
        return rescued

    def clock_read(self) -> None:
        return None  # the file is on this host, and so is every process that writes it

    def lease_acquire(self, name: str, holder: str, until: dt.datetime, now: dt.datetime) -> bool:
        with self._write() as conn:
            return conn.execute(Q["lease"], (name, holder, _ts(until), _ts(now))).rowcount == 1

    def listen(self, on_change: Callable[[], None]) -> Callable[[], None]:
        """Watch ``PRAGMA data_version``, which moves whenever another connection commits."""
        self.check_file()
        stop = threading.Event()

        def watch() -> None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            try:
                last = conn.execute("PRAGMA data_version").fetchone()[0]
                while not stop.wait(self._poll_interval):
                    version = conn.execute("PRAGMA data_version").fetchone()[0]
                    if version != last:
                        last = version
                        on_change()
            except sqlite3.Error:  # pragma: no cover - the file went away; polling goes on
                pass
            finally:
                conn.close()

        thread = threading.Thread(target=watch, name="backburner-sqlite-watch", daemon=True)
        thread.start()
        return stop.set

    # --- recurring jobs ----------------------------------------------------------------

    def recurring_upsert(
        self, definition: RecurringDefinition, next_run: dt.datetime, now: dt.datetime
    ) -> None:
        d = definition
        with self._write() as conn:
            conn.execute(
                Q["recurring_upsert"],
                (
                    d.id,
                    d.name,
                    d.cron,
                    d.timezone,
                    d.queue,
                    d.args,
                    d.kwargs,
                    d.misfire,
                    _ts(next_run),
                    _ts(now),
                ),
            )

    def recurring_get(self, recurring_id: str) -> RecurringJob | None:
        with self._db.reader() as conn:
            cursor = conn.execute(Q["recurring_get"], (recurring_id,))
            row = cursor.fetchone()
            return None if row is None else _recurring_from_row(cursor, row)

    def recurring_list(self) -> list[RecurringJob]:
        with self._db.reader() as conn:
            cursor = conn.execute(Q["recurring_list"])
            return [_recurring_from_row(cursor, row) for row in cursor.fetchall()]

    def recurring_remove(self, recurring_id: str) -> bool:
        with self._write() as conn:
            return conn.execute(Q["recurring_remove"], (recurring_id,)).rowcount == 1

    def recurring_set_paused(
        self, recurring_id: str, paused: bool, next_run: dt.datetime | None
    ) -> bool:
        with self._write() as conn:
            if paused:
                cursor = conn.execute(Q["recurring_pause"], (recurring_id,))
            else:
                resume_at = None if next_run is None else _ts(next_run)
                cursor = conn.execute(Q["recurring_resume"], (recurring_id, resume_at))
            return cursor.rowcount == 1

    def recurring_due(self, now: dt.datetime, limit: int) -> list[RecurringJob]:
        with self._db.reader() as conn:
            cursor = conn.execute(Q["recurring_due"], (_ts(now), limit))
            return [_recurring_from_row(cursor, row) for row in cursor.fetchall()]

    def recurring_next_run(self) -> dt.datetime | None:
        with self._db.reader() as conn:
            return _dt(conn.execute(Q["recurring_next_run"]).fetchone()[0])

    def recurring_advance(
        self,
        recurring_id: str,
        expected: dt.datetime,
        next_run: dt.datetime | None,
        jobs: Sequence[NewJob],
        now: dt.datetime,
    ) -> list[str] | None:
        after = None if next_run is None else _ts(next_run)
        with self._write() as conn:
            moved = conn.execute(Q["recurring_advance"], (recurring_id, _ts(expected), after))
            if moved.rowcount != 1:
                return None
            ids = self._insert_jobs(conn, jobs, now) if jobs else []
            if ids:
                last_run = max(j.due_at or j.run_at for j in jobs)
                conn.execute(Q["recurring_ran"], (recurring_id, _ts(last_run), ids[-1]))
            return ids

    def recurring_record_trigger(self, recurring_id: str, job_id: str, at: dt.datetime) -> None:
        with self._write() as conn:
            conn.execute(Q["recurring_ran"], (recurring_id, _ts(at), job_id))

    # --- reading many jobs (dashboards) ----------------------------------------------

    def job_search(self, query: JobQuery) -> JobPage:
        with self._db.reader() as conn:
            return _read.search(conn, query)

    def job_count_cells(self, query: CountQuery) -> Mapping[tuple[str, JobState], CountCell]:
        with self._db.reader() as conn:
            return _read.count_cells(conn, query)

    def queue_names(self, query: NamesQuery) -> list[str]:
        with self._db.reader() as conn:
            return _read.queue_names(conn, query)

    def job_names(self, query: NamesQuery) -> list[str]:
        with self._db.reader() as conn:
            return _read.job_names(conn, query)

    def throughput_add(self, server_id: str, counts: Sequence[ThroughputCount]) -> None:
        rows = [(_ts(c.hour), server_id, c.state.value, c.count) for c in counts]
        if rows:
            with self._write() as conn:
                conn.executemany(Q["throughput_add"], rows)

    def throughput_read(self, since: dt.datetime) -> list[ThroughputCount]:
        with self._db.reader() as conn:
            rows = conn.execute(Q["throughput_read"], (_ts(since),)).fetchall()
        return [
            ThroughputCount(dt.datetime.fromtimestamp(h, UTC), JobState(s), n) for h, s, n in rows
        ]

    def queue_pause(self, queue: str, at: dt.datetime, reason: str) -> bool:
        with self._write() as conn:
            return conn.execute(Q["queue_pause"], (queue, _ts(at), reason)).rowcount == 1

    def queue_resume(self, queue: str) -> bool:
        # Servers of other processes see the commit move PRAGMA data_version (listen()).
        with self._write() as conn:
            return conn.execute(Q["queue_resume"], (queue,)).rowcount == 1

    def queue_pauses(self) -> list[QueuePause]:
        with self._db.reader() as conn:
            rows = conn.execute(Q["queue_pauses"]).fetchall()
        return [QueuePause(q, dt.datetime.fromtimestamp(at, UTC), reason) for q, at, reason in rows]

    def throughput_prune(self, before: dt.datetime) -> int:
        with self._write() as conn:
            pruned: int = conn.execute(Q["throughput_prune"], (_ts(before),)).rowcount
            return pruned

    def job_continuations(self, parent_id: str, limit: int) -> list[JobSummary]:
        check_limit(limit)
        key = int_id(parent_id)
        if key is None:
            return []
        with self._db.reader() as conn:
            return _read.continuations(conn, key, limit)

    def queue_oldest_enqueued(self) -> Mapping[str, dt.datetime]:
        with self._db.reader() as conn:
            return _read.queue_oldest_enqueued(conn)

    def job_requeue_many(self, action: BulkAction) -> int:
        with self._write() as conn:
            return _read.requeue_many(conn, action)

    def job_delete_many(self, action: BulkAction) -> int:
        with self._write() as conn:
            deleted = _read.delete_many(conn, action)
            if deleted:
                parents = dict.fromkeys(deleted, JobState.DELETED)
                self._release_children(conn, parents, action.now)
            return len(deleted)


def _hosting(text: str) -> Hosting:
    try:
        return Hosting.from_json(json.loads(text))
    except ValueError:  # a row written by hand: no report rather than no server list
        return Hosting()


def _statements(script: str) -> Iterator[str]:
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer
            buffer = ""


def _job_from_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Job:
    r = dict(zip([c[0] for c in cursor.description], row, strict=True))
    return Job(
        id=str(r["id"]),
        name=r["name"],
        queue=r["queue"],
        state=JobState(r["state"]),
        args=_rows.decode_result(r["args"]),
        kwargs=_rows.decode_result(r["kwargs"]),
        created_at=dt.datetime.fromtimestamp(r["created_at"], UTC),
        attempt=r["attempt"],
        run_at=_dt(r["run_at"]),
        started_at=_dt(r["started_at"]),
        finished_at=_dt(r["finished_at"]),
        result=_rows.decode_result(r["result"]),
        error=_rows.decode_error(r["error"]),
        history=_rows.decode_history(json.loads(r["history"])),
        parent_id=None if r["parent_id"] is None else str(r["parent_id"]),
        continue_on=r["continue_on"],
        server_id=r["server_id"],
        recurring_id=r["recurring_id"],
    )


def _recurring_from_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> RecurringJob:
    r = dict(zip([c[0] for c in cursor.description], row, strict=True))
    return RecurringJob(
        id=r["id"],
        name=r["name"],
        cron=r["cron"],
        timezone=r["timezone"],
        queue=r["queue"],
        args=_rows.decode_result(r["args"]),
        kwargs=_rows.decode_result(r["kwargs"]),
        misfire=r["misfire"],
        paused=bool(r["paused"]),
        next_run=_dt(r["next_run"]),
        last_run=_dt(r["last_run"]),
        last_job_id=r["last_job_id"],
        created_at=dt.datetime.fromtimestamp(r["created_at"], UTC),
    )
