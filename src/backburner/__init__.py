"""Backburner: durable background jobs for Python.

>>> from backburner import Backburner
>>> app = Backburner("sqlite:///jobs.db")
>>> @app.job
... def send_email(to: str) -> None: ...
>>> send_email.enqueue("ann@example.com")
'1'
"""

from ._app import Backburner
from ._context import JobCancelled, JobContext, current_job
from ._cron import Cron
from ._events import (
    Event,
    EventHub,
    JobDeleted,
    JobEnqueued,
    JobFailed,
    JobRequeued,
    JobStarted,
    JobSucceeded,
    QueuePaused,
    QueueResumed,
    RecurringEnqueued,
    ServerStarted,
    ServerStopped,
)
from ._jobs import JobFunction
from ._logging import JsonFormatter, LogContext
from ._records import (
    CountCell,
    HostedConsumer,
    HostedPeriodic,
    HostedService,
    HostedTaskQueue,
    Hosting,
    Job,
    JobError,
    JobPage,
    JobSummary,
    QueueInfo,
    QueuePause,
    RecurringJob,
    ServerInfo,
    StateChange,
    Stats,
)
from ._retry import Retry
from ._settings import Settings, SettingsError
from ._states import JobState
from .server._taskqueue import QueueFull, QueueStopped, TaskQueue
from .storage._url import StorageError

__all__ = [
    "Backburner",
    "CountCell",
    "Cron",
    "Event",
    "EventHub",
    "HostedConsumer",
    "HostedPeriodic",
    "HostedService",
    "HostedTaskQueue",
    "Hosting",
    "Job",
    "JobCancelled",
    "JobContext",
    "JobDeleted",
    "JobEnqueued",
    "JobError",
    "JobFailed",
    "JobFunction",
    "JobPage",
    "JobRequeued",
    "JobStarted",
    "JobState",
    "JobSucceeded",
    "JobSummary",
    "JsonFormatter",
    "LogContext",
    "QueueFull",
    "QueueInfo",
    "QueuePause",
    "QueuePaused",
    "QueueResumed",
    "QueueStopped",
    "RecurringEnqueued",
    "RecurringJob",
    "Retry",
    "ServerInfo",
    "ServerStarted",
    "ServerStopped",
    "Settings",
    "SettingsError",
    "StateChange",
    "Stats",
    "StorageError",
    "TaskQueue",
    "current_job",
]
