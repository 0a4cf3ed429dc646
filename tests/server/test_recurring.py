"""Recurring jobs on every backend, with in-process servers."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter

import pytest

from backburner import Backburner, Cron, JobState, current_job
from tests.support import wait_until


def test_add_get_list_update_remove(app: Backburner) -> None:
    @app.job
    def generate_daily_report(kind: str) -> None: ...

    created = app.recurring.add_or_update(
        "daily-report",
        generate_daily_report,
        "0 6 * * *",
        timezone="Europe/Madrid",
        args=("full",),
    )
    assert (created.id, created.name, created.cron, created.timezone, created.queue) == (
        "daily-report",
        generate_daily_report.name,
        "0 6 * * *",
        "Europe/Madrid",
        "default",
    )
    assert created.description == "At 06:00"
    assert created.args == ["full"]
    assert created.next_run is not None
    assert created.next_run.astimezone(dt.UTC).hour in (4, 5)  # 06:00 Madrid, summer or winter
    assert created.last_run is None
    assert not created.paused
    app.recurring.add_or_update("cleanup", generate_daily_report, Cron.weekly(0, hour=3))
    assert [r.id for r in app.recurring.list()] == ["cleanup", "daily-report"]
    moved = app.recurring.add_or_update(
        "daily-report", generate_daily_report, "0 7 * * *", timezone="Europe/Madrid"
    )
    assert moved.next_run is not None
    # Between 06:00 and 07:00 in Madrid the next 07:00 is today's, the next 06:00 tomorrow's.
    assert moved.next_run - created.next_run in (dt.timedelta(hours=1), dt.timedelta(hours=-23))
    assert app.recurring.get("nope") is None
    assert app.recurring.remove("cleanup")
    assert not app.recurring.remove("cleanup")


def test_bad_definitions_are_refused(app: Backburner) -> None:
    @app.job
    def job() -> None: ...

    with pytest.raises(ValueError, match="minute field '61'"):
        app.recurring.add_or_update("x", job, "61 * * * *")
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        app.recurring.add_or_update("x", job, "0 6 * * *", timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="misfire"):
        app.recurring.add_or_update("x", job, "0 6 * * *", misfire="sometimes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cannot be stored"):
        app.recurring.add_or_update("x", job, "0 6 * * *", args=(object(),))
    with pytest.raises(LookupError, match="no recurring job"):
        app.recurring.trigger("x")
    assert app.recurring.list() == []


def test_runs_once_per_instant_with_two_servers(app: Backburner) -> None:
    @app.job(cron="* * * * * *")
    def tick() -> str:
        due = current_job().due_at
        assert due is not None
        return due.isoformat()

    with app.start_server(workers=2), app.start_server(workers=2):
        time.sleep(3.5)
    runs = [j for j in app.jobs.list(limit=100) if j.recurring_id == tick.name]
    assert len(runs) >= 3
    per_instant = Counter(j.result for j in runs if j.state is JobState.SUCCEEDED)
    assert per_instant
    assert max(per_instant.values()) == 1
    for job in runs:
        enqueued_at = job.history[0].at
        assert job.run_at is not None
        assert dt.timedelta(0) <= enqueued_at - job.run_at < dt.timedelta(seconds=1)


def test_trigger_pause_resume(app: Backburner) -> None:
    ran = threading.Event()

    @app.job
    def report() -> str:
        ran.set()
        return "done"

    app.recurring.add_or_update("report", report, "0 0 1 1 *")  # once a year
    before = app.recurring.get("report")
    assert before is not None
    with app.start_server(workers=1):
        job_id = app.recurring.trigger("report")
        assert app.jobs.wait(job_id, timeout=10).result == "done"
    after = app.recurring.get("report")
    assert after is not None
    assert after.next_run == before.next_run
    assert after.last_job_id == job_id
    assert app.recurring.pause("report")
    assert app.recurring.get("report").paused  # type: ignore[union-attr]
    assert app.recurring.resume("report")
    assert not app.recurring.get("report").paused  # type: ignore[union-attr]
    assert not app.recurring.pause("nope")


def test_a_missing_function_fails_each_run_and_the_scheduler_goes_on(app: Backburner) -> None:
    @app.job
    def alive() -> None: ...

    app.recurring.add_or_update("gone", "reports.removed_long_ago", "* * * * * *")
    app.recurring.add_or_update("alive", alive, "* * * * * *")
    with app.start_server(workers=2):
        wait_until(lambda: len(app.jobs.list(state=JobState.FAILED)) >= 2, what="two failed runs")
        wait_until(lambda: app.jobs.list(state=JobState.SUCCEEDED), what="a healthy run")
    failed = app.jobs.list(state=JobState.FAILED)[0]
    assert failed.error is not None
    assert failed.error.message == "no job named 'reports.removed_long_ago' is registered"


@pytest.mark.parametrize("misfire", ["relaxed", "strict", "ignore"])
def test_misfire_modes(app: Backburner, misfire: str) -> None:
    @app.job
    def hourly() -> None: ...

    # Hourly at half an hour from now, so that no run falls due while the test runs.
    minute = (dt.datetime.now(dt.UTC).minute + 30) % 60
    app.recurring.add_or_update("m", hourly, f"{minute} * * * *", misfire=misfire)  # type: ignore[arg-type]
    # Every server was down for the last five hours: put the next run in the past.
    record = app.recurring.get("m")
    assert record is not None
    assert record.next_run is not None
    missed_since = record.next_run - dt.timedelta(hours=5)
    app.storage.recurring_set_paused("m", False, missed_since)
    with app.start_server(workers=2):
        wait_until(
            lambda: app.recurring.get("m").next_run > dt.datetime.now(dt.UTC),  # type: ignore[union-attr, operator]
            what="the recurring job to catch up",
        )
        time.sleep(0.3)
    runs = [j for j in app.jobs.list(limit=100) if j.recurring_id == "m"]
    expected = {"relaxed": 1, "strict": 5, "ignore": 0}[misfire]
    assert len(runs) == expected
