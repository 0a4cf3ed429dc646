"""``app.queues``: a running server stops taking a paused queue's jobs, and takes them
again once it is resumed, on every backend."""

from __future__ import annotations

import time

import pytest

from backburner import Backburner, JobState, QueuePaused, QueueResumed


def _jobs(app: Backburner) -> tuple[object, object]:
    @app.job(queue="emails")
    def send(n: int) -> int:
        return n

    @app.job
    def report(n: int) -> int:
        return n

    return send, report


def test_a_running_server_leaves_a_paused_queue_alone_until_it_is_resumed(
    app: Backburner,
) -> None:
    send, report = _jobs(app)
    with app.start_server(queues=["emails", "default"], workers=2):
        first = send.enqueue(1)  # type: ignore[attr-defined]
        assert app.jobs.wait(first, timeout=10).state is JobState.SUCCEEDED
        assert app.queues.pause("emails")
        held = send.enqueue(2)  # type: ignore[attr-defined]
        other = report.enqueue(3)  # type: ignore[attr-defined]
        assert app.jobs.wait(other, timeout=10).state is JobState.SUCCEEDED
        time.sleep(1.5)  # more than a poll: the server had every chance to claim it
        assert app.jobs.get(held).state is JobState.ENQUEUED  # type: ignore[union-attr]
        assert app.queues.resume("emails")
        assert app.jobs.wait(held, timeout=10).state is JobState.SUCCEEDED


def test_pausing_is_idempotent_and_shows_in_the_queue_list(app: Backburner) -> None:
    send, _ = _jobs(app)
    send.enqueue(1)  # type: ignore[attr-defined]
    assert app.queues.pause("emails", reason="paused by ann")
    assert not app.queues.pause("emails", reason="paused by bob")
    assert app.queues.pause("empty-yet")
    listed = {q.name: q for q in app.queues()}
    assert listed["emails"].paused
    assert listed["empty-yet"].paused
    assert listed["emails"].pause.reason == "paused by ann"  # type: ignore[union-attr]
    assert listed["emails"].enqueued.count == 1
    assert app.queues.get("empty-yet").enqueued.count == 0  # type: ignore[union-attr]
    assert [p.queue for p in app.queues.paused()] == ["emails", "empty-yet"]
    assert app.queues.resume("empty-yet")
    assert not app.queues.resume("empty-yet")
    assert app.queues.get("empty-yet") is None  # no job and no pause: no queue


def test_pause_and_resume_are_told_as_events(app: Backburner) -> None:
    heard: list[object] = []
    app.events.subscribe(heard.append, QueuePaused, QueueResumed)
    app.queues.pause("emails", reason="paused by ann")
    app.queues.pause("emails")  # already paused: nothing happened, nothing told
    app.queues.resume("emails", reason="resumed by ann")
    app.queues.resume("emails")
    assert heard == [
        QueuePaused("emails", "paused by ann"),
        QueueResumed("emails", "resumed by ann"),
    ]


def test_drain_leaves_the_jobs_of_a_paused_queue(app: Backburner) -> None:
    send, report = _jobs(app)
    app.queues.pause("emails")
    held = send.enqueue(1)  # type: ignore[attr-defined]
    ran = report.enqueue(2)  # type: ignore[attr-defined]
    assert app.drain(timeout=10) == [ran]
    assert app.jobs.get(held).state is JobState.ENQUEUED  # type: ignore[union-attr]
    app.queues.resume("emails")
    assert app.drain(timeout=10) == [held]


def test_a_queue_name_is_checked_before_pausing(app: Backburner) -> None:
    with pytest.raises(ValueError, match="queue name cannot be empty"):
        app.queues.pause("")
    assert app.queues.paused() == []
