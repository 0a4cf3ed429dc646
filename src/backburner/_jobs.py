"""``@app.job``: a function that can still be called, and also enqueued, scheduled or continued."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools
import inspect
import math
import sys
from collections.abc import Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload

from ._async import in_thread
from ._context import JobContext, reset_current, set_current
from ._names import check_name
from ._redact import Formatter, normalize
from ._retry import Retry
from ._serialization import dumps, dumps_arguments, loads
from ._states import ContinueOn

if TYPE_CHECKING:
    from ._app import Backburner

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

When = dt.datetime | dt.timedelta | float
"""A delay (timedelta or seconds) or an aware datetime."""


def default_name(func: Callable[..., Any]) -> str:
    """``module.qualname``, with the module a script was started as rather than ``__main__``."""
    module = func.__module__
    if module == "__main__":
        spec = getattr(sys.modules["__main__"], "__spec__", None)
        module = spec.name if spec is not None else ""
    return f"{module}.{func.__qualname__}" if module else func.__qualname__


@dataclasses.dataclass(frozen=True)
class JobOptions:
    """How a job runs: its registered name, default queue, retry policy and timeout, and
    which of its argument values a dashboard hides (``redact``: names or a formatter)."""

    name: str
    queue: str = "default"
    retry: Retry | None = None
    timeout: float | None = None
    redact: tuple[str, ...] | Formatter | None = None

    def __post_init__(self) -> None:
        check_name(self.name, "job name")
        check_name(self.queue, f"queue name for job {self.name!r}")
        if self.timeout is not None and not _positive_seconds(self.timeout):
            raise ValueError(
                f"job {self.name!r}: timeout must be a positive, finite number of seconds "
                f"(or None), not {self.timeout!r}"
            )
        # Frozen: the names given as any iterable are kept as a sorted tuple.
        object.__setattr__(self, "redact", normalize(self.redact, f"job {self.name!r}"))


def _positive_seconds(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and value > 0


class JobFunction(Generic[P, R]):
    """A registered job. Calling it runs the function here and now, as before.

    >>> @app.job(queue="critical")
    ... def send_welcome(email: str) -> None: ...
    >>> job_id = send_welcome.enqueue("ann@example.com")
    >>> later = send_welcome.schedule(timedelta(minutes=30), "ann@example.com")
    >>> send_welcome.with_options(queue="low").enqueue("bob@example.com")
    """

    def __init__(self, app: Backburner, func: Callable[P, R], options: JobOptions) -> None:
        self.app = app
        self.func = func
        self.options = options
        self.is_async = inspect.iscoroutinefunction(func)
        functools.update_wrapper(self, func)

    @property
    def name(self) -> str:
        return self.options.name

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<job {self.name!r} queue={self.options.queue!r}>"

    def with_options(self, *, queue: str | None = None) -> JobFunction[P, R]:
        """The same job sent to another queue for the calls made through the copy."""
        # An empty queue is refused, not taken for "the job's own".
        chosen = self.options.queue if queue is None else queue
        changed = dataclasses.replace(self.options, queue=chosen)
        return JobFunction(self.app, self.func, changed)

    @overload
    def run_inline(
        self: JobFunction[P, Coroutine[Any, Any, T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> T: ...

    @overload
    def run_inline(self: JobFunction[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T: ...

    def run_inline(self, /, *args: P.args, **kwargs: P.kwargs) -> Any:
        """Run the job here and now as a server would, for tests: its arguments go through
        storage's JSON and back (an argument that cannot be stored fails here), it runs
        under a ``current_job()`` context (id ``"inline"``, attempt 1), and an ``async def``
        job is run to its end on an event loop of its own. Nothing is stored."""
        stored_args, stored_kwargs = dumps_arguments(args, kwargs, job=self.name)
        call_args, call_kwargs = loads(stored_args), loads(stored_kwargs)
        context = JobContext(id="inline", name=self.name, queue=self.options.queue, attempt=1)
        token = set_current(context)
        try:
            result: Any = self.func(*call_args, **call_kwargs)
            if inspect.iscoroutine(result):
                result = asyncio.run(result)
        finally:
            reset_current(token)
        return loads(dumps(result))

    def enqueue(self, /, *args: P.args, **kwargs: P.kwargs) -> str:
        """Store the job for a server to run as soon as possible; returns its id."""
        return self.app._client.enqueue(self.options, args, kwargs)

    def schedule(self, when: When, /, *args: P.args, **kwargs: P.kwargs) -> str:
        """Run after a delay (``timedelta`` or seconds) or at an aware ``datetime``."""
        return self.app._client.schedule(self.options, when, args, kwargs)

    def continue_with(
        self, parent_id: str, /, *args: Any, on: ContinueOn = "succeeded", **kwargs: Any
    ) -> str:
        """Run once job ``parent_id`` has succeeded (or, with ``on="finished"``, ended at all)."""
        return self.app._client.continue_with(self.options, parent_id, on, args, kwargs)

    def enqueue_many(self, calls: Iterable[tuple[Any, ...]]) -> list[str]:
        """Enqueue one job per tuple of positional arguments, all in one transaction."""
        return self.app._client.enqueue_many(self.options, calls)

    # --- the same, for async code (each runs its sync form on a thread) ----------------

    aenqueue = in_thread(enqueue)
    aschedule = in_thread(schedule)
    acontinue_with = in_thread(continue_with)
    aenqueue_many = in_thread(enqueue_many)
