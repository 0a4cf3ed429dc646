"""Message bodies: what a handler takes, read from bytes, and values written as bytes (pure).

A handler says what it takes by the annotation of its first parameter (or ``model=``):
``bytes`` gets the body as sent, ``str`` the body as UTF-8 text, anything else (a
pydantic model, ``dict``, ``list[int]``, a dataclass, no annotation at all) the body
read as JSON and validated by pydantic. A body that does not read or validate is not
retried: it is dead-lettered at once, with the reason.
"""

from __future__ import annotations

import inspect
import json
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
BINARY = "application/octet-stream"


class BodyError(ValueError):
    """A message body that does not read as, or validate to, what its handler takes."""


def inferred_model(handler: Callable[..., Any]) -> Any:
    """The type the first parameter of ``handler`` is annotated with; ``Any`` if none."""
    try:
        parameters = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        return Any
    if not parameters:
        raise TypeError(f"consumer handler {handler!r} must take the message as its parameter")
    first = parameters[0]
    try:
        hints = typing.get_type_hints(handler)
    except Exception:  # an annotation naming what is not importable here: take it as JSON
        hints = {}
    return hints.get(first.name, Any)


class Decoder:
    """Reads bodies as ``model``: ``bytes``, ``str``, or any type pydantic validates."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self._adapter: TypeAdapter[Any] = TypeAdapter(Any if model in (bytes, str) else model)

    def decode(self, body: bytes) -> Any:
        if self.model is bytes:
            return body
        if self.model is str:
            try:
                return body.decode("utf-8")
            except UnicodeDecodeError as error:
                raise BodyError(f"the body is not UTF-8 text: {error}") from None
        try:
            return self._adapter.validate_json(body)
        except ValidationError as error:
            raise BodyError(_describe(error)) from None

    def to_json(self, value: Any) -> Any:
        """``value`` as plain JSON data (a model as its dict), for storing in a job."""
        if self.model in (bytes, str):
            return value.decode("latin-1") if isinstance(value, bytes) else value
        return self._adapter.dump_python(value, mode="json")


def _describe(error: ValidationError) -> str:
    problems = error.errors(include_url=False)
    if problems and problems[0]["type"] == "json_invalid":
        return f"the body is not JSON: {problems[0]['msg']}"
    parts = []
    for item in problems[:5]:
        where = ".".join(str(p) for p in item["loc"]) or "the body"
        parts.append(f"{where}: {item['msg']}")
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return "the body does not validate: " + "; ".join(parts) + more


def encode(body: Any) -> tuple[bytes, str]:
    """A value to publish as its bytes and content type: bytes as they are, text as
    UTF-8, a pydantic model or any JSON value as JSON."""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body), BINARY
    if isinstance(body, str):
        return body.encode("utf-8"), TEXT
    if isinstance(body, BaseModel):
        return body.model_dump_json().encode("utf-8"), JSON
    try:
        text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"publish() takes bytes, str, a pydantic model or a JSON value: {error}"
        ) from None
    return text.encode("utf-8"), JSON
