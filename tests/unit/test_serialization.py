from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backburner._serialization import MAX_DEPTH, dumps, dumps_arguments, loads

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


def _nested(depth: int, leaf: Any = 0) -> Any:
    value = leaf
    for _ in range(depth - 1):
        value = [value]
    return [value] if depth else value


@pytest.mark.parametrize(
    "value",
    [{1: "a", "1": "b"}, {None: 1}, {True: 1}, {2.5: 1}, [0, {"ok": {7: "x"}}]],
    ids=repr,
)
def test_dict_keys_that_are_not_strings_are_refused(value: Any) -> None:
    with pytest.raises(TypeError, match="dict keys must be strings, not"):
        dumps(value)


def test_nesting_is_bounded_and_never_a_recursion_error() -> None:
    assert loads(dumps(_nested(MAX_DEPTH))) == _nested(MAX_DEPTH)
    deep_dict: Any = 0
    for _ in range(MAX_DEPTH + 1):
        deep_dict = {"a": deep_dict}
    for value in (_nested(MAX_DEPTH + 1), _nested(100_000), deep_dict):
        with pytest.raises(ValueError, match=f"more than {MAX_DEPTH} deep"):
            dumps(value)
    with pytest.raises(ValueError, match="deep"):
        loads("[" * 100_000 + "]" * 100_000)


def test_wide_values_are_not_deep() -> None:
    wide = [[i] for i in range(MAX_DEPTH * 3)]
    assert loads(dumps(wide)) == wide
    assert loads(dumps("[" * 500)) == "[" * 500


@pytest.mark.parametrize("value", ["caf\udce9", ["\ud800"], {"k\udfff": 1}], ids=repr)
def test_lone_surrogates_are_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="lone surrogate"):
        dumps(value)


def test_arguments_that_storage_cannot_hold_are_named() -> None:
    with pytest.raises(TypeError, match=r"argument 1 of job 'resize'.*dict keys must be strings"):
        dumps_arguments([1, {1: "a"}], {}, job="resize")
    with pytest.raises(TypeError, match=r"argument 'who' of job 'resize'.*lone surrogate"):
        dumps_arguments([], {"who": "caf\udce9"}, job="resize")
    with pytest.raises(
        TypeError, match=r"argument 0 of job 'resize'.*more than 100 deep \(a list nested too deep"
    ):
        dumps_arguments([_nested(100_000)], {}, job="resize")
    with pytest.raises(TypeError, match=r"keyword argument names of job 'resize' must be strings"):
        dumps_arguments([], {1: "a"}, job="resize")  # type: ignore[dict-item]
