"""The examples' apps read their storage from ``BACKBURNER_URL``: tests point it at
``memory://``, as a user's own tests would, and import each example afresh."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from types import ModuleType

import pytest


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    def load(name: str) -> ModuleType:
        monkeypatch.setenv("BACKBURNER_URL", "memory://")
        monkeypatch.delitem(sys.modules, f"examples.{name}", raising=False)
        return importlib.import_module(f"examples.{name}")

    return load
