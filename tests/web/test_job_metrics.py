"""``metrics`` counts the job events of its process: enqueues, outcomes, retries, times."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from starlette.testclient import TestClient

from backburner import Backburner, Retry
from tests.web.conftest import LOCAL


class Flaky(Exception):
    pass


@pytest.fixture(params=["memory", "sqlite"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backburner]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'jobs.db'}"
    application = Backburner(url)
    runs: list[int] = []

    @application.job(name="send", queue="emails")
    def send(to: str) -> str:
        return to

    @application.job(name="boom", retry=Retry(attempts=0))
    def boom() -> None:
        raise RuntimeError("for good")

    @application.job(name="flaky", retry=Retry(attempts=2, delays=[0.01]))
    def flaky() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise Flaky("once")

    yield application
    application.close()


def scrape(client: TestClient) -> dict[str, list[Sample]]:
    answer = client.get("metrics")
    assert answer.status_code == 200
    return {family.name: family.samples for family in text_string_to_metric_families(answer.text)}


def value(samples: list[Sample], sample: str, /, **labels: str) -> float:
    found = [s.value for s in samples if s.name == sample and s.labels == labels]
    assert len(found) == 1, (sample, labels, samples)
    return found[0]


def test_runs_of_an_in_process_server_are_counted(app: Backburner) -> None:
    client = TestClient(app.dashboard(), client=LOCAL)
    TestClient(app.dashboard(), client=LOCAL)  # a second dashboard: still one subscriber
    ids = [app.enqueue("send", f"{n}@example.com") for n in range(3)]
    ids += [app.enqueue("boom"), app.enqueue("flaky")]
    with app.start_server(queues=["emails", "default"], server_timeout=1.5):
        for job_id in ids:
            app.jobs.wait(job_id, timeout=10)
    metrics = scrape(client)

    enqueued = metrics["backburner_jobs_enqueued"]
    assert value(enqueued, "backburner_jobs_enqueued_total", queue="emails", name="send") == 3
    assert value(enqueued, "backburner_jobs_enqueued_total", queue="default", name="boom") == 1

    finished = metrics["backburner_jobs_finished"]
    total = "backburner_jobs_finished_total"
    assert value(finished, total, queue="emails", name="send", state="succeeded") == 3
    assert value(finished, total, queue="default", name="boom", state="failed") == 1
    assert value(finished, total, queue="default", name="flaky", state="succeeded") == 1
    assert not [
        s for s in finished if s.labels.get("name") == "flaky" and s.labels["state"] == "failed"
    ]

    retries = metrics["backburner_job_retries"]
    assert value(retries, "backburner_job_retries_total", queue="default", name="flaky") == 1
    assert not [s for s in retries if s.labels["name"] == "boom"]

    failures = metrics["backburner_job_failures"]
    failed = "backburner_job_failures_total"
    assert value(failures, failed, queue="default", name="boom", error_type="RuntimeError") == 1
    # The type as the traceback names it: its module and class.
    [flaky] = [s for s in failures if s.labels["name"] == "flaky"]
    assert flaky.labels["error_type"].endswith("Flaky")
    assert flaky.value == 1

    duration = metrics["backburner_job_duration_seconds"]
    count = "backburner_job_duration_seconds_count"
    assert value(duration, count, queue="emails", name="send") == 3
    assert value(duration, count, queue="default", name="flaky") == 2  # both runs
    top = value(
        duration, "backburner_job_duration_seconds_bucket", queue="emails", name="send", le="3600.0"
    )
    assert top == 3

    wait = metrics["backburner_job_wait_seconds"]
    assert value(wait, "backburner_job_wait_seconds_count", queue="emails", name="send") == 3
    assert value(wait, "backburner_job_wait_seconds_count", queue="default", name="flaky") == 2
    assert (
        value(wait, "backburner_job_wait_seconds_bucket", queue="emails", name="send", le="+Inf")
        == 3
    )

    every_label = {key for samples in metrics.values() for s in samples for key in s.labels}
    assert every_label <= {"queue", "name", "state", "error_type", "le", "service"}


def test_before_any_run_the_job_families_are_there_and_empty(app: Backburner) -> None:
    client = TestClient(app.dashboard(), client=LOCAL)
    metrics = scrape(client)
    for family in (
        "backburner_jobs_enqueued",
        "backburner_jobs_finished",
        "backburner_job_retries",
        "backburner_job_failures",
        "backburner_job_duration_seconds",
        "backburner_job_wait_seconds",
    ):
        assert metrics[family] == []
    app.enqueue("send", "x")
    enqueued = scrape(client)["backburner_jobs_enqueued"]
    assert value(enqueued, "backburner_jobs_enqueued_total", queue="emails", name="send") == 1
