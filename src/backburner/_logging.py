"""Logs: structured fields on every record, JSON lines, and a line per job start and end.

``LogContext`` is a ``logging.Filter`` that adds the running job (``job_id``, ``job_name``,
``queue``, ``attempt``) and the running service (``service``) to every record logged in
it, the job's own logging included. ``JsonFormatter`` writes each record as one JSON
object a line, with those fields. ``JobLines`` subscribes to the app's events and logs
each job's start and end at INFO on ``backburner.jobs``, at most ``per_second`` lines a
second: over that, the lines are counted and left out, and a line says how many.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from typing import Any

from ._context import current_job_or_none, current_service
from ._events import Event, EventHub, JobFailed, JobStarted, JobSucceeded

FIELDS = ("job_id", "job_name", "queue", "attempt", "server_id", "service", "duration")
"""The structured fields a record may carry (as ``extra=``, or from ``LogContext``)."""

_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class LogContext(logging.Filter):
    """Adds the running job and service to each record; put it on a handler.

    >>> handler.addFilter(LogContext())
    """

    def filter(self, record: logging.LogRecord) -> bool:
        job = current_job_or_none()
        if job is not None:
            for key, value in (
                ("job_id", job.id),
                ("job_name", job.name),
                ("queue", job.queue),
                ("attempt", job.attempt),
            ):
                if not hasattr(record, key):
                    setattr(record, key, value)
        service = current_service()
        if service is not None and not hasattr(record, "service"):
            record.service = service
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time`` (UTC), ``level``, ``logger``, ``message``, the
    structured fields present, any other ``extra=`` value, and ``traceback``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class JobLines:
    """Logs each job's start and end at INFO, at most ``per_second`` lines a second."""

    def __init__(self, per_second: int, logger: logging.Logger | None = None) -> None:
        self.per_second = per_second
        self._log = logger or logging.getLogger("backburner.jobs")
        self._lock = threading.Lock()
        self._second = 0
        self._lines = 0
        self._left_out = 0

    def subscribe(self, events: EventHub) -> None:
        if self.per_second > 0:
            events.subscribe(self._on_event, JobStarted, JobSucceeded, JobFailed)

    def _allowed(self) -> bool:
        now = int(time.monotonic())
        with self._lock:
            if now != self._second:
                left_out, self._left_out = self._left_out, 0
                self._second, self._lines = now, 0
                if left_out:
                    self._log.info(
                        "%d job log line(s) left out: over %d a second (logging.job_lines)",
                        left_out,
                        self.per_second,
                    )
            if self._lines >= self.per_second:
                self._left_out += 1
                return False
            self._lines += 1
            return True

    def _on_event(self, event: Event) -> None:
        if not isinstance(event, JobStarted | JobSucceeded | JobFailed):
            return
        if not self._log.isEnabledFor(logging.INFO) or not self._allowed():
            return
        fields: dict[str, Any] = {
            "job_id": event.id,
            "job_name": event.name,
            "queue": event.queue,
            "attempt": event.attempt,
            "server_id": event.server_id,
        }
        if isinstance(event, JobStarted):
            self._log.info("job %s (%s) started", event.id, event.name, extra=fields)
            return
        fields["duration"] = round(event.duration, 6)
        if isinstance(event, JobSucceeded):
            self._log.info(
                "job %s (%s) succeeded in %.3f s",
                event.id,
                event.name,
                event.duration,
                extra=fields,
            )
        elif event.will_retry:
            self._log.info(
                "job %s (%s) failed (%s); retry at %s",
                event.id,
                event.name,
                event.error_type,
                event.retry_at.isoformat() if event.retry_at else "?",
                extra=fields,
            )
        else:
            self._log.info(
                "job %s (%s) failed (%s); no retries left",
                event.id,
                event.name,
                event.error_type,
                extra=fields,
            )


def configure(format: str, level: int) -> None:
    """The CLI's logging: to stderr, text or JSON lines, with the job and service fields."""
    handler = logging.StreamHandler()
    handler.addFilter(LogContext())
    if format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler], force=True)
