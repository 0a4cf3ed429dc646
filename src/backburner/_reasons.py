"""The words of the reasons a job's history gives for its changes, in one place.

Reasons that the backends compose inside their SQL (a parent's outcome releasing its
continuations, a dead server's jobs rescued) are written there.
"""

from __future__ import annotations

import datetime as dt

REQUEUED = "requeued"
"""A job run again by hand (``app.jobs.requeue``)."""
DELETED = "deleted"
"""A job deleted by hand (``app.jobs.delete``)."""


def due_at(run_at: dt.datetime) -> str:
    """A job scheduled to run at ``run_at``."""
    return f"due at {run_at.isoformat(timespec='seconds')}"


def awaiting(parent_id: str, on: str) -> str:
    """A continuation waiting for its parent to have ``on`` (succeeded or finished)."""
    return f"awaiting job {parent_id} ({on})"


def recurring_due(recurring_id: str, instant: dt.datetime) -> str:
    """The run of a recurring job for one of its instants."""
    return f"recurring {recurring_id} due at {instant.isoformat()}"


def recurring_triggered(recurring_id: str) -> str:
    """A run of a recurring job triggered by hand."""
    return f"recurring {recurring_id} triggered by hand"
