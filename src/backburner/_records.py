"""What reading jobs and servers back from storage gives you."""

from __future__ import annotations

import datetime as dt
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, TypeVar

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
class HostedService:
    """A service of a server. ``state``: ``running``; ``failing`` (crashed, backing off
    before its restart); ``stopped`` (ended, or leader-only on a server that does not
    lead). ``last_error``: the last crash, shortened."""

    name: str
    state: str
    leader_only: bool = False
    restarts: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class HostedPeriodic:
    """A periodic function of a server. ``schedule``: in words; ``last_outcome``:
    ``succeeded`` or ``failed`` (None before the first run ends)."""

    name: str
    schedule: str
    leader_only: bool = False
    last_run: dt.datetime | None = None
    next_run: dt.datetime | None = None
    last_outcome: str | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class HostedTaskQueue:
    """An in-process task queue a server drains: tasks waiting (``size``) and running
    (``busy``), and what became of those taken since the process started."""

    name: str
    size: int
    capacity: int
    busy: int
    concurrency: int
    processed: int = 0
    failed: int = 0
    dropped: int = 0


@dataclass(frozen=True)
class HostedConsumer:
    """A RabbitMQ consumer of a server, counted since its process started."""

    queue: str
    connected: bool
    in_flight: int = 0
    processed: int = 0
    failed: int = 0
    dead_lettered: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class Hosting:
    """What a server runs besides its jobs, as its last heartbeat told: a snapshot.

    ``leader``: it held the leader lease (runs the leader-only services). Stored as JSON
    (``as_json``, ``from_json``); reading is lenient, so that servers of another version
    in the same fleet never break a listing: what it does not know it leaves out.
    """

    services: tuple[HostedService, ...] = ()
    periodic: tuple[HostedPeriodic, ...] = ()
    task_queues: tuple[HostedTaskQueue, ...] = ()
    consumers: tuple[HostedConsumer, ...] = ()
    leader: bool = False

    def as_json(self) -> dict[str, Any]:
        """Plain JSON values: times as ISO 8601 text."""
        return {
            "services": [_item_json(item) for item in self.services],
            "periodic": [_item_json(item) for item in self.periodic],
            "task_queues": [_item_json(item) for item in self.task_queues],
            "consumers": [_item_json(item) for item in self.consumers],
            "leader": self.leader,
        }

    @classmethod
    def from_json(cls, data: object) -> Hosting:
        """What ``as_json`` made; items that do not read are skipped, unknown keys ignored."""
        if not isinstance(data, dict):
            return cls()
        return cls(
            services=_items(data.get("services"), HostedService),
            periodic=_items(data.get("periodic"), HostedPeriodic),
            task_queues=_items(data.get("task_queues"), HostedTaskQueue),
            consumers=_items(data.get("consumers"), HostedConsumer),
            leader=data.get("leader") is True,
        )


def _item_json(item: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(item):  # type: ignore[arg-type]
        value = getattr(item, f.name)
        out[f.name] = value.isoformat() if isinstance(value, dt.datetime) else value
    return out


def _read_value(kind: str, value: object) -> tuple[bool, object]:
    """``(read, value)`` for a field annotated ``kind`` (the annotation's text)."""
    if value is None:
        return kind.endswith("| None"), None
    base = kind.removesuffix(" | None")
    if base == "str":
        return isinstance(value, str), value
    if base == "bool":
        return isinstance(value, bool), value
    if base == "int":
        return isinstance(value, int) and not isinstance(value, bool), value
    if base == "dt.datetime" and isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return False, None
        return moment.tzinfo is not None, moment
    return False, None


_Item = TypeVar("_Item")


def _items(data: object, kind: type[_Item]) -> tuple[_Item, ...]:
    if not isinstance(data, list):
        return ()
    found: list[_Item] = []
    for entry in data:
        if not isinstance(entry, dict):
            continue
        values: dict[str, object] = {}
        for f in fields(kind):  # type: ignore[arg-type]
            if f.name not in entry:
                if f.default is MISSING:
                    break
                continue
            read, value = _read_value(str(f.type), entry[f.name])
            if not read:
                break
            values[f.name] = value
        else:
            found.append(kind(**values))
    return tuple(found)


@dataclass(frozen=True)
class ServerInfo:
    """A running server as its heartbeats describe it: ``busy`` of its ``workers`` were
    running a job, and ``hosting`` what else it ran, at its last heartbeat."""

    id: str
    hostname: str
    pid: int
    queues: tuple[str, ...]
    workers: int
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    busy: int = 0
    hosting: Hosting = field(default_factory=Hosting)


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

    def as_dict(self) -> dict[str, Any]:
        """As JSON shows it (``api/queues``, ``backburner queues --json``): counts as
        numbers, ``exact`` when all three are, times in UTC ISO 8601."""
        pause = self.pause
        return {
            "name": self.name,
            "enqueued": self.enqueued.count,
            "processing": self.processing.count,
            "scheduled": self.scheduled.count,
            "exact": self.enqueued.exact and self.processing.exact and self.scheduled.exact,
            "oldest_waiting_seconds": None
            if self.oldest_waiting is None
            else self.oldest_waiting.total_seconds(),
            "paused": pause is not None,
            "paused_at": None if pause is None else pause.paused_at.astimezone(dt.UTC).isoformat(),
            "pause_reason": None if pause is None else pause.reason,
        }


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
