"""Who may look at the dashboard and who may act, and the guards against forged requests."""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request


class Access(enum.Enum):
    """What a request may do: everything, only look, or nothing."""

    FULL = "full"
    READ_ONLY = "read_only"
    NONE = "none"


@dataclass(frozen=True)
class Grant:
    """An ``authorize=`` answer that also names the user, for the jobs' history."""

    access: Access
    user: str | None = None

    @property
    def can_view(self) -> bool:
        return self.access is not Access.NONE

    @property
    def can_act(self) -> bool:
        return self.access is Access.FULL


Authorize = Callable[[Request], "Access | Grant | bool | None"]
"""``authorize(request)``: an ``Access``, a ``Grant`` (access and user name), or a bool
(True for full access); None or False refuses."""


def _loopback(host: str) -> bool:
    host = host.strip().strip('"')
    if host.startswith("[") and "]" in host:  # Forwarded: for="[::1]:4711"
        host = host[1 : host.index("]")]
    elif host.count(":") == 1:  # an IPv4 address with a port
        host = host.split(":", 1)[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # "unknown", an obfuscated name: not provably this machine


def _forwarded_hosts(request: Request) -> list[str]:
    hosts: list[str] = []
    for value in request.headers.getlist("x-forwarded-for"):
        hosts += [part for part in (p.strip() for p in value.split(",")) if part]
    for value in request.headers.getlist("forwarded"):
        for element in value.split(","):
            for pair in element.split(";"):
                key, _, found = pair.strip().partition("=")
                if key.lower() == "for":
                    hosts.append(found)
    return hosts


def is_local(request: Request) -> bool:
    """The peer is this machine, and no proxy header says it forwards someone else."""
    client = request.client
    if client is None or not _loopback(client.host):
        return False
    return all(_loopback(host) for host in _forwarded_hosts(request))


def local_only(request: Request) -> Grant:
    """The default ``authorize=``: full access from this machine, none from elsewhere."""
    return Grant(Access.FULL if is_local(request) else Access.NONE)


def grant_for(authorize: Authorize | None, request: Request, read_only: bool) -> Grant:
    """What ``authorize`` allows this request, narrowed to looking when ``read_only``."""
    answer = local_only(request) if authorize is None else authorize(request)
    if isinstance(answer, Grant):
        grant = answer
    elif isinstance(answer, Access):
        grant = Grant(answer)
    elif answer is True:
        grant = Grant(Access.FULL)
    elif answer is None or answer is False:
        grant = Grant(Access.NONE)
    else:
        raise TypeError(f"authorize= returned {answer!r}: return an Access, a Grant, True or False")
    if read_only and grant.access is Access.FULL:
        return Grant(Access.READ_ONLY, grant.user)
    return grant


def cross_site(request: Request) -> str | None:
    """Why a state-changing request may come from another site, or None when it cannot.

    A browser names the page that sent a request in ``Origin`` (or, failing that,
    ``Referer``); one naming another host than the request's own is refused.
    """
    own = request.headers.get("host", "")
    for header in ("origin", "referer"):
        value = request.headers.get(header)
        if value is None:
            continue
        if value == "null":
            return f"the {header.title()} header is null (a sandboxed or cross-site page)"
        if urlsplit(value).netloc != own:
            return f"the {header.title()} header names another host ({value[:80]})"
        return None
    return None
