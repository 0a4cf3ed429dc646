from __future__ import annotations

import math
from typing import Any

import pytest

from backburner import Backburner


@pytest.mark.parametrize("timeout", [math.nan, math.inf, 0, -1.0, True, "5"])
def test_a_timeout_must_be_a_positive_finite_number(timeout: Any) -> None:
    app = Backburner("memory://")
    with pytest.raises(ValueError, match=r"job 'slow': timeout must be a positive, finite number"):

        @app.job(name="slow", timeout=timeout)
        def slow() -> None: ...

    app.close()


def test_a_positive_timeout_or_none_is_accepted() -> None:
    app = Backburner("memory://")

    @app.job(timeout=0.5)
    def quick() -> None: ...

    @app.job
    def unbounded() -> None: ...

    assert quick.options.timeout == 0.5
    assert unbounded.options.timeout is None
    app.close()
