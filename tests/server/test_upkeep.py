"""A server's upkeep: jobs it holds without having received them, and its own rescue."""

from __future__ import annotations

import threading

from backburner import Backburner, JobState
from backburner._client import utcnow
from tests.support import wait_until


def test_jobs_claimed_in_a_servers_name_but_never_received_run_while_it_lives(
    app: Backburner,
) -> None:
    ran: list[int] = []
    go = threading.Event()

    @app.job
    def work(n: int) -> int:
        go.wait(10)
        ran.append(n)
        return n

    with app.start_server(workers=1, server_timeout=1.5) as server:
        first = work.enqueue(1)
        wait_until(lambda: app.jobs.get(first).state is JobState.PROCESSING, 5)  # type: ignore[union-attr]
        # A claim that committed in the server's name, whose reply the server never got.
        lost = work.enqueue(2)
        [claimed] = app.storage.job_claim(server.id, ["default"], 1, utcnow())
        assert claimed.id == lost
        go.set()
        job = app.jobs.wait(lost, timeout=10)
    assert job.state is JobState.SUCCEEDED
    assert sorted(ran) == [1, 2]
    assert job.attempt == 1  # the lost claim was not an attempt
    reasons = [h.reason for h in job.history]
    assert f"claim lost before it reached server {server.id}" in reasons
