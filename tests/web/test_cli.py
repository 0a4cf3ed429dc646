"""``backburner dashboard`` and ``backburner server --dashboard``, as real processes."""

from __future__ import annotations

import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.acceptance.harness import APP, Harness, wait_for

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def bb(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    yield harness
    harness.close()


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}health/live", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_server_with_dashboard_runs_jobs_and_stops_gracefully(bb: Harness) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    process = bb.spawn(
        "server",
        [
            sys.executable,
            "-m",
            "backburner",
            "server",
            "--app",
            APP,
            "--server-timeout",
            "1.5",
            "--dashboard",
            "--port",
            str(port),
        ],
    )
    wait_for(lambda: _up(base) or not process.alive(), 20, "the dashboard to answer")
    assert process.alive(), process.text()
    wait_for(lambda: f"dashboard at {base}" in process.text(), 5, "the address in the log")
    created = httpx.post(
        f"{base}api/jobs", json={"name": "tests.acceptance.jobsapp.quick", "args": [7]}
    )
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    wait_for(
        lambda: httpx.get(f"{base}api/jobs/{job_id}").json()["state"] == "succeeded",
        15,
        "the job to succeed",
    )
    health = httpx.get(f"{base}health").json()
    assert health["checks"]["servers"]["count"] == 1
    process.send(signal.SIGTERM)
    assert process.wait(15) == 0, process.text()
    assert "SIGTERM received: stopping gracefully" in process.text()
    assert "Traceback" not in process.text()
    assert bb.stats()["servers"] == 0


def test_dashboard_command_serves_and_refuses_a_taken_port(bb: Harness) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    process = bb.spawn(
        "dashboard",
        [sys.executable, "-m", "backburner", "dashboard", "--url", bb.url, "--port", str(port)],
    )
    wait_for(lambda: _up(base) or not process.alive(), 20, "the dashboard to answer")
    assert httpx.get(f"{base}api/stats").json()["servers"] == 0
    taken = bb.cli("dashboard", "--url", bb.url, "--port", str(port), ok=False)
    assert f"could not listen on 127.0.0.1:{port}" in taken.stderr
    assert "Traceback" not in taken.stderr
    process.send(signal.SIGINT)
    assert process.wait(15) == 0, process.text()
