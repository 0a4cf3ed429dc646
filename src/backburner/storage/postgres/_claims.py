"""What claims and outcomes send and get back, on pooled and on event-loop connections."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ... import _reasons
from .._protocol import ClaimedJob, Outcome
from .._rows import claimed_job, int_id


def claim_params(
    server_id: str, queues: Sequence[str], limit: int, now: dt.datetime
) -> dict[str, Any]:
    return {
        # A queue named twice would have its jobs locked twice over for nothing.
        "queues": list(dict.fromkeys(queues)),
        "limit": limit,
        "now": now,
        "server_id": server_id,
        "reason": _reasons.claimed_by(server_id),
    }


def claimed_jobs(rows: Sequence[tuple[Any, ...]], now: dt.datetime) -> list[ClaimedJob]:
    """The jobs a claim at ``now`` returned (``now`` is what it stored as started_at)."""
    return [claimed_job(r, r[6], now, r[8]) for r in rows]


def applied_in_order(known: Sequence[Outcome], applied_ids: Sequence[int]) -> list[str]:
    """The job ids the finish applied, in outcome order, each job once (a job named twice
    is finished by one of them)."""
    applied = set(applied_ids)
    return list(dict.fromkeys(o.job_id for o in known if int_id(o.job_id) in applied))
