"""What reading jobs and servers back from storage gives you."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ._states import ContinueOn, JobState, Misfire


@dataclass(frozen=True)
class StateChange:
    """One entry of a job's history."""

    state: JobState
    at: dt.datetime
    reason: str | None = None


@dataclass(frozen=True)
class JobError:
    """Why a job's last run failed."""

    type: str
    message: str
    traceback: str


@dataclass(frozen=True)
class Job:
    """A stored job, as ``app.jobs.get(id)`` returns it."""

    id: str
    name: str
    queue: str
    state: JobState
    args: list[Any]
    kwargs: dict[str, Any]
    created_at: dt.datetime
    attempt: int
    """The run under way or last made: 1 on the first run, 0 before it has run."""
    run_at: dt.datetime | None = None
    """When a scheduled job becomes due, or when an enqueued job became ready."""
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    result: Any = None
    error: JobError | None = None
    history: list[StateChange] = field(default_factory=list)
    parent_id: str | None = None
    continue_on: ContinueOn | None = None
    server_id: str | None = None
    recurring_id: str | None = None


@dataclass(frozen=True)
class ServerInfo:
    """A running server as its heartbeats describe it."""

    id: str
    hostname: str
    pid: int
    queues: tuple[str, ...]
    workers: int
    started_at: dt.datetime
    heartbeat_at: dt.datetime


@dataclass(frozen=True)
class Stats:
    """Counts of jobs by state, and of live servers."""

    enqueued: int = 0
    scheduled: int = 0
    awaiting: int = 0
    processing: int = 0
    succeeded: int = 0
    failed: int = 0
    deleted: int = 0
    servers: int = 0

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class RecurringJob:
    """A recurring job as ``app.recurring.get(id)`` returns it."""

    id: str
    name: str
    """The registered name of the job it enqueues."""
    cron: str
    timezone: str
    queue: str
    args: list[Any]
    kwargs: dict[str, Any]
    misfire: Misfire
    paused: bool
    next_run: dt.datetime | None
    last_run: dt.datetime | None
    last_job_id: str | None
    created_at: dt.datetime
    description: str = ""
    """The schedule in words, such as "At 06:00"."""


@dataclass(frozen=True)
class JobSummary:
    """A job as a search lists it: no history, no result, no traceback."""

    id: str
    name: str
    queue: str
    state: JobState
    attempt: int
    created_at: dt.datetime
    run_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    args: list[Any]
    kwargs: dict[str, Any]
    error_type: str | None = None
    error_message: str | None = None
    parent_id: str | None = None
    recurring_id: str | None = None
    server_id: str | None = None


@dataclass(frozen=True)
class JobPage:
    """One page of a job search, newest first.

    ``next`` is the cursor of the page after this one (pass it back as ``cursor=``), or
    None on the last page. A page may hold fewer jobs than the limit, even none, while
    ``has_more`` is True: a search by name or arguments examines a bounded number of jobs
    per page.
    """

    jobs: list[JobSummary]
    next: str | None = None

    @property
    def has_more(self) -> bool:
        return self.next is not None


@dataclass(frozen=True)
class CountCell:
    """How many jobs one queue holds in one state; ``exact`` is False for an estimate."""

    count: int
    exact: bool = True

    def __int__(self) -> int:
        return self.count


@dataclass(frozen=True)
class QueueInfo:
    """A queue as ``app.queues()`` describes it."""

    name: str
    enqueued: CountCell
    processing: CountCell
    scheduled: CountCell
    oldest_waiting: dt.timedelta | None = None
    """How long the queue's oldest enqueued job has been ready to run (None when empty)."""
    pause: QueuePause | None = None
    """Set while the queue is paused: servers claim none of its jobs."""

    @property
    def paused(self) -> bool:
        """Whether servers are told to claim none of this queue's jobs."""
        return self.pause is not None


@dataclass(frozen=True)
class QueuePause:
    """A queue paused by hand (``app.queues.pause``): when, and the reason given (who)."""

    queue: str
    paused_at: dt.datetime
    reason: str


@dataclass(frozen=True)
class ThroughputCount:
    """How many jobs ended in ``state`` (succeeded or failed for good) during the hour
    that starts at ``hour`` (UTC)."""

    hour: dt.datetime
    state: JobState
    count: int
