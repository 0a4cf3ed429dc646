"""Settings from a ``backburner.toml`` in the working directory, and ``backburner config``."""

from __future__ import annotations

import json
import re
import textwrap

import pytest

from tests.acceptance.harness import APP, Harness

pytestmark = pytest.mark.slow


def test_a_server_takes_its_app_workers_and_queues_from_backburner_toml(bb: Harness) -> None:
    (bb.tmp_path / "backburner.toml").write_text(
        textwrap.dedent(
            f"""
            app = "{APP}"
            [server]
            workers = 3
            queues = ["critical", "default"]
            """
        )
    )
    server = bb.start_server(app=None)
    assert f"started: queues critical,default, 3 workers, storage {bb.url}" in server.text()
    job_id = bb.enqueue("quick", "1")
    assert bb.wait_state(job_id, "succeeded")["result"] == {"value": 1, "pid": server.pid}

    flagged = bb.start_server("--workers", "2", "--queues", "low")
    assert "started: queues low, 2 workers" in flagged.text()


def test_a_named_file_and_the_environment_override_in_order(bb: Harness) -> None:
    named = bb.tmp_path / "prod.toml"
    named.write_text("[server]\nworkers = 4\nshutdown_timeout = 3\n")
    (bb.tmp_path / "backburner.toml").write_text("[server]\nworkers = 9\n")

    server = bb.start_server(env={"BACKBURNER_CONFIG": str(named)})
    assert "started: queues default, 4 workers" in server.text()

    env = {"BACKBURNER__SERVER__WORKERS": "5"}
    shown = json.loads(bb.cli("--config", str(named), "config", "--json", env=env).stdout)
    assert shown["file"] == str(named)
    assert shown["settings"]["server.workers"] == {
        "value": 5,
        "source": "env",
        "where": "BACKBURNER__SERVER__WORKERS",
    }
    assert shown["settings"]["server.shutdown_timeout"] == {
        "value": 3,
        "source": "file",
        "where": str(named),
    }


def test_config_prints_each_value_with_its_source(bb: Harness) -> None:
    toml = bb.tmp_path / "backburner.toml"
    toml.write_text('[retention]\nfailed = "keep"\nsucceeded = "2h"\n')

    text = bb.cli("config", "--app", APP).stdout.splitlines()
    assert text[0] == f"# settings file: {toml}"
    rows = {}
    for line in text[1:]:
        found = re.fullmatch(r"(\S+) += (.+?) +\((.+)\)", line)
        assert found, line
        rows[found[1]] = (found[2], found[3])
    assert rows["app"] == (f'"{APP}"', "flag --app")
    assert rows["storage.url"] == (f'"{bb.url}"', "environment variable BACKBURNER_URL")
    assert rows["retention.failed"] == ('"keep"', f"file {toml}")
    assert rows["retention.succeeded"] == ('"2h"', f"file {toml}")
    assert rows["server.workers"] == ("10", "default")
    assert rows["storage.postgres.pool_max_size"] == ("none", "default")

    # The app's code has the last word: it pins its storage when $JOBSAPP_URL is set.
    pinned = bb.cli("config", "--json", env={"BACKBURNER_APP": APP, "JOBSAPP_URL": "memory://"})
    shown = json.loads(pinned.stdout)["settings"]
    assert shown["app"] == {"value": APP, "source": "env", "where": "BACKBURNER_APP"}
    assert shown["storage.url"] == {"value": "memory://", "source": "code", "where": ""}
    assert shown["retention.failed"]["value"] is None
    assert shown["retention.succeeded"]["value"] == 7200


@pytest.mark.parametrize(
    ("toml", "env", "expected"),
    [
        (
            "[server]\nworkers = -1\n",
            {},
            "Error: setting server.workers = -1 (file {toml}): "
            "Input should be greater than or equal to 0\n",
        ),
        (
            "[server]\nwokers = 3\n",
            {},
            "Error: unknown setting server.wokers (file {toml}); "
            "server takes queues, workers, server_timeout, shutdown_timeout, claim_ahead\n",
        ),
        (
            "",
            {"BACKBURNER__RETENTION__FAILED": "later"},
            "Error: setting retention.failed = 'later' (environment variable "
            "BACKBURNER__RETENTION__FAILED): a duration is like 30d, 12h, 1h30m, 90s or a "
            "number of seconds, or 'keep' to keep for good; not 'later'\n",
        ),
    ],
)
def test_a_wrong_setting_stops_the_server_with_one_line(
    bb: Harness, toml: str, env: dict[str, str], expected: str
) -> None:
    file = bb.tmp_path / "backburner.toml"
    file.write_text(toml)
    for args in (["server", "--app", APP], ["stats"], ["config"]):
        failed = bb.cli(*args, ok=False, env=env)
        assert failed.returncode == 1
        assert failed.stderr == expected.format(toml=file), args


def test_a_queue_flag_that_names_no_queue_is_reported_as_the_flag(bb: Harness) -> None:
    failed = bb.cli("server", "--app", APP, "--queues", ",", ok=False)
    assert failed.stderr.startswith(
        "Error: setting server.queues = ',' (flag --queues): Tuple should have at least 1 item"
    )
