from __future__ import annotations

import asyncio
import datetime as dt
import math
from typing import Any

import pytest

from backburner import Backburner, JobFunction, current_job


@pytest.mark.parametrize("timeout", [math.nan, math.inf, 0, -1.0, True, "5"])
def test_a_timeout_must_be_a_positive_finite_number(timeout: Any) -> None:
    app = Backburner("memory://")
    with pytest.raises(ValueError, match=r"job 'slow': timeout must be a positive, finite number"):

        @app.job(name="slow", timeout=timeout)
        def slow() -> None: ...

    app.close()


def test_a_positive_timeout_or_none_is_accepted() -> None:
    app = Backburner("memory://")

    @app.job(timeout=0.5)
    def quick() -> None: ...

    @app.job
    def unbounded() -> None: ...

    assert quick.options.timeout == 0.5
    assert unbounded.options.timeout is None
    app.close()


def test_job_named_finds_a_registered_job() -> None:
    app = Backburner("memory://")

    @app.job(queue="critical")
    def send(to: str) -> str:
        return to

    assert app.job_named(send.name) is send
    job_id = app.job_named(send.name).with_options(queue="low").enqueue("ann")
    stored = app.jobs.get(job_id)
    assert stored is not None
    assert (stored.name, stored.queue, stored.args) == (send.name, "low", ["ann"])


def test_job_named_stores_a_job_registered_elsewhere_but_cannot_run_it_here() -> None:
    app = Backburner("memory://")
    handle = app.job_named("billing.invoice")

    job_id = handle.with_options(queue="billing").schedule(60, 7)
    stored = app.jobs.get(job_id)
    assert stored is not None
    assert (stored.name, stored.queue, stored.state.value) == (
        "billing.invoice",
        "billing",
        "scheduled",
    )
    with pytest.raises(LookupError, match=r"'billing\.invoice' is not registered in this process"):
        handle(7)


def test_the_async_client_enqueues_and_awaits_a_job() -> None:
    app = Backburner("memory://")

    @app.job
    def add(a: int, b: int) -> int:
        return a + b

    with app.start_server():
        asyncio.run(_use_the_async_client(app, add))


async def _use_the_async_client(app: Backburner, add: JobFunction[[int, int], int]) -> None:
    job_id = await add.aenqueue(2, 3)
    later = await add.aschedule(3600, 1, 1)
    [first, second] = await add.aenqueue_many([(1, 2), (3, 4)])
    child = await add.acontinue_with(job_id, 10, 10)
    done = await app.jobs.await_finished(child, timeout=10)
    assert done.result == 20
    assert (await app.jobs.await_finished(job_id, timeout=10)).result == 5
    found = await app.jobs.aget(later)
    assert found is not None
    assert found.state.value == "scheduled"
    assert {j.id for j in (await app.jobs.asearch(name=add.name)).jobs} >= {first, second}
    assert await app.jobs.adelete(later)
    with pytest.raises(LookupError):
        await app.jobs.await_finished("999999", timeout=1)


def test_run_inline_runs_a_job_as_a_server_would_and_drain_runs_what_is_ready() -> None:
    app = Backburner("memory://")
    seen: list[tuple[str, int, object]] = []

    @app.job(queue="critical")
    async def stamp(at: object) -> object:
        context = current_job()
        seen.append((context.id, context.attempt, at))
        return at

    moment = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert stamp.run_inline((1, 2)) == [1, 2]  # a tuple comes back as a list, as stored
    assert stamp.run_inline(moment) == moment
    assert seen[0] == ("inline", 1, [1, 2])
    with pytest.raises(TypeError, match=r"argument 0 of job .* cannot be stored"):
        stamp.run_inline(object())

    first = stamp.enqueue(1)
    second = stamp.continue_with(first, 2)
    later = stamp.schedule(3600, 3)
    assert app.drain() == [first, second]
    job = app.jobs.get(later)
    assert job is not None
    assert job.state.value == "scheduled"
    assert app.drain() == []
