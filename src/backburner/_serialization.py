"""How job arguments and results are stored: JSON, plus datetime, date, time, UUID and Decimal.

The extra types are written as small tagged objects (``{"__bb__": "uuid", "v": "..."}``) so
they read back as the same Python type. Tuples read back as lists. A value that cannot be
stored raises ``TypeError`` or ``ValueError`` before anything reaches storage; for a job's
arguments the error names the argument.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
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

MAX_DEPTH = 100
"""Lists and dicts nest at most this deep in a stored value."""


def dumps(value: Any) -> str:
    """Serialize ``value``; raises TypeError or ValueError when it cannot be stored.

    Refused: types other than JSON's and the tagged ones, NaN and infinities, dict keys
    that are not strings (JSON would turn them into strings silently), nesting deeper than
    ``MAX_DEPTH``, and lone surrogates (no storage can hold them as text).
    """
    try:
        text = _encoder.encode(value)
    except RecursionError:
        raise ValueError(f"it nests lists or dicts more than {MAX_DEPTH} deep") from None
    # Only a text with a dict in it, or with many brackets, needs a look at the value: a
    # bare number or a short flat list (most arguments) costs one scan of a short string.
    if "{" in text or (len(text) > MAX_DEPTH and text.count("[") > MAX_DEPTH):
        _check_keys_and_depth(value)
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError as error:
            bad = text[error.start : error.end]
            raise ValueError(f"it holds a lone surrogate {bad!r}, which is not text") from None
    return text


def _check_keys_and_depth(value: Any) -> None:
    # Iterative: the point is to refuse what is too deep for recursion.
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
            for key in item:
                if not isinstance(key, str):
                    raise TypeError(
                        f"dict keys must be strings, not {type(key).__name__} ({key!r:.40})"
                    )
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > MAX_DEPTH:
            raise ValueError(f"it nests lists or dicts more than {MAX_DEPTH} deep")
        pending.extend((child, depth + 1) for child in children)


_decoder = json.JSONDecoder(object_hook=_object_hook)


def loads(text: str) -> Any:
    """The value ``dumps`` stored as ``text``; ValueError for text that is not such a value."""
    try:
        return _decoder.decode(text)
    except RecursionError:
        raise ValueError(f"it nests lists or dicts more than {MAX_DEPTH} deep") from None


def _shown(value: Any) -> str:
    """A short repr for an error message, even of a value too deep or too long to print."""
    try:
        text = repr(value)
    except RecursionError:
        return f"a {type(value).__name__} nested too deep to show"
    return text if len(text) <= 80 else f"{text[:77]}..."


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
    for key in kwargs:
        if not isinstance(key, str):
            raise TypeError(
                f"keyword argument names of job {job!r} must be strings, not {key!r}"
            ) from None
    for position, value in enumerate(args):
        if (why := _why(value)) is not None:
            raise TypeError(
                f"argument {position} of job {job!r} cannot be stored: {why} ({_shown(value)})"
            ) from None
    for key, value in kwargs.items():
        if (why := _why(value)) is not None:
            raise TypeError(
                f"argument {key!r} of job {job!r} cannot be stored: {why} ({_shown(value)})"
            ) from None
    raise TypeError(f"the arguments of job {job!r} cannot be stored")  # pragma: no cover
