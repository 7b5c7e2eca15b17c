"""The block gate that lets file redaction copy clean lines without parsing them.

The gate may name too many lines (they are then scanned in full) but never too few: every line in
which the full walk finds something must be named. These tests check that on the labelled corpus
embedded every way JSON allows, on generated examples rich in escapes, and on the edge cases its
design argues about (escapes next to digits and keywords, nested JSON, case folding).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from finetune_kit.privacy.detectors import FAMILY_ALL, FAMILY_EMAIL, gate_json_block
from finetune_kit.privacy.redaction import redact_file, scan_example

CORPUS = Path(__file__).parents[1] / "data" / "pii_corpus.jsonl"
TEXTS = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]


def encodings(obj: Any) -> list[str]:
    """The same JSON value written the ways writers do: spacing, ASCII escapes, escaped '/'."""
    plain = json.dumps(obj, ensure_ascii=False)
    return [
        plain,
        json.dumps(obj),
        json.dumps(obj, ensure_ascii=False, separators=(",", ":")),
        plain.replace("/", "\\/"),
    ]


def shapes(text: str) -> list[dict[str, Any]]:
    """A string placed where personal data hides in chat fine-tuning data."""
    args = {"query": text, "api_key": text, "n": 5}
    return [
        {"messages": [{"role": "user", "content": text}]},
        {"messages": [{"role": "user", "content": [{"type": "text", "text": f"x\n{text}\t"}]}]},
        {
            "messages": [
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "f", "arguments": json.dumps(args)},
                        }
                    ],
                }
            ]
        },
        {"messages": [], "config": {"password": text, "OPENAI_API_KEY": text}},
    ]


def assert_gate_is_sound(lines: list[str]) -> None:
    """Every line the full walk finds something in must be named by the gate."""
    data = "\n".join(lines).encode()
    named = gate_json_block(data, FAMILY_ALL)
    offset = 0
    for line in lines:
        raw = line.encode()
        if offset not in named:
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            if obj is not None:
                assert scan_example(obj) == [], f"the gate missed line {line!r}"
        offset += len(raw) + 1


def test_the_gate_names_every_corpus_line_with_personal_data_in_every_shape() -> None:
    lines = [line for text in TEXTS for obj in shapes(text) for line in encodings(obj)]
    assert_gate_is_sound(lines)
    # and it is worth having: most harmless lines are not named
    harmless = [
        line
        for text in TEXTS
        for obj in shapes(text)[:1]
        for line in encodings(obj)[:1]
        if not scan_example(json.loads(line))
    ]
    named = gate_json_block("\n".join(harmless).encode())
    assert len(harmless) > 200
    assert len(named) <= len(harmless) / 2


@pytest.mark.parametrize(
    "content",
    [
        "call me on\n+44 20 7946 0958",  # \n right before the number
        "see https://example.com/ or phone: +1 415 555 0132/office",
        "tel:\t0612345678",
        "token:\tghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "my\npassword: Hunter2!x",
        'the "token": "Zx9vQ3pL8mN2bR7tK4wY1sD6fG0hJ5cE"',
        "bearer\tZx9vQ3pL8mN2bR7tK4wY1sD6fG0hJ5cE",
        "IBAN\nDE89 3704 0044 0532 0130 00",
        "server\n10.20.30.40",
        "host 2a02:6b8:0:1:2:3:4:5 up",
        "\u212aey: Zx9vQ3pL8mN2bR7tK4wY1sD6fG0hJ5cE",  # KELVIN SIGN lower-cases to "k"
        "SSN: 536-22-1847",
        "jane@example.com",
        "ref_1 4242 4242 4242 4242",  # a run glued to an id, but with a card inside
    ],
)
def test_escapes_next_to_values_do_not_hide_them(content: str) -> None:
    obj = {"messages": [{"role": "user", "content": content}]}
    assert scan_example(obj), "the case must hold personal data"
    for line in encodings(obj):
        assert gate_json_block(line.encode()) == {0}, line


def test_a_keyed_secret_in_nested_arguments_is_named() -> None:
    args = json.dumps({"api_key": "Zx9vQ3pL8mN2bR7tK4wY1sD6fG0hJ5cE"}, indent=2)
    obj = {"messages": [{"role": "assistant", "content": None, "arguments": args}]}
    assert scan_example(obj)
    for line in encodings(obj):
        assert gate_json_block(line.encode()) == {0}


@pytest.mark.parametrize(
    "content",
    [
        "fine-tune gpt-4o-mini-2024-07-18 for 3 epochs at $8.00/1M tokens",
        "job ftjob-abc123 used 123456 tokens; tokenizer cl100k_base",
        "call_123456789 and hash 3f9a2c0d1234567e",
        "loss 0.4231 after 15000 steps, lr 1e-05",
    ],
)
def test_harmless_ml_text_is_not_named(content: str) -> None:
    obj = {"messages": [{"role": "user", "content": content}]}
    assert not scan_example(obj)
    assert gate_json_block(json.dumps(obj).encode()) == set()


def test_the_gate_names_each_line_once_and_only_the_wanted_families() -> None:
    lines = [
        json.dumps({"messages": [{"role": "user", "content": c}]})
        for c in ["a@b.example x@y.example", "nothing here", "4242 4242 4242 4242", "c@d.example"]
    ]
    data = "\n".join(lines).encode()
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    assert gate_json_block(data) == {starts[0], starts[2], starts[3]}
    assert gate_json_block(data, FAMILY_EMAIL) == {starts[0], starts[3]}


hard_text = st.lists(
    st.one_of(
        st.sampled_from(TEXTS),
        st.sampled_from(
            ["\n", "\t", '"', "\\", "/", "_", "-", "key", "Token", "password", ":", "=", " is "]
        ),
        st.sampled_from(["\u0130", "\u212a", "é", "字", "\u00a0", "0", "12", "4242", "."]),
        st.text(alphabet="0123456789 -./()\\_:@abcXYZ\n", max_size=20),
    ),
    max_size=8,
).map("".join)


@st.composite
def hard_examples(draw: st.DrawFn) -> dict[str, Any]:
    key = draw(st.sampled_from(["content", "api_key", "Password", "x-token", "note"]))
    inner = {draw(st.sampled_from(["query", "secret", "apiKey"])): draw(hard_text)}
    return {
        "messages": [
            {"role": "user", key: draw(hard_text)},
            {"role": "assistant", "arguments": json.dumps(inner, ensure_ascii=draw(st.booleans()))},
        ]
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(objs=st.lists(hard_examples(), min_size=1, max_size=5), how=st.integers(0, 3))
def test_the_gate_never_misses_on_generated_lines(objs: list[dict[str, Any]], how: int) -> None:
    assert_gate_is_sound([encodings(obj)[how] for obj in objs])


def test_file_redaction_gives_the_same_output_with_and_without_the_gate(tmp_path: Path) -> None:
    """The gate only skips work: the output equals that of a user detector run (no gate)."""
    from finetune_kit.privacy.redaction import Redactor

    lines = [line for text in TEXTS[:120] for obj in shapes(text)[:2] for line in encodings(obj)]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    gated = redact_file(src, tmp_path / "a.jsonl")
    red = Redactor()
    red._plan = type(red._plan)(red._plan.detectors, red._plan.families, True, red._plan.secret)
    full = redact_file(src, tmp_path / "b.jsonl", redactor=red)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert gated.counts == full.counts and gated.counts
    assert gated.examples == full.examples == len(lines)


def test_file_redaction_across_small_blocks_with_crlf_and_no_final_newline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import functools

    from finetune_kit import reading
    from finetune_kit.privacy import redaction as privacy

    monkeypatch.setattr(privacy, "_iter_blocks", functools.partial(reading._iter_blocks, size=64))
    rows = [
        {"messages": [{"role": "user", "content": "mail jane@example.com"}]},
        {"messages": [{"role": "user", "content": "nothing to see " * 10}]},
        "{broken",
        {"messages": [{"role": "user", "content": "card 4242 4242 4242 4242"}]},
    ]
    raw = [json.dumps(r) if not isinstance(r, str) else r for r in rows]
    src = tmp_path / "in.jsonl"
    src.write_bytes("\r\n".join(raw).encode())
    report = redact_file(src, tmp_path / "out.jsonl", workers=1)
    out = (tmp_path / "out.jsonl").read_text().split("\n")
    assert out[-1] == "" and len(out) == 5
    assert "[EMAIL]" in out[0] and out[1] == raw[1] and out[2] == "{broken" and "[CARD]" in out[3]
    assert (report.lines, report.examples, report.unparsed_lines) == (4, 3, 1)
    assert report.unparsed_line_numbers == [3]
    assert report.counts == {"pii_email": 1, "pii_card": 1}
