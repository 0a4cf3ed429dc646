"""The jobs page's search box: ``queue:critical name:emails.* args.user_id:42 state:failed``."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Any

from .._states import JobState

_STATES = {state.value for state in JobState}
_MOST_IDS = 1000


class SearchError(ValueError):
    """A search the dashboard cannot run, with what is wrong in words."""


@dataclass
class Filter:
    """The filters of ``app.jobs.search`` and the bulk actions, as the API takes them."""

    states: list[str] = field(default_factory=list)
    queues: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)

    def search_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``app.jobs.search`` / ``requeue_many`` / ``delete_many``."""
        return {
            "state": self.states or None,
            "queue": self.queues or None,
            "name": self.names or None,
            "ids": self.ids or None,
            "args": self.args or None,
            "kwargs": self.kwargs or None,
        }

    @property
    def empty(self) -> bool:
        return not any((self.states, self.queues, self.names, self.ids, self.args, self.kwargs))


def value(text: str) -> Any:
    """An argument value: JSON when it parses (42, true, "42"), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def check_id(text: object, where: str) -> str:
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 19:
        raise SearchError(f"{where}: a job id is a string of digits, not {text!r:.40}")
    return text


def add_state(into: Filter, text: str, where: str) -> None:
    if text not in _STATES:
        raise SearchError(f"{where}: unknown state {text!r:.40} (states: {', '.join(_STATES)})")
    into.states.append(text)


def parse(query: str, into: Filter | None = None) -> Filter:
    """Read the search box: ``key:value`` terms (``state``, ``queue``, ``name``, ``id``,
    ``arg``, ``args.<keyword>``); a bare number is a job id, other bare words a job name."""
    found = into if into is not None else Filter()
    try:
        terms = shlex.split(query)
    except ValueError as error:
        raise SearchError(f"search {query!r:.60}: {error}") from None
    for term in terms:
        key, sep, text = term.partition(":")
        if not sep:
            if term.isdigit():
                found.ids.append(check_id(term, "search"))
            else:
                found.names.append(term)
            continue
        if not text:
            raise SearchError(f"search term {term!r:.60} has no value after the colon")
        if key == "state":
            add_state(found, text, "search")
        elif key == "queue":
            found.queues.append(text)
        elif key == "name":
            found.names.append(text)
        elif key == "id":
            found.ids.append(check_id(text, "search"))
        elif key == "arg":
            found.args.append(value(text))
        elif key.startswith("args.") and len(key) > 5:
            found.kwargs[key[5:]] = value(text)
        else:
            raise SearchError(
                f"search term {term!r:.60}: use state:, queue:, name:, id:, arg: or args.<keyword>:"
            )
    if len(found.ids) > _MOST_IDS:
        raise SearchError(f"search: at most {_MOST_IDS} ids")
    return found
