"""Event management (seed 002): a welcome email on ``critical``, reminders a day and 30
minutes before an event, a daily report and a weekly cleanup by cron in a time zone,
queues ``critical/default/low``, retries after 60, 300 and 900 seconds.

Run it with ``scripts/demo events`` (``python -m examples.events``): people register for
events every few seconds; watch the dashboard (its address is in the log) fill up with
sent emails and scheduled reminders.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import threading
from dataclasses import dataclass

from backburner import Backburner, Retry
from examples._run import run

app = Backburner(os.environ.get("BACKBURNER_URL", "sqlite:///backburner-events.db"))
log = logging.getLogger("events")

TIMEZONE = "Europe/Madrid"
EMAIL_RETRY = Retry(attempts=3, delays=[60, 300, 900])
REMINDERS = (dt.timedelta(days=1), dt.timedelta(minutes=30))


@dataclass
class Outbox:
    """Where emails go: a real app would call its mail provider here."""

    sent: list[tuple[str, str]]

    def send(self, to: str, subject: str) -> None:
        self.sent.append((to, subject))
        log.info("email to %s: %s", to, subject)


outbox = Outbox([])


@app.job(queue="critical", retry=EMAIL_RETRY)
def send_welcome(email: str, name: str, event: str) -> None:
    outbox.send(email, f"Welcome {name}, you are registered for {event}")


@app.job(queue="default", retry=EMAIL_RETRY)
def send_reminder(email: str, event: str, starts_at: dt.datetime) -> None:
    outbox.send(email, f"Reminder: {event} starts at {starts_at:%Y-%m-%d %H:%M %Z}")


@app.job(queue="low", cron="0 0 8 * * *", timezone=TIMEZONE)
def daily_report() -> dict[str, int]:
    """Every day at 08:00, Madrid time: how many emails went out."""
    report = {"emails_sent": len(outbox.sent)}
    log.info("daily report: %s", report)
    return report


@app.job(queue="low", cron="0 0 3 * * SUN", timezone=TIMEZONE)
def weekly_cleanup() -> int:
    """Every Sunday at 03:00, Madrid time: forget the emails sent."""
    removed = len(outbox.sent)
    outbox.sent.clear()
    return removed


def register(email: str, name: str, event: str, starts_at: dt.datetime) -> list[str]:
    """What the registration endpoint does: the welcome at once, each reminder at its time
    (none for a time already past). The ids of the jobs it stored."""
    if starts_at.tzinfo is None:
        raise ValueError("starts_at needs a time zone")
    ids = [send_welcome.enqueue(email, name, event)]
    now = dt.datetime.now(dt.UTC)
    for before in REMINDERS:
        at = starts_at - before
        if at > now:
            ids.append(send_reminder.schedule(at, email, event, starts_at))
    return ids


def produce(stop: threading.Event, every: float = 3.0) -> None:
    names = ["Ann", "Bob", "Eve", "Dan"]
    while not stop.is_set():
        name = random.choice(names)
        # Events soon, so that the 30-minute reminder of some comes while the demo runs.
        starts = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30, seconds=random.randint(5, 60))
        register(f"{name.lower()}@example.com", name, f"meetup {random.randint(1, 99)}", starts)
        stop.wait(every)


if __name__ == "__main__":
    run(app, produce, queues=["critical", "default", "low"])
