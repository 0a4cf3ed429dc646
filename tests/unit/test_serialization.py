from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backburner._serialization import dumps, dumps_arguments, loads

VALUES: list[Any] = [
    None,
    True,
    3,
    2.5,
    "héllo",
    [1, "a"],
    {"nested": {"list": [1, 2]}},
    dt.datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("Europe/Madrid")),
    dt.datetime(2026, 12, 1, 9, 30, 0, 123456, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 1, 9, 30),
    dt.date(2026, 2, 28),
    dt.time(23, 59, 1),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    Decimal("12.3400"),
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_round_trip(value: Any) -> None:
    back = loads(dumps(value))
    assert back == value
    assert type(back) is type(value)


def test_tuples_read_back_as_lists() -> None:
    assert loads(dumps((1, 2))) == [1, 2]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.datetimes(timezones=st.just(dt.UTC))
    | st.uuids()
    | st.decimals(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(json_values)
def test_any_storable_value_round_trips(value: Any) -> None:
    assert loads(dumps(value)) == value


def test_unstorable_argument_is_named() -> None:
    with pytest.raises(TypeError, match=r"argument 1 of job 'resize' cannot be stored: set"):
        dumps_arguments([1, {2}], {}, job="resize")
    with pytest.raises(TypeError, match=r"argument 'callback' of job 'resize'"):
        dumps_arguments([], {"callback": print}, job="resize")
    with pytest.raises(TypeError, match=r"argument 0 of job 'resize'.*NaN|argument 0 of job"):
        dumps_arguments([float("nan")], {}, job="resize")
