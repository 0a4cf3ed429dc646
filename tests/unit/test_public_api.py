"""``backburner.__all__`` is the public API: exactly these names, each importable and documented."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import backburner

API_PAGE = Path(__file__).parents[2] / "docs" / "api.md"

PUBLIC = [
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


def test_all_is_the_exact_sorted_list_of_public_names() -> None:
    assert backburner.__all__ == PUBLIC
    assert backburner.__all__ == sorted(backburner.__all__)


def test_every_public_name_is_importable_and_has_a_docstring() -> None:
    for name in backburner.__all__:
        value = getattr(backburner, name)
        assert inspect.getdoc(value), f"backburner.{name} has no docstring"


def test_every_public_name_is_on_the_api_page() -> None:
    listed = set(re.findall(r"^\| `(\w+)`", API_PAGE.read_text(), flags=re.MULTILINE))
    assert listed == set(backburner.__all__)


def test_no_other_public_name_is_exported() -> None:
    exported = {n for n in vars(backburner) if not n.startswith("_")} - {"annotations"}
    modules = {n for n in exported if inspect.ismodule(getattr(backburner, n))}
    assert exported - modules == set(backburner.__all__)
