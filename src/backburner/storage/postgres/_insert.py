"""Inserting jobs: one statement for a whole batch, whatever its size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from ... import _reasons
from ..._states import JobState, continuation_start
from .._protocol import NewJob
from .._rows import int_id
from ._connections import Connection


def insert_jobs(
    conn: Connection,
    queries: Mapping[str, str],
    jobs: Sequence[NewJob],
    now: dt.datetime,
    channel: str | None,
) -> list[str]:
    """Insert ``jobs`` on ``conn`` and return their ids, in order.

    With continuations among them, ``conn`` must be in a transaction: their parents stay
    locked from reading their states until the commit.
    """
    if len(jobs) == 1 and jobs[0].parent_id is None and jobs[0].unique_key is None:
        return [_insert_one(conn, queries, jobs[0], now, channel)]
    has_parents = any(job.parent_id is not None for job in jobs)
    parents = _lock_parents(conn, queries, jobs) if has_parents else {}
    params = _params(jobs, now, parents, channel)
    ids: list[int | None] = conn.execute(queries["insert_jobs"], params).fetchall()[0][0]
    if None in ids:
        # The key was committed by another transaction after the insert began: that job is
        # visible to a new statement.
        keys = [job.unique_key for job, job_id in zip(jobs, ids, strict=True) if not job_id]
        found: dict[str, int] = dict(
            conn.execute(queries["ids_by_unique_key"], {"unique_key": keys}).fetchall()
        )
        ids = [
            job_id or found.get(job.unique_key or "") for job, job_id in zip(jobs, ids, strict=True)
        ]
        if None in ids:
            raise LookupError("a job holding the same unique key was deleted meanwhile")
    return [str(job_id) for job_id in ids]


def _insert_one(
    conn: Connection,
    queries: Mapping[str, str],
    job: NewJob,
    now: dt.datetime,
    channel: str | None,
) -> str:
    params = {
        "name": job.name,
        "queue": job.queue,
        "state": job.state.value,
        "args": job.args,
        "kwargs": job.kwargs,
        "now": now,
        "run_at": job.run_at,
        "reason": job.reason,
        "recurring_id": job.recurring_id,
        "due_at": job.due_at,
        "channel": channel,
    }
    [(job_id, _)] = conn.execute(queries["insert_job"], params).fetchall()
    return str(job_id)


def _lock_parents(
    conn: Connection, queries: Mapping[str, str], jobs: Sequence[NewJob]
) -> dict[int, JobState]:
    given = {job.parent_id: int_id(job.parent_id) for job in jobs if job.parent_id is not None}
    ids = [job_id for job_id in given.values() if job_id is not None]
    rows = conn.execute(queries["lock_parents"], {"ids": ids}).fetchall()
    states = {job_id: JobState(state) for job_id, state in rows}
    for text, job_id in given.items():
        if job_id not in states:
            raise LookupError(f"no job with id {text!r}")
    return states


def _params(
    jobs: Sequence[NewJob],
    now: dt.datetime,
    parents: Mapping[int, JobState],
    channel: str | None,
) -> dict[str, Any]:
    states: list[str] = []
    reasons: list[str | None] = []
    parent_ids: list[int | None] = []
    continue_on: list[str | None] = []
    for job in jobs:
        state, reason, on, parent_id = job.state, job.reason, job.continue_on, None
        if job.parent_id is not None:
            parent_id = int(job.parent_id)
            # Stored explicitly, so that releasing never has to guess the default.
            on = on or "succeeded"
            parent_state = parents[parent_id]
            state = continuation_start(parent_state, on)
            if state is not JobState.AWAITING:
                reason = _reasons.parent_outcome(parent_id, parent_state.value)
        states.append(state.value)
        reasons.append(reason)
        parent_ids.append(parent_id)
        continue_on.append(on)
    ready = {job.queue for job, state in zip(jobs, states, strict=True) if state == "enqueued"}
    columns: dict[str, list[Any]] = {
        "name": [job.name for job in jobs],
        "queue": [job.queue for job in jobs],
        "state": states,
        "kwargs": [job.kwargs for job in jobs],
        "run_at": [job.run_at for job in jobs],
        "reason": reasons,
        "parent_id": parent_ids,
        "continue_on": continue_on,
        "recurring_id": [job.recurring_id for job in jobs],
        "due_at": [job.due_at for job in jobs],
        "unique_key": [job.unique_key for job in jobs],
    }
    params: dict[str, Any] = {
        # Always whole: it gives the statement its number of rows.
        "args": [job.args for job in jobs],
        "now": now,
        "notify": sorted(ready),
        "channel": channel,
    }
    for column, values in columns.items():
        params[column], params[f"{column}_all"] = _shared(values)
    return params


def _shared(values: list[Any]) -> tuple[list[Any], Any]:
    """``([], value)`` when every element is ``value``, else ``(values, None)``.

    Most batches repeat one name, queue, state, kwargs and run_at, and leave the optional
    columns empty: encoding 100,000 copies of one value would cost more than the insert.
    """
    first = values[0]
    if values.count(first) == len(values):
        return [], first
    return values, None
