"""The words of the reasons a job's history gives for its changes, in one place.

Storage writes them and never words its own: where a reason names a value that only the
database knows row by row (a parent's outcome releasing its continuations, a dead server's
jobs rescued), it takes the template below as a parameter and fills its ``{fields}``.
"""

from __future__ import annotations

import datetime as dt

REQUEUED = "requeued"
"""A job run again by hand (``app.jobs.requeue``)."""
DELETED = "deleted"
"""A job deleted by hand (``app.jobs.delete``)."""
QUEUE_PAUSED = "paused by hand"
"""A queue paused by hand (``app.queues.pause``), kept with the pause."""
QUEUE_RESUMED = "resumed by hand"
"""A queue resumed by hand (``app.queues.resume``), told in its ``QueueResumed`` event."""


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


PARENT_OUTCOME = "parent {parent} {state}"
"""A continuation released, or deleted, by its parent's outcome (a template storage fills)."""
PARENT_PRUNED = "parent {parent} pruned ({state})"
"""A continuation deleted because retention pruned its parent (a template storage fills)."""
RESCUED = "rescued from dead server {server}"
"""A running job requeued because its server died (a template storage fills)."""


def parent_outcome(parent_id: str | int, state: str) -> str:
    """A continuation released, or deleted, by its parent's outcome."""
    return PARENT_OUTCOME.format(parent=parent_id, state=state)


def parent_pruned(parent_id: str | int, state: str) -> str:
    """A continuation deleted because retention pruned its parent."""
    return PARENT_PRUNED.format(parent=parent_id, state=state)


def claimed_by(server_id: str) -> str:
    """A job claimed by a server to run."""
    return f"claimed by {server_id}"


def server_stopped(server_id: str) -> str:
    """A running job requeued because its server stopped without finishing it."""
    return f"server {server_id} stopped"


def released(server_id: str) -> str:
    """A job claimed ahead by a server that stopped before a worker started it."""
    return f"released unstarted by server {server_id} as it stopped"


def rescued(server_id: str) -> str:
    """A running job requeued because its server died."""
    return RESCUED.format(server=server_id)


def claim_lost(server_id: str) -> str:
    """A job put back because the reply to the claim that took it never reached its server."""
    return f"claim lost before it reached server {server_id}"
