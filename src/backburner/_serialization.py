"""How job arguments and results are stored: JSON, plus datetime, date, time, UUID and Decimal.

The extra types are written as small tagged objects (``{"__bb__": "uuid", "v": "..."}``) so
they read back as the same Python type. Tuples read back as lists. A value that cannot be
stored raises ``TypeError`` naming where it is, before anything reaches storage.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

_TAG = "__bb__"

_ENCODERS: dict[type, tuple[str, Callable[[Any], str]]] = {
    dt.datetime: ("datetime", dt.datetime.isoformat),
    dt.date: ("date", dt.date.isoformat),
    dt.time: ("time", dt.time.isoformat),
    uuid.UUID: ("uuid", str),
    Decimal: ("decimal", str),
}

_DECODERS: dict[str, Callable[[str], Any]] = {
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "uuid": uuid.UUID,
    "decimal": Decimal,
}


def _default(value: Any) -> Any:
    encoder = _ENCODERS.get(type(value))
    if encoder is None:
        raise TypeError(f"{type(value).__name__} is not a type Backburner can store")
    tag, to_text = encoder
    return {_TAG: tag, "v": to_text(value)}


def _object_hook(obj: dict[str, Any]) -> Any:
    tag = obj.get(_TAG)
    if tag is not None and len(obj) == 2:
        decoder = _DECODERS.get(tag)
        if decoder is not None:
            return decoder(obj["v"])
    return obj


_encoder = json.JSONEncoder(
    default=_default, allow_nan=False, ensure_ascii=False, separators=(",", ":")
)


def dumps(value: Any) -> str:
    """Serialize ``value``; raises TypeError or ValueError when it cannot be stored."""
    return _encoder.encode(value)


_decoder = json.JSONDecoder(object_hook=_object_hook)


def loads(text: str) -> Any:
    return _decoder.decode(text)


def _why(value: Any) -> str | None:
    try:
        dumps(value)
    except (TypeError, ValueError) as error:
        return str(error)
    return None


def dumps_arguments(args: Sequence[Any], kwargs: Mapping[str, Any], *, job: str) -> tuple[str, str]:
    """Serialize a job's arguments, naming the first argument that cannot be stored."""
    try:
        # Most jobs take no keyword arguments.
        return dumps(list(args)), dumps(dict(kwargs)) if kwargs else "{}"
    except (TypeError, ValueError):
        pass
    for position, value in enumerate(args):
        if (why := _why(value)) is not None:
            raise TypeError(
                f"argument {position} of job {job!r} cannot be stored: {why} ({value!r})"
            ) from None
    for key, value in kwargs.items():
        if (why := _why(value)) is not None:
            raise TypeError(
                f"argument {key!r} of job {job!r} cannot be stored: {why} ({value!r})"
            ) from None
    raise TypeError(f"the arguments of job {job!r} cannot be stored")  # pragma: no cover
