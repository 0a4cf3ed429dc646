"""Polling and sync services (seed 003): a service that polls a supplier and backs off
while it fails, a price sync on a timer, and a nightly export by cron with seconds
(``0 0 2 * * *``); all in the server process, shown in ``/health`` and the dashboard.

Run it with ``scripts/demo sync`` (``python -m examples.sync``); the supplier fails now and
then, and the log shows the poller backing off and recovering.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import threading

from backburner import Backburner
from examples._run import run

app = Backburner(os.environ.get("BACKBURNER_URL", "sqlite:///backburner-sync.db"))
log = logging.getLogger("sync")

POLL_EVERY = 2.0
MAX_BACKOFF = 60.0


class Supplier:
    """A remote system that is down now and then (``failure_rate``)."""

    def __init__(self, failure_rate: float = 0.2) -> None:
        self.failure_rate = failure_rate
        self.stock: dict[str, int] = {"apples": 10, "pears": 4}
        self.prices: dict[str, float] = {"apples": 1.2, "pears": 2.5}

    async def changes(self) -> dict[str, int]:
        await asyncio.sleep(0.01)
        if random.random() < self.failure_rate:
            raise ConnectionError("supplier unreachable")
        return {item: count + random.randint(-1, 1) for item, count in self.stock.items()}


supplier = Supplier()
inventory: dict[str, int] = {}
prices: dict[str, float] = {}


def next_delay(failures: int) -> float:
    """The pause before the next poll: ``POLL_EVERY``, doubled per failure in a row, up to
    ``MAX_BACKOFF``."""
    return min(MAX_BACKOFF, POLL_EVERY * 2.0**failures)


@app.service(name="inventory-poller")
async def poll_inventory(stop: asyncio.Event) -> None:
    """Poll the supplier until stopped; while it fails, wait longer between polls."""
    failures = 0
    while not stop.is_set():
        try:
            inventory.update(await supplier.changes())
            if failures:
                log.info("supplier back after %d failed poll(s)", failures)
            failures = 0
        except ConnectionError as error:
            failures += 1
            log.warning("poll failed (%s); next in %.0f s", error, next_delay(failures))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), next_delay(failures))


@app.periodic(every=dt.timedelta(seconds=30), name="price-sync")
def sync_prices() -> None:
    """Copy the supplier's prices. A run that raises is logged and backed off by the server;
    the next one still comes."""
    if random.random() < supplier.failure_rate:
        raise ConnectionError("price list unavailable")
    prices.update(supplier.prices)


@app.job(queue="low", cron="0 0 2 * * *", timezone="UTC")
def nightly_export() -> dict[str, int]:
    """Every night at 02:00 UTC, as a durable job with a history: the inventory's size."""
    return {"items": len(inventory), "units": sum(inventory.values())}


def produce(stop: threading.Event) -> None:
    """Nothing to feed: the services find their work themselves."""


if __name__ == "__main__":
    run(app, produce, queues=["default", "low"])
