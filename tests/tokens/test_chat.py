"""The chat-format-aware interface: segments, cuts, the OpenAI adapter and model lookup."""

from __future__ import annotations

import pytest

from finetune_kit.errors import ConfigError, UnknownModelError
from finetune_kit.tokens.chat import ChatTokenizer, ExampleTokens, OpenAIChatTokenizer, Segment
from finetune_kit.tokens.counting import Tokenizer
from finetune_kit.tokens.registry import open_model_info, tokenizer_for_model

EXAMPLE = {
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is a token?"},
        {"role": "assistant", "content": "A piece of text.", "weight": 0},
        {"role": "user", "content": "And an epoch?"},
        {"role": "assistant", "content": "One pass over the data."},
    ],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}],
}

SEGMENTS = [
    Segment(None, 5, False),
    Segment(0, 10, False),
    Segment(1, 4, True),
    Segment(2, 6, False),
    Segment(3, 8, True),
]


def test_segments_sum_to_billed_and_trainable() -> None:
    counts = ExampleTokens.from_segments(SEGMENTS, None)
    assert (counts.billed, counts.trainable, counts.kept_trainable) == (33, 12, 12)
    assert not counts.truncated and counts.cut_message is None


def test_cut_inside_a_trainable_message_keeps_its_head() -> None:
    counts = ExampleTokens.from_segments(SEGMENTS, 17)
    assert (counts.cut_at, counts.cut_message, counts.kept_trainable) == (17, 1, 2)


def test_cut_on_a_message_boundary_names_the_next_message() -> None:
    counts = ExampleTokens.from_segments(SEGMENTS, 19)
    assert (counts.cut_message, counts.kept_trainable) == (2, 4)


def test_example_exactly_at_the_limit_is_not_cut() -> None:
    counts = ExampleTokens.from_segments(SEGMENTS, 33)
    assert not counts.truncated and counts.kept_trainable == 12


def test_to_dict_is_json_ready() -> None:
    d = ExampleTokens.from_segments(SEGMENTS, 17).to_dict()
    assert d == {
        "billed": 33,
        "trainable": 12,
        "max_length": 17,
        "truncated": True,
        "cut_at": 17,
        "cut_message": 1,
        "kept_trainable": 2,
    }


def test_openai_billed_equals_the_cookbook_count() -> None:
    tok = OpenAIChatTokenizer("gpt-4o-mini-2024-07-18")
    assert tok.count_example(EXAMPLE).billed == Tokenizer.for_model("gpt-4o-mini").count_raw(
        EXAMPLE
    )
    assert tok.count_raw(EXAMPLE) == tok.count_example(EXAMPLE).billed
    assert tok.max_length == 65_536


def test_openai_trainable_is_the_weighted_assistant_messages() -> None:
    tok = OpenAIChatTokenizer("gpt-4o-mini")
    inner = Tokenizer.for_model("gpt-4o-mini")
    answer = EXAMPLE["messages"][4]
    assert tok.count_example(EXAMPLE).trainable == inner._messages([answer])


def test_openai_render_flags_the_trained_message() -> None:
    rendered = OpenAIChatTokenizer("gpt-4o-mini").render({"messages": EXAMPLE["messages"]})
    trained = "".join(t for t, f in zip(rendered.tokens, rendered.trainable, strict=True) if f)
    assert "One pass over the data." in trained
    assert "A piece of text." not in trained


def test_preference_examples_train_only_the_preferred_output() -> None:
    tok = OpenAIChatTokenizer("gpt-4o-mini")
    ex = {
        "input": {
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Yo"},
                {"role": "user", "content": "Again"},
            ]
        },
        "preferred_output": [{"role": "assistant", "content": "Hello!"}],
        "non_preferred_output": [{"role": "assistant", "content": "No."}],
    }
    inner = Tokenizer.for_model("gpt-4o-mini")
    counts = tok.count_example(ex, "preference")
    assert counts.billed == inner.count_raw(ex, "preference")
    assert counts.trainable == inner._messages(ex["preferred_output"])


def test_gpt_oss_names_resolve_to_one_harmony_row() -> None:
    rows = {
        open_model_info(n)
        for n in ("openai/gpt-oss-20b", "GPT-OSS-20B", "accounts/fireworks/models/gpt-oss-20b")
    }
    assert len(rows) == 1
    (info,) = rows
    assert info is not None and info.chat_format == "harmony" and info.max_length == 131_072


def test_openai_models_are_not_open_models() -> None:
    assert open_model_info("gpt-4o-mini") is None


def test_tokenizer_for_model_picks_the_format() -> None:
    assert tokenizer_for_model("gpt-4o-mini").chat_format == "openai"
    oss = tokenizer_for_model("openai/gpt-oss-20b", max_length=2048)
    assert oss.chat_format == "harmony" and oss.max_length == 2048
    assert isinstance(oss, ChatTokenizer)


def test_unknown_model_suggests_open_models() -> None:
    with pytest.raises(UnknownModelError) as info:
        tokenizer_for_model("openai/gpt-oss-21b")
    assert "openai/gpt-oss-20b" in info.value.suggestions


def test_max_length_must_be_positive() -> None:
    with pytest.raises(ConfigError):
        tokenizer_for_model("gpt-4o-mini", max_length=0)
