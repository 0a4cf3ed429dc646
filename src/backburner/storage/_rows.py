"""Turning stored rows into records; shared by the backends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from .. import _serialization
from .._records import JobError, StateChange
from .._states import JobState
from ._protocol import ClaimedJob

UTC = dt.UTC

_ID_MAX = 2**63 - 1  # ids are 64-bit integers in every backend


def int_id(job_id: str) -> int | None:
    """The integer a job id stands for, or None if no stored job can have it.

    Only plain ASCII digits name a job: ``int()`` would also take "1_0", " 1", "+1" and
    digits of other scripts ("\u0661"), so that several ids would find one job.
    """
    if not (job_id.isascii() and job_id.isdigit()) or len(job_id) > 19:
        return None
    value = int(job_id)
    return value if 0 < value <= _ID_MAX else None


def history_entry(state: JobState, at: dt.datetime, reason: str | None) -> list[Any]:
    """The JSON shape of one history entry: [state, epoch seconds, reason]."""
    return [state.value, at.timestamp(), reason]


def decode_history(entries: list[list[Any]]) -> list[StateChange]:
    return [
        StateChange(JobState(state), dt.datetime.fromtimestamp(at, UTC), reason)
        for state, at, reason in entries
    ]


def decode_error(text: str | None) -> JobError | None:
    if text is None:
        return None
    data = _serialization.loads(text)
    return JobError(type=data["type"], message=data["message"], traceback=data["traceback"])


def decode_result(text: str | None) -> Any:
    return None if text is None else _serialization.loads(text)


def claimed_job(
    row: Sequence[Any],
    due_at: dt.datetime | None,
    started_at: dt.datetime,
    ready_at: dt.datetime | None = None,
) -> ClaimedJob:
    """A claim's row: id, name, queue, args, kwargs, attempt, due_at (as stored; the
    caller converts it and run_at, as ``ready_at``), recurring_id."""
    return ClaimedJob(
        id=str(row[0]),
        name=row[1],
        queue=row[2],
        args=row[3],
        kwargs=row[4],
        attempt=row[5],
        due_at=due_at,
        recurring_id=row[7],
        started_at=started_at,
        ready_at=ready_at,
    )
