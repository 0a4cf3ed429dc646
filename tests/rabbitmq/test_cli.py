"""``backburner rabbitmq dead list|requeue QUEUE``, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from backburner import Backburner
from tests.rabbitmq import broker
from tests.rabbitmq.apps import serving, wait_status


def backburner(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BACKBURNER__RABBITMQ__URL": broker.BROKER_URL}
    return subprocess.run(
        [sys.executable, "-m", "backburner", "rabbitmq", "dead", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_dead_letters_are_listed_then_sent_back_to_be_consumed_again(queue: str) -> None:
    app = Backburner("memory://")
    fixed = False
    handled: list[str] = []

    @app.consumer(queue, url=broker.BROKER_URL, max_deliveries=1)
    async def picky(text: str) -> None:
        if not fixed:
            raise LookupError(f"no customer {text}")
        handled.append(text)

    with serving(app):
        broker.publish(queue, [b"ann", b"bob"], ["m-ann", "m-bob"])
        wait_status(app, queue, lambda s: s.dead_lettered == 2)

        listed = backburner("list", queue)
        assert listed.returncode == 0, listed.stderr
        assert "m-ann  failed" in listed.stdout
        assert "LookupError: no customer bob" in listed.stdout
        assert "2 message(s) in" in listed.stderr
        as_json = backburner("list", queue, "--json", "--limit", "1")
        [line] = as_json.stdout.splitlines()
        first = json.loads(line)
        assert (first["message_id"], first["reason"], first["deliveries"]) == ("m-ann", "failed", 1)
        assert first["body"] == "ann"
        assert broker.ready(f"{queue}.dead") == 2  # listing took nothing away

        fixed = True
        moved = backburner("requeue", queue)
        assert moved.returncode == 0, moved.stderr
        assert "2 message(s) moved" in moved.stdout
        done = wait_status(app, queue, lambda s: s.processed == 2)
    assert sorted(handled) == ["ann", "bob"]
    assert done.dead_lettered == 2
    assert broker.ready(f"{queue}.dead") == 0


def test_a_queue_without_a_dead_letter_queue_or_an_unreachable_broker_is_one_line() -> None:
    missing = backburner("list", "no-such-queue-anywhere")
    assert missing.returncode == 1
    assert "no queue 'no-such-queue-anywhere.dead' on the broker" in missing.stderr
    assert "Traceback" not in missing.stderr
    down = backburner("requeue", "x", "--broker", "amqp://guest:secret@127.0.0.1:1/")
    assert down.returncode == 1
    assert "cannot reach the broker at amqp://guest:***@127.0.0.1:1/" in down.stderr
    assert "secret" not in down.stderr
