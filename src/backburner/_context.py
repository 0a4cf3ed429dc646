"""The running job's context: who it is, and whether it has been asked to stop."""

from __future__ import annotations

import contextvars
import datetime as dt
import threading
from dataclasses import dataclass, field


class JobCancelled(Exception):
    """Raised by ``JobContext.raise_if_cancelled()`` in a job that was asked to stop."""


@dataclass
class JobContext:
    """What a running job can know about itself; ``current_job()`` returns it.

    ``cancelled`` is set when the job is deleted while running, when it runs past its
    timeout, or when its server shuts down. An ``async def`` job is also cancelled at its
    next ``await``; a plain ``def`` job runs in a thread that Python cannot interrupt, so it
    should check ``is_cancelled`` (or call ``raise_if_cancelled()``) in its long loops.
    """

    id: str
    name: str
    queue: str
    attempt: int
    due_at: dt.datetime | None = None
    recurring_id: str | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)
    cancel_reason: str | None = None

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled.is_set()

    def cancel(self, reason: str) -> None:
        if not self.cancelled.is_set():
            self.cancel_reason = reason
            self.cancelled.set()

    def raise_if_cancelled(self) -> None:
        """Stop a sync job cleanly at a point of its choosing once it has been asked to."""
        if self.cancelled.is_set():
            raise JobCancelled(self.cancel_reason or "cancelled")


_current: contextvars.ContextVar[JobContext | None] = contextvars.ContextVar(
    "backburner_current_job", default=None
)


def current_job() -> JobContext:
    """The context of the job running in this thread or task.

    >>> def long_export(rows: int) -> None:
    ...     for row in range(rows):
    ...         current_job().raise_if_cancelled()

    Raises ``RuntimeError`` outside a running job (for example when the function is
    called directly rather than by a server).
    """
    context = _current.get()
    if context is None:
        raise RuntimeError("current_job() is only available inside a job run by a server")
    return context


def set_current(context: JobContext | None) -> contextvars.Token[JobContext | None]:
    return _current.set(context)


def reset_current(token: contextvars.Token[JobContext | None]) -> None:
    _current.reset(token)


def current_job_or_none() -> JobContext | None:
    """The running job's context, or None outside a job."""
    return _current.get()


_current_service: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "backburner_current_service", default=None
)


def set_current_service(name: str) -> None:
    """Name the service that this task or thread runs (for its log records)."""
    _current_service.set(name)


def current_service() -> str | None:
    """The name of the service running in this task or thread, or None."""
    return _current_service.get()
