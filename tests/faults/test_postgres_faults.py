"""PostgreSQL connections cut or stalled at chosen moments, and clocks that disagree.

The servers under test reach PostgreSQL through ``FaultProxy``; the test reads and
enqueues directly.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from backburner import Backburner
from tests.acceptance.harness import Harness, wait_for

from .conftest import APP
from .proxy import FaultProxy
from .runs import assert_each_ran_once, client, history_reasons, rescued, runs

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SHIM = str(Path(__file__).parent / "shim")


def _succeeded(app: Backburner, count: int, timeout: float) -> None:
    wait_for(lambda: app.stats().succeeded == count, timeout, f"{count} jobs to succeed")


def test_jobs_of_claims_whose_reply_was_lost_run_once_while_their_server_lives(
    pg_bb: Harness, proxy: FaultProxy
) -> None:
    app, work = client(pg_bb.url)
    try:
        app.migrate()
        ids = work.enqueue_many([(0.0,)] * 300)
        # Every third reply that hands over jobs never arrives: five claims committed in
        # the database, unknown to the server that made them.
        proxy.cut_replies(b"faults.work", every=3, times=5)
        server = pg_bb.start_server(
            "--workers", "4", app=APP, env={"BACKBURNER_URL": proxy.route(pg_bb.url)}
        )
        _succeeded(app, len(ids), 30)
        assert proxy.cuts == 5
        assert server.alive()
        assert app.stats().processing == 0
        assert_each_ran_once(pg_bb, ids)
        lost = f"claim lost before it reached server {server.server_id}"
        recovered = [i for i, r in history_reasons(app, ids).items() if lost in r]
        assert recovered, "no job came back from a lost claim"
        [job] = [app.jobs.get(recovered[0])]
        assert job is not None
        assert job.attempt == 1
    finally:
        app.close()


def test_a_server_whose_heartbeat_hangs_past_its_timeout_does_not_rescue_itself(
    pg_bb: Harness, proxy: FaultProxy
) -> None:
    app, work = client(pg_bb.url)
    try:
        app.migrate()
        server = pg_bb.start_server(
            "--workers", "4", app=APP, env={"BACKBURNER_URL": proxy.route(pg_bb.url)}
        )
        ids = [work.enqueue(4.0) for _ in range(2)]
        wait_for(lambda: len(runs(pg_bb)) == 2, 10, "both jobs to start")
        # A heartbeat's reply (INSERT 0 1) held back twice the server's timeout: its row
        # was written before the stall, and looks old once the stall is over.
        proxy.stall_replies(b"INSERT 0 1", 3.0)
        wait_for(lambda: proxy.stalls == 1, 5, "a heartbeat to stall")
        _succeeded(app, len(ids), 20)
        assert_each_ran_once(pg_bb, ids)
        assert rescued(app, ids) == {}
        assert "storage stalled" in server.text()
    finally:
        app.close()


def test_a_server_whose_clock_is_behind_claims_promptly_and_is_not_taken_for_dead(
    pg_bb: Harness,
) -> None:
    app, work = client(pg_bb.url)
    try:
        app.migrate()
        skewed_env = {
            "FAULTS_CLOCK_SKEW": "20",
            "PYTHONPATH": os.pathsep.join([SHIM, pg_bb.env["PYTHONPATH"]]),
        }
        skewed = pg_bb.start_server("--workers", "1", name="skewed", app=APP, env=skewed_env)
        # Serves another queue: it would only rescue, if it took the skewed server for dead.
        pg_bb.start_server("--workers", "1", "--queues", "other", name="right", app=APP)
        [job_id] = [work.enqueue(4.0)]  # more than twice the timeout
        run = wait_for(lambda: runs(pg_bb).get(job_id), 3, "the skewed server to claim it")
        assert run[0].pid == skewed.pid
        _succeeded(app, 1, 15)
        assert_each_ran_once(pg_bb, [job_id])
        assert rescued(app, [job_id]) == {}
        assert "clock is 20.0 s behind the database's; times are corrected" in skewed.text()
    finally:
        app.close()
