"""Fault injection: real server processes, a proxy that cuts or stalls PostgreSQL
connections, a second process holding SQLite's write lock, clocks that disagree."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.harness import Harness
from tests.support import POSTGRES_URL, drop_schema, fresh_schema

from .proxy import FaultProxy

APP = "tests.faults.faultapp:app"


@pytest.fixture
def sqlite_bb(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture
def schema() -> Iterator[str]:
    name = fresh_schema()
    try:
        yield name
    finally:
        drop_schema(name)


@pytest.fixture
def pg_bb(tmp_path: Path, schema: str) -> Iterator[Harness]:
    sep = "&" if "?" in POSTGRES_URL else "?"
    harness = Harness(tmp_path, url=f"{POSTGRES_URL}{sep}schema={schema}")
    try:
        yield harness
    finally:
        harness.close()


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    fault_proxy = FaultProxy(POSTGRES_URL).start()
    try:
        yield fault_proxy
    finally:
        fault_proxy.close()
