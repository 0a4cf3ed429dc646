"""In-process apps and servers, on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from backburner import Backburner
from tests.support import POSTGRES_URL, drop_schema, fresh_schema


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backburner]:
    backend: str = request.param
    schema: str | None = None
    if backend == "memory":
        application = Backburner("memory://")
    elif backend == "sqlite":
        application = Backburner(f"sqlite:///{tmp_path / 'jobs.db'}")
    else:
        schema = fresh_schema()
        application = Backburner(POSTGRES_URL, schema=schema)
    yield application
    application.close()
    if schema is not None:
        drop_schema(schema)
