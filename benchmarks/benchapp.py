"""The jobs ``benchmarks/bench.py`` enqueues and a separate server process runs.

The server side is started as::

    BACKBURNER_URL=sqlite:////tmp/x/bench.db backburner server --app benchmarks.benchapp:app

The benchmark's client side uses a fresh app (and storage) per measurement, so the jobs
are plain functions that ``register()`` attaches to any app under fixed names.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from backburner import Backburner, JobFunction

NOOP = "bench.noop"
ASYNC_NOOP = "bench.async_noop"
STAMP = "bench.stamp"
ASYNC_STAMP = "bench.async_stamp"
NAP = "bench.nap"


def noop(i: int) -> None:
    """Does nothing: what is left is the cost of claiming, running and recording a job."""


async def async_noop(i: int) -> None:
    """Does nothing, on the server's event loop."""


def stamp(enqueued_at: float) -> list[float]:
    """When the job started, next to when it was enqueued (``time.time()``, both)."""
    return [enqueued_at, time.time()]


async def async_stamp(enqueued_at: float) -> list[float]:
    return [enqueued_at, time.time()]


async def nap(seconds: float) -> float:
    """Sleeps, cancellably; returns when it started (``time.time()``)."""
    started = time.time()
    await asyncio.sleep(seconds)
    return started


@dataclass(frozen=True)
class BenchJobs:
    noop: JobFunction[[int], None]
    async_noop: JobFunction[[int], Coroutine[Any, Any, None]]
    stamp: JobFunction[[float], list[float]]
    async_stamp: JobFunction[[float], Coroutine[Any, Any, list[float]]]
    nap: JobFunction[[float], Coroutine[Any, Any, float]]


def register(target: Backburner) -> BenchJobs:
    """Register the benchmark jobs on ``target``."""
    return BenchJobs(
        noop=target.job(name=NOOP)(noop),
        async_noop=target.job(name=ASYNC_NOOP)(async_noop),
        stamp=target.job(name=STAMP)(stamp),
        async_stamp=target.job(name=ASYNC_STAMP)(async_stamp),
        nap=target.job(name=NAP)(nap),
    )


app = Backburner(os.environ["BACKBURNER_URL"])
jobs = register(app)
