"""The events of a server's runs, built only when someone subscribes to them."""

from __future__ import annotations

import json
from collections.abc import MutableMapping, Sequence

from .._events import EventHub, JobFailed, JobStarted, JobSucceeded
from .._states import JobState
from ..storage import ClaimedJob, Outcome


def started_event(claimed: ClaimedJob, server_id: str) -> JobStarted:
    """A claim's start; how long it waited past an instant it was due at, and in its queue."""
    waited = queued = None
    if claimed.due_at is not None and claimed.started_at is not None:
        waited = max((claimed.started_at - claimed.due_at).total_seconds(), 0.0)
    if claimed.ready_at is not None and claimed.started_at is not None:
        queued = max((claimed.started_at - claimed.ready_at).total_seconds(), 0.0)
    return JobStarted(
        claimed.id, claimed.name, claimed.queue, claimed.attempt, server_id, waited, queued
    )


def emit_outcomes(
    events: EventHub,
    outcomes: Sequence[Outcome],
    applied: Sequence[str],
    names: MutableMapping[tuple[str, int], tuple[str, str]],
) -> None:
    """Emit the success or failure of each outcome storage applied. ``names`` holds the
    name and queue of each run started while someone listened; each recorded outcome's
    entry is dropped, applied or not (one refused is no longer this server's)."""
    done = set(applied)
    for outcome in outcomes:
        known = names.pop((outcome.job_id, outcome.attempt), None)
        if known is None or outcome.job_id not in done:
            continue
        name, queue = known
        duration = 0.0
        if outcome.started_at is not None:
            duration = max((outcome.at - outcome.started_at).total_seconds(), 0.0)
        if outcome.state is JobState.SUCCEEDED:
            events.emit(
                JobSucceeded(
                    outcome.job_id, name, queue, outcome.attempt, outcome.server_id, duration
                )
            )
        elif outcome.state in (JobState.SCHEDULED, JobState.FAILED):
            events.emit(
                JobFailed(
                    outcome.job_id,
                    name,
                    queue,
                    outcome.attempt,
                    outcome.server_id,
                    duration,
                    _error_type(outcome.error),
                    will_retry=outcome.state is JobState.SCHEDULED,
                    retry_at=outcome.run_at if outcome.state is JobState.SCHEDULED else None,
                )
            )


def _error_type(error: str | None) -> str:
    try:
        found = json.loads(error or "{}").get("type")
    except (ValueError, AttributeError):
        found = None
    return found if isinstance(found, str) else "Error"
