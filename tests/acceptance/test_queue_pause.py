"""Pausing a queue with the real CLI while a real ``backburner server`` runs: the server
stops taking that queue's jobs, runs the others', takes them again once resumed, and a
restarted server still honours the pause. On SQLite and on PostgreSQL."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.harness import JOBS, Harness
from tests.acceptance.test_postgres import postgres_harness

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def harness(request: pytest.FixtureRequest, bb: Harness, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "sqlite":
        yield bb
        return
    with postgres_harness(tmp_path / "pg") as pg:
        pg.cli("migrate")
        yield pg


def _enqueue(h: Harness, queue: str, value: str) -> str:
    out = h.cli("enqueue", "--queue", queue, f"{JOBS}.quick", value).stdout.strip()
    assert out.isdigit(), out
    return out


def _queues(h: Harness) -> dict[str, list[str]]:
    """``backburner queues``: each queue's row, split into words, by name."""
    lines = h.cli("queues").stdout.splitlines()
    assert lines[0].split() == [
        "queue",
        "waiting",
        "processing",
        "scheduled",
        "oldest",
        "waiting",
        "paused",
    ]
    return {line.split()[0]: line.split()[1:] for line in lines[1:]}


def test_a_running_server_honours_a_pause_across_a_restart_and_a_resume(
    harness: Harness,
) -> None:
    h = harness
    server = h.start_server("--queues", "emails,default")
    first = _enqueue(h, "emails", "1")
    h.wait_state(first, "succeeded")

    # Paused while the server runs: it takes no more of the queue's jobs, yet runs others.
    paused = h.cli("queues", "pause", "emails").stdout
    assert "queue emails paused" in paused
    held = _enqueue(h, "emails", "2")  # a paused queue still takes jobs
    other = _enqueue(h, "default", "3")
    h.wait_state(other, "succeeded")
    time.sleep(2)  # two polls and more: the server had every chance to claim it
    assert h.show(held)["state"] == "enqueued"
    row = _queues(h)["emails"]
    assert row[0] == "1"  # waiting
    assert row[-5:-3] == ["paused", "since"]
    assert "already" in h.cli("queues", "pause", "emails").stdout  # idempotent

    # A restarted server reads the pause from storage.
    server.send(signal.SIGTERM)
    assert server.wait(20) == 0, server.text()
    h.start_server("--queues", "emails,default")
    later = _enqueue(h, "default", "4")
    h.wait_state(later, "succeeded")
    time.sleep(2)
    assert h.show(held)["state"] == "enqueued"

    # Resumed: the running server takes the waiting job without a restart.
    assert h.cli("queues", "resume", "emails").stdout.strip() == "queue emails resumed"
    job = h.wait_state(held, "succeeded")
    assert job["queue"] == "emails"
    assert _queues(h)["emails"][-1] == "-"
    assert h.cli("queues", "resume", "emails").stdout.strip() == "queue emails was not paused"


def test_the_cli_lists_queues_and_reports_mistakes_in_one_line(bb: Harness) -> None:
    assert bb.cli("queues").stdout.strip() == "no queue holds jobs, and none is paused"
    bb.cli("queues", "pause", "nightly")  # no job yet: the name is paused
    _enqueue(bb, "default", "1")
    rows = _queues(bb)
    assert list(rows) == ["default", "nightly"]
    assert rows["default"][:3] == ["1", "0", "0"]
    assert rows["default"][-1] == "-"
    assert rows["nightly"][:4] == ["0", "0", "0", "-"]
    assert rows["nightly"][4:6] == ["paused", "since"]
    listed = bb.cli("queues", "--json").stdout.splitlines()
    assert '"paused": true' in listed[1]
    assert '"pause_reason": "paused from the command line"' in listed[1]

    failed = bb.cli("queues", "pause", "", ok=False)
    assert failed.stderr.strip() == "Error: a queue name cannot be empty"
    missing = bb.cli("queues", "pause", "x", "--url", "sqlite:////no/such/dir/jobs.db", ok=False)
    assert missing.stderr.startswith("Error: cannot open storage")
    assert "Traceback" not in failed.stderr + missing.stderr
