"""What users see when a server runs their jobs: results, queues, retries, errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
import uuid
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from backburner import Backburner, JobState, Retry, current_job
from tests.support import wait_until


def test_sync_and_async_jobs_run_and_return_results(app: Backburner) -> None:
    @app.job
    def resize(photo_id: int, width: int = 800) -> dict[str, int]:
        return {"photo": photo_id, "width": width}

    @app.job(name="emails.welcome", queue="critical")
    async def send_welcome(email: str) -> str:
        await asyncio.sleep(0)
        return email.upper()

    assert resize(1) == {"photo": 1, "width": 800}  # still a plain call
    first = resize.enqueue(1, width=400)
    second = send_welcome.enqueue("a@b.c")
    with app.start_server(
        queues=["critical", "default"], workers=2, server_timeout=2.0, shutdown_timeout=1.0
    ):
        done = app.jobs.wait(first, timeout=10)
        assert app.jobs.wait(second, timeout=10).result == "A@B.C"
    assert done.state is JobState.SUCCEEDED
    assert done.result == {"photo": 1, "width": 400}
    assert done.kwargs == {"width": 400}
    assert done.attempt == 1
    assert [h.state for h in done.history] == [
        JobState.ENQUEUED,
        JobState.PROCESSING,
        JobState.SUCCEEDED,
    ]


def test_queues_run_in_server_order_and_fifo_within(app: Backburner) -> None:
    ran: list[str] = []

    @app.job
    def record(label: str) -> None:
        ran.append(label)

    record.with_options(queue="low").enqueue("low-1")
    record.enqueue("default-1")
    record.with_options(queue="critical").enqueue("critical-1")
    record.enqueue("default-2")
    last = record.with_options(queue="critical").enqueue("critical-2")
    assert app.jobs.get(last).queue == "critical"  # type: ignore[union-attr]
    with app.start_server(
        queues=["critical", "default", "low"], workers=1, server_timeout=2.0, shutdown_timeout=1.0
    ):
        wait_until(lambda: len(ran) == 5, what="five jobs")
    assert ran == ["critical-1", "critical-2", "default-1", "default-2", "low-1"]


def test_server_ignores_queues_it_does_not_serve(app: Backburner) -> None:
    @app.job(queue="other")
    def elsewhere() -> None: ...

    job_id = elsewhere.enqueue()
    with app.start_server(queues=["default"], workers=1, server_timeout=2.0, shutdown_timeout=1.0):
        time.sleep(0.3)
        assert app.jobs.get(job_id).state is JobState.ENQUEUED  # type: ignore[union-attr]


def test_retries_then_fails_with_traceback_and_requeue_runs_again(app: Backburner) -> None:
    calls: list[int] = []
    healthy = threading.Event()

    @app.job(retry=Retry(attempts=2, delays=[0.1]))
    def flaky() -> str:
        calls.append(current_job().attempt)
        if not healthy.is_set():
            raise ConnectionError("service down")
        return "ok"

    job_id = flaky.enqueue()
    with app.start_server(workers=1, server_timeout=2.0, shutdown_timeout=1.0):
        job = app.jobs.wait(job_id, timeout=10)
        assert job.state is JobState.FAILED
        assert calls == [1, 2, 3]
        assert job.error is not None
        assert job.error.type == "ConnectionError"
        assert job.error.message == "service down"
        assert "raise ConnectionError" in job.error.traceback
        reasons = [h.reason for h in job.history if h.state is JobState.SCHEDULED]
        assert reasons == ["retry 1 of 2: ConnectionError", "retry 2 of 2: ConnectionError"]
        healthy.set()
        assert app.jobs.requeue(job_id)
        again = app.jobs.wait(job_id, timeout=10)
    assert again.state is JobState.SUCCEEDED
    assert again.result == "ok"
    assert app.stats().failed == 0


def test_retry_only_on_listed_errors_and_zero_attempts(app: Backburner) -> None:
    @app.job(retry=Retry(attempts=5, delays=[0.05], on=(ConnectionError,)))
    def picky() -> None:
        raise ValueError("bad input")

    @app.job(retry=Retry(attempts=0))
    def once() -> None:
        raise RuntimeError("no second chance")

    ids = [picky.enqueue(), once.enqueue()]
    with app.start_server(workers=2, server_timeout=2.0, shutdown_timeout=1.0):
        jobs = [app.jobs.wait(i, timeout=10) for i in ids]
    assert [(j.state, j.attempt) for j in jobs] == [(JobState.FAILED, 1), (JobState.FAILED, 1)]


def test_continuations(app: Backburner) -> None:
    ran: list[str] = []

    @app.job(retry=Retry(attempts=0))
    def step(label: str, fail: bool = False) -> str:
        ran.append(label)
        if fail:
            raise ValueError(label)
        return label

    good = step.enqueue("parent")
    after_good = step.continue_with(good, "after-good")
    bad = step.enqueue("bad", fail=True)
    after_bad = step.continue_with(bad, "never")
    always = app.continue_with(step, bad, "always", on="finished")
    with app.start_server(workers=2, server_timeout=2.0, shutdown_timeout=1.0):
        assert app.jobs.wait(after_good, timeout=10).result == "after-good"
        assert app.jobs.wait(always, timeout=10).state is JobState.SUCCEEDED
        assert app.jobs.get(after_bad).state is JobState.AWAITING  # type: ignore[union-attr]
        late = step.continue_with(good, "late")  # parent already succeeded: runs at once
        assert app.jobs.wait(late, timeout=10).state is JobState.SUCCEEDED
        assert app.jobs.delete(bad)
        assert app.jobs.get(after_bad).state is JobState.DELETED  # type: ignore[union-attr]
    assert "never" not in ran
    with pytest.raises(LookupError, match="no job has that id"):
        step.continue_with("999999", "orphan")


def test_delayed_jobs_start_on_time(app: Backburner) -> None:
    started: dict[str, float] = {}

    @app.job
    def stamp(key: str) -> None:
        started[key] = time.time()

    with app.start_server(workers=2, server_timeout=2.0, shutdown_timeout=1.0):
        due = time.time() + 0.6
        by_delay = stamp.schedule(dt.timedelta(seconds=0.6), "delay")
        at = dt.datetime.fromtimestamp(due, ZoneInfo("Europe/Madrid"))
        by_instant = stamp.schedule(at, "instant")
        assert app.jobs.get(by_delay).state is JobState.SCHEDULED  # type: ignore[union-attr]
        app.jobs.wait(by_delay, timeout=10)
        app.jobs.wait(by_instant, timeout=10)
        past = stamp.schedule(-5, "past")
        app.jobs.wait(past, timeout=10)
    assert due - 0.05 <= started["delay"] <= due + 1.0
    assert due - 0.05 <= started["instant"] <= due + 1.0


def test_naive_datetime_and_bad_when_are_refused(app: Backburner) -> None:
    @app.job
    def later() -> None: ...

    with pytest.raises(ValueError, match="naive datetime"):
        later.schedule(dt.datetime(2030, 1, 1, 9, 0))
    with pytest.raises(TypeError, match="timedelta, seconds or an aware datetime"):
        later.schedule("tomorrow")  # type: ignore[arg-type]
    assert app.jobs.list() == []


def test_unstorable_argument_raises_and_stores_nothing(app: Backburner) -> None:
    @app.job
    def takes(value: Any) -> None: ...

    with pytest.raises(TypeError, match=r"argument 'value' of job .* cannot be stored"):
        takes.enqueue(value=object())
    with pytest.raises(TypeError, match=r"call 1 of enqueue_many\(\): argument 0 of job"):
        takes.enqueue_many([(1,), ({1, 2},)])
    assert app.jobs.list() == []


def test_rich_arguments_and_results_round_trip(app: Backburner) -> None:
    @app.job
    def echo(*values: Any) -> list[Any]:
        return list(values)

    values = [
        dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        dt.date(2026, 1, 2),
        uuid.UUID(int=7),
        Decimal("1.10"),
        {"k": [1, None]},
    ]
    job_id = echo.enqueue(*values)
    with app.start_server(workers=1, server_timeout=2.0, shutdown_timeout=1.0):
        job = app.jobs.wait(job_id, timeout=10)
    assert job.args == values
    assert job.result == values


def test_unknown_job_and_unstorable_result_fail_clearly(app: Backburner) -> None:
    @app.job
    def returns_object() -> object:
        return object()

    unknown = app.enqueue("reports.nightly", 1)
    bad_result = returns_object.enqueue()
    with app.start_server(workers=2, server_timeout=2.0, shutdown_timeout=1.0):
        job = app.jobs.wait(unknown, timeout=10)
        bad = app.jobs.wait(bad_result, timeout=10)
    assert job.state is JobState.FAILED
    assert job.error is not None
    assert job.error.message == "no job named 'reports.nightly' is registered"
    assert bad.state is JobState.FAILED
    assert bad.attempt == 1
    assert bad.error is not None
    assert "result of job" in bad.error.message
    assert "cannot be stored" in bad.error.message


def test_enqueue_by_name_function_and_many(app: Backburner) -> None:
    @app.job(name="math.add")
    def add(a: int, b: int) -> int:
        return a + b

    def not_a_job() -> None: ...

    ids = [app.enqueue("math.add", 1, 2), app.enqueue(add, 3, 4)]
    ids += add.enqueue_many([(5, 6), (7, 8)])
    with pytest.raises(LookupError, match="not a registered job"):
        app.enqueue(not_a_job)
    with pytest.raises(ValueError, match="already registered"):
        app.job(name="math.add")(not_a_job)
    with app.start_server(workers=2, server_timeout=2.0, shutdown_timeout=1.0):
        results = [app.jobs.wait(i, timeout=10).result for i in ids]
    assert results == [3, 7, 11, 15]
    assert app.stats().succeeded == 4


def test_wait_times_out_and_unknown_ids(app: Backburner) -> None:
    @app.job
    def idle() -> None: ...

    job_id = idle.enqueue()
    with pytest.raises(TimeoutError, match="still enqueued"):
        app.jobs.wait(job_id, timeout=0.1)
    assert app.jobs.get("424242") is None
    assert not app.jobs.requeue("424242")
    assert not app.jobs.delete("424242")
    with pytest.raises(LookupError):
        app.jobs.wait("424242", timeout=0.1)


def test_current_job_outside_a_job() -> None:
    with pytest.raises(RuntimeError, match="only available inside a job"):
        current_job()


def test_stats_count_states_and_servers(app: Backburner) -> None:
    @app.job
    def noop() -> None: ...

    noop.enqueue()
    noop.schedule(3600)
    stats = app.stats()
    assert (stats.enqueued, stats.scheduled, stats.servers) == (1, 1, 0)
    with app.start_server(workers=1, server_timeout=2.0, shutdown_timeout=1.0):
        assert app.stats().servers == 1
    assert app.stats().servers == 0
