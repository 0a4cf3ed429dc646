"""Jobs that misbehave fail themselves, never their server: what they return or raise,
how they exit, and how they answer (or ignore) their cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator

import pytest

from backburner import Backburner, JobCancelled, JobState, Retry
from backburner._client import utcnow
from backburner.server import runner as runner_module
from backburner.storage import ClaimedJob, Outcome

BOUND = 15.0  # seconds after which a stop that has not returned is taken to hang


def not_utf8(name: bytes) -> str:
    """What ``os.listdir()`` returns for a file name that is not UTF-8: a lone surrogate."""
    return os.fsdecode(name)


@contextlib.contextmanager
def bounded(what: str) -> Iterator[Callable[[Callable[[], None]], None]]:
    """Run a blocking step in a thread and fail, rather than hang, when it never returns."""
    threads: list[threading.Thread] = []

    def run(step: Callable[[], None]) -> None:
        thread = threading.Thread(target=step, daemon=True)
        threads.append(thread)
        thread.start()

    yield run
    for thread in threads:
        thread.join(BOUND)
        assert not thread.is_alive(), f"{what} did not return within {BOUND} s"


def test_a_result_that_cannot_be_stored_fails_that_job_alone(app: Backburner) -> None:
    @app.job
    def newest_file() -> str:
        return not_utf8(b"caf\xe9.txt")

    @app.job
    def ok(n: int) -> int:
        return n

    bad = newest_file.enqueue()
    good = [ok.enqueue(i) for i in range(3)]
    with app.start_server(workers=2, shutdown_timeout=1.0, server_timeout=2.0):
        failed = app.jobs.wait(bad, timeout=10)
        assert [app.jobs.wait(j, timeout=10).result for j in good] == [0, 1, 2]
        assert app.jobs.wait(ok.enqueue(9), timeout=10).result == 9
    assert failed.state is JobState.FAILED
    assert failed.attempt == 1  # not retried
    assert failed.error is not None
    assert "cannot be stored" in failed.error.message


def test_an_error_message_that_cannot_be_stored_is_kept_escaped(app: Backburner) -> None:
    @app.job(retry=Retry(attempts=0))
    def read_file() -> None:
        raise ValueError("cannot parse " + not_utf8(b"caf\xe9.csv"))

    @app.job
    def ok() -> str:
        return "fine"

    bad = read_file.enqueue()
    with app.start_server(workers=2, shutdown_timeout=1.0, server_timeout=2.0):
        failed = app.jobs.wait(bad, timeout=10)
        assert app.jobs.wait(ok.enqueue(), timeout=10).result == "fine"
    assert failed.state is JobState.FAILED
    assert failed.error is not None
    assert failed.error.type == "ValueError"
    assert failed.error.message == "cannot parse caf\\udce9.csv"
    assert "caf\\udce9.csv" in failed.error.traceback


def test_an_outcome_the_storage_refuses_fails_that_job_and_the_others_are_recorded(
    app: Backburner,
) -> None:
    if app.storage_url.startswith("memory"):
        pytest.skip("memory:// stores any text: no outcome is refused")

    @app.job
    def noop() -> None: ...

    ids = [noop.enqueue(), noop.enqueue()]
    server = app._server(app._server_options(None, 2, None, None))
    claims = {c.id: c for c in app.storage.job_claim(server.id, ["default"], 2, utcnow())}

    def succeeded(claimed: ClaimedJob, result: str) -> Outcome:
        return Outcome(
            job_id=claimed.id,
            server_id=server.id,
            attempt=claimed.attempt,
            state=JobState.SUCCEEDED,
            at=utcnow(),
            result=result,
            started_at=claimed.started_at,
        )

    async def flush() -> None:
        server._loop = asyncio.get_running_loop()
        server._claim_port = app.storage.claim_port()  # as serve() records outcomes
        unstorable = '"' + not_utf8(b"caf\xe9") + '"'
        server._outcomes[:] = [
            succeeded(claims[ids[0]], unstorable),
            succeeded(claims[ids[1]], "1"),
        ]
        server._drained = True
        server._flush_hint.set()
        await asyncio.wait_for(server._flush_loop(), 10)
        await server._claim_port.close()

    asyncio.run(flush())
    refused, recorded = (app.jobs.get(i) for i in ids)
    assert refused is not None
    assert refused.state is JobState.FAILED
    assert refused.error is not None
    assert refused.error.message.startswith("the outcome of this run could not be stored: ")
    assert recorded is not None
    assert recorded.state is JobState.SUCCEEDED
    assert recorded.result == 1


@pytest.mark.parametrize(
    ("how", "error_type", "message"),
    [
        ("sys.exit", "SystemExit", "SystemExit(2): the job called sys.exit()"),
        ("SystemExit", "SystemExit", "SystemExit(None): the job called sys.exit()"),
        ("KeyboardInterrupt", "KeyboardInterrupt", "KeyboardInterrupt: the job raised"),
        ("async sys.exit", "SystemExit", "SystemExit('bad input'): the job called sys.exit()"),
    ],
)
def test_a_job_that_exits_fails_under_its_retry_policy_and_the_server_goes_on(
    app: Backburner, how: str, error_type: str, message: str
) -> None:
    runs = []

    @app.job(retry=Retry(attempts=1, delays=[0]))
    def leaves() -> None:
        runs.append(how)
        if how == "sys.exit":
            sys.exit(2)
        if how == "SystemExit":
            raise SystemExit
        raise KeyboardInterrupt

    @app.job(retry=Retry(attempts=1, delays=[0]))
    async def leaves_async() -> None:
        runs.append(how)
        await asyncio.sleep(0)
        sys.exit("bad input")

    @app.job
    def ok() -> str:
        return "still serving"

    job = leaves_async if how.startswith("async") else leaves
    with app.start_server(workers=1, shutdown_timeout=1.0, server_timeout=2.0) as server:
        failed = app.jobs.wait(job.enqueue(), timeout=10)
        assert app.jobs.wait(ok.enqueue(), timeout=10).result == "still serving"
        assert server._busy == 0
    assert failed.state is JobState.FAILED
    assert failed.attempt == 2  # retried once, as its policy says
    assert len(runs) == 2
    assert failed.error is not None
    assert failed.error.type == error_type
    assert failed.error.message.startswith(message)
    assert any((h.reason or "").startswith("retry 1 of 1") for h in failed.history)


def test_an_exception_whose_str_fails_still_fails_its_job(app: Backburner) -> None:
    class Weird(Exception):
        def __str__(self) -> str:
            raise RuntimeError("str() of this exception fails")

    @app.job(retry=Retry(attempts=0))
    def odd() -> None:
        raise Weird

    @app.job
    def ok() -> str:
        return "fine"

    with app.start_server(workers=1, shutdown_timeout=1.0, server_timeout=2.0):
        failed = app.jobs.wait(odd.enqueue(), timeout=10)
        assert app.jobs.wait(ok.enqueue(), timeout=10).result == "fine"
    assert failed.state is JobState.FAILED
    assert failed.error is not None
    assert failed.error.message == "<str() of this Weird raised RuntimeError>"


def test_when_building_a_failure_fails_the_job_still_fails_and_its_slot_is_freed(
    app: Backburner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> Outcome:
        raise OverflowError("date value out of range")

    monkeypatch.setattr(runner_module, "failure_outcome", broken)

    @app.job
    def fails() -> None:
        raise ConnectionError("gateway down")

    @app.job
    def ok() -> str:
        return "fine"

    with app.start_server(workers=1, shutdown_timeout=1.0, server_timeout=2.0):
        failed = app.jobs.wait(fails.enqueue(), timeout=10)
        assert app.jobs.wait(ok.enqueue(), timeout=10).result == "fine"
    assert failed.state is JobState.FAILED
    assert failed.error is not None
    assert failed.error.type == "OverflowError"
    assert "could not be recorded in full" in failed.error.message


def test_when_the_runner_itself_fails_the_job_fails_and_the_server_goes_on(
    app: Backburner, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_run = runner_module.Runner.run

    async def run(
        self: runner_module.Runner, claimed: ClaimedJob, context: object
    ) -> tuple[Outcome | None, object]:
        if claimed.name.endswith("doomed"):
            raise RuntimeError("the runner broke")
        return await real_run(self, claimed, context)  # type: ignore[arg-type]

    monkeypatch.setattr(runner_module.Runner, "run", run)

    @app.job
    def doomed() -> None: ...

    @app.job
    def ok() -> str:
        return "fine"

    with app.start_server(workers=1, shutdown_timeout=1.0, server_timeout=2.0):
        failed = app.jobs.wait(doomed.enqueue(), timeout=10)
        assert app.jobs.wait(ok.enqueue(), timeout=10).result == "fine"
    assert failed.state is JobState.FAILED
    assert failed.error is not None
    assert failed.error.type == "RuntimeError"


def test_a_job_raising_cancellation_of_its_own_accord_fails_under_its_policy(
    app: Backburner,
) -> None:
    runs: list[str] = []

    @app.job(retry=Retry(attempts=2, delays=[0]))
    async def awaits_a_cancelled_future() -> None:
        runs.append("async")
        future = asyncio.get_running_loop().create_future()
        future.cancel()
        await future

    @app.job(retry=Retry(attempts=2, delays=[0]))
    def raises_job_cancelled() -> None:
        runs.append("sync")
        raise JobCancelled("a library's own cancellation")

    ids = [awaits_a_cancelled_future.enqueue(), raises_job_cancelled.enqueue()]
    with app.start_server(workers=2, shutdown_timeout=1.0, server_timeout=2.0):
        async_job, sync_job = (app.jobs.wait(i, timeout=10) for i in ids)
    assert sorted(runs) == ["async"] * 3 + ["sync"] * 3
    for job, error_type in ((async_job, "CancelledError"), (sync_job, "JobCancelled")):
        assert job.state is JobState.FAILED
        assert job.attempt == 3
        assert job.error is not None
        assert job.error.type.endswith(error_type)
        assert not any("interrupted" in (h.reason or "") for h in job.history)


def test_a_jobs_own_timeout_error_is_an_ordinary_failure(app: Backburner) -> None:
    @app.job(retry=Retry(attempts=0))
    def pays() -> None:
        raise TimeoutError("the payment API did not answer in 5 s")

    @app.job(timeout=30, retry=Retry(attempts=0))
    async def pays_async() -> None:
        await asyncio.sleep(0)
        raise TimeoutError("the payment API did not answer in 5 s")

    ids = [pays.enqueue(), pays_async.enqueue()]
    with app.start_server(workers=2, shutdown_timeout=1.0, server_timeout=2.0):
        jobs = [app.jobs.wait(i, timeout=10) for i in ids]
    for job in jobs:
        assert job.state is JobState.FAILED
        assert job.error is not None
        assert job.error.type == "TimeoutError"
        assert job.error.message == "the payment API did not answer in 5 s"


def test_a_deleted_job_claimed_again_here_cancels_its_older_run_at_once(
    app: Backburner,
) -> None:
    events: list[tuple[str, int]] = []
    started = threading.Event()

    @app.job
    async def long_task() -> None:
        run = sum(1 for kind, _ in events if kind == "start") + 1
        events.append(("start", run))
        started.set()
        try:
            await asyncio.sleep(1.0 if run > 1 else 30)
            events.append(("end", run))
        except asyncio.CancelledError:
            events.append(("cancelled", run))
            raise

    job_id = long_task.enqueue()
    with app.start_server(workers=2, shutdown_timeout=1.0, server_timeout=2.0) as server:
        assert started.wait(10)
        assert app.jobs.delete(job_id)
        assert app.jobs.requeue(job_id)
        job = app.jobs.wait(job_id, timeout=10)
        assert server._busy == 0
    assert job.state is JobState.SUCCEEDED
    assert job.attempt == 2
    assert events[0] == ("start", 1)
    assert ("cancelled", 1) in events
    assert ("end", 2) in events
    assert ("end", 1) not in events


def test_a_job_that_swallows_cancellation_is_abandoned_and_the_server_stops(
    app: Backburner, caplog: pytest.LogCaptureFixture
) -> None:
    started = threading.Event()

    @app.job
    async def poller() -> None:
        started.set()
        while True:
            with contextlib.suppress(BaseException):  # a bare except, as often written
                await asyncio.sleep(0.05)

    job_id = poller.enqueue()
    caplog.set_level(logging.WARNING, logger="backburner.server")

    def serve() -> None:
        with app.start_server(workers=1, shutdown_timeout=0.2, server_timeout=2.0):
            assert started.wait(10)

    with bounded("a server running a job that swallows cancellation") as run:
        run(serve)
    job = app.jobs.get(job_id)
    assert job is not None
    assert job.state is JobState.ENQUEUED
    assert job.attempt == 0
    assert "ignored its cancellation" in (job.history[-1].reason or "")
    assert "abandoned 1 job(s) that ignored their cancellation" in caplog.text
    assert f"{job_id} (" in caplog.text


def test_stopping_at_once_is_bounded_with_a_job_that_swallows_cancellation(
    app: Backburner,
) -> None:
    started = threading.Event()

    @app.job
    async def stubborn() -> None:
        started.set()
        while True:
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                continue

    job_id = stubborn.enqueue()

    def serve() -> None:
        with app.start_server(workers=1, shutdown_timeout=600, server_timeout=2.0) as server:
            assert started.wait(10)
            server.request_stop(immediately=True)

    with bounded("an immediate stop, which skips the shutdown_timeout of 600 s,") as run:
        run(serve)
    job = app.jobs.get(job_id)
    assert job is not None
    assert job.state is JobState.ENQUEUED
