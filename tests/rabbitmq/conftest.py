"""Tests against the machine's real RabbitMQ: each gets queues of its own, deleted after."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.rabbitmq.broker import START_HINT, delete_queues, fresh_queue, unreachable


@pytest.fixture(scope="session", autouse=True)
def _broker_is_up() -> None:
    problem = unreachable()
    if problem is None:
        return
    message = f"RabbitMQ is not reachable ({problem}): {START_HINT}"
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # A worker's exit is reported as its crash, without the message: fail each test.
        pytest.fail(message, pytrace=False)
    pytest.exit(message, returncode=3)


@pytest.fixture
def queue() -> Iterator[str]:
    name = fresh_queue()
    yield name
    delete_queues(name)
