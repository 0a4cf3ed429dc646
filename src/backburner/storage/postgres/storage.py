"""PostgreSQL storage: many processes and hosts share one database.

Every verb is one statement on a pooled autocommit connection, one round trip, except
those that pipeline two statements as one transaction (still one round trip) and inserting
continuations, which must read the parents' states first. Ready jobs are claimed with
``FOR UPDATE SKIP LOCKED``, so claimers never wait for each other. New work is announced
with NOTIFY on ``<schema>_backburner``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import psycopg

from ... import _reasons
from ..._records import Hosting, Job, ServerInfo
from ..._states import JobState
from .. import _rows
from .._ports import ThreadedPort
from .._protocol import Capabilities, ClaimedJob, ClaimPort, HeldJob, NewJob, Outcome
from .._rows import int_id
from .._sql import load_migrations
from .._url import StorageError
from ._base import PACKAGE, quote
from ._claims import applied_in_order, claim_params, claimed_jobs
from ._connections import Connection
from ._insert import insert_jobs
from ._listener import Listener
from ._loop import LoopWrites
from ._queues import QueueVerbs
from ._read import ReadVerbs
from ._recurring import RecurringVerbs
from ._throughput import ThroughputVerbs

_OUTCOME_STATES = frozenset(
    {JobState.SUCCEEDED, JobState.FAILED, JobState.SCHEDULED, JobState.ENQUEUED}
)


class PostgresStorage(RecurringVerbs, ReadVerbs, ThroughputVerbs, QueueVerbs):
    """Jobs in the tables of one PostgreSQL schema (created by ``migrate()`` if missing).

    Keyword options: ``schema`` (default "backburner"); ``pool_min_size`` and
    ``pool_max_size`` (1 and 10 connections); ``pool_timeout``, how long a call waits for a
    connection before raising ``StorageError`` (10 s); ``connect_timeout`` (5 s);
    ``application_name``, as ``pg_stat_activity`` shows it; ``notifications=False`` turns
    NOTIFY and LISTEN off, for poolers in transaction mode (PgBouncer) where LISTEN cannot
    work, and servers then poll more often; ``prepare_threshold`` (psycopg's; pass None
    before PgBouncer 1.21).
    """

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            shared_across_processes=True, poll_interval=1.0 if self._notifications else 0.5
        )

    # --- schema and lifetime -------------------------------------------------------

    def migrate(self) -> None:
        """Create the schema if missing and apply the migrations it lacks, in one transaction.

        Concurrent callers queue on an advisory lock keyed on the schema name.
        """

        def work(conn: Connection) -> None:
            conn.execute(self._q["lock_migrations"], {"schema": self.schema})
            if conn.execute(self._q["schema_exists"], {"schema": self.schema}).fetchone() is None:
                conn.execute(self._q["create_schema"])
            conn.execute(self._q["create_migrations_table"])
            applied = {version for version, _ in conn.execute(self._q["applied_migrations"])}
            conn.execute(self._q["use_schema"], {"search_path": quote(self.schema)})
            for version, name, script in load_migrations(PACKAGE):
                if version not in applied:
                    # Without parameters a query goes as a simple query: many statements work.
                    conn.execute(script.encode())
                    conn.execute(self._q["record_migration"], {"version": version, "name": name})

        self._transaction(work)

    def check_schema(self) -> None:
        applied = {version for version, _ in self.applied_migrations()}
        missing = [name for version, name, _ in load_migrations(PACKAGE) if version not in applied]
        if missing:
            raise StorageError(
                f"schema {self.schema!r} lacks migrations {', '.join(missing)}: "
                "run `backburner migrate` first"
            )

    def applied_migrations(self) -> list[tuple[int, str]]:
        """``(version, file name)`` of the migrations applied to this schema, in order."""
        return [(version, name) for version, name in self._run("applied_migrations")]

    def close(self) -> None:
        """Stop listening and close every pooled connection."""
        self._closed = True
        with self._listeners_lock:
            listeners, self._listeners = self._listeners, []
        for listener in listeners:
            listener.stop(wait=2.0)
        self._db.close()

    # --- jobs, client side -----------------------------------------------------------

    def job_insert_many(self, jobs: Sequence[NewJob], now: dt.datetime) -> list[str]:
        if not jobs:
            return []

        def work(conn: Connection) -> list[str]:
            return insert_jobs(conn, self._q, jobs, now, self._notify_channel)

        if all(job.parent_id is None for job in jobs):
            return self._work(work)
        return self._transaction(work)

    def job_get(self, job_id: str) -> Job | None:
        key = int_id(job_id)
        rows = [] if key is None else self._run("get_job", {"id": key})
        return _job(rows[0]) if rows else None

    def job_list(
        self,
        *,
        state: JobState | None = None,
        queue: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Job]:
        query = "list_jobs" if state is None else "list_jobs_in_state"
        params = {
            "state": None if state is None else state.value,
            "queue": queue,
            "limit": limit,
            "offset": offset,
        }
        return [_job(row) for row in self._run(query, params)]

    def job_requeue(self, job_id: str, now: dt.datetime, reason: str) -> bool:
        key = int_id(job_id)
        if key is None:
            return False
        params = {"id": key, "now": now, "reason": reason, "channel": self._notify_channel}
        [(requeued, _)] = self._run("requeue", params)
        return bool(requeued)

    def job_delete(self, job_id: str, now: dt.datetime, reason: str) -> bool:
        key = int_id(job_id)
        if key is None:
            return False
        deleted, _ = self._atomic(
            ("delete", {"id": key, "now": now, "reason": reason}),
            # Harmless if the delete did not apply: a job that was already deleted has no
            # awaiting children left.
            ("release_children", self._release_params([(key, now)])),
        )
        return bool(deleted)

    def _release_params(self, parents: Sequence[tuple[int, dt.datetime]]) -> dict[str, Any]:
        return {
            "id": [job_id for job_id, _ in parents],
            "at": [at for _, at in parents],
            "channel": self._notify_channel,
            "parent_outcome": _reasons.PARENT_OUTCOME,
        }

    def job_counts(self) -> Mapping[JobState, int]:
        counts = dict.fromkeys(JobState, 0)
        for state, count in self._run("counts"):
            counts[JobState(state)] = count
        return counts

    def queue_counts(self) -> Mapping[str, int]:
        return dict(self._run("queue_counts"))

    # --- jobs, server side -----------------------------------------------------------

    def job_claim(
        self, server_id: str, queues: Sequence[str], limit: int, now: dt.datetime
    ) -> list[ClaimedJob]:
        if limit <= 0 or not queues:
            return []
        return claimed_jobs(self._run("claim", claim_params(server_id, queues, limit, now)), now)

    def job_finish_many(self, outcomes: Sequence[Outcome]) -> list[str]:
        known, statements = self._finish_statements(outcomes)
        if not statements:
            return []
        [(applied_ids, _)], *_ = self._atomic(*statements)
        return applied_in_order(known, applied_ids)

    def _finish_statements(
        self, outcomes: Sequence[Outcome]
    ) -> tuple[list[Outcome], list[tuple[str, dict[str, Any]]]]:
        """The outcomes that name a possible job, and the statements that record them."""
        for o in outcomes:
            if o.state not in _OUTCOME_STATES:
                raise ValueError(f"an outcome cannot move a job to {o.state.value}")
        known = [o for o in outcomes if int_id(o.job_id) is not None]
        if not known:
            return [], []
        finish = {
            "id": [int(o.job_id) for o in known],
            "server_id": [o.server_id for o in known],
            "attempt": [o.attempt for o in known],
            "state": [o.state.value for o in known],
            "at": [o.at for o in known],
            "reason": [o.reason for o in known],
            "result": [o.result for o in known],
            "error": [o.error for o in known],
            "run_at": [o.run_at for o in known],
            "started_at": [o.started_at for o in known],
            "channel": self._notify_channel,
        }
        # Releasing continuations needs no answer from the finish: a parent whose outcome
        # was fenced off is not newly final, and releasing its children again changes
        # nothing. So both statements share one round trip.
        final = [(int(o.job_id), o.at) for o in known if o.state.is_final]
        release = [("release_children", self._release_params(final))] if final else []
        return known, [("finish", finish), *release]

    def claim_port(self) -> ClaimPort:
        if sys.platform == "win32":
            # psycopg's asyncio connections need a selector event loop, and asyncio runs a
            # proactor loop there by default: the pooled calls serve, on threads instead.
            return ThreadedPort(self)
        return LoopWrites(
            self._conninfo,
            self._db.where,
            self._q,
            self._prepare_threshold,
            self._finish_statements,
        )

    def job_stage_due(self, now: dt.datetime, limit: int = 1000) -> int:
        params = {"now": now, "limit": limit, "channel": self._notify_channel}
        [(staged, _)] = self._run("stage_due", params)
        return int(staged)

    def job_next_due(self) -> dt.datetime | None:
        [(due,)] = self._run("next_due")
        return due  # type: ignore[no-any-return]

    def job_lost(self, server_id: str, claims: Sequence[ClaimedJob]) -> list[str]:
        keys = [int_id(claimed.id) for claimed in claims]
        known = [i for i, key in enumerate(keys) if key is not None]
        params = {
            "ids": [keys[i] for i in known],
            "attempts": [claims[i].attempt for i in known],
            "started_at": [claims[i].started_at for i in known],
            "server_id": server_id,
        }
        rows = self._run("lost", params) if known else []
        lost = {known[row[0] - 1] for row in rows}  # positions count from 1
        return [c.id for i, c in enumerate(claims) if keys[i] is None or i in lost]

    def job_held(self, server_id: str) -> list[HeldJob]:
        rows = self._run("held", {"server_id": server_id})
        return [HeldJob(str(job_id), attempt, started) for job_id, attempt, started in rows]

    def job_prune(
        self, finished_before: Mapping[JobState, dt.datetime], limit: int, now: dt.datetime
    ) -> int:
        if not finished_before or limit <= 0:
            return 0
        params = {
            "state": [state.value for state in finished_before],
            "before": list(finished_before.values()),
            "limit": limit,
            "now": now,
            "channel": self._notify_channel,
            "parent_pruned": _reasons.PARENT_PRUNED,
            "parent_outcome": _reasons.PARENT_OUTCOME,
        }
        [(pruned, _)] = self._run("prune", params)
        return int(pruned)

    # --- servers and maintenance -----------------------------------------------------

    def server_heartbeat(self, server: ServerInfo) -> None:
        asked = time.monotonic()

        def work(conn: Connection) -> None:
            # The pool may have kept it waiting for a connection: the heartbeat is as old
            # as its write, not as its call.
            written = server.heartbeat_at + dt.timedelta(seconds=time.monotonic() - asked)
            params = {
                "id": server.id,
                "hostname": server.hostname,
                "pid": server.pid,
                "queues": list(server.queues),
                "workers": server.workers,
                "started_at": server.started_at,
                "heartbeat_at": written,
                "busy": server.busy,
                "hosting": json.dumps(server.hosting.as_json()),
            }
            conn.execute(self._q["heartbeat"], params)

        self._work(work)

    def server_remove(self, server_id: str, now: dt.datetime) -> int:
        params = {
            "server_id": server_id,
            "now": now,
            "reason": _reasons.server_stopped(server_id),
            "channel": self._notify_channel,
        }
        _, [(requeued, _)] = self._atomic(("remove_server", params), ("requeue_processing", params))
        return int(requeued)

    def server_list(self) -> list[ServerInfo]:
        return [
            ServerInfo(
                id=r[0],
                hostname=r[1],
                pid=r[2],
                queues=tuple(r[3]),
                workers=r[4],
                started_at=r[5],
                heartbeat_at=r[6],
                busy=r[7],
                hosting=Hosting.from_json(r[8]),
            )
            for r in self._run("list_servers")
        ]

    def server_rescue_dead(
        self, server_id: str, heartbeat_before: dt.datetime, now: dt.datetime
    ) -> int:
        params = {
            "server_id": server_id,
            "cutoff": heartbeat_before,
            "now": now,
            "channel": self._notify_channel,
            "rescued": _reasons.RESCUED,
        }
        [(rescued, _)] = self._run("rescue_dead", params)
        return int(rescued)

    def clock_read(self) -> dt.datetime:
        [(now,)] = self._run("clock")
        return now  # type: ignore[no-any-return]

    def lease_acquire(self, name: str, holder: str, until: dt.datetime, now: dt.datetime) -> bool:
        params = {"name": name, "holder": holder, "until": until, "now": now}
        return self._count("lease", params) == 1

    def listen(self, on_change: Callable[[], None]) -> Callable[[], None]:
        """LISTEN on a connection of its own (not pooled), in a daemon thread.

        The thread reconnects with back-off when the connection drops, then calls
        ``on_change`` once for whatever it may have missed meanwhile.
        """
        if not self._notifications:
            return lambda: None
        if self._closed:
            raise RuntimeError("this storage is closed")
        listener = Listener(
            lambda: psycopg.connect(self._conninfo, autocommit=True),
            self._q["listen"],
            on_change,
        )
        with self._listeners_lock:
            self._listeners.append(listener)
        listener.start()

        def stop() -> None:
            listener.stop()
            with self._listeners_lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return stop


def _job(r: tuple[Any, ...]) -> Job:
    return Job(
        id=str(r[0]),
        name=r[1],
        queue=r[2],
        state=JobState(r[3]),
        args=_rows.decode_result(r[4]),
        kwargs=_rows.decode_result(r[5]),
        created_at=r[6],
        attempt=r[7],
        run_at=r[8],
        started_at=r[9],
        finished_at=r[10],
        result=_rows.decode_result(r[11]),
        error=_rows.decode_error(r[12]),
        history=_rows.decode_history(r[13]),
        parent_id=None if r[14] is None else str(r[14]),
        continue_on=r[15],
        server_id=r[16],
        recurring_id=r[17],
    )
