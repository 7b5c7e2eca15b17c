"""The target formats' documented rules: each code has a failing and a passing record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from finetune_kit import Severity
from finetune_kit.export.convert import FIDELITY_KINDS, FORMATS, check_records

RULES = [(name, rule) for name, fmt in FORMATS.items() for rule in fmt.rules]
PREFIX = {
    "hf-messages": "hf_",
    "hf-preference": "hf_",
    "vertex-gemini": "gemini_",
    "bedrock-conversation": "bedrock_",
    "mistral": "mistral_",
}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "export.md"


@pytest.mark.parametrize(("fmt", "rule"), RULES, ids=[f"{n}:{r.code}" for n, r in RULES])
def test_bad_record_triggers_the_rule(fmt: str, rule: Any) -> None:
    findings = FORMATS[fmt].check(rule.bad, line=7)
    mine = [f for f in findings if f.code == rule.code]
    assert mine, f"{rule.code} not triggered; got {[f.code for f in findings]}"
    assert all(f.line == 7 and f.severity is rule.severity and f.hint for f in mine)


@pytest.mark.parametrize(("fmt", "rule"), RULES, ids=[f"{n}:{r.code}" for n, r in RULES])
def test_fixed_record_passes_every_rule(fmt: str, rule: Any) -> None:
    assert FORMATS[fmt].check(rule.good) == []


def test_codes_are_unique_per_format_and_prefixed_with_the_target() -> None:
    for name, fmt in FORMATS.items():
        codes = [r.code for r in fmt.rules]
        assert len(codes) == len(set(codes)), name
        assert all(c.startswith(PREFIX[name]) for c in codes), name
        assert fmt.sources and all(url.startswith("https://") for _, url in fmt.sources)


@pytest.mark.parametrize(
    "record",
    [
        {},
        {"contents": "x", "messages": [1, None, {"role": 3}]},
        {"messages": {"a": 1}},
        {"prompt": 5},
    ],
)
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_malformed_records_give_findings_not_crashes(fmt: str, record: dict[str, Any]) -> None:
    findings = FORMATS[fmt].check(record)
    assert findings and all(f.severity in (Severity.ERROR, Severity.WARNING) for f in findings)


def test_gemini_conversation_rules() -> None:
    user = {"role": "user", "parts": [{"text": "Hi"}]}
    model = {"role": "model", "parts": [{"text": "Hail"}]}
    codes = [f.code for f in check_records([{"contents": [model, model]}], "vertex-gemini")]
    assert codes == ["gemini_first_turn_not_user", "gemini_roles_not_alternating"]
    assert check_records([{"contents": [user, model, user, model]}], "vertex-gemini") == []


def test_bedrock_conversation_rules() -> None:
    user = {"role": "user", "content": [{"text": "Hi"}]}
    bot = {"role": "assistant", "content": [{"text": "Hail"}]}
    base = {"schemaVersion": "bedrock-conversation-2024"}
    findings = check_records([{**base, "messages": [user, user]}], "bedrock-conversation")
    assert [(f.code, f.field) for f in findings] == [
        ("bedrock_last_turn_not_assistant", "messages[1]"),
        ("bedrock_roles_not_alternating", "messages[1].role"),
    ]
    assert check_records([{**base, "messages": [user, bot]}], "bedrock-conversation") == []


def test_mistral_tool_result_count_rule() -> None:
    call = {"id": "TX92Jm8Zi", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    ok = {
        "messages": [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "TX92Jm8Zi", "content": "x"},
            {"role": "assistant", "content": "Done"},
        ]
    }
    assert check_records([ok], "mistral") == []
    extra = {**ok, "messages": [*ok["messages"][:3], ok["messages"][2], ok["messages"][3]]}
    assert "mistral_tool_responses_mismatch" in [f.code for f in check_records([extra], "mistral")]


def test_docs_list_every_rule_code_and_fidelity_kind() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [r.code for _, r in RULES if f"`{r.code}`" not in text]
    missing += [k for k in FIDELITY_KINDS if f"`{k}`" not in text]
    missing += [name for name in FORMATS if f"`{name}`" not in text]
    assert not missing, f"docs/export.md does not mention: {missing}"
