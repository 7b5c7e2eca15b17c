"""Property tests: random text-only chat examples survive every round trip, apart from exactly
what the fidelity report lists."""

from __future__ import annotations

import copy
import json
from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from finetune_kit import Example, PreferenceExample
from finetune_kit.export.convert import FORMATS, from_format, to_format

CHAT_FORMATS = [name for name, f in FORMATS.items() if f.input_kind == "chat"]
SPLIT_SYSTEM = ("vertex-gemini", "bedrock-conversation")  # system text lives outside the turns

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
answer_text = text.map(lambda s: "Aye. " + s)  # an assistant message needs visible text


def content(body: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    parts = st.lists(body.map(lambda t: {"type": "text", "text": t}), min_size=1, max_size=3)
    return st.one_of(body, parts)


@st.composite
def message(draw: st.DrawFn, role: str) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": role}
    msg["content"] = draw(content(answer_text if role == "assistant" else text))
    if draw(st.booleans()) and draw(st.booleans()):
        msg["name"] = draw(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,8}", fullmatch=True))
    if role == "assistant" and draw(st.booleans()):
        msg["weight"] = draw(st.sampled_from([0, 1]))
    return msg


@st.composite
def chat_example(draw: st.DrawFn) -> dict[str, Any]:
    roles = draw(
        st.lists(st.sampled_from(["system", "developer", "user", "assistant"]), max_size=7)
    )
    roles.append("assistant")
    return {"messages": [draw(message(role)) for role in roles]}


@st.composite
def simple_chat_example(draw: st.DrawFn) -> dict[str, Any]:
    """No name, weight, developer role or content lists; system messages only first."""
    turns = draw(st.lists(st.tuples(text, answer_text), min_size=1, max_size=4))
    messages: list[dict[str, Any]] = []
    if draw(st.booleans()):
        messages.append({"role": "system", "content": draw(text)})
    for question, reply in turns:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": reply}]
    return {"messages": messages}


def expected_round_trip(example: dict[str, Any], fmt: str) -> tuple[dict[str, Any], Counter[str]]:
    """What a text-only example must look like after ``fmt`` and back, and the kinds lost."""
    kinds: Counter[str] = Counter()
    front: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    started = False
    for original in example["messages"]:
        msg = copy.deepcopy(original)
        if msg["role"] == "developer":
            msg["role"] = "system"
            kinds["developer_to_system"] += 1
        if "name" in msg:
            del msg["name"]
            kinds["name_dropped"] += 1
        if "weight" in msg and fmt != "mistral":
            kinds["weight_zero_trained" if msg.pop("weight") == 0 else "weight_dropped"] += 1
        body = msg["content"]
        if fmt in SPLIT_SYSTEM and msg["role"] == "system":
            if isinstance(body, list):
                kinds["text_parts_joined" if len(body) > 1 else "text_parts_as_string"] += 1
                msg["content"] = "\n".join(p["text"] for p in body)
            if started:
                kinds["system_moved_to_start"] += 1
            front.append(msg)
            continue
        started = True
        if fmt in SPLIT_SYSTEM and isinstance(body, list) and len(body) == 1:
            kinds["text_parts_as_string"] += 1
            msg["content"] = body[0]["text"]
        rest.append(msg)
    return {"messages": front + rest}, kinds


def round_trip(example: dict[str, Any], fmt: str) -> tuple[dict[str, Any], Any, Any]:
    records, out = to_format([Example.model_validate(example)], fmt)
    back, into = from_format(json.loads(json.dumps(records)), fmt)
    return back[0].to_dict(), out, into


@settings(max_examples=150, deadline=None)
@given(example=chat_example())
def test_round_trip_differs_exactly_by_the_reported_kinds(example: dict[str, Any]) -> None:
    for fmt in CHAT_FORMATS:
        expected, kinds = expected_round_trip(example, fmt)
        back, out, into = round_trip(example, fmt)
        assert back == expected, fmt
        assert out.kinds == dict(kinds), fmt
        assert into.items == [], fmt


@settings(max_examples=100, deadline=None)
@given(example=simple_chat_example())
def test_simple_text_examples_are_lossless_everywhere(example: dict[str, Any]) -> None:
    for fmt in CHAT_FORMATS:
        back, out, _ = round_trip(example, fmt)
        assert back == example, fmt
        assert out.lossless and out.items == [], fmt


@settings(max_examples=100, deadline=None)
@given(
    prompt=simple_chat_example(),
    chosen=answer_text,
    rejected=answer_text,
)
def test_preference_examples_are_lossless_through_hf_preference(
    prompt: dict[str, Any], chosen: str, rejected: str
) -> None:
    pref = {
        "input": {"messages": prompt["messages"][:-1]},
        "preferred_output": [{"role": "assistant", "content": chosen}],
        "non_preferred_output": [{"role": "assistant", "content": rejected}],
    }
    records, out = to_format([PreferenceExample.model_validate(pref)], "hf-preference")
    back, _ = from_format(json.loads(json.dumps(records)), "hf-preference")
    assert back[0].to_dict() == pref
    assert out.items == [] and out.findings == []
