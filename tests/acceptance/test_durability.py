"""Jobs survive restarts, crashes, graceful stops and deletions of real server processes."""

from __future__ import annotations

import signal
import time

import pytest

from tests.acceptance.harness import Harness, history

pytestmark = pytest.mark.slow


def test_jobs_survive_server_restarts_and_run_exactly_once(bb: Harness) -> None:
    first = [bb.enqueue("quick", str(i)) for i in range(2)]
    first += bb.enqueue_many(20, start=100)
    assert bb.stats()["enqueued"] == 22
    assert bb.stats()["servers"] == 0

    a = bb.start_server(name="server-a")
    bb.wait_stats(lambda s: s["succeeded"] == 22, 20, "the first jobs to succeed")
    a.send(signal.SIGTERM)
    assert a.wait(10) == 0
    assert f"server {a.server_id} stopped" in a.text()
    assert bb.stats()["servers"] == 0
    before = bb.show(first[0])

    second = [bb.enqueue("quick", str(i)) for i in range(2, 4)]
    second += bb.enqueue_many(20, start=200)
    stats = bb.stats()
    assert (stats["enqueued"], stats["succeeded"]) == (22, 22)

    b = bb.start_server(name="server-b")
    bb.wait_stats(lambda s: s["succeeded"] == 44, 20, "every job to succeed")

    runs = bb.events("run")
    assert sorted(e.job_id for e in runs) == sorted(first + second)  # each exactly once
    assert {e.pid for e in runs if e.job_id in first} == {a.pid}
    assert {e.pid for e in runs if e.job_id in second} == {b.pid}
    assert bb.show(first[0]) == before  # the history written before the restart is intact
    assert [state for state, _ in history(before)] == ["enqueued", "processing", "succeeded"]
    assert bb.show(second[-1])["result"] == {"value": 219, "pid": b.pid}


def test_a_job_of_a_killed_server_is_rescued_and_run_again(bb: Harness) -> None:
    a = bb.start_server(name="server-a")
    # Long enough to be still running after a CLI process (slow to start on a busy machine)
    # has looked.
    job_id = bb.enqueue("slow", "4")
    bb.wait_event("start", job_id)
    assert bb.show(job_id)["state"] == "processing"

    a.send(signal.SIGKILL)
    assert a.wait(5) == -signal.SIGKILL
    b = bb.start_server(name="server-b")
    # The dead server's row is still there until a live server rescues it.
    stats = bb.stats()
    assert (stats["servers"], stats["processing"]) == (2, 1)

    job = bb.wait_state(job_id, "succeeded", timeout=20)
    assert job["attempt"] == 2
    assert job["result"] == "slept 4"
    assert history(job) == [
        ("enqueued", None),
        ("processing", f"claimed by {a.server_id}"),
        ("enqueued", f"rescued from dead server {a.server_id}"),
        ("processing", f"claimed by {b.server_id}"),
        ("succeeded", None),
    ]
    starts = [(e.pid, e.attempt) for e in bb.events("start") if e.job_id == job_id]
    assert starts == [(a.pid, 1), (b.pid, 2)]
    assert [e.pid for e in bb.events("done")] == [b.pid]
    assert "1 job(s) of dead servers back in their queues" in b.text()
    bb.wait_stats(lambda s: s["servers"] == 1, 5, "the dead server to be forgotten")


def test_graceful_stop_requeues_running_jobs_for_the_next_server(bb: Harness) -> None:
    a = bb.start_server("--shutdown-timeout", "0.5", name="server-a")
    # Long enough to be still running when the stop comes, on a busy machine too.
    sync_id = bb.enqueue("slow", "5")
    async_id = bb.enqueue("aslow", "5")
    bb.wait_event("start", sync_id)
    bb.wait_event("start", async_id)

    a.send(signal.SIGTERM)
    began = time.monotonic()
    assert a.wait(10) == 0
    assert time.monotonic() - began < 5
    assert "waiting for 2 running job(s)" in a.text()

    for job_id in (sync_id, async_id):
        cancelled = [e for e in bb.events("cancelled") if e.job_id == job_id]
        assert [(e.pid, e.detail) for e in cancelled] == [(a.pid, "server shutting down")]
        job = bb.show(job_id)
        assert job["state"] == "enqueued"
        assert job["attempt"] == 0  # an interrupted run does not count
        assert history(job)[-1] == ("enqueued", "interrupted: server shutting down")
    assert bb.stats()["servers"] == 0

    b = bb.start_server(name="server-b")
    for job_id in (sync_id, async_id):
        job = bb.wait_state(job_id, "succeeded", timeout=20)
        assert job["attempt"] == 1
        assert job["result"] == "slept 5"
        assert [e.pid for e in bb.events("start") if e.job_id == job_id] == [a.pid, b.pid]
        assert [e.pid for e in bb.events("done") if e.job_id == job_id] == [b.pid]


def test_deleting_a_running_job_cancels_it(bb: Harness) -> None:
    server = bb.start_server()
    sync_id = bb.enqueue("slow", "30")
    async_id = bb.enqueue("aslow", "30")
    bb.wait_event("start", sync_id)
    bb.wait_event("start", async_id)

    for job_id in (sync_id, async_id):
        assert bb.cli("jobs", "delete", job_id).stdout == f"job {job_id} deleted\n"
        deleted_at = time.monotonic()
        cancelled = bb.wait_event("cancelled", job_id, timeout=5)
        assert time.monotonic() - deleted_at < 2.0
        assert (cancelled.pid, cancelled.detail) == (server.pid, "deleted")

    # The server goes on with other work, and the deleted jobs stay deleted.
    quick = bb.enqueue("quick")
    bb.wait_state(quick, "succeeded")
    for job_id in (sync_id, async_id):
        job = bb.show(job_id)
        assert job["state"] == "deleted"
        assert history(job)[-1] == ("deleted", "deleted")
        assert bb.counts("start")[job_id] == 1
    assert bb.events("done") == []
    stats = bb.stats()
    assert (stats["deleted"], stats["processing"], stats["succeeded"]) == (2, 0, 1)
    line = bb.cli("jobs", "delete", sync_id, ok=False).stderr
    assert line == f"Error: job {sync_id} cannot be deleted (unknown, or deleted already)\n"
    assert server.alive()


def test_a_deleted_job_that_ignores_cancellation_stays_deleted(bb: Harness) -> None:
    server = bb.start_server()
    # Long enough that the delete (a CLI process, slow to start on a busy machine) lands
    # while it runs.
    job_id = bb.enqueue("stubborn", "4")
    bb.wait_event("start", job_id)
    bb.cli("jobs", "delete", job_id)
    bb.wait_event("done", job_id, timeout=15)  # it finished its work anyway

    after = bb.enqueue("quick")  # outcomes are flushed in order: this one comes later
    bb.wait_state(after, "succeeded")
    job = bb.show(job_id)
    assert job["state"] == "deleted"
    assert job["result"] is None
    assert history(job)[-1] == ("deleted", "deleted")
    assert bb.counts("start")[job_id] == 1
    assert server.alive()
