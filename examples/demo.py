"""A small photo product whose background jobs flow through a Backburner server.

Run it with ``scripts/demo`` (or ``python -m examples.demo``). Every few seconds it
uploads a few photos: each is analysed (an ``async`` job), a welcome email goes out on
the ``critical`` queue, a card payment fails once and succeeds on its retry, a reminder is
delayed, and the user is notified once their analysis has succeeded (a continuation).
The log prints the dashboard's address ("dashboard at http://127.0.0.1:8000/"; $DEMO_PORT
picks another port). Watch the log, or ask from another shell:
``backburner stats --url sqlite:///backburner-demo.db`` or
``backburner jobs list --url sqlite:///backburner-demo.db``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import threading
from datetime import timedelta

from backburner import Backburner, Retry, current_job
from examples._run import run

app = Backburner(os.environ.get("BACKBURNER_URL", "sqlite:///backburner-demo.db"))
log = logging.getLogger("demo")


@app.job(queue="default", timeout=30)
async def analyse_photo(photo_id: int) -> dict[str, object]:
    await asyncio.sleep(random.uniform(0.1, 0.6))
    labels = random.sample(["cat", "beach", "sunset", "bicycle", "cake"], k=2)
    log.info("photo %s analysed: %s", photo_id, ", ".join(labels))
    return {"photo": photo_id, "labels": labels}


@app.job(queue="critical")
def send_welcome(email: str, user_name: str) -> None:
    log.info("welcome email sent to %s <%s>", user_name, email)


@app.job(queue="default", retry=Retry(attempts=3, delays=[2]))
def charge_card(order_id: int, cents: int) -> str:
    attempt = current_job().attempt
    if attempt == 1:
        log.info(
            "order %s: the card processor timed out (attempt %d), will retry", order_id, attempt
        )
        raise ConnectionError("card processor timed out")
    log.info("order %s: charged %.2f EUR on attempt %d", order_id, cents / 100, attempt)
    return f"charge-{order_id}"


@app.job(queue="low")
def remind(user_name: str, event: str) -> None:
    log.info("reminder for %s: %s starts soon", user_name, event)


@app.job(queue="default")
def notify_user(user_name: str, photo_id: int) -> None:
    log.info("%s notified: photo %s is ready", user_name, photo_id)


def upload_batch(batch: int) -> None:
    """What a web request handler would do: enqueue work and return at once."""
    user = random.choice(["ann", "bob", "eve", "dan"])
    photo_id = batch * 10
    analysis = analyse_photo.enqueue(photo_id)
    notify_user.continue_with(analysis, user, photo_id)
    send_welcome.enqueue(f"{user}@example.com", user.title())
    charge_card.enqueue(batch, random.randint(500, 5000))
    remind.schedule(timedelta(seconds=5), user.title(), f"meetup #{batch}")
    log.info("batch %d enqueued (analysis job %s)", batch, analysis)


def produce(stop: threading.Event, every: float = 4.0) -> None:
    batch = 1
    while not stop.is_set():
        upload_batch(batch)
        batch += 1
        stop.wait(every)


def main() -> None:
    run(app, produce, queues=["critical", "default", "low"], workers=4)


if __name__ == "__main__":
    main()
