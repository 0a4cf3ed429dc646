"""The event-management example (seed 002), tested as its author would."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import ModuleType

import pytest

from backburner import JobState

Load = Callable[[str], ModuleType]


def test_registering_sends_the_welcome_now_and_schedules_both_reminders(example: Load) -> None:
    events = example("events")
    starts = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    welcome, day_before, half_hour_before = events.register(
        "ann@example.com", "Ann", "PyCon", starts
    )
    assert events.app.drain() == [welcome]
    assert events.outbox.sent == [("ann@example.com", "Welcome Ann, you are registered for PyCon")]
    job = events.app.jobs.get(welcome)
    assert (job.queue, job.state) == ("critical", JobState.SUCCEEDED)
    for job_id, before in (
        (day_before, dt.timedelta(days=1)),
        (half_hour_before, dt.timedelta(minutes=30)),
    ):
        reminder = events.app.jobs.get(job_id)
        assert reminder.state is JobState.SCHEDULED
        assert reminder.queue == "default"
        assert reminder.run_at == starts - before


def test_no_reminder_for_a_time_already_past_and_a_naive_time_is_refused(example: Load) -> None:
    events = example("events")
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    assert len(events.register("bob@example.com", "Bob", "Standup", soon)) == 1
    with pytest.raises(ValueError, match="time zone"):
        events.register("bob@example.com", "Bob", "Standup", dt.datetime(2030, 1, 1))


def test_a_reminder_names_the_event_and_its_time(example: Load) -> None:
    events = example("events")
    at = dt.datetime(2030, 5, 1, 18, 30, tzinfo=dt.UTC)
    events.send_reminder.run_inline("eve@example.com", "Meetup", at)
    assert events.outbox.sent == [
        ("eve@example.com", "Reminder: Meetup starts at 2030-05-01 18:30 UTC")
    ]


def test_emails_retry_after_60_300_and_900_seconds_and_reports_run_by_cron(example: Load) -> None:
    events = example("events")
    assert list(events.send_welcome.options.retry.delays) == [60, 300, 900]
    with events.app.start_server():
        recurring = {r.id: r for r in events.app.recurring.list()}
    report = recurring["examples.events.daily_report"]
    assert (report.cron, report.timezone) == ("0 0 8 * * *", "Europe/Madrid")
    assert recurring["examples.events.weekly_cleanup"].cron == "0 0 3 * * SUN"
    assert events.daily_report.run_inline() == {"emails_sent": 0}
