"""gpt-oss counts: equal to openai-harmony's own rendering, billed and trainable, exactly."""

from __future__ import annotations

import functools
import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai_harmony import (
    Author,
    Conversation,
    DeveloperContent,
    Message,
    RenderOptions,
    Role,
    SystemContent,
    ToolDescription,
)

from finetune_kit.errors import TokenizerUnavailable
from finetune_kit.tokens import harmony as harmony_module
from finetune_kit.tokens.harmony import HarmonyTokenizer, load_harmony

WEATHER = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["city"],
    },
}

MULTI_TURN = {
    "messages": [
        {"role": "system", "content": "You answer in one short sentence."},
        {"role": "user", "content": "What is an epoch?"},
        {"role": "assistant", "content": "One pass over the data.", "weight": 0},
        {"role": "user", "content": "And a batch?"},
        {"role": "assistant", "content": "A slice of it, seen at once.", "weight": 1},
    ]
}
TOOLS = {
    "messages": [
        {"role": "system", "content": "Use the tools."},
        {"role": "user", "content": "Weather in Zürich?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Zürich"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp_c": 4}'},
        {"role": "assistant", "content": "4 °C in Zürich."},
    ],
    "tools": [{"type": "function", "function": WEATHER}],
}
NON_ASCII = {
    "messages": [
        {"role": "user", "name": "kenji", "content": "日本語で答えてください 🙂"},
        {"role": "assistant", "content": "はい、わかりました。Ça marche — naïve café."},
    ]
}


def _system() -> Message:
    return Message.from_role_and_content(Role.SYSTEM, SystemContent.new())


def _final(text: str) -> Message:
    return Message.from_role_and_content(Role.ASSISTANT, text).with_channel("final")


def _lengths(messages: list[Message], tools: bool) -> list[int]:
    enc = load_harmony()
    opts = RenderOptions(conversation_has_function_tools=tools)
    return [len(enc.render(m, opts)) for m in messages]


@pytest.fixture(scope="module")
def tok() -> HarmonyTokenizer:
    return HarmonyTokenizer("openai/gpt-oss-20b")


def test_multi_turn_counts_equal_harmony_rendering_with_weights(tok: HarmonyTokenizer) -> None:
    expected = [
        _system(),
        Message.from_role_and_content(
            Role.DEVELOPER,
            DeveloperContent.new().with_instructions("You answer in one short sentence."),
        ),
        Message.from_role_and_content(Role.USER, "What is an epoch?"),
        _final("One pass over the data."),
        Message.from_role_and_content(Role.USER, "And a batch?"),
        _final("A slice of it, seen at once."),
    ]
    lengths = _lengths(expected, tools=False)
    counts = tok.count_example(MULTI_TURN)
    assert counts.billed == len(
        load_harmony().render_conversation(Conversation.from_messages(expected))
    )
    assert counts.billed == sum(lengths)
    assert counts.trainable == lengths[5]  # the weight-0 answer does not train


def test_tool_calls_and_results_count_as_harmony_renders_them(tok: HarmonyTokenizer) -> None:
    call = (
        Message.from_role_and_content(Role.ASSISTANT, '{"city": "Zürich"}')
        .with_channel("commentary")
        .with_recipient("functions.get_weather")
        .with_content_type("<|constrain|>json")
    )
    result = (
        Message.from_author_and_content(
            Author.new(Role.TOOL, "functions.get_weather"), '{"temp_c": 4}'
        )
        .with_channel("commentary")
        .with_recipient("assistant")
    )
    developer = (
        DeveloperContent.new()
        .with_instructions("Use the tools.")
        .with_function_tools(
            [ToolDescription.new(WEATHER["name"], WEATHER["description"], WEATHER["parameters"])]
        )
    )
    expected = [
        _system(),
        Message.from_role_and_content(Role.DEVELOPER, developer),
        Message.from_role_and_content(Role.USER, "Weather in Zürich?"),
        call,
        result,
        _final("4 °C in Zürich."),
    ]
    lengths = _lengths(expected, tools=True)
    counts = tok.count_example(TOOLS)
    full = load_harmony().render_conversation(Conversation.from_messages(expected))
    assert counts.billed == len(full) == sum(lengths)
    assert counts.trainable == lengths[3] + lengths[5]


def test_non_ascii_text_and_author_names_count_exactly(tok: HarmonyTokenizer) -> None:
    expected = [
        _system(),
        Message.from_author_and_content(
            Author.new(Role.USER, "kenji"), "日本語で答えてください 🙂"
        ),
        _final("はい、わかりました。Ça marche — naïve café."),
    ]
    lengths = _lengths(expected, tools=False)
    counts = tok.count_example(NON_ASCII)
    assert (counts.billed, counts.trainable) == (sum(lengths), lengths[2])


def test_conversation_is_the_documented_reference_rendering(tok: HarmonyTokenizer) -> None:
    text = load_harmony().decode(load_harmony().render_conversation(tok.conversation(TOOLS)))
    assert text.startswith("<|start|>system<|message|>You are ChatGPT")
    assert "Current date" not in text
    assert "<|start|>developer<|message|># Instructions\n\nUse the tools." in text
    assert (
        "<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json" in text
    )
    assert "<|start|>functions.get_weather to=assistant<|channel|>commentary" in text
    assert text.endswith("<|start|>assistant<|channel|>final<|message|>4 °C in Zürich.<|end|>")


def test_tools_without_system_prompt_get_a_tools_only_developer_message(
    tok: HarmonyTokenizer,
) -> None:
    ex = {"messages": TOOLS["messages"][1:], "tools": TOOLS["tools"]}
    conv = tok.conversation(ex)
    assert conv.messages[1].author.role is Role.DEVELOPER
    assert tok.count_raw(ex) == len(load_harmony().render_conversation(conv))


def test_preference_example_counts_input_and_preferred_output(tok: HarmonyTokenizer) -> None:
    ex = {
        "input": {"messages": [{"role": "user", "content": "Say hi"}]},
        "preferred_output": [{"role": "assistant", "content": "Hi!"}],
        "non_preferred_output": [{"role": "assistant", "content": "No."}],
    }
    lengths = _lengths(
        [_system(), Message.from_role_and_content(Role.USER, "Say hi"), _final("Hi!")], False
    )
    counts = tok.count_example(ex, "preference")
    assert (counts.billed, counts.trainable) == (sum(lengths), lengths[2])


def test_cut_falls_in_the_message_that_crosses_the_max_length() -> None:
    lengths = [c.tokens for c in HarmonyTokenizer()._segments(MULTI_TURN, "chat")]
    limit = sum(lengths[:5]) + 3  # 3 tokens into the last answer
    counts = HarmonyTokenizer(max_length=limit).count_example(MULTI_TURN)
    assert counts.truncated and counts.cut_at == limit
    assert counts.cut_message == 4
    assert counts.kept_trainable == 3
    assert counts.billed == sum(lengths)


def test_example_that_fits_is_not_cut() -> None:
    counts = HarmonyTokenizer(max_length=10_000).count_example(MULTI_TURN)
    assert not counts.truncated
    assert (counts.cut_at, counts.cut_message) == (None, None)
    assert counts.kept_trainable == counts.trainable


def test_render_flags_exactly_the_trainable_tokens(tok: HarmonyTokenizer) -> None:
    rendered = tok.render(MULTI_TURN)
    counts = tok.count_example(MULTI_TURN)
    assert len(rendered.tokens) == counts.billed
    assert sum(rendered.trainable) == counts.trainable
    assert "".join(
        t for t, f in zip(rendered.tokens, rendered.trainable, strict=True) if f
    ).endswith("A slice of it, seen at once.<|end|>")


def test_tokenizer_survives_pickling_for_worker_processes() -> None:
    tok = HarmonyTokenizer("openai/gpt-oss-120b", max_length=99)
    copy = pickle.loads(pickle.dumps(tok))
    assert (copy.model, copy.max_length) == ("openai/gpt-oss-120b", 99)
    assert copy.count_raw(NON_ASCII) == tok.count_raw(NON_ASCII)


def test_missing_vocabulary_raises_clear_error_naming_the_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import openai_harmony

    def offline(_name: Any) -> Any:
        raise openai_harmony.HarmonyError("error downloading or loading vocab file")

    monkeypatch.setattr(openai_harmony, "load_harmony_encoding", offline)
    load_harmony.cache_clear()
    try:
        with pytest.raises(TokenizerUnavailable) as info:
            harmony_module.load_harmony()
    finally:
        load_harmony.cache_clear()
    assert "TIKTOKEN_ENCODINGS_BASE" in info.value.hint
    assert "TIKTOKEN_CACHE_DIR" in info.value.hint


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x1FFFF), max_size=40
)


@st.composite
def _examples(draw: st.DrawFn) -> dict[str, Any]:
    msgs: list[dict[str, Any]] = []
    if draw(st.booleans()):
        msgs.append({"role": "system", "content": draw(_text)})
    for _ in range(draw(st.integers(1, 3))):
        msgs.append({"role": "user", "content": draw(_text)})
        msg: dict[str, Any] = {"role": "assistant", "content": draw(_text)}
        if draw(st.booleans()):
            msg["weight"] = draw(st.sampled_from([0, 1]))
        msgs.append(msg)
    ex: dict[str, Any] = {"messages": msgs}
    if draw(st.booleans()):
        ex["tools"] = [{"type": "function", "function": WEATHER}]
    return ex


@functools.cache
def _shared() -> HarmonyTokenizer:
    return HarmonyTokenizer()


@settings(max_examples=60, deadline=None)
@given(_examples())
def test_counts_equal_harmony_for_generated_examples(ex: dict[str, Any]) -> None:
    tok = _shared()
    enc = load_harmony()
    conv = tok.conversation(ex)
    plan, tools = tok._plan(ex, "chat")
    opts = RenderOptions(conversation_has_function_tools=tools)
    trainable = sum(
        len(enc.render(m, opts)) for m, p in zip(conv.messages, plan, strict=True) if p.trainable
    )
    counts = tok.count_example(ex)
    assert counts.billed == len(enc.render_conversation(conv))
    assert counts.trainable == trainable


def test_harmony_own_encoder_gives_the_same_counts_as_the_tiktoken_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from finetune_kit.tokens import counting

    fast = HarmonyTokenizer()
    assert fast.text_encoder == "tiktoken"

    def unavailable(_name: str) -> Any:
        raise TokenizerUnavailable("no tiktoken cache")

    monkeypatch.setattr(counting, "load_encoding", unavailable)
    slow = HarmonyTokenizer()
    assert slow.text_encoder == "harmony"
    for ex in (MULTI_TURN, TOOLS, NON_ASCII):
        assert slow.count_example(ex) == fast.count_example(ex)
