"""A dashboard over an app on every backend, and clients that come from here or elsewhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from backburner import Backburner, Retry
from tests.support import POSTGRES_URL, drop_schema, fresh_schema

LOCAL = ("127.0.0.1", 50123)


def _app(backend: str, tmp_path: Path) -> Iterator[Backburner]:
    schema: str | None = None
    if backend == "memory":
        application = Backburner("memory://")
    elif backend == "sqlite":
        application = Backburner(f"sqlite:///{tmp_path / 'jobs.db'}")
    else:
        schema = fresh_schema()
        application = Backburner(POSTGRES_URL, schema=schema)

    @application.job(name="send", queue="emails")
    def send(to: str, user_id: int = 0) -> str:
        return f"sent to {to}"

    @application.job(name="boom", retry=Retry(attempts=0))
    def boom(note: str = "") -> None:
        raise RuntimeError("<b>bad</b>")

    yield application
    application.close()
    if schema is not None:
        drop_schema(schema)


@pytest.fixture(params=["memory", "sqlite"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backburner]:
    yield from _app(request.param, tmp_path)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backburner]:
    """Every backend, PostgreSQL included, for the tests that must hold on all of them."""
    yield from _app(request.param, tmp_path)


def failed_job(app: Backburner, note: str = "") -> str:
    """A job that has failed for good (run by a short-lived server)."""
    job_id = app.enqueue("boom", note)
    with app.start_server(server_timeout=1.5):
        app.jobs.wait(job_id, timeout=10)
    return job_id


@pytest.fixture
def client(app: Backburner) -> Iterator[TestClient]:
    with TestClient(app.dashboard(), client=LOCAL) as test_client:
        yield test_client
