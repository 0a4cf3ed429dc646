"""The events of ``app.events`` as jobs live and servers run, on every backend."""

from __future__ import annotations

import threading

from backburner import (
    Backburner,
    Event,
    JobDeleted,
    JobEnqueued,
    JobFailed,
    JobRequeued,
    JobStarted,
    JobState,
    JobSucceeded,
    RecurringEnqueued,
    Retry,
    ServerStarted,
    ServerStopped,
)
from tests.support import wait_until


class Recorder:
    """Collects events from whichever thread emits them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[Event] = []

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._events.append(event)

    def of(self, job_id: str) -> list[Event]:
        with self._lock:
            return [e for e in self._events if getattr(e, "id", None) == job_id]

    def all(self) -> list[Event]:
        with self._lock:
            return list(self._events)


def test_a_job_that_succeeds_is_enqueued_started_and_succeeded(app: Backburner) -> None:
    @app.job(queue="reports")
    def report(n: int) -> int:
        return n * 2

    heard = Recorder()
    app.events.subscribe(heard)
    job_id = report.enqueue(21)
    with app.start_server(queues=["reports"], workers=1, server_timeout=1.5) as server:
        assert app.jobs.wait(job_id, timeout=10).state is JobState.SUCCEEDED
        wait_until(lambda: len(heard.of(job_id)) == 3, what="three events of the job")
    wait_until(lambda: any(isinstance(e, ServerStopped) for e in heard.all()), what="stop")
    enqueued, started, succeeded = heard.of(job_id)
    assert isinstance(enqueued, JobEnqueued)
    assert (enqueued.name, enqueued.queue, enqueued.state) == (report.name, "reports", "enqueued")
    assert isinstance(started, JobStarted)
    assert (started.name, started.queue, started.attempt) == (report.name, "reports", 1)
    assert started.server_id == server.id
    assert started.waited is None  # enqueued to run at once: no due instant
    assert started.queued is not None
    assert 0 <= started.queued < 10  # from the enqueue to the start
    assert isinstance(succeeded, JobSucceeded)
    assert (succeeded.attempt, succeeded.server_id) == (1, server.id)
    assert succeeded.duration >= 0
    kinds = [type(e) for e in heard.all()]
    assert kinds[0] is JobEnqueued
    assert kinds.index(ServerStarted) < kinds.index(JobStarted)
    assert kinds[-1] is ServerStopped
    stopped = [e for e in heard.all() if isinstance(e, ServerStopped)]
    assert [e.server_id for e in stopped] == [server.id]


def test_a_failing_job_tells_whether_it_will_retry(app: Backburner) -> None:
    @app.job(retry=Retry(attempts=1, delays=[0.05]))
    def flaky() -> None:
        raise ConnectionError("service down")

    heard = Recorder()
    app.events.subscribe(heard, JobStarted, JobFailed, JobSucceeded)
    job_id = flaky.enqueue()
    with app.start_server(workers=1, server_timeout=1.5):
        assert app.jobs.wait(job_id, timeout=10).state is JobState.FAILED
        wait_until(lambda: len(heard.of(job_id)) == 4, what="two starts and two failures")
    first_start, retried, second_start, failed = heard.of(job_id)
    assert isinstance(first_start, JobStarted)
    assert first_start.attempt == 1
    assert isinstance(retried, JobFailed)
    assert (retried.attempt, retried.error_type, retried.will_retry) == (
        1,
        "ConnectionError",
        True,
    )
    assert retried.retry_at is not None
    assert isinstance(second_start, JobStarted)
    assert second_start.attempt == 2
    assert isinstance(failed, JobFailed)
    assert (failed.attempt, failed.will_retry, failed.retry_at) == (2, False, None)


def test_a_scheduled_job_started_says_how_long_it_waited_past_its_instant(
    app: Backburner,
) -> None:
    heard = Recorder()
    app.events.subscribe(heard, JobStarted)
    job_id = app.schedule("reports.soon", 0.05)
    with app.start_server(workers=1, server_timeout=1.5):
        wait_until(lambda: heard.of(job_id), what="the start")
    [started] = heard.of(job_id)
    assert isinstance(started, JobStarted)
    assert started.waited is not None
    assert started.waited >= 0


def test_requeue_and_delete_by_hand_are_told(app: Backburner) -> None:
    heard = Recorder()
    app.events.subscribe(heard, JobRequeued, JobDeleted, JobEnqueued)
    scheduled = app.schedule("reports.later", 3600)
    assert app.jobs.requeue(scheduled)
    assert app.jobs.delete(scheduled)
    assert not app.jobs.delete(scheduled)  # already deleted: nothing more is told
    enqueued, requeued, deleted = heard.of(scheduled)
    assert isinstance(enqueued, JobEnqueued)
    assert enqueued.state == "scheduled"
    assert requeued == JobRequeued(scheduled, "default", "requeued")
    assert deleted == JobDeleted(scheduled, "deleted")
    parent = app.enqueue("reports.first")
    child = app.continue_with("reports.then", parent)
    [awaiting] = heard.of(child)
    assert isinstance(awaiting, JobEnqueued)
    assert awaiting.state == "awaiting"


def test_recurring_runs_are_told_by_schedule_and_by_hand(app: Backburner) -> None:
    @app.job
    def tick() -> None: ...

    heard = Recorder()
    app.events.subscribe(heard, RecurringEnqueued)
    app.recurring.add_or_update("ticker", tick, "* * * * * *")
    by_hand = app.recurring.trigger("ticker")
    [triggered] = heard.all()
    assert isinstance(triggered, RecurringEnqueued)
    assert (triggered.recurring_id, triggered.job_id) == ("ticker", by_hand)
    with app.start_server(workers=1, server_timeout=1.5):
        wait_until(lambda: len(heard.all()) >= 2, what="a scheduled run")
    scheduled = heard.all()[1]
    assert isinstance(scheduled, RecurringEnqueued)
    assert scheduled.recurring_id == "ticker"
    job = app.jobs.get(scheduled.job_id)
    assert job is not None
    assert job.recurring_id == "ticker"
    assert job.run_at == scheduled.instant


def test_a_raising_subscriber_never_fails_a_job(app: Backburner) -> None:
    @app.job
    def fine() -> str:
        return "ok"

    def broken(event: Event) -> None:
        raise RuntimeError("subscriber bug")

    app.events.subscribe(broken)
    job_id = fine.enqueue()  # the enqueue itself is not broken either
    with app.start_server(workers=1, server_timeout=1.5):
        job = app.jobs.wait(job_id, timeout=10)
    assert (job.state, job.result) == (JobState.SUCCEEDED, "ok")
    assert app.jobs.delete(job_id)


def test_servers_lists_the_live_servers(app: Backburner) -> None:
    assert app.servers() == []
    with app.start_server(queues=["reports", "default"], workers=2, server_timeout=1.5) as server:
        [info] = app.servers()
        assert (info.id, info.queues, info.workers) == (server.id, ("reports", "default"), 2)
        assert app.stats().servers == 1
    assert app.servers() == []
