"""Redacted arguments never leave the dashboard in clear; the job still runs with them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from backburner import Backburner
from tests.web.conftest import LOCAL

SECRET = "hunter2-secret"
TOKEN = "tok-98765"


@pytest.fixture(params=["memory", "sqlite"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backburner]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'jobs.db'}"
    application = Backburner(url)

    @application.job(name="login", redact=["password", "token"])
    def login(user: str, password: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"user": user, "seen": password, "token": (options or {}).get("token")}

    def masked(args: list[Any], kwargs: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        return [f"card ending {str(args[0])[-4:]}"], {}

    @application.job(name="charge", redact=masked)
    def charge(card: str, cvc: str = "") -> str:
        return card[-4:]

    @application.job(name="broken", redact=lambda args, kwargs: None)  # type: ignore[arg-type]
    def broken(note: str) -> None: ...

    yield application
    application.close()


def _everything(client: TestClient, job_id: str) -> str:
    """Every page and API answer that shows this job, as one text."""
    answers = [
        client.get("jobs"),
        client.get(f"jobs/{job_id}"),
        client.get("api/jobs"),
        client.get(f"api/jobs/{job_id}"),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
    return "\n".join(answer.text for answer in answers)


def test_named_values_are_hidden_on_pages_and_in_the_api(app: Backburner) -> None:
    client = TestClient(app.dashboard(), client=LOCAL)
    by_position = app.enqueue("login", "ann", SECRET, {"token": TOKEN, "lang": "en"})
    by_keyword = app.enqueue("login", "bob", password=SECRET, options={"deep": [{"token": TOKEN}]})
    for job_id in (by_position, by_keyword):
        shown = _everything(client, job_id)
        assert SECRET not in shown
        assert TOKEN not in shown
        assert "[redacted]" in shown
    positional = client.get(f"api/jobs/{by_position}").json()
    assert positional["args"] == ["ann", "[redacted]", {"token": "[redacted]", "lang": "en"}]
    keyword = client.get(f"api/jobs/{by_keyword}").json()
    assert keyword["kwargs"] == {
        "password": "[redacted]",
        "options": {"deep": [{"token": "[redacted]"}]},
    }


def test_the_job_runs_with_the_real_values_and_its_result_keys_are_hidden(
    app: Backburner,
) -> None:
    client = TestClient(app.dashboard(), client=LOCAL)
    job_id = app.enqueue("login", "ann", SECRET, {"token": TOKEN})
    with app.start_server(server_timeout=1.5):
        app.jobs.wait(job_id, timeout=10)
    stored = app.jobs.get(job_id)
    assert stored is not None
    assert stored.result == {"user": "ann", "seen": SECRET, "token": TOKEN}
    shown = client.get(f"api/jobs/{job_id}").json()["result"]
    assert shown == {"user": "ann", "seen": SECRET, "token": "[redacted]"}  # keys, not values
    assert TOKEN not in client.get(f"jobs/{job_id}").text


def test_a_formatter_decides_what_is_shown(app: Backburner) -> None:
    client = TestClient(app.dashboard(), client=LOCAL)
    job_id = app.enqueue("charge", "4242424242424242", cvc="123")
    shown = _everything(client, job_id)
    assert "4242424242424242" not in shown
    assert '"123"' not in shown
    assert client.get(f"api/jobs/{job_id}").json()["args"] == ["card ending 4242"]


def test_a_broken_formatter_hides_every_argument(app: Backburner) -> None:
    client = TestClient(app.dashboard(), client=LOCAL)
    job_id = app.enqueue("broken", "plain note")
    assert "plain note" not in _everything(client, job_id)
    assert client.get(f"api/jobs/{job_id}").json()["args"] == ["[redacted]"]


def test_the_dashboard_rule_covers_jobs_this_process_does_not_register(app: Backburner) -> None:
    job_id = app.enqueue("elsewhere.signup", "ann", api_key=SECRET, profile={"password": SECRET})
    plain = TestClient(app.dashboard(), client=LOCAL)
    assert SECRET in plain.get(f"api/jobs/{job_id}").text  # nothing redacts it by name
    client = TestClient(app.dashboard(redact=["api_key", "password"]), client=LOCAL)
    assert SECRET not in _everything(client, job_id)
    assert client.get(f"api/jobs/{job_id}").json()["kwargs"] == {
        "api_key": "[redacted]",
        "profile": {"password": "[redacted]"},
    }


def test_searching_by_a_redacted_value_is_refused(app: Backburner) -> None:
    client = TestClient(app.dashboard(), client=LOCAL)
    app.enqueue("login", "ann", password=SECRET)
    for q in (
        f"args.password:{SECRET}",
        'args.options:{"token":"x"}',
        f"name:login arg:{SECRET}",
        "name:charge args.cvc:123",
    ):
        answer = client.get("api/jobs", params={"q": q})
        assert answer.status_code == 400, q
        assert "redacted" in answer.json()["error"]
        assert "redacted" in client.get("jobs", params={"q": q}).text
    bulk = client.post("api/jobs/delete", json={"filter": {"q": f"args.password:{SECRET}"}})
    assert bulk.status_code == 400
    allowed = client.get("api/jobs", params={"q": "name:login args.user:ann"})
    assert allowed.status_code == 200


def test_redact_takes_names_or_a_callable() -> None:
    app = Backburner("memory://")
    with pytest.raises(ValueError, match="redact= takes a list of names or a callable"):

        @app.job(name="bad", redact="password")
        def bad(password: str) -> None: ...

    with pytest.raises(ValueError, match="non-empty strings"):

        @app.job(name="worse", redact=["", "x"])
        def worse() -> None: ...

    @app.job(name="good", redact=("token", "password", "token"))
    def good(password: str) -> None: ...

    assert good.options.redact == ("password", "token")
    assert good.with_options(queue="low").options.redact == ("password", "token")
    app.close()
