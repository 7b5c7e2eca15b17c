from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from finetune_kit.dedupe import (
    NearConfig,
    example_shingles,
    example_signature,
    example_weight,
    example_words,
)
from finetune_kit.errors import ConfigError


def chat(*pairs: tuple[str, str]) -> dict[str, object]:
    return {"messages": [{"role": r, "content": c} for r, c in pairs]}


def test_words_ignore_case_whitespace_and_punctuation() -> None:
    a = chat(("user", "Where is  MY order?"), ("assistant", "It ships\ntoday!"))
    b = chat(("user", "where is my order"), ("assistant", "it ships today"))
    assert example_words(a, NearConfig()) == example_words(b, NearConfig())
    assert example_words(a, NearConfig())[:2] == ["<user>", "where"]


def test_system_prompt_is_left_out_unless_asked() -> None:
    ex = chat(("system", "Be kind."), ("user", "Hi"), ("assistant", "Hello"))
    assert "kind" not in example_words(ex, NearConfig())
    assert "kind" in example_words(ex, NearConfig(system=True))


def test_roles_can_be_left_out() -> None:
    ex = chat(("user", "Hi"), ("assistant", "Hello"))
    assert example_words(ex, NearConfig(roles=False)) == ["hi", "hello"]


def test_cjk_characters_count_as_words() -> None:
    ex = chat(("user", "注文はどこabc"))
    assert example_words(ex, NearConfig(roles=False)) == ["注", "文", "は", "ど", "こ", "abc"]


def test_preference_examples_compare_input_and_both_outputs() -> None:
    ex = {
        "input": {"messages": [{"role": "user", "content": "Pick one"}]},
        "preferred_output": [{"role": "assistant", "content": "Left"}],
        "non_preferred_output": [{"role": "assistant", "content": "Right"}],
    }
    words = example_words(ex, NearConfig())
    assert words == [
        "<user>",
        "pick",
        "one",
        "<preferred_output>",
        "<assistant>",
        "left",
        "<non_preferred_output>",
        "<assistant>",
        "right",
    ]


def test_images_and_tool_calls_are_words() -> None:
    url = "https://example.com/cat.png"
    ex = {
        "messages": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]},
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
        ]
    }
    other = {
        "messages": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url + "?2"}}]}
        ]
    }
    words = example_words(ex, NearConfig(roles=False))
    assert words[0].startswith("image") and words[1] == "f"
    assert example_words(other, NearConfig(roles=False))[0] != words[0]


def test_shingles_are_runs_of_words() -> None:
    ex = chat(("user", "one two three four"))
    assert example_shingles(ex, NearConfig(shingle=3, roles=False)) == {
        "one two three",
        "two three four",
    }
    assert example_shingles(chat(("user", "hi")), NearConfig(roles=False)) == {"hi"}
    assert example_shingles({"messages": []}, NearConfig()) == set()


def test_signature_is_the_same_in_another_process() -> None:
    ex = chat(("user", "Where is my parcel, please?"), ("assistant", "On its way."))
    here = example_signature(ex, NearConfig())
    code = (
        "import json,sys; from finetune_kit.dedupe import NearConfig, example_signature; "
        f"print(json.dumps(example_signature({ex!r}, NearConfig()).tolist()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert here is not None and here.dtype == np.uint32 and len(here) == 128
    assert here.tolist() == __import__("json").loads(out.stdout)


def test_signature_is_none_without_words() -> None:
    assert (
        example_signature({"messages": [{"role": "system", "content": "x"}]}, NearConfig()) is None
    )


def test_weight_counts_trained_assistant_messages() -> None:
    ex = {
        "messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b", "weight": 0},
            {"role": "user", "content": "c"},
            {"role": "assistant", "content": "d"},
        ]
    }
    assert example_weight(ex) == 1.0
    assert example_weight({"input": {}}) == 1.0


@pytest.mark.parametrize(
    "kwargs",
    [{"threshold": 0}, {"threshold": 1.5}, {"shingle": 0}, {"num_perm": 100, "bands": 16}],
)
def test_bad_settings_are_config_errors(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        NearConfig(**kwargs)  # type: ignore[arg-type]


def test_rows_per_band() -> None:
    assert NearConfig().rows == 8
