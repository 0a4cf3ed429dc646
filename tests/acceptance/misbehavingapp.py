"""Jobs that misbehave, for real server processes: they exit, or ignore cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import sys

from backburner import Backburner, Retry

app = Backburner()


@app.job(name="exits", retry=Retry(attempts=0))
def exits(code: int) -> None:
    """As ``argparse`` does on bad input, or a ``click`` command run inside a job."""
    sys.exit(code)


@app.job(name="swallows")
async def swallows() -> None:
    """A retry loop with a bare ``except``, which also swallows ``CancelledError``."""
    while True:
        with contextlib.suppress(BaseException):
            await asyncio.sleep(0.05)


@app.job(name="ok")
def ok(n: int) -> int:
    return n
