"""Jobs claimed ahead of free workers: started as workers free up, given back at a stop,
and never ahead of a more urgent queue when jobs are slow."""

from __future__ import annotations

import threading
import time

from backburner import Backburner, JobState, Settings
from backburner._settings import CODE
from tests.support import wait_until


def test_jobs_claimed_ahead_go_back_unstarted_when_the_server_stops(app: Backburner) -> None:
    app.settings = app.settings.override({"server.claim_ahead": (200, CODE)})
    ran: list[int] = []
    halfway = threading.Event()

    @app.job
    def step(n: int) -> None:
        ran.append(n)
        time.sleep(0.001)
        if len(ran) == 300:
            halfway.set()

    ids = step.enqueue_many([(n,) for n in range(3000)])
    with app.start_server(workers=1, shutdown_timeout=5.0):
        assert halfway.wait(30)
    jobs = [app.jobs.get(job_id) for job_id in ids]
    assert all(j is not None for j in jobs)
    states = {j.state for j in jobs if j is not None}
    assert states <= {JobState.SUCCEEDED, JobState.ENQUEUED}
    released = [
        j
        for j in jobs
        if j is not None and any("released unstarted" in (c.reason or "") for c in j.history)
    ]
    # The buffer held jobs when the server stopped; they are back, their claim not counted.
    assert released
    assert all(j.state is JobState.ENQUEUED and j.attempt == 0 for j in released)
    with app.start_server(workers=4):
        wait_until(lambda: len(ran) == 3000, timeout=60)
    assert sorted(ran) == list(range(3000))  # every job ran, and none twice


def test_slow_jobs_are_not_claimed_ahead_of_a_more_urgent_queue(app: Backburner) -> None:
    app.settings = app.settings.override({"server.claim_ahead": (100, CODE)})
    starts: list[str] = []

    @app.job(queue="low")
    def slow(n: int) -> None:
        starts.append(f"slow {n}")
        time.sleep(0.3)

    @app.job(queue="critical")
    def urgent() -> None:
        starts.append("urgent")

    for n in range(4):
        slow.enqueue(n)
    with app.start_server(queues=["critical", "low"], workers=1):
        wait_until(lambda: starts == ["slow 0"], timeout=10)
        urgent.enqueue()
        wait_until(lambda: len(starts) == 5, timeout=10)
    assert starts[:2] == ["slow 0", "urgent"]


def test_claim_ahead_is_a_setting() -> None:
    assert Settings().server.claim_ahead == 100
    assert Settings(server={"claim_ahead": 0}).server.claim_ahead == 0
