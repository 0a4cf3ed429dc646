"""The app the fault tests run in real server processes.

``work`` appends ``start`` and ``end`` lines to ``$JOBSAPP_LOG`` with its pid, attempt and
the time (``time.time()``), in the format ``tests.acceptance.harness.Harness.events``
reads, so a test can tell whether a job ran twice, and whether two runs overlapped.
"""

from __future__ import annotations

import os
import time

from backburner import Backburner, current_job

app = Backburner(os.environ.get("JOBSAPP_URL"))


def _record(event: str) -> None:
    context = current_job()
    line = f"{event} {context.id} {os.getpid()} {context.attempt} {time.time():.6f}\n"
    fd = os.open(os.environ["JOBSAPP_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


@app.job(name="faults.work")
def work(seconds: float = 0.0) -> int:
    _record("start")
    time.sleep(seconds)
    _record("end")
    return os.getpid()
