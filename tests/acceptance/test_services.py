"""Services in real server processes: a fatal crash, and a leader that dies."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.acceptance.harness import Harness, wait_for

APP = "tests.acceptance.servicesapp:app"


def _leaders(log: Path) -> list[int]:
    return [int(line) for line in log.read_text().split()] if log.exists() else []


def test_a_crash_of_a_service_that_must_not_restart_stops_the_server_non_zero(
    bb: Harness, tmp_path: Path
) -> None:
    log = tmp_path / "leader.log"
    server = bb.start_server(app=APP, env={"SERVICESAPP_CRASH": "1", "SERVICESAPP_LOG": str(log)})
    code = server.wait(15)
    output = server.text()
    assert code != 0
    assert "Error: service fragile crashed: the service broke" in output
    assert "Traceback" in output  # the crash, logged with its traceback
    assert f"server {server.server_id} stopped" in output


def test_when_the_leader_is_killed_another_server_takes_over(bb: Harness, tmp_path: Path) -> None:
    log = tmp_path / "leader.log"
    env = {"SERVICESAPP_LOG": str(log)}
    first = bb.start_server(app=APP, env=env)
    second = bb.start_server(app=APP, env=env)
    leader = wait_for(lambda: next(iter(_leaders(log)), None), 10, "a leader")
    follower = second if leader == first.pid else first
    killed = first if follower is second else second
    assert {leader} == set(_leaders(log))  # the other one does not run it
    killed.send(signal.SIGKILL)
    killed.wait(5)
    # Its lease runs out after server_timeout (1.5 s); the follower then takes over.
    wait_for(lambda: follower.pid in _leaders(log) or None, 10, "the follower to lead")
    assert set(_leaders(log)) == {leader, follower.pid}
    assert follower.alive()
