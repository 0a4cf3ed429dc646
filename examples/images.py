"""Image analysis (seed 000): analysis jobs, an hourly sweep of pending images, and a
continuation that notifies the user once the analysis has succeeded.

Run it with ``scripts/demo images`` (``python -m examples.images``): images are uploaded
every few seconds; now and then an upload's job is "lost" (never enqueued) and the hourly
sweep, which you can trigger from the dashboard's Recurring page, picks it up.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import threading

from backburner import Backburner, Retry
from examples._run import run

app = Backburner(os.environ.get("BACKBURNER_URL", "sqlite:///backburner-images.db"))
log = logging.getLogger("images")

images: dict[int, str] = {}
"""Each image's status: ``pending`` until analysed, then ``analysed``. A real app keeps
this in its own database."""
notified: list[tuple[str, int]] = []
_lock = threading.Lock()


@app.job(queue="default", retry=Retry(attempts=3, delays=[5, 30]), timeout=60)
async def analyse(image_id: int) -> dict[str, object]:
    await asyncio.sleep(random.uniform(0.05, 0.3))  # the model's work
    labels = sorted(random.sample(["cat", "beach", "sunset", "bicycle", "cake"], k=2))
    with _lock:
        images[image_id] = "analysed"
    return {"image": image_id, "labels": labels}


@app.job(queue="critical")
def notify(user: str, image_id: int) -> None:
    notified.append((user, image_id))
    log.info("%s notified: image %s analysed", user, image_id)


@app.job(queue="low", cron="0 0 * * * *")
def sweep_pending() -> list[str]:
    """Every hour: enqueue an analysis for each image still pending (its upload's job was
    lost, or the upload came from a batch import). The ids of the jobs it enqueued."""
    with _lock:
        pending = [image_id for image_id, status in images.items() if status == "pending"]
    return [analyse.enqueue(image_id) for image_id in pending]


def upload(user: str, image_id: int, *, enqueue: bool = True) -> str | None:
    """What the upload endpoint does: store the image as pending, enqueue its analysis and
    the user's notification after it. The analysis job's id."""
    with _lock:
        images[image_id] = "pending"
    if not enqueue:
        return None
    analysis = analyse.enqueue(image_id)
    notify.continue_with(analysis, user, image_id)
    return analysis


def produce(stop: threading.Event, every: float = 2.0) -> None:
    image_id = 1
    while not stop.is_set():
        upload(random.choice(["ann", "bob", "eve"]), image_id, enqueue=random.random() > 0.2)
        image_id += 1
        stop.wait(every)


if __name__ == "__main__":
    run(app, produce, queues=["critical", "default", "low"])
