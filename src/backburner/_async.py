"""The async forms of the client's calls, derived from the sync ones.

Every call the client makes is short storage I/O; its async form runs the sync call on a
thread (``asyncio.to_thread``) so that an async web app's event loop never waits on the
database. One wrapper makes them all: nothing is written twice.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


def in_thread(
    method: Callable[Concatenate[S, P], R],
) -> Callable[Concatenate[S, P], Awaitable[R]]:
    """An ``async def`` method that runs ``method`` on a thread: ``aget = in_thread(get)``."""

    @functools.wraps(method)
    async def call(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(method, self, *args, **kwargs)

    call.__doc__ = f"The async form of ``{method.__name__}``, run on a thread."
    call.__name__ = call.__qualname__ = f"a{method.__name__}"
    return call
