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
