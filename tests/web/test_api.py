"""The JSON API: every endpoint, its errors, and the history its actions leave."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import threading
import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from backburner import Backburner, JobState
from backburner.web import Access, Grant
from tests.support import wait_until
from tests.web.conftest import LOCAL, failed_job


def test_stats_list_and_get_a_job(any_app: Backburner) -> None:
    client = TestClient(any_app.dashboard(), client=LOCAL)
    job_id = any_app.enqueue("send", "ann@example.com", user_id=42)
    stats = client.get("api/stats").json()
    assert stats["states"]["enqueued"] == 1
    assert stats["exact"]["enqueued"] is True
    page = client.get("api/jobs").json()
    assert page["next"] is None
    [listed] = page["jobs"]
    assert listed["id"] == job_id
    assert isinstance(listed["id"], str)
    assert listed["kwargs"] == {"user_id": 42}
    job = client.get(f"api/jobs/{job_id}").json()
    assert job["name"] == "send"
    assert job["history"][0]["state"] == "enqueued"


def test_jobs_filter_by_state_queue_name_and_search(client: TestClient, app: Backburner) -> None:
    first = app.enqueue("send", "a@example.com", user_id=1)
    second = app.enqueue("send", "b@example.com", user_id=2)
    app.schedule("boom", dt.timedelta(hours=1))

    def ids(**params: str) -> list[str]:
        answer = client.get("api/jobs", params=params)
        assert answer.status_code == 200, answer.text
        return [job["id"] for job in answer.json()["jobs"]]

    assert ids(state="enqueued") == [second, first]
    assert ids(queue="emails") == [second, first]
    assert ids(name="se*") == [second, first]
    assert ids(q="args.user_id:1") == [first]
    assert ids(q=f"id:{second}") == [second]
    assert len(ids(q="state:scheduled name:boom")) == 1


def test_jobs_pages_newest_first_by_cursor(client: TestClient, app: Backburner) -> None:
    made = [app.enqueue("send", f"{n}@example.com") for n in range(5)]
    first = client.get("api/jobs", params={"limit": "3"}).json()
    second = client.get("api/jobs", params={"limit": "3", "cursor": first["next"]}).json()
    assert [j["id"] for j in first["jobs"] + second["jobs"]] == made[::-1]
    assert second["next"] is None


def test_enqueue_a_registered_job_by_name(client: TestClient, app: Backburner) -> None:
    now = client.post("api/jobs", json={"name": "send", "args": ["x@example.com"]})
    assert now.status_code == 201
    job = app.jobs.get(now.json()["id"])
    assert job is not None
    assert (job.state, job.queue, job.args) == (JobState.ENQUEUED, "emails", ["x@example.com"])
    later = client.post(
        "api/jobs", json={"name": "send", "args": ["y"], "delay": 60, "queue": "q2"}
    )
    job = app.jobs.get(later.json()["id"])
    assert job is not None
    assert (job.state, job.queue) == (JobState.SCHEDULED, "q2")
    at = client.post("api/jobs", json={"name": "boom", "at": "2099-01-01T00:00:00Z"})
    job = app.jobs.get(at.json()["id"])
    assert job is not None
    assert job.run_at == dt.datetime(2099, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"name": "nothing.registered"}, 404, "no job is registered"),
        ({}, 400, "'name'"),
        ({"name": "send", "args": "x"}, 400, "'args'"),
        ({"name": "send", "kwargs": [1]}, 400, "'kwargs'"),
        ({"name": "send", "delay": -1}, 400, "'delay'"),
        ({"name": "send", "delay": "soon"}, 400, "'delay'"),
        ({"name": "send", "at": "tomorrow"}, 400, "'at'"),
        ({"name": "send", "at": "2099-01-01T00:00:00"}, 400, "offset"),
        ({"name": "send", "delay": 1, "at": "2099-01-01T00:00:00Z"}, 400, "not both"),
        ({"name": "send", "colour": "red"}, 400, "unknown field"),
        ({"name": "send", "args": []}, 400, "do not fit"),
        ({"name": "send", "args": ["x"], "kwargs": {"nobody": 1}}, 400, "do not fit"),
    ],
)
def test_enqueue_refuses_malformed_bodies(
    client: TestClient, app: Backburner, body: dict[str, object], status: int, words: str
) -> None:
    answer = client.post("api/jobs", json=body)
    assert answer.status_code == status
    assert words in answer.json()["error"]
    assert app.jobs.search().jobs == []


@pytest.mark.parametrize("raw", [b"{", b"[1, 2]", b'"text"', b"\xff"])
def test_a_body_that_is_not_a_json_object_is_a_400(client: TestClient, raw: bytes) -> None:
    answer = client.post("api/jobs", content=raw, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert "error" in answer.json()


def test_requeue_and_delete_one_name_the_dashboard_and_its_user(any_app: Backburner) -> None:
    client = TestClient(
        any_app.dashboard(authorize=lambda request: Grant(Access.FULL, "ann")), client=LOCAL
    )
    job_id = failed_job(any_app)
    assert client.post(f"api/jobs/{job_id}/delete", json={}).json() == {
        "id": job_id,
        "deleted": True,
    }
    assert client.post(f"api/jobs/{job_id}/requeue", json={}).json()["requeued"] is True
    job = any_app.jobs.get(job_id)
    assert job is not None
    reasons = [change.reason for change in job.history]
    assert reasons[-2:] == [
        "deleted from the dashboard by ann",
        "requeued from the dashboard by ann",
    ]


def test_requeue_of_a_waiting_job_is_a_409(client: TestClient, app: Backburner) -> None:
    job_id = app.enqueue("send", "x")
    answer = client.post(f"api/jobs/{job_id}/requeue", json={})
    assert answer.status_code == 409
    assert "enqueued" in answer.json()["error"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "api/jobs/999999"),
        ("GET", "api/jobs/not-a-number"),
        ("GET", "api/jobs/99999999999999999999999"),
        ("POST", "api/jobs/999999/requeue"),
        ("POST", "api/jobs/999999/delete"),
        ("POST", "api/recurring/nothing/trigger"),
        ("POST", "api/recurring/nothing/pause"),
        ("POST", "api/recurring/nothing/resume"),
        ("DELETE", "api/recurring/nothing"),
        ("GET", "api/nothing"),
    ],
)
def test_unknown_ids_are_404(client: TestClient, method: str, path: str) -> None:
    answer = client.request(method, path, json={} if method == "POST" else None)
    assert answer.status_code == 404
    assert answer.json()["error"]


def test_bulk_by_ids_and_by_filter_say_how_many(any_app: Backburner) -> None:
    client = TestClient(any_app.dashboard(), client=LOCAL)
    failed = [failed_job(any_app, note) for note in ("a", "b", "c")]
    waiting = any_app.enqueue("send", "x")
    by_ids = client.post("api/jobs/requeue", json={"ids": failed[:2]}).json()
    assert by_ids == {"requeued": 2, "limit": 1000, "more": False}
    by_filter = client.post("api/jobs/delete", json={"filter": {"q": "name:boom"}}).json()
    assert by_filter["deleted"] == 3
    waiting_job = any_app.jobs.get(waiting)
    assert waiting_job is not None
    assert waiting_job.state is JobState.ENQUEUED
    job = any_app.jobs.get(failed[2])
    assert job is not None
    assert job.history[-1].reason == "deleted from the dashboard"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": []},
        {"ids": "1"},
        {"ids": ["x"]},
        {"ids": [str(n) for n in range(1001)]},
        {"ids": ["1"], "filter": {"state": "failed"}},
        {"filter": {}},
        {"filter": {"state": "sleeping"}},
        {"filter": {"colour": "red"}},
        {"filter": "failed"},
        {"filter": {"q": "bogus:term"}},
    ],
)
def test_bulk_refuses_malformed_bodies(client: TestClient, app: Backburner, body: object) -> None:
    job_id = app.enqueue("send", "x")
    answer = client.post("api/jobs/delete", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]
    job = app.jobs.get(job_id)
    assert job is not None
    assert job.state is JobState.ENQUEUED


def test_recurring_list_trigger_pause_resume_remove(client: TestClient, app: Backburner) -> None:
    app.recurring.add_or_update("nightly", "send", "0 3 * * *", args=["ops@example.com"])
    [listed] = client.get("api/recurring").json()["recurring"]
    assert (listed["id"], listed["cron"], listed["paused"]) == ("nightly", "0 3 * * *", False)
    assert listed["description"]
    triggered = client.post("api/recurring/nightly/trigger", json={}).json()
    job = app.jobs.get(triggered["job_id"])
    assert job is not None
    assert job.history[0].reason == "recurring nightly triggered from the dashboard"
    assert client.post("api/recurring/nightly/pause", json={}).status_code == 200
    paused = app.recurring.get("nightly")
    assert paused is not None
    assert paused.paused
    assert client.post("api/recurring/nightly/resume", json={}).status_code == 200
    resumed = app.recurring.get("nightly")
    assert resumed is not None
    assert not resumed.paused
    assert client.post("api/recurring/nightly/explode", json={}).status_code == 404
    assert client.delete("api/recurring/nightly").status_code == 200
    assert app.recurring.get("nightly") is None


def test_queues_and_servers(any_app: Backburner) -> None:
    client = TestClient(any_app.dashboard(), client=LOCAL)
    any_app.enqueue("send", "x")
    [queue] = client.get("api/queues").json()["queues"]
    assert (queue["name"], queue["enqueued"], queue["paused"]) == ("emails", 1, False)
    assert (queue["paused_at"], queue["pause_reason"]) == (None, None)
    with any_app.start_server(queues=["other"], server_timeout=1.5):
        servers = wait_until(
            lambda: client.get("api/servers").json()["servers"], what="the server listed"
        )
        health = client.get("health").json()
    assert [s["stale"] for s in servers] == [False]
    assert health["checks"]["servers"]["count"] == 1


def test_pause_and_resume_a_queue_name_the_dashboard_user(any_app: Backburner) -> None:
    client = TestClient(
        any_app.dashboard(authorize=lambda request: Grant(Access.FULL, "ann")), client=LOCAL
    )
    job_id = any_app.enqueue("send", "x")
    paused = client.post("api/queues/emails/pause", json={})
    assert paused.status_code == 200
    assert paused.json() == {"name": "emails", "paused": True, "changed": True}
    [queue] = client.get("api/queues").json()["queues"]  # at once, not a second later
    assert queue["paused"] is True
    assert queue["pause_reason"] == "paused from the dashboard by ann"
    assert dt.datetime.fromisoformat(queue["paused_at"]).tzinfo is not None
    [pause] = any_app.queues.paused()
    assert (pause.queue, pause.reason) == ("emails", "paused from the dashboard by ann")

    # Paused: a server of this queue leaves its job alone.
    with any_app.start_server(queues=["emails"], server_timeout=1.5):
        time.sleep(1.2)
        assert any_app.jobs.get(job_id).state is JobState.ENQUEUED  # type: ignore[union-attr]
        resumed = client.post("api/queues/emails/resume", json={})
        assert resumed.json() == {"name": "emails", "paused": False, "changed": True}
        assert any_app.jobs.wait(job_id, timeout=10).state is JobState.SUCCEEDED
    [queue] = client.get("api/queues").json()["queues"]
    assert queue["paused"] is False


def test_pausing_is_idempotent_and_takes_a_queue_with_no_jobs(client: TestClient) -> None:
    first = client.post("api/queues/nightly/pause", json={})
    again = client.post("api/queues/nightly/pause", json={})
    assert first.json() == {"name": "nightly", "paused": True, "changed": True}
    assert again.status_code == 200
    assert again.json() == {"name": "nightly", "paused": True, "changed": False}
    [queue] = client.get("api/queues").json()["queues"]
    assert (queue["name"], queue["enqueued"], queue["paused"]) == ("nightly", 0, True)
    assert client.post("api/queues/nightly/resume", json={}).json()["changed"] is True
    assert client.post("api/queues/nightly/resume", json={}).json() == {
        "name": "nightly",
        "paused": False,
        "changed": False,
    }
    assert client.get("api/queues").json()["queues"] == []


def test_a_queue_name_with_a_slash_can_be_paused(client: TestClient, app: Backburner) -> None:
    answer = client.post("api/queues/team%2Femails/pause", json={})
    assert answer.json() == {"name": "team/emails", "paused": True, "changed": True}
    assert [p.queue for p in app.queues.paused()] == ["team/emails"]


def test_queue_actions_refuse_unknown_verbs_bad_names_and_bad_bodies(
    client: TestClient, app: Backburner
) -> None:
    unknown = client.post("api/queues/emails/drain", json={})
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "no action 'drain': pause or resume"}
    too_long = client.post(f"api/queues/{'q' * 201}/pause", json={})
    assert too_long.status_code == 400
    assert "at most 200 characters" in too_long.json()["error"]
    bad_body = client.post(
        "api/queues/emails/pause", content=b"[1]", headers={"Content-Type": "application/json"}
    )
    assert bad_body.status_code == 400
    form = client.post("api/queues/emails/pause", data={"x": "1"})
    assert form.status_code == 403
    assert app.queues.paused() == []


def test_servers_tell_their_busy_workers_and_what_they_host(any_app: Backburner) -> None:
    client = TestClient(any_app.dashboard(), client=LOCAL)
    started, release = threading.Event(), threading.Event()

    @any_app.job(name="hold", queue="other")
    def hold() -> None:
        started.set()
        release.wait(10)

    @any_app.service(name="sync")
    async def sync(stop: asyncio.Event) -> None:
        await stop.wait()

    any_app.task_queue("thumbs", capacity=5)
    any_app.enqueue("hold")

    def busy_server() -> dict[str, Any] | None:
        listed = client.get("api/servers").json()["servers"]
        return next((s for s in listed if s["busy"] == 1), None)

    with any_app.start_server(queues=["other"], workers=3, server_timeout=1.0):
        assert started.wait(10)
        server = wait_until(busy_server, what="a server with a busy worker")
        release.set()
    assert (server["busy"], server["workers"]) == (1, 3)
    assert server["hosting"] == {
        "services": [
            {
                "name": "sync",
                "state": "running",
                "leader_only": False,
                "restarts": 0,
                "last_error": None,
            }
        ],
        "periodic": [],
        "task_queues": [
            {
                "name": "thumbs",
                "size": 0,
                "capacity": 5,
                "busy": 0,
                "concurrency": 1,
                "processed": 0,
                "failed": 0,
                "dropped": 0,
            }
        ],
        "consumers": [],
        "leader": server["hosting"]["leader"],
    }


def test_bad_query_parameters_are_400(client: TestClient) -> None:
    for params in ({"limit": "0"}, {"limit": "many"}, {"state": "sleeping"}, {"colour": "red"}):
        answer = client.get("api/jobs", params=params)
        assert answer.status_code == 400, params
        assert answer.json()["error"]
    assert client.get("api/jobs", params={"cursor": "garbage"}).status_code == 400


def test_the_openapi_document_lists_every_api_route(client: TestClient) -> None:
    document = client.get("api/openapi.json").json()
    routes = {
        # A converter ({name:path}, so that a queue name may hold a slash) is not OpenAPI's.
        (re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path), method.lower())
        for route in client.app.routes  # type: ignore[attr-defined]
        if route.path.startswith("/api/") and route.path != "/api/openapi.json"
        for method in route.methods - {"HEAD"}
    }
    described = {
        (path.replace("{verb}", "{verb}"), method)
        for path, operations in document["paths"].items()
        for method in operations
    }
    expanded = set()
    for path, method in routes:
        if path.endswith("/{verb}"):
            verbs = ("trigger", "pause", "resume") if "recurring" in path else ("pause", "resume")
            expanded |= {(path.replace("{verb}", verb), method) for verb in verbs}
        else:
            expanded.add((path, method))
    assert expanded == described
