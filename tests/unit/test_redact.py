"""Which values a redaction rule hides (pure)."""

from __future__ import annotations

from typing import Any

from backburner._redact import REDACTED, Redaction, hide_keys, names_in, normalize


def test_names_bind_to_positional_parameters_star_args_and_star_kwargs() -> None:
    def job(user: str, password: str, *secrets: str, **extra: Any) -> None: ...

    rule = Redaction.of(normalize(["password", "secrets", "extra"], "job"), job)
    args, kwargs = rule.arguments(["ann", "pw", "s1", "s2"], {"lang": "en"})
    assert args == ["ann", REDACTED, REDACTED, REDACTED]
    assert kwargs == {"lang": REDACTED}  # taken by **extra, which is redacted
    assert rule.may_hide_positions


def test_without_the_function_names_match_keywords_and_dict_keys_only() -> None:
    rule = Redaction.of(("password",))
    args, kwargs = rule.arguments(["pw", {"password": "pw"}], {"password": "pw", "user": "ann"})
    assert args == ["pw", {"password": REDACTED}]
    assert kwargs == {"password": REDACTED, "user": "ann"}
    assert not rule.may_hide_positions


def test_hide_keys_goes_through_lists_and_nested_dicts() -> None:
    value = {"a": [{"token": 1}, ({"b": {"token": 2}},)], "token": 3}
    assert hide_keys(value, frozenset({"token"})) == {
        "a": [{"token": REDACTED}, [{"b": {"token": REDACTED}}]],
        "token": REDACTED,
    }
    assert names_in(value) == {"a", "b", "token"}


def test_an_empty_rule_hides_nothing() -> None:
    rule = Redaction.of(None)
    assert rule.empty
    assert rule.arguments([1], {"a": 2}) == ([1], {"a": 2})
    assert rule.result({"token": 1}) == {"token": 1}
