"""``python -m examples.demo``: the example product runs its jobs and stops cleanly."""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import sys
import time
import urllib.request
from typing import Any

import pytest

from tests.acceptance.harness import Harness, history, wait_for

pytestmark = pytest.mark.slow

DEMO = "examples.demo"


def when(value: dict[str, str]) -> dt.datetime:
    """A datetime as ``jobs list --json`` writes it."""
    assert value["__bb__"] == "datetime"
    return dt.datetime.fromisoformat(value["v"])


def succeeded(jobs: list[dict[str, Any]], name: str, module: str = DEMO) -> list[dict[str, Any]]:
    return [j for j in jobs if j["name"] == f"{module}.{name}" and j["state"] == "succeeded"]


def test_the_demo_runs_every_kind_of_job_and_stops_on_sigterm(bb: Harness) -> None:
    demo = bb.spawn("demo", [sys.executable, "-m", DEMO])
    wait_for(lambda: "started" in demo.text() or not demo.alive(), 20, "the demo to start")
    assert demo.alive(), demo.text()
    jobs: list[dict[str, Any]] = []

    def all_kinds_ran() -> bool:
        nonlocal jobs
        jobs = bb.list_jobs("--limit", "500")
        return all(
            succeeded(jobs, name)
            for name in ("analyse_photo", "send_welcome", "charge_card", "remind", "notify_user")
        )

    try:
        wait_for(all_kinds_ran, 25, "every kind of demo job to succeed", pause=0.5)
    except AssertionError as error:
        raise AssertionError(f"{error}; jobs: {[(j['name'], j['state']) for j in jobs]}") from None

    # The card payment failed once and succeeded on its retry.
    charge = succeeded(jobs, "charge_card")[-1]
    assert charge["attempt"] == 2
    retries = [reason for state, reason in history(charge) if state == "scheduled"]
    assert len(retries) == 1
    assert str(retries[0]).startswith("retry 1 of 3: ConnectionError")

    # The reminder waited its 5 seconds.
    reminder = succeeded(jobs, "remind")[-1]
    assert history(reminder)[0][0] == "scheduled"
    assert history(reminder)[1] == ("enqueued", "due")
    waited = when(reminder["started_at"]) - when(reminder["created_at"])
    assert waited >= dt.timedelta(seconds=4.9)
    assert reminder["queue"] == "low"

    # The notification waited for its photo's analysis.
    notify = succeeded(jobs, "notify_user")[-1]
    parent = next(j for j in jobs if j["id"] == notify["parent_id"])
    assert parent["name"] == f"{DEMO}.analyse_photo"
    assert parent["state"] == "succeeded"
    assert set(parent["result"]) == {"photo", "labels"}
    assert history(notify)[0] == ("awaiting", f"awaiting job {parent['id']} (succeeded)")
    assert history(notify)[1] == ("enqueued", f"parent {parent['id']} succeeded")
    assert when(notify["started_at"]) >= when(parent["finished_at"])

    assert {j["queue"] for j in succeeded(jobs, "send_welcome")} == {"critical"}
    assert not [j for j in jobs if j["state"] == "failed"]

    demo.send(signal.SIGTERM)
    began = time.monotonic()
    assert demo.wait(10) == 0
    assert time.monotonic() - began < 5
    output = demo.text()
    assert "SIGTERM received: stopping gracefully" in output
    assert "Traceback" not in output
    assert bb.stats()["servers"] == 0


@pytest.mark.parametrize(
    ("example", "path", "job"),
    [
        ("events", "", "send_welcome"),
        ("images", "", "notify"),
        ("orders", "jobs/", "send_confirmation"),
        ("sync", "", None),
    ],
)
def test_each_seed_example_serves_its_dashboard_runs_its_work_and_stops(
    bb: Harness, example: str, path: str, job: str | None
) -> None:
    process = bb.spawn(
        example, [sys.executable, "-m", f"examples.{example}"], env={"DEMO_PORT": "0"}
    )
    found = wait_for(
        lambda: (
            re.search(r"dashboard at (http://\S+)", process.text())
            or (not process.alive() and "exited")
        ),
        30,
        f"the {example} example's dashboard",
    )
    assert process.alive(), process.text()
    assert isinstance(found, re.Match)
    base = found.group(1)
    assert base.endswith(f"/{path}")
    with urllib.request.urlopen(f"{base}health", timeout=5) as answer:
        assert json.load(answer)["status"] in ("healthy", "degraded")
    if job is not None:
        wait_for(
            lambda: succeeded(bb.list_jobs("--limit", "200"), job, module=f"examples.{example}"),
            30,
            f"a {job} job to succeed",
            pause=0.5,
        )
    process.send(signal.SIGTERM)
    assert process.wait(20) == 0
    assert "Traceback" not in process.text()
