"""Throughput by hour and by day on the overview, as servers count it."""

from __future__ import annotations

import datetime as dt
import re

from starlette.testclient import TestClient

from backburner import Backburner, JobState
from backburner._throughput import hour_of
from tests.web.conftest import LOCAL, failed_job


def test_the_overview_shows_what_servers_counted(any_app: Backburner) -> None:
    client = TestClient(any_app.dashboard(), client=LOCAL)
    before = client.get("").text
    assert re.search(r'data-throughput="hour">.*?succeeded</span> 0 ', before, re.S)
    ids = [any_app.enqueue("send", f"{n}@example.com") for n in range(3)]
    with any_app.start_server(queues=["emails"], server_timeout=1.5):
        for job_id in ids:
            any_app.jobs.wait(job_id, timeout=10)
    failed_job(any_app)  # its server adds its count as it stops
    now = dt.datetime.now(dt.UTC)
    stored = any_app.engine.throughput_read(hour_of(now) - dt.timedelta(hours=1))
    assert sum(c.count for c in stored if c.state is JobState.SUCCEEDED) == 3
    assert sum(c.count for c in stored if c.state is JobState.FAILED) == 1

    page = client.get("").text
    for period in ("hour", "day"):
        caption = re.search(rf'data-throughput="{period}">(.*?)</figcaption>', page, re.S)
        assert caption is not None, period
        assert "succeeded</span> 3 " in caption.group(1)
        assert "failed</span> 1 " in caption.group(1)
    assert "3 succeeded, 1 failed</title>" in page  # this hour's bar
    assert page.count('<rect class="succeeded"') == 48 + 30
