"""What a ``sqlite:///`` URL says: the file, and the options after its ``?``."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs

from .._url import StorageError
from ._connections import SYNCHRONOUS

PARAMETERS = ("synchronous", "busy_timeout")


def parse_url(url: str, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The path and the storage options of ``sqlite:///path?synchronous=full&busy_timeout=5``.

    Options given as keywords win over the same ones in the URL.
    """
    rest = url[len("sqlite:///") :] if url.lower().startswith("sqlite:///") else ""
    path, _, query = rest.partition("?")
    if not path:
        raise StorageError(f"a SQLite URL names a file, as in sqlite:///jobs.db: {url!r}")
    try:
        given = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise StorageError(f"cannot read the parameters of the SQLite URL {url!r}") from None
    unknown = sorted(set(given) - set(PARAMETERS))
    if unknown:
        raise StorageError(
            f"unknown parameter(s) {', '.join(unknown)} in the SQLite URL {url!r}: "
            f"it takes {' and '.join(PARAMETERS)}"
        )
    options = dict(options)
    for name, values in given.items():
        if len(values) > 1:
            raise StorageError(f"?{name}= is given {len(values)} times in the SQLite URL {url!r}")
        if name not in options:
            options[name] = _value(name, values[0])
    return path, options


def _value(name: str, text: str) -> Any:
    if name == "synchronous":
        if text.lower() not in SYNCHRONOUS:
            raise StorageError(f"?synchronous= takes normal or full, not {text!r}")
        return text.lower()
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds < math.inf:
        raise StorageError(f"?busy_timeout= takes seconds (0 or more), not {text!r}")
    return seconds
