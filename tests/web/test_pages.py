"""The pages, escaping, mounting under a path, health and metrics."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from backburner import (
    Backburner,
    HostedConsumer,
    HostedPeriodic,
    HostedService,
    HostedTaskQueue,
    Hosting,
    ServerInfo,
)
from backburner.web._snapshot import cache_for
from tests.web.conftest import LOCAL, failed_job

SCRIPT = "<script>alert('x')</script>"


def test_every_page_renders(any_app: Backburner) -> None:
    client = TestClient(any_app.dashboard(), client=LOCAL)
    job_id = failed_job(any_app)
    any_app.recurring.add_or_update("nightly", "send", "0 3 * * *")
    for path in (
        "",
        "jobs",
        "jobs?state=failed",
        f"jobs/{job_id}",
        "recurring",
        "queues",
        "servers",
    ):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith("text/html")
    job_page = client.get(f"jobs/{job_id}").text
    assert "RuntimeError" in job_page
    assert "Traceback" in job_page
    assert "At 03:00" in client.get("recurring").text


def test_a_script_argument_shows_as_text(client: TestClient, app: Backburner) -> None:
    job_id = app.enqueue("send", SCRIPT, user_id=1)
    failed = failed_job(app, SCRIPT)
    for path in ("jobs", f"jobs/{job_id}", f"jobs/{failed}"):
        page = client.get(path).text
        assert SCRIPT not in page, path
        assert "&lt;script&gt;" in page, path
    assert "<b>bad</b>" not in client.get(f"jobs/{failed}").text


def test_the_servers_page_shows_busy_workers_and_what_each_server_hosts_escaped(
    client: TestClient, app: Backburner
) -> None:
    now = dt.datetime.now(dt.UTC)
    hosting = Hosting(
        services=(HostedService(SCRIPT, "failing", restarts=2, last_error=f"OSError: {SCRIPT}"),),
        periodic=(HostedPeriodic("tick", "every 30 s", last_run=now, last_outcome="failed"),),
        task_queues=(HostedTaskQueue("thumbs", 1, 5, 1, 2, processed=3),),
        consumers=(HostedConsumer("emails", True, in_flight=2, dead_lettered=4),),
        leader=True,
    )
    app.engine.server_heartbeat(
        ServerInfo("h:1:a", "h", 1, ("default",), 4, now, now, busy=3, hosting=hosting)
    )
    app.engine.server_heartbeat(ServerInfo("h:2:b", "h", 2, ("default",), 2, now, now))
    page = client.get("servers").text
    assert SCRIPT not in page
    assert "&lt;script&gt;" in page
    assert '<span class="busy">3</span>/<span class="total">4</span> busy' in page
    assert '<span class="busy">0</span>/<span class="total">2</span> busy' in page
    assert page.count('class="hosting') == 1  # the server hosting nothing gets no row
    assert "failing, backing off" in page
    assert "2 restarts" in page
    assert "every 30 s" in page
    assert "1/5 waiting · 1/2 busy · 3 processed" in page
    assert "2 in flight · 0 processed · 0 failed · 4 dead-lettered" in page
    assert ">leader<" in page


def test_an_unknown_job_page_is_404(client: TestClient) -> None:
    for path in ("jobs/999999", "jobs/abc", "nothing"):
        assert client.get(path).status_code == 404, path


def test_a_bad_search_says_so_on_the_page(client: TestClient) -> None:
    answer = client.get("jobs", params={"q": "bogus:term"})
    assert answer.status_code == 200
    assert "use state:, queue:" in answer.text


def test_links_and_api_calls_follow_the_mount_path(app: Backburner) -> None:
    outer = Starlette(routes=[Mount("/ops/jobs", app.dashboard())])
    client = TestClient(outer, client=LOCAL)
    page = client.get("/ops/jobs/").text
    assert 'href="/ops/jobs/static/dashboard.css"' in page
    assert 'data-base="/ops/jobs"' in page
    assert 'href="/ops/jobs/recurring"' in page
    assert client.get("/ops/jobs/api/stats").status_code == 200
    assert client.get("/ops/jobs/static/dashboard.js").status_code == 200
    assert client.get("/ops/jobs/api/openapi.json").json()["servers"] == [{"url": "/ops/jobs"}]


def test_health_and_liveness(client: TestClient) -> None:
    health = client.get("health")
    assert health.status_code == 200
    assert health.json()["status"] == "healthy"
    assert health.json()["checks"]["storage"]["status"] == "healthy"
    assert client.get("health/live").json() == {"status": "healthy"}


def test_health_is_503_when_storage_does_not_answer(tmp_path: Path) -> None:
    broken = Backburner(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'jobs.db'}")
    client = TestClient(broken.dashboard(), client=LOCAL)
    answer = client.get("health")
    assert answer.status_code == 503
    assert answer.json()["status"] == "unhealthy"
    assert answer.json()["checks"]["storage"]["status"] == "unhealthy"
    assert client.get("health/live").status_code == 200
    stats = client.get("api/stats")
    assert stats.status_code == 503
    assert "storage does not answer" in stats.json()["error"]
    assert client.get("jobs").status_code == 503


def test_metrics_are_prometheus_text(client: TestClient, app: Backburner) -> None:
    app.enqueue("send", "x")
    app.enqueue("send", "y")
    answer = client.get("metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert 'backburner_jobs{queue="emails",state="enqueued"} 2.0' in text
    assert 'backburner_queue_oldest_waiting_seconds{queue="emails"}' in text
    assert "backburner_servers_alive 0.0" in text
    assert "job_id" not in text


def test_metrics_count_the_workers_and_the_busy_ones_of_live_servers(app: Backburner) -> None:
    now = dt.datetime.now(dt.UTC)
    app.engine.server_heartbeat(ServerInfo("h:1:a", "h", 1, ("default",), 4, now, now, busy=3))
    app.engine.server_heartbeat(ServerInfo("h:2:b", "h", 2, ("default",), 2, now, now, busy=1))
    text = TestClient(app.dashboard(), client=LOCAL).get("metrics").text
    assert "backburner_servers_alive 2.0" in text
    assert "backburner_workers 6.0" in text
    assert "backburner_workers_busy 4.0" in text


@pytest.mark.parametrize("path", ["api/stats", "metrics", ""])
def test_viewers_share_one_read_a_second(app: Backburner, path: str) -> None:
    cache_for(app)._max_age = 60.0  # a slow machine must not pass the second between reads
    first = TestClient(app.dashboard(), client=LOCAL)
    second = TestClient(app.dashboard(), client=LOCAL)
    first.get(path)
    app.enqueue("send", "x")
    # Read within the second: the snapshot the first viewer caused, not a new count.
    stats = second.get("api/stats").json()
    assert stats["states"]["enqueued"] == 0
