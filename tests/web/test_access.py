"""Who gets in, who may act, and forged requests: each protection fails its test if removed."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.testclient import TestClient

from backburner import Backburner, JobState
from backburner.web import Access, Grant
from tests.web.conftest import LOCAL, failed_job

ACTIONS = [("POST", "api/jobs/{id}/requeue"), ("POST", "api/jobs/requeue")]


def _state(app: Backburner, job_id: str) -> JobState:
    job = app.jobs.get(job_id)
    assert job is not None
    return job.state


def test_by_default_only_this_machine_gets_in(app: Backburner) -> None:
    dashboard = app.dashboard()
    assert TestClient(dashboard, client=LOCAL).get("api/stats").status_code == 200
    assert TestClient(dashboard, client=("::1", 4000)).get("api/stats").status_code == 200
    for peer in ("10.1.2.3", "192.168.0.9", "testclient"):
        remote = TestClient(dashboard, client=(peer, 4000))
        for path in ("", "jobs", "api/stats", "api/jobs", "metrics", "health"):
            answer = remote.get(path)
            assert answer.status_code == 403, (peer, path)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Forwarded-For", "203.0.113.7"),
        ("X-Forwarded-For", "127.0.0.1, 203.0.113.7"),
        ("Forwarded", "for=203.0.113.7"),
        ("Forwarded", 'for="[2001:db8::1]:4711";proto=https'),
        ("Forwarded", "for=unknown"),
    ],
)
def test_a_proxy_forwarding_another_host_is_refused(
    app: Backburner, header: str, value: str
) -> None:
    client = TestClient(app.dashboard(), client=LOCAL)
    assert client.get("api/stats", headers={header: value}).status_code == 403
    assert client.get("api/stats", headers={header: "127.0.0.1"}).status_code == 200


def test_read_only_shows_but_refuses_and_hides_every_action(app: Backburner) -> None:
    job_id = failed_job(app)
    client = TestClient(app.dashboard(read_only=True), client=LOCAL)
    assert client.get(f"api/jobs/{job_id}").status_code == 200
    page = client.get(f"jobs/{job_id}").text
    assert "/requeue" not in page
    assert "Retry" not in page
    assert "Retry selected" not in client.get("jobs").text
    for answer in (
        client.post(f"api/jobs/{job_id}/requeue", json={}),
        client.post("api/jobs/requeue", json={"ids": [job_id]}),
        client.post(f"api/jobs/{job_id}/delete", json={}),
        client.post("api/jobs", json={"name": "send", "args": ["x"]}),
    ):
        assert answer.status_code == 403
        assert "read-only" in answer.json()["error"]
    assert _state(app, job_id) is JobState.FAILED
    assert app.jobs.search(name="send").jobs == []


def test_read_only_refuses_pausing_and_resuming_a_queue_and_hides_the_buttons(
    app: Backburner,
) -> None:
    app.enqueue("send", "x")
    app.queues.pause("paused-before")
    full = TestClient(app.dashboard(), client=LOCAL).get("queues").text
    assert "/api/queues/emails/pause" in full
    assert "/api/queues/paused-before/resume" in full
    client = TestClient(app.dashboard(read_only=True), client=LOCAL)
    page = client.get("queues").text
    assert "paused" in page
    assert "/pause" not in page
    assert "/resume" not in page
    for answer in (
        client.post("api/queues/emails/pause", json={}),
        client.post("api/queues/paused-before/resume", json={}),
    ):
        assert answer.status_code == 403
        assert "read-only" in answer.json()["error"]
    assert [p.queue for p in app.queues.paused()] == ["paused-before"]


def test_authorize_decides_access(app: Backburner) -> None:
    job_id = failed_job(app)

    def check(request: Request) -> Access | Grant:
        user = request.headers.get("X-User")
        if user == "ann":
            return Grant(Access.FULL, "ann")
        if user == "bob":
            return Access.READ_ONLY
        return Access.NONE

    # From elsewhere, so that what lets ann in is authorize=, not the local default.
    client = TestClient(app.dashboard(authorize=check), client=("10.1.2.3", 4000))
    assert client.get("api/stats").status_code == 403
    assert client.get("api/stats", headers={"X-User": "bob"}).status_code == 200
    refused = client.post(f"api/jobs/{job_id}/requeue", json={}, headers={"X-User": "bob"})
    assert refused.status_code == 403
    assert _state(app, job_id) is JobState.FAILED
    done = client.post(f"api/jobs/{job_id}/requeue", json={}, headers={"X-User": "ann"})
    assert done.status_code == 200
    job = app.jobs.get(job_id)
    assert job is not None
    assert job.history[-1].reason == "requeued from the dashboard by ann"
    assert "ann" in client.get("", headers={"X-User": "ann"}).text


def test_read_only_narrows_what_authorize_grants(app: Backburner) -> None:
    job_id = failed_job(app)
    client = TestClient(app.dashboard(authorize=lambda r: True, read_only=True), client=LOCAL)
    assert client.post(f"api/jobs/{job_id}/requeue", json={}).status_code == 403
    assert _state(app, job_id) is JobState.FAILED


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/x-www-form-urlencoded"},
        {"Content-Type": "text/plain"},
        {"Content-Type": "multipart/form-data; boundary=x"},
        {},
        {"Content-Type": "application/json", "Origin": "https://evil.example"},
        {"Content-Type": "application/json", "Origin": "null"},
        {"Content-Type": "application/json", "Referer": "https://evil.example/page"},
    ],
)
def test_forged_requests_get_403_and_change_nothing(
    app: Backburner, headers: dict[str, str]
) -> None:
    job_id = failed_job(app)
    client = TestClient(app.dashboard(), client=LOCAL)
    for path in (f"api/jobs/{job_id}/requeue", "api/jobs/requeue"):
        body = f'{{"ids": ["{job_id}"]}}'
        answer = client.post(path, content=body, headers=headers)
        assert answer.status_code == 403, (path, headers)
        assert answer.json()["error"]
    assert (
        client.delete("api/recurring/x", headers={"Origin": "https://evil.example"}).status_code
        == 403
    )
    assert _state(app, job_id) is JobState.FAILED


def test_same_origin_json_is_accepted(app: Backburner) -> None:
    job_id = failed_job(app)
    client = TestClient(app.dashboard(), client=LOCAL, base_url="http://dash.local")
    answer = client.post(
        f"api/jobs/{job_id}/requeue",
        json={},
        headers={"Origin": "http://dash.local", "Referer": "http://dash.local/jobs"},
    )
    assert answer.status_code == 200
    assert _state(app, job_id) is JobState.ENQUEUED


def test_nothing_changes_on_get(app: Backburner) -> None:
    job_id = failed_job(app)
    client = TestClient(app.dashboard(), client=LOCAL)
    for path in (f"api/jobs/{job_id}/requeue", f"api/jobs/{job_id}/delete", "api/jobs/requeue"):
        assert client.get(path).status_code in (404, 405)
    assert _state(app, job_id) is JobState.FAILED


def test_pages_refuse_to_be_framed_by_another_site(client: TestClient) -> None:
    headers = client.get("jobs").headers
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
