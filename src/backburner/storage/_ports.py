"""Claim ports (``Storage.claim_port()``) built on a backend's synchronous verbs."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

from ._protocol import ClaimedJob, Outcome

T = TypeVar("T")


class ClaimVerbs(Protocol):
    def job_claim(
        self, server_id: str, queues: Sequence[str], limit: int, now: dt.datetime
    ) -> list[ClaimedJob]: ...

    def job_finish_many(self, outcomes: Sequence[Outcome]) -> list[str]: ...


class DirectPort:
    """The verbs called in place, for a backend whose calls never wait for long."""

    def __init__(self, verbs: ClaimVerbs) -> None:
        self._verbs = verbs

    async def job_claim(
        self, server_id: str, queues: Sequence[str], limit: int, now: dt.datetime
    ) -> list[ClaimedJob]:
        return self._verbs.job_claim(server_id, queues, limit, now)

    async def job_finish_many(self, outcomes: Sequence[Outcome]) -> list[str]:
        return self._verbs.job_finish_many(outcomes)

    async def close(self) -> None:
        pass


class Threads:
    """Two threads of a port's own, started when first needed: a claim and a batch of
    outcomes can then wait side by side without holding up the event loop."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None

    async def call(self, fn: Callable[..., T], *args: object) -> T:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(2, thread_name_prefix="backburner-io")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            # Nothing is in flight when a port is closed; a thread still stuck in a call
            # must not hold up the loop's shutdown.
            pool.shutdown(wait=False)


class ThreadedPort:
    """The verbs called on the port's threads, for a backend whose calls may wait."""

    def __init__(self, verbs: ClaimVerbs) -> None:
        self._verbs = verbs
        self._threads = Threads()

    async def job_claim(
        self, server_id: str, queues: Sequence[str], limit: int, now: dt.datetime
    ) -> list[ClaimedJob]:
        return await self._threads.call(self._verbs.job_claim, server_id, queues, limit, now)

    async def job_finish_many(self, outcomes: Sequence[Outcome]) -> list[str]:
        return await self._threads.call(self._verbs.job_finish_many, outcomes)

    async def close(self) -> None:
        self._threads.close()
