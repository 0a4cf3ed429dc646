"""An older deploy of ``jobsapp``: it has a job that the app the servers run no longer has.

A recurring job defined from here keeps its runs coming after the deploy that removed the
function; each run fails on servers that run ``jobsapp``.
"""

from __future__ import annotations

import os

from backburner import Backburner

app = Backburner(os.environ.get("JOBSAPP_URL"))


@app.job
def legacy_report() -> str:
    """Removed from ``jobsapp`` in a later deploy."""
    return "report"
