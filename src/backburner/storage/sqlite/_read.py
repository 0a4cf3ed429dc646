"""The read-model verbs of the SQLite backend (queries in read.sql), on a given connection."""

from __future__ import annotations

import datetime as dt
import heapq
import json
import sqlite3
from collections.abc import Mapping

from ..._records import CountCell, JobPage, JobSummary
from ..._states import JobState, can_delete, can_requeue
from .._protocol import BulkAction, CountQuery, JobQuery, NamesQuery
from .._read import (
    ALL_STATES,
    arguments_match,
    bulk_pick,
    candidate_path,
    cut_page,
    decode_cursor,
    name_matches,
    query_ids,
    query_states,
    scan_size,
    split_names,
    summary,
)
from .._sql import load_queries

Q = load_queries(__package__ or "backburner.storage.sqlite", "read.sql")
UTC = dt.UTC
# Above its threshold a cell is estimated from this many windows of its ids, together
# covering this share of the table's id range.
_WINDOWS = 20
_SAMPLED = 0.01


def _dt(value: float | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromtimestamp(value, UTC)


def _cells(conn: sqlite3.Connection, states: list[str], prefix: str = "") -> list[tuple[str, str]]:
    return [(s, q) for s, q in conn.execute(Q["cells"], (json.dumps(states), prefix))]


def _candidates(conn: sqlite3.Connection, query: JobQuery, scan: int) -> list[int]:
    before = decode_cursor(query.cursor)
    path = candidate_path(query)
    if path == "ids":
        params: tuple[object, ...] = (
            json.dumps(query_ids(query)),
            before,
            json.dumps(query_states(query)),
            json.dumps(list(query.queues)),
            scan,
        )
        return [i for (i,) in conn.execute(Q["given_ids"], params)]
    if path == "all":
        return [i for (i,) in conn.execute(Q["all_ids"], (before, scan))]
    states = query_states(query)
    given = [(s, q) for s in states for q in query.queues]
    cells = given or _cells(conn, states)
    lists = [
        [i for (i,) in conn.execute(Q["cell_ids"], (state, queue, before, scan))]
        for state, queue in cells
    ]
    merged = heapq.merge(*lists, reverse=True)
    return [i for _, i in zip(range(scan), merged, strict=False)]


def search(
    conn: sqlite3.Connection, query: JobQuery, allowed: frozenset[JobState] = frozenset()
) -> JobPage:
    """A page; ``allowed`` states (when given) are one more residual filter."""
    scan = scan_size(query, allowed)
    candidates = _candidates(conn, query, scan)
    exact, prefixes = split_names(query.names)
    states = {s.value for s in allowed}
    jobs: list[JobSummary] = []
    rows = conn.execute(Q["summaries"], (json.dumps(candidates),)) if candidates else []
    for r in rows:
        if (
            (not states or r[3] in states)
            and name_matches(r[1], exact, prefixes)
            and arguments_match(r[9], r[10], query)
        ):
            jobs.append(_summary(r))
            if len(jobs) > query.limit:
                break
    return cut_page(
        jobs, len(candidates), candidates[-1] if candidates else None, query.limit, scan
    )


def continuations(conn: sqlite3.Connection, parent_id: int, limit: int) -> list[JobSummary]:
    return [_summary(r) for r in conn.execute(Q["continuations"], (parent_id, limit))]


def _summary(r: tuple[object, ...]) -> JobSummary:
    return summary(
        id=r[0],  # type: ignore[arg-type]
        name=r[1],  # type: ignore[arg-type]
        queue=r[2],  # type: ignore[arg-type]
        state=r[3],  # type: ignore[arg-type]
        attempt=r[4],  # type: ignore[arg-type]
        created_at=_dt(r[5]),  # type: ignore[arg-type]
        run_at=_dt(r[6]),  # type: ignore[arg-type]
        started_at=_dt(r[7]),  # type: ignore[arg-type]
        finished_at=_dt(r[8]),  # type: ignore[arg-type]
        args=r[9],  # type: ignore[arg-type]
        kwargs=r[10],  # type: ignore[arg-type]
        error=r[11],  # type: ignore[arg-type]
        parent_id=r[12],  # type: ignore[arg-type]
        recurring_id=r[13],  # type: ignore[arg-type]
        server_id=r[14],  # type: ignore[arg-type]
    )


def count_cells(
    conn: sqlite3.Connection, query: CountQuery
) -> Mapping[tuple[str, JobState], CountCell]:
    states = [s.value for s in query.states or ALL_STATES]
    cells = {}
    for state, queue in _cells(conn, states):
        if query.queues and queue not in query.queues:
            continue
        counted = conn.execute(Q["cell_count"], (state, queue, query.threshold + 1)).fetchone()[0]
        if counted <= query.threshold:
            cells[(queue, JobState(state))] = CountCell(counted)
        else:
            guess = max(counted, _estimate(conn, state, queue))
            cells[(queue, JobState(state))] = CountCell(guess, exact=False)
    return cells


def _estimate(conn: sqlite3.Connection, state: str, queue: str) -> int:
    """The cell's size from evenly spaced windows of ids (ids grow with every insert)."""
    low, high = conn.execute(Q["id_span"]).fetchone()
    span: int = high - low + 1
    width = max(1, int(span * _SAMPLED / _WINDOWS))
    step = span / _WINDOWS
    found = 0
    for k in range(_WINDOWS):
        start = low + int(k * step)
        window = (state, queue, start, start + width)
        found += int(conn.execute(Q["cell_count_between"], window).fetchone()[0])
    return round(found * span / (width * _WINDOWS))


def queue_names(conn: sqlite3.Connection, query: NamesQuery) -> list[str]:
    names = {queue for _, queue in _cells(conn, [s.value for s in ALL_STATES], query.prefix)}
    return sorted(names)[: query.limit]


def job_names(conn: sqlite3.Connection, query: NamesQuery) -> list[str]:
    names = set()
    for state, queue in _cells(conn, [s.value for s in ALL_STATES]):
        for (name,) in conn.execute(Q["recent_names"], (state, queue, query.sample)):
            if name.startswith(query.prefix):
                names.add(name)
    return sorted(names)[: query.limit]


def queue_oldest_enqueued(conn: sqlite3.Connection) -> Mapping[str, dt.datetime]:
    return {
        name: dt.datetime.fromtimestamp(at, UTC)
        for name, at in conn.execute(Q["queue_oldest_enqueued"])
    }


def _bulk_ids(conn: sqlite3.Connection, action: BulkAction, allowed: frozenset[JobState]) -> str:
    """JSON array of the ids a bulk action picks: matching jobs in ``allowed`` states."""
    return json.dumps(bulk_pick(lambda q, a: search(conn, q, a), action, allowed))


def requeue_many(conn: sqlite3.Connection, action: BulkAction) -> int:
    ids = _bulk_ids(conn, action, _REQUEUEABLE)
    now = action.now.timestamp()
    requeued: int = conn.execute(Q["requeue_ids"], (now, action.reason, ids)).rowcount
    return requeued


def delete_many(conn: sqlite3.Connection, action: BulkAction) -> list[int]:
    """Marks the jobs deleted; returns their ids, whose continuations the caller releases."""
    ids = _bulk_ids(conn, action, _DELETABLE)
    now = action.now.timestamp()
    return [i for (i,) in conn.execute(Q["delete_ids"], (now, action.reason, ids)).fetchall()]


_REQUEUEABLE = frozenset(s for s in JobState if can_requeue(s))
_DELETABLE = frozenset(s for s in JobState if can_delete(s))
