"""The worker-thread pool and the batched hand-off of its results to an event loop."""

from __future__ import annotations

import asyncio
import functools
import threading
import time

import pytest

from backburner.server._threads import DaemonThreadPool, LoopHandoff


@pytest.fixture
def pool() -> DaemonThreadPool:
    return DaemonThreadPool(4)


def test_results_and_errors_reach_the_loop(pool: DaemonThreadPool) -> None:
    def fail() -> int:
        raise KeyError("gone")

    async def main() -> None:
        handoff = LoopHandoff(asyncio.get_running_loop())
        assert await handoff.watch(pool.submit(lambda: 42)) == 42
        with pytest.raises(KeyError, match="gone"):
            await handoff.watch(pool.submit(fail))

    asyncio.run(main())
    pool.shutdown()


def test_many_results_arrive_with_few_wake_ups(pool: DaemonThreadPool) -> None:
    release = threading.Event()

    async def main() -> tuple[list[int], int]:
        handoff = LoopHandoff(asyncio.get_running_loop())
        wake_ups = 0
        deliver = handoff._deliver

        def counted() -> None:
            nonlocal wake_ups
            wake_ups += 1
            deliver()

        handoff._deliver = counted  # type: ignore[method-assign]

        def job(i: int) -> int:
            release.wait()
            return i

        waiters = [handoff.watch(pool.submit(functools.partial(job, i))) for i in range(4)]
        # Hold the loop until every thread has handed its result over.
        release.set()
        while len(handoff._done) < 4:
            time.sleep(0.001)
        return list(await asyncio.gather(*waiters)), wake_ups

    results, wake_ups = asyncio.run(main())
    assert results == [0, 1, 2, 3]
    assert wake_ups == 1
    pool.shutdown()


def test_cancelling_the_waiter_cancels_a_job_not_started_yet() -> None:
    one = DaemonThreadPool(1)
    started = threading.Event()
    release = threading.Event()
    ran: list[str] = []

    def blocker() -> None:
        started.set()
        release.wait()

    async def main() -> None:
        handoff = LoopHandoff(asyncio.get_running_loop())
        first = handoff.watch(one.submit(blocker))
        queued = one.submit(lambda: ran.append("second"))
        second = handoff.watch(queued)
        await asyncio.to_thread(started.wait)
        second.cancel()
        await asyncio.sleep(0)
        assert queued.cancelled()
        release.set()
        await first

    asyncio.run(main())
    one.shutdown()
    assert ran == []
