"""PostgreSQL connections cut or stalled at chosen moments, and clocks that disagree.

The servers under test reach PostgreSQL through ``FaultProxy``; the test reads and
enqueues directly.
"""

from __future__ import annotations

import os
import sys
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


ENQUEUE = (
    "import os\n"
    "from tests.faults.runs import client\n"
    "app, work = client(os.environ['BACKBURNER_URL'])\n"
    "print(work.enqueue(4.0))\n"  # more than twice the servers' timeout
)


@pytest.mark.parametrize("skew", [20.0, -20.0], ids=["behind", "ahead"])
def test_servers_whose_clocks_disagree_claim_promptly_and_run_each_job_once(
    pg_bb: Harness, skew: float
) -> None:
    """One host's clock is ``skew`` seconds behind the others'. The job is enqueued on one
    clock and runs on a server on the other; a second server, on the clock it does not
    run on, serves another queue: it could only rescue the job, taking the first for dead.
    With the skewed host behind, it runs the job; ahead, it enqueues it and watches."""
    app, _ = client(pg_bb.url)
    try:
        app.migrate()
        skewed = {
            "FAULTS_CLOCK_SKEW": str(skew),
            "PYTHONPATH": os.pathsep.join([SHIM, pg_bb.env["PYTHONPATH"]]),
        }
        behind = skew > 0
        runner = pg_bb.start_server(
            "--workers", "1", name="runner", app=APP, env=skewed if behind else None
        )
        watcher = pg_bb.start_server(
            "--workers",
            "1",
            "--queues",
            "other",
            name="watcher",
            app=APP,
            env=None if behind else skewed,
        )
        enqueuer = pg_bb.spawn(
            "client", [sys.executable, "-c", ENQUEUE], env=None if behind else skewed
        )
        assert enqueuer.wait(30) == 0, enqueuer.text()
        job_id = enqueuer.text().split()[-1]
        run = wait_for(lambda: runs(pg_bb).get(job_id), 3, "the job to start")
        assert run[0].pid == runner.pid
        _succeeded(app, 1, 15)
        assert_each_ran_once(pg_bb, [job_id])
        assert rescued(app, [job_id]) == {}
        side = "behind" if behind else "ahead of"
        warning = f"this host's clock is 20.0 s {side} the database's; times are corrected"
        assert warning in (runner if behind else watcher).text()
    finally:
        app.close()
