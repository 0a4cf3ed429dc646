"""Running one claimed job and turning what happened into an ``Outcome`` (no storage I/O).

Whatever a job does, its run ends in an outcome: an exception that is not an
``Exception`` (``sys.exit()``, ``KeyboardInterrupt``) fails the job instead of stopping the
server, error text is made storable, and when even building the failure goes wrong the
job is failed with what can still be said.
"""

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
from .._context import JobContext, reset_current, set_current
from .._jobs import JobFunction
from .._retry import DEFAULT_RETRY
from .._states import JobState
from ..storage import ClaimedJob, Outcome
from ._threads import DaemonThreadPool, LoopHandoff

log = logging.getLogger("backburner.worker")

NO_OUTCOME = frozenset({"deleted", "claimed again"})
"""Cancellation reasons after which the run's claim is no longer this server's to finish."""


class UnknownJobError(LookupError):
    """The job's name is not registered in the app the server runs."""


class ResultNotStorableError(TypeError):
    """The job returned a value that cannot be stored."""


class JobExitError(Exception):
    """A job raised ``SystemExit``, ``KeyboardInterrupt`` or another exception that is not
    an ``Exception``: that fails the job (its retry policy applies) and the server goes on."""


def _exit_error(error: BaseException) -> JobExitError:
    name = type(error).__name__
    if isinstance(error, SystemExit):
        message = f"SystemExit({_safe_repr(error.code)}): the job called sys.exit()"
    elif isinstance(error, KeyboardInterrupt):
        message = "KeyboardInterrupt: the job raised KeyboardInterrupt"
    elif isinstance(error, asyncio.CancelledError):
        message = "CancelledError: the job raised CancelledError without being cancelled"
    else:
        message = f"{name}: the job raised {name}, which is not an Exception"
    wrapped = JobExitError(message)
    wrapped.__cause__ = error
    return wrapped


def _safe_repr(value: object) -> str:
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__}>"


def _safe_str(error: BaseException) -> str:
    try:
        return str(error)
    except Exception as failure:
        return f"<str() of this {type(error).__name__} raised {type(failure).__name__}>"


def _storable(text: str) -> str:
    # Lone surrogates (os.fsdecode() of bytes that are not UTF-8) cannot be stored as text.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def error_text(kind: str, message: str, trace: str) -> str:
    """The stored form of an error: JSON of ``{"type", "message", "traceback"}``."""
    return _serialization.dumps(
        {"type": _storable(kind), "message": _storable(message), "traceback": _storable(trace)}
    )


def _shown(error: BaseException) -> BaseException:
    # A job's exit is shown as what it raised (SystemExit ...), with the wrapper's message.
    return error.__cause__ if isinstance(error, JobExitError) and error.__cause__ else error


def error_json(error: BaseException) -> str:
    shown = _shown(error)
    kind = type(shown)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    try:
        trace = "".join(traceback.format_exception(shown))
    except Exception:
        trace = ""
    return error_text(name, _safe_str(error), trace)


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
    name = type(_shown(error)).__name__
    if retriable and retry.should_retry(error, retries_done=claimed.attempt - 1):
        run_at = now + dt.timedelta(seconds=retry.delay(claimed.attempt))
        reason = f"retry {claimed.attempt} of {retry.attempts}: {name}"
        return base(state=JobState.SCHEDULED, run_at=run_at, error=error_json(error), reason=reason)
    if not retriable:
        reason = f"{name}, not retried"
    elif claimed.attempt - 1 >= retry.attempts:
        reason = f"{name} after {claimed.attempt} attempt(s)"
    else:
        reason = f"{name} is not retried by this job's policy"
    return base(state=JobState.FAILED, error=error_json(error), reason=reason)


def last_resort_outcome(claimed: ClaimedJob, server_id: str, error: BaseException) -> Outcome:
    """A failure for good when building the job's own outcome failed with ``error``: only
    plain text, so that nothing in it can fail again."""
    message = f"the failure of this run could not be recorded in full: {type(error).__name__}"
    return Outcome(
        job_id=claimed.id,
        server_id=server_id,
        attempt=claimed.attempt,
        state=JobState.FAILED,
        at=utcnow(),
        reason=f"{type(error).__name__} while recording the failure, not retried",
        error=error_text(type(error).__name__, message, ""),
        started_at=claimed.started_at,
    )


def unstorable_outcome(outcome: Outcome, error: BaseException) -> Outcome:
    """What to record instead of ``outcome`` when the storage refused it with ``error``."""
    return Outcome(
        job_id=outcome.job_id,
        server_id=outcome.server_id,
        attempt=outcome.attempt,
        state=JobState.FAILED,
        at=outcome.at,
        reason="its outcome could not be stored, not retried",
        error=error_text(
            type(error).__name__,
            f"the outcome of this run could not be stored: {_safe_str(error)}",
            "",
        ),
        started_at=outcome.started_at,
    )


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
        """Run the job; returns its outcome (None when its claim was lost meanwhile) and, for
        a sync job that is still running in its thread, that thread's future."""
        job = self._lookup(claimed.name)
        pending: Future[Any] | None = None
        scope: asyncio.Timeout | None = None
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
                async with asyncio.timeout(job.options.timeout) as scope:
                    result = await run
            try:
                result_text = _serialization.dumps(result)
                if not result_text.isascii():
                    result_text.encode("utf-8")  # a lone surrogate cannot be stored
            except (TypeError, ValueError) as error:
                raise ResultNotStorableError(
                    f"the result of job {claimed.name!r} cannot be stored: {_safe_str(error)}"
                ) from None
        except asyncio.CancelledError as error:
            task = asyncio.current_task()
            # Only a cancellation this server asked for is an interruption; a job that
            # raises CancelledError of its own accord has failed.
            if context.is_cancelled or (task is not None and task.cancelling()):
                return self._cancelled(claimed, context), _still_running(pending)
            return self._failed(claimed, job, context, error, pending)
        except TimeoutError as error:
            if scope is None or not scope.expired():
                return self._failed(claimed, job, context, error, pending)  # the job's own
            if context.is_cancelled:  # the timeout fired because we cancelled
                return self._cancelled(claimed, context), _still_running(pending)
            context.cancel("timed out")
            limit = job.options.timeout if job is not None else None
            timeout = TimeoutError(f"job {claimed.name!r} ran past its timeout of {limit} s")
            timeout.__cause__ = error
            log.warning("job %s (%s) timed out", claimed.id, claimed.name)
            return self._failure(claimed, job, timeout), _still_running(pending)
        except BaseException as error:
            return self._failed(claimed, job, context, error, pending)
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

    def last_resort(self, claimed: ClaimedJob, error: BaseException) -> Outcome:
        """The outcome of a run whose own outcome could not be built."""
        return last_resort_outcome(claimed, self._server_id, error)

    def _failed(
        self,
        claimed: ClaimedJob,
        job: JobFunction[..., Any] | None,
        context: JobContext,
        error: BaseException,
        pending: Future[Any] | None,
    ) -> tuple[Outcome | None, Future[Any] | None]:
        if context.is_cancelled and context.cancel_reason != "timed out":
            return self._cancelled(claimed, context), _still_running(pending)
        if not isinstance(error, Exception):
            error = _exit_error(error)
            log.warning("job %s (%s): %s", claimed.id, claimed.name, error)
        else:
            log.info("job %s (%s) raised %s", claimed.id, claimed.name, _safe_repr(error))
        return self._failure(claimed, job, error), _still_running(pending)

    def _failure(
        self, claimed: ClaimedJob, job: JobFunction[..., Any] | None, error: BaseException
    ) -> Outcome:
        try:
            return failure_outcome(claimed, self._server_id, job, error, utcnow())
        except Exception as failure:
            log.exception("job %s (%s): recording its failure failed", claimed.id, claimed.name)
            return self.last_resort(claimed, failure)

    def _cancelled(self, claimed: ClaimedJob, context: JobContext) -> Outcome | None:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            task.uncancel()
        if context.cancel_reason in NO_OUTCOME:
            return None  # storage already says what became of the job
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
