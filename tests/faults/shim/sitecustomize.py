"""Put on ``PYTHONPATH`` with ``FAULTS_CLOCK_SKEW=SECONDS``: this process's clock runs that
many seconds behind (negative: ahead), as on a host whose clock drifted."""

from __future__ import annotations

import datetime as dt
import os

_skew = float(os.environ.get("FAULTS_CLOCK_SKEW") or 0)
if _skew:
    from backburner import _clock

    _real = _clock.system_now

    def _skewed() -> dt.datetime:
        return _real() - dt.timedelta(seconds=_skew)

    _clock.system_now = _skewed
