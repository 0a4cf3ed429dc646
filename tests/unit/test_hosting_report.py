"""The heartbeat's hosting report: its JSON, read leniently, and its short error texts."""

from __future__ import annotations

import datetime as dt
import json

from backburner import HostedPeriodic, HostedService, HostedTaskQueue, Hosting
from backburner.server._report import ERROR_CHARS, short

AT = dt.datetime(2026, 1, 1, 12, 0, 0, 250000, tzinfo=dt.UTC)


def test_a_report_goes_through_json_and_back() -> None:
    report = Hosting(
        services=(HostedService("sync", "failing", restarts=2, last_error="OSError: gone"),),
        periodic=(HostedPeriodic("tick", "every 30 s", last_run=AT, next_run=AT),),
        task_queues=(HostedTaskQueue("thumbs", 1, 5, 1, 2),),
        leader=True,
    )
    assert Hosting.from_json(json.loads(json.dumps(report.as_json()))) == report


def test_reading_skips_what_it_cannot_read_and_ignores_what_it_does_not_know() -> None:
    written = {
        "services": [
            {"name": "ok", "state": "running", "colour": "blue"},  # a newer server's key
            {"name": 7, "state": "running"},  # a wrong type
            {"state": "running"},  # no name
            "not an object",
        ],
        "periodic": [{"name": "p", "schedule": "every 1 s", "last_run": "yesterday"}],
        "task_queues": {"not": "a list"},
        "leader": "yes",
    }
    assert Hosting.from_json(written) == Hosting(services=(HostedService("ok", "running"),))
    assert Hosting.from_json(None) == Hosting.from_json([]) == Hosting()


def test_a_time_without_an_offset_is_not_read() -> None:
    written = {"periodic": [{"name": "p", "schedule": "s", "next_run": "2026-01-01T12:00:00"}]}
    assert Hosting.from_json(written).periodic == ()


def test_error_texts_are_cut_to_one_short_line() -> None:
    assert short(None) is None
    assert short("ValueError: bad\n  value") == "ValueError: bad value"
    cut = short("x" * 1000)
    assert cut is not None
    assert len(cut) == ERROR_CHARS
    assert cut.endswith("…")
    assert short("y" * ERROR_CHARS) == "y" * ERROR_CHARS
