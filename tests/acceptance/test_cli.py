"""The ``backburner`` command against a real server process and a real SQLite file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from backburner import _serialization
from backburner.storage._url import redact
from tests.acceptance.harness import APP, JOBS, Harness, history
from tests.support import POSTGRES_URL, drop_schema, fresh_schema

pytestmark = pytest.mark.slow


def test_enqueued_job_runs_and_the_cli_reports_it(bb: Harness) -> None:
    server = bb.start_server()
    job_id = bb.enqueue("quick", '{"a": [1, 2]}')

    job = bb.wait_state(job_id, "succeeded")
    assert job["name"] == f"{JOBS}.quick"
    assert job["args"] == [{"a": [1, 2]}]
    assert job["result"] == {"value": {"a": [1, 2]}, "pid": server.pid}
    assert job["attempt"] == 1
    assert history(job) == [
        ("enqueued", None),
        ("processing", f"claimed by {server.server_id}"),
        ("succeeded", None),
    ]
    assert bb.counts("run") == {job_id: 1}

    shown = bb.cli("jobs", "show", job_id).stdout
    assert f"job {job_id}: {JOBS}.quick on queue 'default'" in shown
    assert "state:    succeeded (attempt 1)" in shown
    assert f'result:   {{"value":{{"a":[1,2]}},"pid":{server.pid}}}' in shown

    listed = bb.cli("jobs", "list", "--state", "succeeded").stdout.splitlines()
    assert [line.split() for line in listed] == [
        [job_id, "succeeded", "default", *listed[0].split()[3:5], f"{JOBS}.quick"]
    ]
    assert [j["id"] for j in bb.list_jobs("--state", "succeeded")] == [job_id]
    assert bb.list_jobs("--state", "enqueued") == []
    assert bb.stats() == {
        "enqueued": 0,
        "scheduled": 0,
        "awaiting": 0,
        "processing": 0,
        "succeeded": 1,
        "failed": 0,
        "deleted": 0,
        "servers": 1,
    }


def test_the_cli_hides_what_a_job_redacts(bb: Harness) -> None:
    bb.start_server()
    job_id = bb.enqueue("login", '"ann"', '"hunter2"')
    job = bb.wait_state(job_id, "succeeded")  # by --url alone: no rule is known
    assert job["args"] == ["ann", "hunter2"]

    # With the app that registers the job, its redact= rule applies, as on the dashboard.
    shown = bb.cli("jobs", "show", "--app", APP, job_id).stdout
    listed = bb.cli("jobs", "list", "--app", APP, "--json").stdout
    as_json = json.loads(bb.cli("jobs", "show", "--app", APP, job_id, "--json").stdout)
    assert 'args:     ["ann","[redacted]"]' in shown
    assert "hunter2" not in shown + listed
    assert json.loads(listed.splitlines()[0])["args"] == ["ann", "[redacted]"]
    assert as_json["args"] == ["ann", "[redacted]"]
    assert as_json["result"] == {"user": "ann", "password_length": 7, "token": "2retnuh"}


def test_delayed_and_retried_jobs(bb: Harness) -> None:
    bb.start_server()
    delayed = bb.cli("enqueue", "--delay", "1", f"{JOBS}.quick", "later").stdout.strip()
    flaky = bb.enqueue("flaky", "2")

    job = bb.wait_state(delayed, "succeeded")
    assert job["result"]["value"] == "later"
    assert [state for state, _ in history(job)] == [
        "scheduled",
        "enqueued",
        "processing",
        "succeeded",
    ]
    assert history(job)[1] == ("enqueued", "due")
    scheduled_at, due_at = (_serialization.loads(json.dumps(e["at"])) for e in job["history"][:2])
    assert due_at - scheduled_at >= dt.timedelta(seconds=0.99)

    job = bb.wait_state(flaky, "succeeded")
    assert job["result"] == 3
    assert job["attempt"] == 3
    retries = [reason for state, reason in history(job) if state == "scheduled"]
    assert retries == ["retry 1 of 3: ConnectionError", "retry 2 of 3: ConnectionError"]
    assert bb.counts("run")[flaky] == 3


def test_a_job_that_failed_for_good_is_retried_from_the_cli(bb: Harness) -> None:
    bb.start_server()
    flag = bb.tmp_path / "flag"
    job_id = bb.enqueue("needs_flag", str(flag))  # a path is not JSON: it is taken as text

    job = bb.wait_state(job_id, "failed")
    assert job["args"] == [str(flag)]
    assert job["attempt"] == 1
    assert job["error"]["type"] == "FileNotFoundError"
    assert job["error"]["message"] == f"flag file {flag} is missing"
    assert job["error"]["traceback"].startswith("Traceback (most recent call last):")
    assert "in needs_flag" in job["error"]["traceback"]
    assert history(job)[-1] == ("failed", "FileNotFoundError after 1 attempt(s)")

    shown = bb.cli("jobs", "show", job_id).stdout
    assert "state:    failed (attempt 1)" in shown
    assert f"error:    FileNotFoundError: flag file {flag} is missing" in shown
    assert "Traceback (most recent call last):" in shown

    flag.touch()
    assert bb.counts("run")[job_id] == 1  # Retry(attempts=0): nothing ran it again
    assert bb.cli("jobs", "retry", job_id).stdout == f"job {job_id} requeued\n"

    job = bb.wait_state(job_id, "succeeded")
    assert job["result"] == "flag found"
    assert job["attempt"] == 2
    assert ("enqueued", "requeued") in history(job)
    assert bb.counts("run")[job_id] == 2

    failed = bb.cli("jobs", "retry", "999999", ok=False)
    assert failed.stderr == "Error: job 999999 cannot be requeued (unknown, or not finished)\n"


def test_an_unknown_job_name_fails_on_the_server(bb: Harness) -> None:
    bb.start_server()
    job_id = bb.enqueue("no.such.job")

    job = bb.wait_state(job_id, "failed")
    assert job["error"]["message"] == "no job named 'no.such.job' is registered"
    assert job["error"]["type"] == "backburner.server.runner.UnknownJobError"
    assert job["attempt"] == 1
    assert history(job)[-1] == ("failed", "UnknownJobError, not retried")


def test_backburner_app_environment_variable_replaces_app_option(bb: Harness) -> None:
    env = {"BACKBURNER_APP": APP}
    server = bb.start_server(app=None, env=env)
    assert f"started: queues default, 10 workers, storage {bb.url}" in server.text()

    job_id = bb.cli("enqueue", f"{JOBS}.quick", "7", env=env).stdout.strip()
    job = bb.wait_state(job_id, "succeeded")
    assert job["result"] == {"value": 7, "pid": server.pid}
    assert bb.stats()["servers"] == 1

    missing = bb.cli("server", ok=False)
    assert "the server needs your jobs: pass --app package.module:app" in missing.stderr
    assert "Traceback" not in missing.stderr


def _one_line_error(bb: Harness, *args: str) -> str:
    done = bb.cli(*args, ok=False)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_mistakes_get_a_clear_message_not_a_traceback(bb: Harness) -> None:
    line = _one_line_error(bb, "server", "--app", "nope.mod:app")
    assert line.startswith("Error: --app 'nope.mod:app': no module named 'nope'")

    line = _one_line_error(bb, "server", "--app", f"{JOBS}:missing")
    assert line == f"Error: --app '{JOBS}:missing': module {JOBS} has no attribute 'missing'"

    line = _one_line_error(bb, "stats", "--app", f"{JOBS}:quick")
    assert line.endswith(f"{JOBS}.quick is a JobFunction, not a Backburner app")

    line = _one_line_error(bb, "stats", "--url", "sqlite:////nonexistent-dir/x.db")
    assert line.startswith("Error: cannot open storage sqlite:////nonexistent-dir/x.db")

    line = _one_line_error(bb, "stats", "--url", "redis://localhost")
    assert line.startswith("Error: unknown storage URL 'redis://localhost'")

    line = _one_line_error(bb, "jobs", "show", "999999")
    assert line == "Error: no job with id '999999'"

    line = _one_line_error(bb, "jobs", "delete", "999999")
    assert line == "Error: job 999999 cannot be deleted (unknown, or deleted already)"

    # Arguments are JSON when they parse as JSON, and text otherwise.
    job_id = bb.cli(
        "enqueue", f"{JOBS}.echo", "hello world", '{"x": 1}', "42", "[1,", "-k", "who=ann"
    ).stdout.strip()
    job = bb.show(job_id)
    assert job["state"] == "enqueued"
    assert job["args"] == ["hello world", {"x": 1}, 42, "[1,"]
    assert job["kwargs"] == {"who": "ann"}


def test_bad_input_is_one_line_and_stores_nothing(bb: Harness) -> None:
    quick = f"{JOBS}.quick"
    for delay in ("inf", "1e20"):
        line = _one_line_error(bb, "enqueue", "--delay", delay, quick)
        assert line.startswith("Error: "), line
        assert "finite delay" in line or "outside the years 1 to 9999" in line

    line = _one_line_error(bb, "jobs", "list", "--limit", "99999999999999999999")
    assert line == "Error: limit must be from 0 to 10000, not 99999999999999999999"

    line = _one_line_error(bb, "enqueue", "x" * 201)
    assert line.startswith("Error: a job name is at most 200 characters, not 201")
    line = _one_line_error(bb, "enqueue", "--queue", "", quick)
    assert line == f"Error: a queue name for job '{quick}' cannot be empty"

    postgres = "postgresql://app:s3cret@127.0.0.1:5432/test"
    line = _one_line_error(bb, "stats", "--url", f"{postgres}?foo=bar&password=s3cret")
    assert line.startswith(
        "Error: unknown parameter ?foo= in PostgreSQL URL "
        "'postgresql://app:***@127.0.0.1:5432/test?foo=bar&password=***': Backburner takes "
    )
    assert "libpq takes " in line
    line = _one_line_error(bb, "migrate", "--url", f"{postgres}?schema=")
    assert line.startswith("Error: an empty schema name in 'postgresql://app:***@")
    line = _one_line_error(
        bb,
        "jobs",
        "list",
        "--url",
        "postgresql://127.0.0.1:1/x?sslpassword=s3cret&pool_timeout=0.5",
    )
    assert line.startswith(
        "Error: no connection to PostgreSQL at postgresql://127.0.0.1:1/x?sslpassword=***&"
    )
    assert "s3cret" not in line

    assert bb.cli("jobs", "show", "\u0661", ok=False).stderr == "Error: no job with id '\u0661'\n"
    assert bb.list_jobs() == []


@pytest.mark.postgres
def test_the_server_log_shows_no_password(tmp_path: Path) -> None:
    if "://postgres@" not in POSTGRES_URL:
        pytest.skip("needs the local PostgreSQL, which trusts any password")
    schema = fresh_schema()
    secret = POSTGRES_URL.replace("://postgres@", "://postgres:s3cret@")
    url = f"{secret}?schema={schema}&sslpassword=s3cret"
    harness = Harness(tmp_path, url=url)
    try:
        server = harness.start_server()
        shown = redact(url)
        assert f"storage {shown}" in server.text()
        assert "s3cret" not in server.text()
        assert "s3cret" not in harness.cli("migrate").stdout
    finally:
        try:
            harness.close()
        finally:
            drop_schema(schema)
