"""A job's page and ``api/jobs/{id}`` show its parent and its continuations."""

from __future__ import annotations

import datetime as dt

from starlette.testclient import TestClient

from backburner import Backburner, JobState
from tests.web.conftest import LOCAL


def test_a_parent_lists_its_continuations_and_each_links_back(any_app: Backburner) -> None:
    client = TestClient(any_app.dashboard(), client=LOCAL)
    parent = any_app.enqueue("send", "ann@example.com")
    first = any_app.continue_with("send", parent, "receipt@example.com")
    second = any_app.continue_with("boom", parent, on="finished")
    unrelated = any_app.enqueue("send", "bob@example.com")

    answer = client.get(f"api/jobs/{parent}").json()
    assert answer["parent"] is None
    assert [(c["id"], c["name"], c["state"]) for c in answer["continuations"]] == [
        (first, "send", "awaiting"),
        (second, "boom", "awaiting"),
    ]
    assert answer["more_continuations"] is False
    page = client.get(f"jobs/{parent}").text
    assert "Continuations" in page
    assert f'href="/jobs/{first}"' in page
    assert f'href="/jobs/{second}"' in page
    assert f'href="/jobs/{unrelated}"' not in page

    child = client.get(f"api/jobs/{first}").json()
    assert child["parent"] == {"id": parent, "exists": True, "name": "send", "state": "enqueued"}
    assert child["continuations"] == []
    child_page = client.get(f"jobs/{first}").text
    assert f'href="/jobs/{parent}"' in child_page
    assert "runs when it has succeeded" in child_page
    assert "Continuations" not in child_page


def test_continuations_show_their_state_once_the_parent_has_run(any_app: Backburner) -> None:
    client = TestClient(any_app.dashboard(), client=LOCAL)
    parent = any_app.enqueue("send", "ann@example.com")
    child = any_app.continue_with("send", parent, "next@example.com")
    with any_app.start_server(queues=["emails"], server_timeout=1.5):
        any_app.jobs.wait(child, timeout=10)
    [shown] = client.get(f"api/jobs/{parent}").json()["continuations"]
    assert (shown["id"], shown["state"]) == (child, "succeeded")
    assert shown["finished_at"] is not None
    assert client.get(f"api/jobs/{child}").json()["parent"]["state"] == "succeeded"


def test_a_pruned_parent_is_named_but_not_linked(app: Backburner) -> None:
    client = TestClient(app.dashboard(), client=LOCAL)
    parent = app.enqueue("send", "ann@example.com")
    child = app.continue_with("send", parent, "next@example.com")
    with app.start_server(queues=["emails"], server_timeout=1.5):
        app.jobs.wait(child, timeout=10)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    app.engine.job_prune({JobState.SUCCEEDED: later}, 1, later)  # the oldest: the parent
    assert app.jobs.get(parent) is None
    assert client.get(f"api/jobs/{child}").json()["parent"] == {
        "id": parent,
        "exists": False,
        "name": None,
        "state": None,
    }
    page = client.get(f"jobs/{child}").text
    assert f"job {parent} <small>(no longer stored)</small>" in page
    assert f'href="/jobs/{parent}"' not in page


def test_past_a_hundred_continuations_the_page_says_more(app: Backburner) -> None:
    client = TestClient(app.dashboard(), client=LOCAL)
    parent = app.enqueue("send", "ann@example.com")
    for n in range(101):
        app.continue_with("send", parent, f"{n}@example.com")
    answer = client.get(f"api/jobs/{parent}").json()
    assert len(answer["continuations"]) == 100
    assert answer["more_continuations"] is True
    assert "Only the first 100 are listed" in client.get(f"jobs/{parent}").text
