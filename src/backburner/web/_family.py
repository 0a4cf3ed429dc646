"""A job's parent and continuations, as its page and ``api/jobs/{id}`` show them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._records import Job, JobSummary

if TYPE_CHECKING:
    from .._app import Backburner

MOST_CONTINUATIONS = 100
"""Continuations one job page lists (the rest are counted as "more")."""


@dataclass(frozen=True)
class Family:
    """``parent`` is None when the job has none or it is no longer stored (pruned);
    ``continuations`` are the first ``MOST_CONTINUATIONS``, oldest first."""

    parent_id: str | None
    parent: Job | None
    continuations: list[JobSummary]
    more: bool


def family(app: Backburner, job: Job) -> Family:
    """One primary-key read for the parent, one index range for the children."""
    parent = None if job.parent_id is None else app.jobs.get(job.parent_id)
    children = app.jobs.continuations(job.id, limit=MOST_CONTINUATIONS + 1)
    return Family(
        job.parent_id,
        parent,
        children[:MOST_CONTINUATIONS],
        len(children) > MOST_CONTINUATIONS,
    )
