"""``app.jobs``: reading, waiting for, requeueing and deleting stored jobs."""

from __future__ import annotations

import asyncio
import builtins
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from . import _reasons, _serialization
from ._async import in_thread
from ._engine import Engine
from ._names import storable
from ._records import CountCell, Job, JobPage, JobSummary
from ._states import FINAL_STATES, JobState
from .storage import CountQuery, JobQuery, NamesQuery
from .storage._protocol import MAX_PAGE

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

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        return self._engine.job_get(str(job_id))

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
        return self._engine.job_list(
            None if state is None else JobState(state), queue, limit, offset
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

    async def await_finished(self, job_id: str, timeout: float | None = None) -> Job:
        """The async form of ``wait``: polls without holding a thread."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.005
        while True:
            job = await self.aget(job_id)
            if job is None:
                raise LookupError(f"no job with id {job_id!r}")
            if job.state in FINAL_STATES:
                return job
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(
                    f"job {job_id} is still {job.state.value} after {timeout} seconds"
                )
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 0.1)

    def requeue(self, job_id: str, *, reason: str = _reasons.REQUEUED) -> bool:
        """Run a finished (or scheduled) job again now. False when it is not in such a state.

        ``reason`` is recorded in the job's history (say who asked, e.g. a dashboard user).
        """
        return self._engine.job_requeue(str(job_id), reason)

    def delete(self, job_id: str, *, reason: str = _reasons.DELETED) -> bool:
        """Delete a job; a running one is asked to stop. False for unknown or deleted jobs."""
        return self._engine.job_delete(str(job_id), reason)

    # --- many jobs at once (dashboards) ------------------------------------------------

    def search(
        self,
        *,
        state: JobState | str | Iterable[JobState | str] | None = None,
        queue: str | Iterable[str] | None = None,
        name: str | Iterable[str] | None = None,
        ids: str | Iterable[str] | None = None,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> JobPage:
        """Summaries of the jobs matching every filter given, newest first, a page at a time.

        ``state``, ``queue`` and ``name`` take one value or several (any may match); a name
        ending in ``*`` is a prefix. ``args`` lists values that must all be among the
        positional arguments, ``kwargs`` keyword arguments that must all be there (nested
        lists and dicts match when contained, as with PostgreSQL's ``jsonb @>``). Pass
        ``page.next`` as ``cursor`` for the next page; jobs enqueued meanwhile never shift
        the pages. A page may be short, even empty, with ``has_more`` True: a search by
        name or arguments examines a bounded number of jobs per page.

        >>> page = app.jobs.search(state="failed", name="emails.*", kwargs={"user_id": 42})
        >>> [(job.id, job.error_type) for job in page.jobs]
        [('118', 'SMTPError')]
        >>> more = app.jobs.search(state="failed", cursor=page.next) if page.has_more else None
        """
        query = self._query(state, queue, name, ids, args, kwargs, limit, cursor)
        return self._engine.job_search(query)

    def requeue_many(
        self,
        *,
        state: JobState | str | Iterable[JobState | str] | None = None,
        queue: str | Iterable[str] | None = None,
        name: str | Iterable[str] | None = None,
        ids: str | Iterable[str] | None = None,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        limit: int = MAX_PAGE,
        reason: str = _reasons.REQUEUED,
    ) -> int:
        """Run again now up to ``limit`` (at most 1,000) matching jobs that are finished or
        scheduled, newest first; how many were. Filters as in ``search``; call again
        until it returns 0 to requeue them all.

        >>> app.jobs.requeue_many(state="failed", queue="emails")
        12
        """
        query = self._query(state, queue, name, ids, args, kwargs, limit, None)
        return self._engine.job_requeue_many(query, reason)

    def delete_many(
        self,
        *,
        state: JobState | str | Iterable[JobState | str] | None = None,
        queue: str | Iterable[str] | None = None,
        name: str | Iterable[str] | None = None,
        ids: str | Iterable[str] | None = None,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        limit: int = MAX_PAGE,
        reason: str = _reasons.DELETED,
    ) -> int:
        """Delete up to ``limit`` (at most 1,000) matching jobs, newest first; how many were.

        As ``delete``: running jobs are asked to stop, awaiting continuations are released
        or deleted. Filters as in ``search``; call again until it returns 0.

        >>> app.jobs.delete_many(ids=["17", "18"])
        2
        """
        query = self._query(state, queue, name, ids, args, kwargs, limit, None)
        return self._engine.job_delete_many(query, reason)

    def continuations(self, job_id: str, limit: int = 100) -> builtins.list[JobSummary]:
        """Summaries of the jobs that continue job ``job_id`` (``continue_with``), in any
        state, oldest first, at most ``limit`` (1 to 1,000).

        >>> [(child.name, child.state) for child in app.jobs.continuations(job_id)]
        [('emails.receipt', <JobState.AWAITING: 'awaiting'>)]
        """
        _check_count("limit", limit, MAX_PAGE)
        if limit < 1:
            raise ValueError(f"limit must be from 1 to {MAX_PAGE}, not {limit}")
        return self._engine.job_continuations(str(job_id), limit)

    def counts(
        self,
        *,
        state: JobState | str | Iterable[JobState | str] | None = None,
        queue: str | Iterable[str] | None = None,
        threshold: int = 10_000,
    ) -> Mapping[tuple[str, JobState], CountCell]:
        """Jobs per (queue, state) for the cells that hold any: exact up to ``threshold``,
        estimated above it (``exact`` False), so the call stays cheap on a big table.

        >>> app.jobs.counts(queue="emails")[("emails", JobState.SUCCEEDED)]
        CountCell(count=1204332, exact=False)
        """
        query = CountQuery(
            states=_states(state), queues=_strings(queue, "queue"), threshold=threshold
        )
        return self._engine.job_count_cells(query)

    def names(self, prefix: str = "", limit: int = 1000) -> builtins.list[str]:
        """Names of recent jobs starting with ``prefix``, sorted (for filters).

        >>> app.jobs.names("emails.")
        ['emails.digest', 'emails.welcome']
        """
        return self._engine.job_names(NamesQuery(prefix=prefix, limit=limit))

    # --- the same, for async code ----------------------------------------------------

    aget = in_thread(get)
    alist = in_thread(list)
    arequeue = in_thread(requeue)
    adelete = in_thread(delete)
    asearch = in_thread(search)
    arequeue_many = in_thread(requeue_many)
    adelete_many = in_thread(delete_many)
    acounts = in_thread(counts)
    acontinuations = in_thread(continuations)

    @staticmethod
    def _query(
        state: JobState | str | Iterable[JobState | str] | None,
        queue: str | Iterable[str] | None,
        name: str | Iterable[str] | None,
        ids: str | Iterable[str] | None,
        args: Sequence[Any] | None,
        kwargs: Mapping[str, Any] | None,
        limit: int,
        cursor: str | None,
    ) -> JobQuery:
        if args is not None and (isinstance(args, str | bytes) or not isinstance(args, Sequence)):
            raise TypeError(f"args= takes a list of argument values, not {args!r}")
        if kwargs is not None and not isinstance(kwargs, Mapping):
            raise TypeError(f"kwargs= takes a dict of keyword arguments, not {kwargs!r}")
        return JobQuery(
            states=_states(state),
            queues=_strings(queue, "queue"),
            names=_strings(name, "name"),
            # One id as a string is that job, not the jobs its digits name.
            ids=(ids,) if isinstance(ids, str) else tuple(str(i) for i in ids or ()),
            args=None if args is None else _serialization.dumps(list(args)),
            kwargs=None if kwargs is None else _serialization.dumps(dict(kwargs)),
            limit=limit,
            cursor=cursor,
        )


def _states(state: JobState | str | Iterable[JobState | str] | None) -> tuple[JobState, ...]:
    values = [] if state is None else [state] if isinstance(state, str) else list(state)
    try:
        return tuple(JobState(value) for value in values)
    except ValueError:
        known = ", ".join(s.value for s in JobState)
        raise ValueError(f"unknown state in {state!r}: states are {known}") from None


def _strings(value: str | Iterable[str] | None, what: str) -> tuple[str, ...]:
    values = () if value is None else (value,) if isinstance(value, str) else tuple(value)
    for item in values:
        if not isinstance(item, str):
            raise TypeError(f"{what}= takes names (strings), not {item!r}")
    return values
