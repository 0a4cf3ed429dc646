"""Per-job log lines and their limit; the service field on a service's records."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time

import pytest

from backburner import Backburner, JobStarted, JsonFormatter, LogContext
from backburner._events import EventHub
from backburner._logging import JobLines
from tests.support import wait_until


def _started(n: int) -> JobStarted:
    return JobStarted(str(n), "reports.daily", "default", 1, "srv", None)


def test_job_lines_stop_at_the_limit_a_second_and_say_how_many_were_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events = EventHub()
    JobLines(per_second=5).subscribe(events)
    # Start at the beginning of a second, so that the 20 events fall within one.
    time.sleep(1 - time.monotonic() % 1)
    with caplog.at_level(logging.INFO, logger="backburner.jobs"):
        for n in range(20):
            events.emit(_started(n))
        time.sleep(1.05 - time.monotonic() % 1)
        events.emit(_started(99))
    messages = [r.getMessage() for r in caplog.records]
    assert messages[:5] == [f"job {n} (reports.daily) started" for n in range(5)]
    assert messages[5] == "15 job log line(s) left out: over 5 a second (logging.job_lines)"
    assert messages[6] == "job 99 (reports.daily) started"
    assert caplog.records[0].job_id == "0"  # type: ignore[attr-defined]


def test_zero_job_lines_subscribe_to_nothing() -> None:
    events = EventHub()
    JobLines(per_second=0).subscribe(events)
    assert not events.wants(JobStarted)


def test_a_services_records_carry_its_name_in_json() -> None:
    app = Backburner("memory://")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(LogContext())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("inventory")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    @app.service(name="sync-inventory")
    async def sync(stop: asyncio.Event) -> None:
        logger.info("pulled %d changes", 3, extra={"source": "erp"})
        await stop.wait()

    try:
        with app.start_server():
            wait_until(lambda: "pulled" in stream.getvalue(), what="the service's line")
    finally:
        logger.removeHandler(handler)
    record = json.loads(stream.getvalue().splitlines()[0])
    assert record["message"] == "pulled 3 changes"
    assert record["service"] == "sync-inventory"
    assert record["source"] == "erp"
    assert record["time"].endswith("+00:00")
