"""Validation profiles: each provider's rules, same codes and hints."""

from __future__ import annotations

from typing import Any

import pytest

from finetune_kit import ConfigError, Validator
from finetune_kit.validation.profiles import PROFILES, get_profile, turn_order_problems


def _chat(*roles: str, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": r, "content": f"{r} text", **extra} for r in roles]}


@pytest.mark.parametrize(
    ("roles", "bad_at"),
    [
        (("system", "user", "assistant"), None),
        (("user", "assistant", "user", "assistant"), None),
        (("assistant", "user", "assistant"), 0),
        (("user", "user", "assistant"), 1),
        (("user", "assistant", "assistant"), 2),
        (("user", "system", "assistant"), 1),
        (("user", "assistant", "tool"), 2),
    ],
)
def test_turn_order_is_system_then_alternating_user_and_assistant(
    roles: tuple[str, ...], bad_at: int | None
) -> None:
    found = list(turn_order_problems(_chat(*roles)["messages"]))
    assert [f for f, _ in found][:1] == ([] if bad_at is None else [f"messages[{bad_at}].role"])


def test_tool_results_may_follow_an_assistant_that_called_tools() -> None:
    messages = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "tool_calls": [{"id": "c1"}]},
        {"role": "tool", "content": "sunny"},
        {"role": "tool", "content": "warm"},
        {"role": "assistant", "content": "Sunny and warm."},
    ]
    assert list(turn_order_problems(messages)) == []


def test_together_profile_flags_turn_order_and_takes_one_example() -> None:
    report = Validator(profile="together").validate([_chat("user", "user", "assistant")])
    assert [f.code for f in report.errors] == ["turns_not_alternating"]
    assert report.errors[0].hint and report.errors[0].field == "messages[1].role"
    assert Validator(profile="together").validate([_chat("user", "assistant")]).ok
    openai = Validator().validate([_chat("user", "user", "assistant")])
    assert "turns_not_alternating" not in {f.code for f in openai.errors}
    assert "too_few_examples" in {f.code for f in openai.errors}


def test_together_limits_come_from_its_model_table(tmp_path: Any) -> None:
    long = {
        "messages": [
            {"role": "user", "content": "word " * 20_000},
            {"role": "assistant", "content": "ok"},
        ]
    }
    path = tmp_path / "long.jsonl"
    import json

    path.write_text(json.dumps(long) + "\n", encoding="utf-8")
    report = Validator(profile="together").validate(path, model="openai/gpt-oss-20b")
    too_long = [f for f in report.warnings if f.code == "example_too_long"]
    assert too_long and "16,384" in too_long[0].message and "Together AI" in too_long[0].message


def test_azure_profile_requires_a_bom_only_at_the_start(tmp_path: Any) -> None:
    import json

    lines = [
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"q{i}"},
                    {"role": "assistant", "content": "a"},
                ]
            }
        ).encode()
        for i in range(10)
    ]
    with_bom = tmp_path / "bom.jsonl"
    with_bom.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n")
    without = tmp_path / "plain.jsonl"
    without.write_bytes(b"\n".join(lines) + b"\n")
    azure = Validator(profile="azure")
    assert azure.validate(with_bom).ok and not azure.validate(with_bom).warnings
    assert [f.code for f in azure.validate(without).errors] == ["bom_missing"]
    assert [f.code for f in Validator().validate(with_bom).warnings] == ["bom"]


def test_profiles_are_known_by_name() -> None:
    assert get_profile("azure") is PROFILES["azure"]
    assert get_profile(PROFILES["together"]) is PROFILES["together"]
    with pytest.raises(ConfigError, match="openai, azure, together"):
        get_profile("vertex")


def test_an_optional_bom_is_neither_required_nor_flagged(tmp_path: Any) -> None:
    import dataclasses
    import json

    lines = [json.dumps(_chat("user", "assistant") | {"id": i}).encode() for i in range(10)]
    with_bom = tmp_path / "bom.jsonl"
    with_bom.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n")
    without = tmp_path / "plain.jsonl"
    without.write_bytes(b"\n".join(lines) + b"\n")
    optional = Validator(profile=dataclasses.replace(PROFILES["azure"], bom="optional"))
    for path in (with_bom, without):
        codes = {f.code for f in optional.validate(path).findings}
        assert not codes & {"bom", "bom_missing"}
