"""The dashboard: pages, a JSON API, ``health`` and ``metrics``, as one mountable ASGI app.

Needs the ``dashboard`` extra (``pip install 'backburner[dashboard]'``). Build it with
``app.dashboard()``; every link and API call is relative to where it is mounted.
"""

from __future__ import annotations

from ._access import Access, Authorize, Grant, is_local, local_only
from ._app import create_dashboard

__all__ = ["Access", "Authorize", "Grant", "create_dashboard", "is_local", "local_only"]
