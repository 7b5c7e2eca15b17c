"""Property tests: redaction keeps JSONL valid, keeps lines, and leaves no detected value."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finetune_kit.privacy import redaction as privacy
from finetune_kit.privacy.redaction import redact_file, scan_example, scan_text

PII = [
    "jane.doe@example.com",
    "+44 20 7946 0958",
    "(212) 555-0147",
    "4242 4242 4242 4242",
    "5555555555554444",
    "DE89 3704 0044 0532 0130 00",
    "84.17.45.203",
    "2a02:6b8::2:242",
    "536-22-1847",
    "12345678Z",
    "AKIAQ3EGRIYD2YQ4NMJB",
    "sk-proj-Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0",
    "postgres://admin:s3cr3tPw@db.example.com/app",
]
HARMLESS = [
    "gpt-4o-mini-2024-07-18",
    "v2.10.0",
    "$8.00/1M tokens",
    "2024-07-18",
    "ftjob-abc123",
    "3f9a2c0d11e2b7aa",
    "#ff5733",
    "loss 0.42",
    "Verily, 'tis so.",
]
SEPARATORS = [" | ", "\n| ", ' "| ', "\t| "]

fragment = st.one_of(
    st.sampled_from(PII),
    st.sampled_from(HARMLESS),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters="|"), max_size=12),
)
text = st.builds(
    lambda parts, sep: sep.join(parts), st.lists(fragment, max_size=6), st.sampled_from(SEPARATORS)
)


@st.composite
def examples(draw: st.DrawFn) -> dict[str, Any]:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": draw(text)},
        {"role": "user", "content": [{"type": "text", "text": draw(text)}]},
    ]
    if draw(st.booleans()):
        args = json.dumps(
            {"query": draw(text), "n": draw(st.integers())}, ensure_ascii=draw(st.booleans())
        )
        messages.append(
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "f", "arguments": args},
                    }
                ],
            }
        )
    messages.append({"role": "assistant", "content": draw(text), "weight": 1})
    return {"messages": messages}


lines = st.lists(
    st.one_of(
        examples().map(lambda e: json.dumps(e, ensure_ascii=False)),
        examples().map(json.dumps),  # \u escapes
        st.sampled_from(["{broken", "", "[1, 2", '{"a": "x@example.com"']),
    ),
    min_size=1,
    max_size=8,
)


def detected_values(obj: Any) -> set[str]:
    """Every value scan_example finds, read back from the strings they were found in."""
    values: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            for m in scan_text(node):
                values.add(node[m.start : m.end])
            try:
                inner = json.loads(node)
            except ValueError:
                return
            if isinstance(inner, (dict, list)):
                walk(inner)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(obj)
    return values


def strings(obj: Any) -> list[str]:
    if isinstance(obj, str):
        out = [obj]
        try:
            inner = json.loads(obj)
        except ValueError:
            return out
        return out + (strings(inner) if isinstance(inner, (dict, list)) else [])
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in strings(v)]
    return []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=lines, strategy=st.sampled_from(["mask", "pseudonym", "drop"]))
def test_redacted_file_is_valid_jsonl_and_keeps_no_detected_value(
    lines: list[str], strategy: str
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src, dest = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        src.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        report = redact_file(src, dest, strategy=strategy, secret="property-secret")
        out = dest.read_text(encoding="utf-8").split("\n")
    assert out[-1] == ""
    out = out[:-1]
    parsed_in = []
    for line in lines:
        try:
            parsed_in.append(json.loads(line))
        except ValueError:
            parsed_in.append(None)
    assert report.lines == len(lines)
    if strategy == "drop":
        assert len(out) == len(lines) - report.examples_dropped
    else:
        assert len(out) == len(lines)
    survivors = [v for v in parsed_in if v is not None]
    originals = set().union(*(detected_values(v) for v in survivors)) if survivors else set()
    for raw_in, raw_out in zip([x for x in lines if strategy != "drop"], out, strict=False):
        try:
            before = json.loads(raw_in)
        except ValueError:
            assert raw_out == raw_in  # unparsed lines are copied through
            continue
        after = json.loads(raw_out)  # still valid JSON
        for call in after["messages"]:
            for tool_call in call.get("tool_calls", []):
                json.loads(tool_call["function"]["arguments"])  # arguments stay valid JSON
        found_before = detected_values(before)
        for s in strings(after):
            for value in found_before:
                assert value not in s, (value, s)
    for raw_out in out:
        try:
            obj = json.loads(raw_out)
        except ValueError:
            continue
        if strategy == "mask":
            assert not (detected_values(obj) & originals)
        if strategy == "drop":
            assert scan_example(obj) == []


@settings(max_examples=150, deadline=None)
@given(example=examples())
def test_precheck_agrees_with_a_full_walk(example: dict[str, Any]) -> None:
    plan = privacy._resolve(None, False)
    full = privacy._Walk(plan, None, None)
    full.value(example, ())
    assert scan_example(example) == full.findings


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_scanning_arbitrary_text_never_fails_and_previews_hide_values(value: str) -> None:
    for match in scan_text(value):
        assert 0 <= match.start < match.end <= len(value)
        assert value[match.start : match.end] not in match.preview
