"""The server's logs as JSON lines, with the job's fields on every record of a job."""

from __future__ import annotations

import json
import signal
import sys
from typing import Any

from tests.acceptance.harness import APP, Harness, wait_for

CHATTY = "tests.acceptance.jobsapp.chatty"


def _records(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_json_logs_carry_the_job_fields_and_tell_each_job_start_and_end(bb: Harness) -> None:
    server = bb.start_server(env={"BACKBURNER__LOGGING__FORMAT": "json"})
    job_id = bb.enqueue("chatty", "hello")
    bb.wait_state(job_id, "succeeded")
    end = f"job {job_id} ({CHATTY}) succeeded in "
    done = wait_for(
        lambda: next((r for r in _records(server.text()) if r["message"].startswith(end)), None),
        10,
        "the job's end logged",
    )
    lines = [line for line in server.text().splitlines() if line.strip()]
    assert all(line.startswith("{") for line in lines), lines
    records = _records(server.text())
    [said] = [r for r in records if r["message"] == "said hello"]
    assert (said["logger"], said["level"]) == ("jobsapp", "INFO")
    assert (said["job_id"], said["job_name"], said["queue"], said["attempt"]) == (
        job_id,
        CHATTY,
        "default",
        1,
    )
    [started] = [r for r in records if r["message"] == f"job {job_id} ({CHATTY}) started"]
    assert started["logger"] == "backburner.jobs"
    assert started["server_id"] == server.server_id == done["server_id"]
    assert done["duration"] >= 0


def test_the_log_format_flag_and_text_by_default(bb: Harness) -> None:
    flagged = bb.spawn(
        "json-server",
        [sys.executable, "-m", "backburner", "--log-format", "json", "server", "--app", APP],
        env={"BACKBURNER__LOGGING__FORMAT": "text"},
    )
    wait_for(lambda: " started: queues" in flagged.text(), 20, "the server started")
    flagged.send(signal.SIGTERM)
    assert flagged.wait(20) == 0
    assert all(line.startswith("{") for line in flagged.text().splitlines() if line.strip())

    server = bb.start_server()
    job_id = bb.enqueue("chatty", "plain")
    bb.wait_state(job_id, "succeeded")
    wait_for(lambda: "said plain" in server.text(), 10, "the job's own line")
    line = next(line for line in server.text().splitlines() if "said plain" in line)
    assert line.endswith("INFO    jobsapp: said plain")
