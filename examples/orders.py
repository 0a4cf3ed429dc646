"""Orders and a cache (seed 001): a FastAPI endpoint puts each order's processing on a
bounded in-process queue (capacity 100, producers wait when it is full) and sends a durable
confirmation job; a cache is cleaned every 30 minutes; ``/jobs/metrics`` shows the queue's
size, durations and failures, and ``/jobs/health`` its state.

Run it with ``scripts/demo orders`` (``python -m examples.orders``): orders are posted to
the endpoint every second; the dashboard is at ``/jobs/``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import signal
import threading
import time
import urllib.request

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from backburner import Backburner

app = Backburner(os.environ.get("BACKBURNER_URL", "sqlite:///backburner-orders.db"))
log = logging.getLogger("orders")

orders = app.task_queue("orders", capacity=100, concurrency=2)
CACHE_TTL = 15 * 60.0
cache: dict[str, tuple[float, str]] = {}
"""What the app caches, by key: (expiry on the monotonic clock, value)."""


async def process_order(order_id: int, items: int) -> None:
    """In-process work: fast, and cheap to lose in a crash (the confirmation is durable)."""
    await asyncio.sleep(0.01 * items)
    cache[f"order:{order_id}"] = (time.monotonic() + CACHE_TTL, "processed")
    log.info("order %s processed (%d items)", order_id, items)


@app.job(queue="default")
def send_confirmation(order_id: int) -> str:
    return f"confirmation sent for order {order_id}"


@app.periodic(every=dt.timedelta(minutes=30), name="cache-cleanup")
def cleanup_cache() -> int:
    """Drop expired entries; the number dropped."""
    now = time.monotonic()
    expired = [key for key, (expires, _) in cache.items() if expires <= now]
    for key in expired:
        cache.pop(key, None)
    log.info("cache cleanup: %d expired entries removed", len(expired))
    return len(expired)


class Order(BaseModel):
    id: int = Field(gt=0)
    items: int = Field(default=1, ge=1, le=100)


api = FastAPI(title="Orders", lifespan=app.lifespan(dashboard="/jobs"))


@api.post("/orders", status_code=202)
async def create_order(order: Order) -> dict[str, str]:
    await orders.put(process_order, order.id, order.items)  # waits while 100 are queued
    return {"order": str(order.id), "confirmation_job": await send_confirmation.aenqueue(order.id)}


@api.get("/orders/{order_id}")
async def order_status(order_id: int) -> dict[str, str]:
    found = cache.get(f"order:{order_id}")
    if found is None:
        raise HTTPException(404, f"order {order_id} is not processed (yet)")
    return {"order": str(order_id), "status": found[1]}


def produce(stop: threading.Event, base: str, every: float = 1.0) -> None:
    """Post an order to the running app every ``every`` seconds, as its users would."""
    order_id = 1
    while not stop.wait(every):
        body = json.dumps({"id": order_id, "items": order_id % 5 + 1}).encode()
        request = urllib.request.Request(
            f"{base}/orders", body, {"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                answer.read()
        except OSError as error:
            log.warning("posting order %s failed: %s", order_id, error)
        order_id += 1


def main() -> None:
    import uvicorn

    from examples._run import free_port

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s"
    )
    port = free_port(int(os.environ.get("DEMO_PORT", "8000")))
    web = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=port, access_log=False))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    # uvicorn on a thread of its own: in the main thread it would re-raise SIGTERM once
    # stopped, and the process would end with the signal rather than 0.
    thread = threading.Thread(target=web.run, name="uvicorn")
    thread.start()
    while not web.started and thread.is_alive():
        time.sleep(0.05)
    if web.started:
        bound = next(s.getsockname()[1] for server in web.servers for s in server.sockets)
        base = f"http://127.0.0.1:{bound}"
        logging.getLogger("backburner.web").info("dashboard at %s/jobs/", base)
        threading.Thread(target=produce, args=(stop, base), daemon=True).start()
        while not stop.wait(0.2) and thread.is_alive():
            pass
    stop.set()
    web.should_exit = True
    thread.join()


if __name__ == "__main__":
    main()
