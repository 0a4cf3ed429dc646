"""Several server processes and client processes sharing one SQLite file."""

from __future__ import annotations

import collections
import json
import signal
import sys

import pytest

from tests.acceptance.harness import Harness, enqueue_code, history, wait_for

pytestmark = pytest.mark.slow

PER_CLIENT = 1500


def test_three_servers_run_every_job_of_two_busy_clients_exactly_once(bb: Harness) -> None:
    servers = [bb.start_server(name=f"server-{n}") for n in range(3)]
    clients = [
        bb.spawn(f"client-{n}", [sys.executable, "-c", enqueue_code(PER_CLIENT, n * 10_000, 50)])
        for n in range(2)
    ]
    ids: list[str] = []
    for client in clients:
        assert client.wait(60) == 0, client.text()
        ids += json.loads(client.text())
    assert len(set(ids)) == len(ids) == 2 * PER_CLIENT  # ids are unique across processes

    bb.wait_stats(lambda s: s["succeeded"] == len(ids), 60, f"{len(ids)} jobs to succeed")

    runs = bb.events("run")
    per_job = collections.Counter(e.job_id for e in runs)
    assert set(per_job) == set(ids)  # none lost
    assert [job for job, times in per_job.items() if times > 1] == []  # none ran twice
    stats = bb.stats()
    assert stats == {**stats, "enqueued": 0, "processing": 0, "failed": 0, "servers": 3}
    per_server = collections.Counter(e.pid for e in runs)
    assert set(per_server) <= {s.pid for s in servers}
    assert all(s.alive() for s in servers)
    print("jobs run per server:", dict(per_server))


def test_killing_one_of_two_busy_servers_loses_no_job(bb: Harness) -> None:
    a = bb.start_server(name="server-a")
    b = bb.start_server(name="server-b")
    ids = bb.enqueue_many(600, pause=0.1)  # a minute of work for 2 x 10 workers
    wait_for(lambda: len([e for e in bb.events("run") if e.pid == a.pid]) >= 30, 20, "a to work")
    a.send(signal.SIGKILL)
    assert a.wait(5) == -signal.SIGKILL

    bb.wait_stats(lambda s: s["succeeded"] == len(ids), 60, "every job to succeed")
    bb.wait_stats(lambda s: s["servers"] == 1, 10, "the dead server to be forgotten")

    jobs = bb.list_jobs("--limit", "1000")
    assert sorted(j["id"] for j in jobs) == sorted(ids)
    rescue = ("enqueued", f"rescued from dead server {a.server_id}")
    rescued = {j["id"] for j in jobs if rescue in history(j)}
    assert rescued, "the kill should have caught jobs of server a mid-run"
    assert {j["attempt"] for j in jobs if j["id"] in rescued} == {2}
    assert {j["attempt"] for j in jobs if j["id"] not in rescued} == {1}

    runs: dict[str, list[int]] = collections.defaultdict(list)
    for event in bb.events("run"):
        runs[event.job_id].append(event.pid)
    assert set(runs) == set(ids)  # none lost
    twice = {job for job, pids in runs.items() if len(pids) > 1}
    assert twice <= rescued  # only jobs a died running ran again ...
    assert {tuple(runs[job]) for job in twice} <= {(a.pid, b.pid)}  # ... once more, on b
    assert {tuple(runs[job]) for job in rescued - twice} <= {(b.pid,)}
    assert b.alive()
