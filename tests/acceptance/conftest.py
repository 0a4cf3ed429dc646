from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.harness import Harness


@pytest.fixture
def bb(tmp_path: Path) -> Iterator[Harness]:
    """A fresh SQLite file; every process started through it is killed at teardown."""
    harness = Harness(tmp_path)
    try:
        yield harness
    finally:
        harness.close()
