"""Records as the JSON API shows them: ids as strings, times as ISO 8601 in UTC."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from .._records import Job, JobSummary, RecurringJob, ServerInfo
from ._family import Family


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def plain(value: Any) -> Any:
    """A value JSON can carry: anything else (a datetime, a UUID) as its text."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, dt.datetime):
            return iso(value)
        return str(value)
    return value


def summary(job: JobSummary) -> dict[str, Any]:
    return {
        "id": str(job.id),
        "name": job.name,
        "queue": job.queue,
        "state": job.state.value,
        "attempt": job.attempt,
        "created_at": iso(job.created_at),
        "run_at": iso(job.run_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "args": plain(job.args),
        "kwargs": plain(job.kwargs),
        "error_type": job.error_type,
        "error_message": job.error_message,
        "parent_id": job.parent_id,
        "recurring_id": job.recurring_id,
        "server_id": job.server_id,
    }


def relatives(family: Family) -> dict[str, Any]:
    """The parent (``exists`` False once it is pruned) and the continuations of a job."""
    parent = family.parent
    return {
        "parent": None
        if family.parent_id is None
        else {
            "id": family.parent_id,
            "exists": parent is not None,
            "name": None if parent is None else parent.name,
            "state": None if parent is None else parent.state.value,
        },
        "continuations": [
            {
                "id": str(child.id),
                "name": child.name,
                "queue": child.queue,
                "state": child.state.value,
                "created_at": iso(child.created_at),
                "finished_at": iso(child.finished_at),
            }
            for child in family.continuations
        ],
        "more_continuations": family.more,
    }


def job(found: Job) -> dict[str, Any]:
    return {
        "id": str(found.id),
        "name": found.name,
        "queue": found.queue,
        "state": found.state.value,
        "attempt": found.attempt,
        "created_at": iso(found.created_at),
        "run_at": iso(found.run_at),
        "started_at": iso(found.started_at),
        "finished_at": iso(found.finished_at),
        "args": plain(found.args),
        "kwargs": plain(found.kwargs),
        "result": plain(found.result),
        "error": None
        if found.error is None
        else {
            "type": found.error.type,
            "message": found.error.message,
            "traceback": found.error.traceback,
        },
        "history": [
            {"state": change.state.value, "at": iso(change.at), "reason": change.reason}
            for change in found.history
        ],
        "parent_id": found.parent_id,
        "continue_on": found.continue_on,
        "server_id": found.server_id,
        "recurring_id": found.recurring_id,
    }


def recurring(record: RecurringJob) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "cron": record.cron,
        "description": record.description,
        "timezone": record.timezone,
        "queue": record.queue,
        "args": plain(record.args),
        "kwargs": plain(record.kwargs),
        "misfire": record.misfire,
        "paused": record.paused,
        "next_run": iso(record.next_run),
        "last_run": iso(record.last_run),
        "last_job_id": record.last_job_id,
        "created_at": iso(record.created_at),
    }


def server(info: ServerInfo, stale: bool) -> dict[str, Any]:
    return {
        "id": info.id,
        "hostname": info.hostname,
        "pid": info.pid,
        "queues": list(info.queues),
        "workers": info.workers,
        "busy": info.busy,
        "started_at": iso(info.started_at),
        "heartbeat_at": iso(info.heartbeat_at),
        "stale": stale,
        "hosting": info.hosting.as_json(),
    }
