"""Deleting running jobs, timeouts, graceful shutdown, retention."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

import pytest

from backburner import Backburner, JobCancelled, JobState, Retry, current_job
from backburner._client import utcnow
from backburner.storage import Outcome


def test_deleting_a_running_async_job_cancels_it(app: Backburner) -> None:
    started = threading.Event()
    cancelled = threading.Event()

    @app.job
    async def long_render() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    job_id = long_render.enqueue()
    with app.start_server(workers=1, shutdown_timeout=1.0, server_timeout=2.0):
        assert started.wait(10)
        assert app.jobs.delete(job_id)
        assert cancelled.wait(5)
    assert app.jobs.get(job_id).state is JobState.DELETED  # type: ignore[union-attr]


def test_deleting_a_running_sync_job_signals_it(app: Backburner) -> None:
    started = threading.Event()
    noticed = threading.Event()

    @app.job
    def long_export() -> None:
        started.set()
        for _ in range(3000):
            if current_job().is_cancelled:
                noticed.set()
                return
            time.sleep(0.01)

    job_id = long_export.enqueue()
    with app.start_server(workers=1, shutdown_timeout=1.0, server_timeout=2.0):
        assert started.wait(10)
        app.jobs.delete(job_id)
        assert noticed.wait(5)
    job = app.jobs.get(job_id)
    assert job is not None
    assert job.state is JobState.DELETED  # its late success does not overwrite the deletion


def test_timeouts_fail_the_job_and_the_retry_policy_applies(app: Backburner) -> None:
    sync_saw_cancel = threading.Event()

    @app.job(timeout=0.2, retry=Retry(attempts=1, delays=[0.05]))
    async def slow_async() -> None:
        await asyncio.sleep(30)

    @app.job(timeout=0.2, retry=Retry(attempts=0))
    def slow_sync() -> None:
        for _ in range(500):
            if current_job().is_cancelled:
                sync_saw_cancel.set()
                current_job().raise_if_cancelled()
            time.sleep(0.01)

    ids = [slow_async.enqueue(), slow_sync.enqueue()]
    with app.start_server(workers=2, shutdown_timeout=1.0, server_timeout=2.0):
        async_job, sync_job = (app.jobs.wait(i, timeout=10) for i in ids)
        assert sync_saw_cancel.wait(5)
    assert async_job.state is JobState.FAILED
    assert async_job.attempt == 2
    assert async_job.error is not None
    assert async_job.error.type == "TimeoutError"
    assert "ran past its timeout of 0.2 s" in async_job.error.message
    assert sync_job.state is JobState.FAILED
    assert sync_job.error is not None
    assert sync_job.error.type == "TimeoutError"


def test_shutdown_interrupts_and_requeues_running_jobs(app: Backburner) -> None:
    async_started, sync_started = threading.Event(), threading.Event()

    @app.job
    async def async_work() -> None:
        async_started.set()
        await asyncio.sleep(30)

    @app.job
    def sync_work() -> None:
        sync_started.set()
        while True:
            current_job().raise_if_cancelled()
            time.sleep(0.01)

    ids = [async_work.enqueue(), sync_work.enqueue()]
    with app.start_server(workers=2, shutdown_timeout=0.2, server_timeout=2.0):
        assert async_started.wait(10)
        assert sync_started.wait(10)
    for job_id in ids:
        job = app.jobs.get(job_id)
        assert job is not None
        assert job.state is JobState.ENQUEUED
        assert job.history[-1].reason == "interrupted: server shutting down"
        assert job.attempt == 0


def test_shutdown_waits_for_jobs_that_finish_in_time(app: Backburner) -> None:
    started = threading.Event()

    @app.job
    def short() -> str:
        started.set()
        time.sleep(0.3)
        return "done"

    job_id = short.enqueue()
    with app.start_server(workers=1, shutdown_timeout=5.0, server_timeout=2.0):
        assert started.wait(10)
    assert app.jobs.get(job_id).state is JobState.SUCCEEDED  # type: ignore[union-attr]


def test_outcomes_that_come_with_the_end_of_the_drain_are_recorded_and_the_flusher_ends() -> None:
    # The last job's outcome and the drain's end can wake the flusher once, together: it
    # must record the outcome and end, not wait for another wake-up (a stop that hung).
    app = Backburner("memory://")

    @app.job
    def noop() -> None: ...

    job_id = noop.enqueue()
    server = app._server(app._server_options(None, 1, None, None))
    [claimed] = app.storage.job_claim(server.id, ["default"], 1, utcnow())

    async def last_wake_up() -> None:
        server._loop = asyncio.get_running_loop()
        outcome = Outcome(
            job_id=job_id,
            server_id=server.id,
            attempt=claimed.attempt,
            state=JobState.SUCCEEDED,
            at=utcnow(),
            result="null",
        )
        server._outcomes.append(outcome)
        server._drained = True
        server._flush_hint.set()
        await asyncio.wait_for(server._flush_loop(), 10)

    asyncio.run(last_wake_up())
    job = app.jobs.get(job_id)
    assert job is not None
    assert job.state is JobState.SUCCEEDED


def test_raise_if_cancelled_is_quiet_until_cancelled() -> None:
    from backburner import JobContext

    context = JobContext(id="1", name="n", queue="default", attempt=1)
    context.raise_if_cancelled()
    context.cancel("deleted")
    with pytest.raises(JobCancelled, match=r"^deleted$"):
        context.raise_if_cancelled()


def test_finished_jobs_expire_by_state(app: Backburner) -> None:
    @app.job(retry=Retry(attempts=0))
    def outcome(fail: bool) -> None:
        if fail:
            raise ValueError("x")

    app.retention[JobState.SUCCEEDED] = dt.timedelta(0)
    app.retention[JobState.FAILED] = None  # kept for good
    ok, bad = outcome.enqueue(False), outcome.enqueue(True)
    with app.start_server(workers=1, server_timeout=2.0) as server:
        app.jobs.wait(ok, timeout=10)
        app.jobs.wait(bad, timeout=10)
        assert server.maintenance.prune() == 1
    assert app.jobs.get(ok) is None
    assert app.jobs.get(bad) is not None


def test_a_dead_servers_jobs_are_rescued(app: Backburner) -> None:
    from backburner._records import ServerInfo

    @app.job
    def work() -> str:
        return "ran"

    job_id = work.enqueue()
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    ghost = ServerInfo("ghost", "host", 1, ("default",), 1, long_ago, long_ago)
    app.storage.server_heartbeat(ghost)
    now = dt.datetime.now(dt.UTC)
    [claimed] = app.storage.job_claim("ghost", ["default"], 1, now)
    assert claimed.id == job_id
    with app.start_server(workers=1, server_timeout=0.3):
        job = app.jobs.wait(job_id, timeout=10)
    assert job.state is JobState.SUCCEEDED
    assert job.attempt == 2
    assert any("rescued from dead server ghost" in (h.reason or "") for h in job.history)
