"""The JSON API fuzzed from its own OpenAPI document: no 500s, answers match the schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.specs.openapi.checks import positive_data_acceptance

from backburner import (
    Backburner,
    HostedConsumer,
    HostedPeriodic,
    HostedService,
    HostedTaskQueue,
    Hosting,
    Retry,
    ServerInfo,
)

app = Backburner("memory://")


@app.job(name="send", queue="emails")
def send(to: str = "", user_id: int = 0) -> str:
    return to


@app.job(name="boom", retry=Retry(attempts=0))
def boom() -> None:
    raise RuntimeError("boom")


for n in range(3):
    app.enqueue("send", f"{n}@example.com", user_id=n)
app.schedule("boom", dt.timedelta(hours=1))
app.recurring.add_or_update("nightly", "send", "0 3 * * *")
# A server's row with every part of a hosting report, so that api/servers is checked too.
_now = dt.datetime.now(dt.UTC)
app.engine.server_heartbeat(
    ServerInfo(
        "host:1:abc",
        "host",
        1,
        ("default",),
        4,
        _now,
        _now,
        busy=2,
        hosting=Hosting(
            services=(HostedService("sync", "failing", restarts=2, last_error="OSError: gone"),),
            periodic=(
                HostedPeriodic(
                    "tick", "every 30 s", last_run=_now, next_run=_now, last_outcome="failed"
                ),
                HostedPeriodic("nightly", "At 02:00 (Europe/Paris)", leader_only=True),
            ),
            task_queues=(HostedTaskQueue("thumbs", 1, 5, 1, 2, processed=3),),
            consumers=(HostedConsumer("emails", False, last_error="ConnectionError: refused"),),
            leader=True,
        ),
    )
)

# Full access from the test client's peer: the fuzzing is of the API, not of the guard.
schema = schemathesis.openapi.from_asgi(
    "/api/openapi.json", app.dashboard(authorize=lambda request: True)
)


@pytest.mark.filterwarnings("ignore")
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_document_says(case: Case[Any]) -> None:
    # A valid shape is not always an acceptable request (an unregistered job name, a
    # cursor from nowhere): refusing one with a 4xx is right, so that check is left out.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
