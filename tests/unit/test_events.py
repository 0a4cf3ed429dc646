"""The event hub: subscribing by kind, unsubscribing, and subscribers that raise."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from backburner import (
    Backburner,
    Event,
    EventHub,
    JobDeleted,
    JobEnqueued,
    JobFailed,
    JobSucceeded,
    ServerStopped,
)

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def enqueued(job_id: str = "1") -> JobEnqueued:
    return JobEnqueued(job_id, "report", "default", "enqueued", NOW)


def test_a_subscriber_hears_only_its_kinds_in_order() -> None:
    hub = EventHub()
    heard: list[Event] = []
    hub.subscribe(heard.append, JobEnqueued, JobDeleted)
    hub.emit(enqueued("1"))
    hub.emit(ServerStopped("s1"))
    hub.emit(JobDeleted("1", "deleted"))
    assert heard == [enqueued("1"), JobDeleted("1", "deleted")]


def test_a_subscriber_of_no_kind_or_of_event_hears_every_event() -> None:
    hub = EventHub()
    everything: list[Event] = []
    base: list[Event] = []
    hub.subscribe(everything.append)
    hub.subscribe(base.append, Event)
    hub.emit(enqueued())
    hub.emit(ServerStopped("s1"))
    assert everything == base == [enqueued(), ServerStopped("s1")]


def test_unsubscribe_stops_delivery_and_can_be_called_twice() -> None:
    hub = EventHub()
    heard: list[Event] = []
    unsubscribe = hub.subscribe(heard.append, JobEnqueued)
    hub.emit(enqueued("1"))
    unsubscribe()
    unsubscribe()
    hub.emit(enqueued("2"))
    assert heard == [enqueued("1")]
    assert not hub.wants(JobEnqueued)


def test_wants_says_whether_anyone_listens_to_a_kind() -> None:
    hub = EventHub()
    assert not hub.wants(JobSucceeded)
    unsubscribe = hub.subscribe(lambda event: None, JobSucceeded)
    assert hub.wants(JobSucceeded)
    assert not hub.wants(JobFailed)
    unsubscribe()
    assert not hub.wants(JobSucceeded)


def test_a_raising_subscriber_is_logged_once_and_the_others_still_hear(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hub = EventHub()
    heard: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("dashboard gone")

    hub.subscribe(broken, JobEnqueued)
    hub.subscribe(heard.append, JobEnqueued)
    with caplog.at_level(logging.ERROR, logger="backburner.events"):
        hub.emit(enqueued("1"))
        hub.emit(enqueued("2"))
    assert heard == [enqueued("1"), enqueued("2")]
    logged = [r for r in caplog.records if r.name == "backburner.events"]
    assert len(logged) == 1  # not once per event: at most once a minute
    assert "JobEnqueued" in logged[0].getMessage()
    assert "dashboard gone" in (logged[0].exc_text or "")


def test_subscribe_refuses_what_is_not_an_event_kind() -> None:
    hub = EventHub()
    with pytest.raises(TypeError, match="event classes"):
        hub.subscribe(print, str)  # type: ignore[type-var]
    with pytest.raises(TypeError, match="callable"):
        hub.subscribe("print")  # type: ignore[arg-type]


def test_no_event_is_built_when_nobody_listens_to_its_kind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[object] = []

    def counting_init(self: object, *args: object, **kwargs: object) -> None:
        built.append(self)

    app = Backburner("memory://")
    app.events.subscribe(lambda event: None, ServerStopped)
    monkeypatch.setattr(JobEnqueued, "__init__", counting_init)
    monkeypatch.setattr(JobDeleted, "__init__", counting_init)
    job_id = app.enqueue("report")
    app.jobs.delete(job_id)
    assert built == []
    app.close()
