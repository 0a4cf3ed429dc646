"""Running one claimed job and turning what happened into an ``Outcome`` (no storage I/O)."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import traceback
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any

from .. import _serialization
from .._client import utcnow
from .._context import JobCancelled, JobContext, reset_current, set_current
from .._jobs import JobFunction
from .._retry import DEFAULT_RETRY
from .._states import JobState
from ..storage import ClaimedJob, Outcome
from ._threads import DaemonThreadPool, LoopHandoff

log = logging.getLogger("backburner.worker")


class UnknownJobError(LookupError):
    """The job's name is not registered in the app the server runs."""


class ResultNotStorableError(TypeError):
    """The job returned a value that cannot be stored."""


def error_json(error: BaseException) -> str:
    kind = type(error)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    return _serialization.dumps(
        {
            "type": name,
            "message": str(error),
            "traceback": "".join(traceback.format_exception(error)),
        }
    )


def failure_outcome(
    claimed: ClaimedJob,
    server_id: str,
    job: JobFunction[..., Any] | None,
    error: BaseException,
    now: dt.datetime,
) -> Outcome:
    """A retry when the job's policy allows one, otherwise a failure for good."""
    retry = job.options.retry if job is not None and job.options.retry else DEFAULT_RETRY
    retriable = job is not None and not isinstance(error, ResultNotStorableError)
    base = functools.partial(
        Outcome,
        job_id=claimed.id,
        server_id=server_id,
        attempt=claimed.attempt,
        at=now,
        started_at=claimed.started_at,
    )
    if retriable and retry.should_retry(error, retries_done=claimed.attempt - 1):
        run_at = now + dt.timedelta(seconds=retry.delay(claimed.attempt))
        reason = f"retry {claimed.attempt} of {retry.attempts}: {type(error).__name__}"
        return base(state=JobState.SCHEDULED, run_at=run_at, error=error_json(error), reason=reason)
    if not retriable:
        reason = f"{type(error).__name__}, not retried"
    elif claimed.attempt - 1 >= retry.attempts:
        reason = f"{type(error).__name__} after {claimed.attempt} attempt(s)"
    else:
        reason = f"{type(error).__name__} is not retried by this job's policy"
    return base(state=JobState.FAILED, error=error_json(error), reason=reason)


class Runner:
    """Runs claimed jobs: ``async def`` on the server's loop, plain ``def`` on worker threads."""

    def __init__(
        self,
        lookup: Callable[[str], JobFunction[..., Any] | None],
        server_id: str,
        threads: DaemonThreadPool,
    ) -> None:
        self._lookup = lookup
        self._server_id = server_id
        self._threads = threads
        self._handoff: LoopHandoff | None = None

    async def run(
        self, claimed: ClaimedJob, context: JobContext
    ) -> tuple[Outcome | None, Future[Any] | None]:
        """Run the job; returns its outcome (None when it was deleted meanwhile) and, for a
        sync job that is still running in its thread, that thread's future."""
        job = self._lookup(claimed.name)
        pending: Future[Any] | None = None
        try:
            if job is None:
                raise UnknownJobError(f"no job named {claimed.name!r} is registered")
            args = _serialization.loads(claimed.args)
            kwargs = {} if claimed.kwargs == "{}" else _serialization.loads(claimed.kwargs)
            run: Awaitable[Any]
            if job.is_async:
                run = self._run_async(job, args, kwargs, context)
            else:
                if self._handoff is None:
                    self._handoff = LoopHandoff(asyncio.get_running_loop())
                pending = self._threads.submit(lambda: _run_sync(job, args, kwargs, context))
                run = self._handoff.watch(pending)
            if job.options.timeout is None:
                result = await run
            else:
                async with asyncio.timeout(job.options.timeout):
                    result = await run
            try:
                result_text = _serialization.dumps(result)
            except (TypeError, ValueError) as error:
                raise ResultNotStorableError(
                    f"the result of job {claimed.name!r} cannot be stored: {error}"
                ) from None
        except asyncio.CancelledError:
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            return self._cancelled(claimed, job, context), _still_running(pending)
        except TimeoutError as error:
            if context.is_cancelled:  # the timeout fired because we cancelled
                return self._cancelled(claimed, job, context), _still_running(pending)
            context.cancel("timed out")
            limit = job.options.timeout if job is not None else None
            timeout = TimeoutError(f"job {claimed.name!r} ran past its timeout of {limit} s")
            timeout.__cause__ = error
            log.warning("job %s (%s) timed out", claimed.id, claimed.name)
            return failure_outcome(
                claimed, self._server_id, job, timeout, utcnow()
            ), _still_running(pending)
        except JobCancelled:
            return self._cancelled(claimed, job, context), None
        except Exception as error:
            if context.is_cancelled and context.cancel_reason != "timed out":
                return self._cancelled(claimed, job, context), None
            log.info("job %s (%s) raised %r", claimed.id, claimed.name, error)
            return failure_outcome(claimed, self._server_id, job, error, utcnow()), None
        return (
            Outcome(
                job_id=claimed.id,
                server_id=self._server_id,
                attempt=claimed.attempt,
                state=JobState.SUCCEEDED,
                at=utcnow(),
                result=result_text,
                started_at=claimed.started_at,
            ),
            None,
        )

    def _cancelled(
        self, claimed: ClaimedJob, job: JobFunction[..., Any] | None, context: JobContext
    ) -> Outcome | None:
        if context.cancel_reason == "deleted":
            return None  # storage already holds the deletion
        return Outcome(
            job_id=claimed.id,
            server_id=self._server_id,
            attempt=claimed.attempt,
            state=JobState.ENQUEUED,
            at=utcnow(),
            reason=f"interrupted: {context.cancel_reason or 'cancelled'}",
            started_at=claimed.started_at,
        )

    @staticmethod
    async def _run_async(
        job: JobFunction[..., Any], args: list[Any], kwargs: dict[str, Any], context: JobContext
    ) -> Any:
        token = set_current(context)
        try:
            return await job.func(*args, **kwargs)
        finally:
            reset_current(token)


def _run_sync(
    job: JobFunction[..., Any], args: list[Any], kwargs: dict[str, Any], context: JobContext
) -> Any:
    token = set_current(context)
    try:
        return job.func(*args, **kwargs)
    finally:
        reset_current(token)


def _still_running(future: Future[Any] | None) -> Future[Any] | None:
    return future if future is not None and not future.done() else None
