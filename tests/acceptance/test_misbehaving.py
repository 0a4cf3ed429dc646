"""Jobs that exit or ignore cancellation, run by the real ``backburner server``."""

from __future__ import annotations

import signal

import pytest

from tests.acceptance.harness import Harness, history, wait_for

pytestmark = pytest.mark.slow

APP = "tests.acceptance.misbehavingapp:app"


def test_a_job_calling_sys_exit_fails_and_the_server_goes_on(bb: Harness) -> None:
    server = bb.start_server("--workers", "1", app=APP)
    exits = bb.cli("enqueue", "--app", APP, "exits", "2").stdout.strip()
    failed = bb.wait_state(exits, "failed")
    assert failed["error"]["type"] == "SystemExit"
    assert failed["error"]["message"] == "SystemExit(2): the job called sys.exit()"
    assert history(failed)[-1] == ("failed", "SystemExit after 1 attempt(s)")

    assert server.alive()
    ok = bb.cli("enqueue", "--app", APP, "ok", "7").stdout.strip()
    assert bb.wait_state(ok, "succeeded")["result"] == 7
    assert bb.stats()["servers"] == 1

    server.send(signal.SIGTERM)
    assert server.wait(10) == 0
    assert f"server {server.server_id} stopped" in server.text()


def test_a_job_swallowing_cancellation_cannot_keep_the_server_from_stopping(
    bb: Harness,
) -> None:
    server = bb.start_server("--workers", "2", "--shutdown-timeout", "0.5", app=APP)
    job_id = bb.cli("enqueue", "--app", APP, "swallows").stdout.strip()
    bb.wait_state(job_id, "processing")

    server.send(signal.SIGTERM)
    assert server.wait(15) == 0
    assert "abandoned 1 job(s) that ignored their cancellation" in server.text()
    job = bb.show(job_id)
    assert job["state"] == "enqueued"
    assert history(job)[-1] == (
        "enqueued",
        "interrupted: server shutting down; the job ignored its cancellation",
    )


def test_a_second_sigterm_stops_at_once_despite_a_job_swallowing_cancellation(
    bb: Harness,
) -> None:
    server = bb.start_server("--workers", "2", "--shutdown-timeout", "600", app=APP)
    job_id = bb.cli("enqueue", "--app", APP, "swallows").stdout.strip()
    bb.wait_state(job_id, "processing")

    server.send(signal.SIGTERM)
    wait_for(lambda: "waiting for 1 running job(s)" in server.text(), 5, "the drain to begin")
    server.send(signal.SIGTERM)
    assert server.wait(10) == 0  # not the shutdown timeout of 600 s
    assert bb.show(job_id)["state"] == "enqueued"
