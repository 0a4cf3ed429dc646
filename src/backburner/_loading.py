"""Finding the user's app from a ``package.module:attribute`` string."""

from __future__ import annotations

import importlib
import os
import sys

from ._app import Backburner


class AppLoadError(Exception):
    """The ``--app`` string does not lead to a Backburner app; the message says why."""


def load_app(spec: str) -> Backburner:
    """Import ``package.module:app`` (``:app`` may be left out) from the working directory."""
    module_name, _, attribute = spec.partition(":")
    attribute = attribute or "app"
    if not module_name:
        raise AppLoadError(f"--app {spec!r}: give it as package.module:app")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and module_name.startswith(error.name):
            raise AppLoadError(
                f"--app {spec!r}: no module named {error.name!r} "
                f"(looked in the working directory {os.getcwd()} and on sys.path)"
            ) from None
        raise AppLoadError(f"--app {spec!r}: importing {module_name} failed: {error}") from error
    except Exception as error:
        raise AppLoadError(
            f"--app {spec!r}: importing {module_name} raised {type(error).__name__}: {error}"
        ) from error
    app = getattr(module, attribute, None)
    if app is None:
        raise AppLoadError(f"--app {spec!r}: module {module_name} has no attribute {attribute!r}")
    if not isinstance(app, Backburner):
        raise AppLoadError(
            f"--app {spec!r}: {module_name}.{attribute} is a {type(app).__name__}, "
            "not a Backburner app"
        )
    return app
