"""Bugs the acceptance tests once found, kept so that they stay fixed."""

from __future__ import annotations

import json
import signal
import time
from typing import Any

import pytest

from tests.acceptance.harness import APP, JOBS, Harness, history, wait_for

pytestmark = pytest.mark.slow


def bb_json(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value


def test_a_second_sigterm_interrupts_running_jobs_at_once(bb: Harness) -> None:
    server = bb.start_server("--shutdown-timeout", "30")
    job_id = bb.enqueue("slow", "30")
    bb.wait_event("start", job_id)

    server.send(signal.SIGTERM)
    wait_for(lambda: "waiting for 1 running job(s)" in server.text(), 5, "the drain to begin")
    server.send(signal.SIGTERM)
    wait_for(lambda: "received again" in server.text(), 5, "the second signal to be seen")

    assert server.wait(4) == 0  # "A second signal stops at once" (Backburner.run_server)
    cancelled = bb.wait_event("cancelled", job_id)
    assert cancelled.detail == "server shutting down"
    job = bb.show(job_id)
    assert job["state"] == "enqueued"
    assert history(job)[-1] == ("enqueued", "interrupted: server shutting down")


def test_server_and_clients_of_one_app_use_the_same_storage(bb: Harness) -> None:
    pinned = f"sqlite:///{bb.tmp_path / 'pinned.db'}"
    env = {"JOBSAPP_URL": pinned}  # the app says Backburner("sqlite:///.../pinned.db")
    bb.start_server(env=env)  # $BACKBURNER_URL is set too, to jobs.db
    job_id = bb.cli("enqueue", "--app", APP, f"{JOBS}.quick", env=env).stdout.strip()

    def state() -> str:
        shown = bb.cli("jobs", "show", job_id, "--json", "--app", APP, env=env).stdout
        job: dict[str, Any] = bb_json(shown)
        return str(job["state"])

    wait_for(lambda: state() == "succeeded", 4, "the job to run", pause=0.2)
    stats = bb_json(bb.cli("stats", "--json", "--app", APP, env=env).stdout)
    assert stats["servers"] == 1


def test_enqueue_takes_arguments_that_are_not_json_as_text(bb: Harness) -> None:
    done = bb.cli("enqueue", f"{JOBS}.echo", "--", "NaN", "-Infinity", ok=None)
    assert done.returncode == 0, done.stderr
    assert bb.show(done.stdout.strip())["args"] == ["NaN", "-Infinity"]


def test_a_retried_job_is_cancelled_even_if_its_deleted_run_was_still_going(
    bb: Harness,
) -> None:
    server = bb.start_server()
    job_id = bb.enqueue("obstinate_once", "2", "30")  # ignores cancellation on attempt 1 only
    bb.wait_event("start", job_id)
    bb.cli("jobs", "delete", job_id)  # by mistake...
    bb.cli("jobs", "retry", job_id)  # ... so it is retried at once
    second = bb.wait_event("start", job_id, times=2, timeout=5)
    assert (second.pid, second.attempt) == (server.pid, 2)
    bb.wait_event("done", job_id, timeout=10)  # the first run ends; the second goes on
    assert bb.show(job_id)["state"] == "processing"

    bb.cli("jobs", "delete", job_id)
    deleted_at = time.monotonic()
    cancelled = bb.wait_event("cancelled", job_id, timeout=3)
    assert time.monotonic() - deleted_at < 2.5
    assert (cancelled.attempt, cancelled.detail) == (2, "deleted")
