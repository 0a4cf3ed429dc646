"""The app the acceptance tests run in real server processes.

Every job that runs appends one line to the file named by ``$JOBSAPP_LOG``:
``EVENT JOB_ID PID ATTEMPT [DETAIL]``, so a test can count what ran where, and how often.
Lines are written with one ``os.write`` on an ``O_APPEND`` descriptor, so processes that
share the file never interleave them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import Any

from backburner import Backburner, JobContext, Retry, current_job

# $JOBSAPP_URL pins the storage in code; otherwise the app follows $BACKBURNER_URL.
app = Backburner(os.environ.get("JOBSAPP_URL"))


def record(event: str, context: JobContext, detail: object = "") -> None:
    line = f"{event} {context.id} {os.getpid()} {context.attempt} {detail}".rstrip() + "\n"
    fd = os.open(os.environ["JOBSAPP_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


@app.job
def quick(value: Any = None, pause: float = 0.0) -> dict[str, Any]:
    """Runs at once (or after ``pause`` seconds); its result echoes ``value``."""
    record("run", current_job())
    time.sleep(pause)
    return {"value": value, "pid": os.getpid()}


@app.job
def echo(*args: Any, **kwargs: Any) -> dict[str, Any]:
    record("run", current_job())
    return {"args": list(args), "kwargs": kwargs}


@app.job
def slow(seconds: float) -> str:
    """A sync job that sleeps in small steps and stops as soon as it is asked to."""
    context = current_job()
    record("start", context)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if context.is_cancelled:
            record("cancelled", context, context.cancel_reason)
            context.raise_if_cancelled()
        time.sleep(0.02)
    record("done", context)
    return f"slept {seconds}"


@app.job
async def aslow(seconds: float) -> str:
    """The async version: cancelled at its ``await``."""
    context = current_job()
    record("start", context)
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        record("cancelled", context, context.cancel_reason)
        raise
    record("done", context)
    return f"slept {seconds}"


@app.job
def stubborn(seconds: float) -> str:
    """A sync job that never checks whether it was asked to stop."""
    context = current_job()
    record("start", context)
    time.sleep(seconds)
    record("done", context)
    return f"slept {seconds}"


@app.job
def obstinate_once(first_seconds: float, seconds: float) -> str:
    """Ignores cancellation on its first attempt only; later attempts behave like ``slow``."""
    context = current_job()
    if context.attempt == 1:
        record("start", context)
        time.sleep(first_seconds)
        record("done", context)
        return f"slept {first_seconds}"
    return str(slow.func(seconds))


@app.job(retry=Retry(attempts=0))
def always_fails() -> None:
    record("run", current_job())
    raise RuntimeError("this job always fails")


@app.job(retry=Retry(attempts=0))
def needs_flag(flag: str) -> str:
    """Fails for good until the file ``flag`` exists."""
    record("run", current_job())
    if not Path(flag).exists():
        raise FileNotFoundError(f"flag file {flag} is missing")
    return "flag found"


@app.job(retry=Retry(attempts=3, delays=[0.2]))
def flaky(failures: int) -> int:
    """Fails on its first ``failures`` attempts, then succeeds."""
    context = current_job()
    record("run", context)
    if context.attempt <= failures:
        raise ConnectionError(f"flaky failure on attempt {context.attempt}")
    return context.attempt


@app.job
def tick() -> str:
    """A recurring job's run: logs ``RECURRING_ID DUE_AT STARTED_AT`` and returns its instant."""
    context = current_job()
    due = context.due_at.isoformat() if context.due_at is not None else "-"
    record("tick", context, f"{context.recurring_id} {due} {time.time():.6f}")
    return due


@app.job
def chatty(word: str) -> str:
    """Logs a line of its own (the server's log adds the job's fields to it)."""
    logging.getLogger("jobsapp").info("said %s", word)
    return word


@app.job(redact=["password"])
def login(user: str, password: str) -> dict[str, Any]:
    """Runs with its password in clear; shows it nowhere (``redact=``)."""
    return {"user": user, "password_length": len(password), "token": password[::-1]}
