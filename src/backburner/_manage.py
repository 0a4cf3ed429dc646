"""``app.jobs``: reading, waiting for, requeueing and deleting stored jobs."""

from __future__ import annotations

import time
from collections.abc import Callable

from ._client import utcnow
from ._names import storable
from ._records import Job
from ._states import FINAL_STATES, JobState
from .storage import Storage

MAX_PAGE_SIZE = 10_000
"""``app.jobs.list()`` returns at most this many jobs at a time; page with ``offset``."""

_STATES = {state.value: state for state in JobState}
_OFFSET_MAX = 2**63 - 1  # a 64-bit integer in every backend


def _check_count(what: str, value: object, most: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int, not {type(value).__name__} ({value!r:.40})")
    if not 0 <= value <= most:
        raise ValueError(f"{what} must be from 0 to {most}, not {value}")


class JobManager:
    """Look up and act on jobs by id.

    >>> job = app.jobs.wait(job_id, timeout=10)
    >>> job.state, job.result
    (<JobState.SUCCEEDED: 'succeeded'>, {'width': 400})
    """

    def __init__(self, storage: Callable[[], Storage], on_requeue: Callable[[str], None]) -> None:
        self._storage = storage
        self._on_requeue = on_requeue

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        return self._storage().job_get(str(job_id))

    def list(
        self,
        state: JobState | str | None = None,
        queue: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Job]:
        """Jobs newest first, optionally only those in one state and queue."""
        _check_count("limit", limit, MAX_PAGE_SIZE)
        _check_count("offset", offset, _OFFSET_MAX)
        if state is not None and state not in _STATES:
            raise ValueError(f"state= takes one of {', '.join(_STATES)}, not {state!r:.40}")
        if queue is not None and not storable(queue):
            return []
        return self._storage().job_list(
            state=None if state is None else JobState(state),
            queue=queue,
            limit=limit,
            offset=offset,
        )

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Block until the job has succeeded, failed for good or been deleted.

        Raises ``TimeoutError`` after ``timeout`` seconds, ``LookupError`` for an unknown id.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.005
        while True:
            job = self.get(job_id)
            if job is None:
                raise LookupError(f"no job with id {job_id!r}")
            if job.state in FINAL_STATES:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(
                    f"job {job_id} is still {job.state.value} after {timeout} seconds"
                )
            time.sleep(pause)
            pause = min(pause * 1.5, 0.1)

    def requeue(self, job_id: str) -> bool:
        """Run a finished (or scheduled) job again now. False when it is not in such a state."""
        job = self.get(job_id)
        if job is None:
            return False
        done = self._storage().job_requeue(str(job_id), utcnow(), "requeued")
        if done:
            self._on_requeue(job.queue)
        return done

    def delete(self, job_id: str) -> bool:
        """Delete a job; a running one is asked to stop. False for unknown or deleted jobs."""
        return self._storage().job_delete(str(job_id), utcnow(), "deleted")
