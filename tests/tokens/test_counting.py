from __future__ import annotations

import functools
import importlib.machinery
import json
import sys
import types
from typing import Any

import pytest
import tiktoken
import tiktoken.load
import tiktoken.registry
from hypothesis import given, settings
from hypothesis import strategies as st

from finetune_kit.errors import ConfigError, TokenizerUnavailable, UnknownModelError
from finetune_kit.tokens import counting
from finetune_kit.tokens.counting import (
    Tokenizer,
    encoding_name_for_model,
    image_tokens,
)


@functools.cache
def tokenizer(encoding: str) -> Tokenizer:
    return Tokenizer(encoding)


def cookbook_count(messages: list[dict[str, Any]], encoding: str) -> int:
    """The data-prep notebook's num_tokens_from_messages, written out independently."""
    enc = tiktoken.get_encoding(encoding)
    total = 0
    for message in messages:
        total += 3
        for key, value in message.items():
            total += len(enc.encode(value))
            if key == "name":
                total += 1
    return total + 3


# Text the notebook can encode: any Unicode except lone surrogates and special-token markers.
TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs",)),
    max_size=120,
).filter(lambda s: "<|" not in s)
MIXED = st.one_of(
    TEXT,
    st.sampled_from(
        [
            "Good morrow, gentle user!",
            "café naïve résumé — déjà vu",
            "模型训练数据回答问题",
            "こんにちは、お元気ですか",
            "emoji 🤖🎉 and tabs\tand\nnewlines",
            "   leading and trailing spaces   ",
        ]
    ),
)
MESSAGE = st.builds(
    lambda role, content, name: {
        "role": role,
        "content": content,
        **({"name": name} if name else {}),
    },
    st.sampled_from(["system", "user", "assistant"]),
    MIXED,
    st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9_]{1,12}", fullmatch=True)),
)
CONVERSATION = st.lists(MESSAGE, min_size=1, max_size=8)


@pytest.mark.parametrize("encoding", ["cl100k_base", "o200k_base"])
@settings(max_examples=150, deadline=None)
@given(messages=CONVERSATION)
def test_counts_equal_the_cookbook_method(encoding: str, messages: list[dict[str, Any]]) -> None:
    tok = tokenizer(encoding)
    assert tok.count_raw({"messages": messages}, "chat") == cookbook_count(messages, encoding)


@settings(max_examples=60, deadline=None)
@given(conversations=st.lists(CONVERSATION, min_size=1, max_size=12))
def test_a_tiny_cache_gives_the_same_counts(conversations: list[list[dict[str, Any]]]) -> None:
    small = Tokenizer("cl100k_base", cache_entries=2, cache_chars=40)
    uncached = Tokenizer("cl100k_base", cache_entries=0)
    for messages in conversations * 2:  # repeats hit the cache
        expected = cookbook_count(messages, "cl100k_base")
        assert small.count_raw({"messages": messages}) == expected
        assert uncached.count_raw({"messages": messages}) == expected


def test_name_adds_one_token_on_top_of_its_value() -> None:
    tok = tokenizer("cl100k_base")
    plain = {"role": "user", "content": "Hi"}
    named = {**plain, "name": "Bob"}
    diff = tok.count_raw({"messages": [named]}) - tok.count_raw({"messages": [plain]})
    assert diff == tok.count_text("Bob") + 1


def test_weight_is_not_counted() -> None:
    tok = tokenizer("o200k_base")
    msg = {"role": "assistant", "content": "Aye."}
    assert tok.count_raw({"messages": [{**msg, "weight": 0}]}) == tok.count_raw({"messages": [msg]})


def test_special_token_text_counts_as_plain_text() -> None:
    tok = tokenizer("cl100k_base")
    enc = tiktoken.get_encoding("cl100k_base")
    text = "end<|endoftext|>"
    assert tok.count_text(text) == len(enc.encode(text, disallowed_special=()))


def test_text_parts_count_their_text_and_images_a_fixed_estimate() -> None:
    tok = tokenizer("o200k_base")
    as_string = {"messages": [{"role": "user", "content": "Describe this."}]}
    as_parts = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Describe this."},
                    {"type": "image_url", "image_url": {"url": "https://x/a.png", "detail": "low"}},
                    {"type": "image_url", "image_url": {"url": "https://x/b.png"}},
                ],
            }
        ]
    }
    assert tok.count_raw(as_parts) == tok.count_raw(as_string) + 85 + 765


@pytest.mark.parametrize(
    ("size", "detail", "expected"),
    [
        ((None, None), "low", 85),
        ((None, None), "auto", 765),
        ((1024, 1024), "high", 765),
        ((2048, 4096), "high", 1105),
        ((512, 512), "high", 255),
        ((4096, 8192), "low", 85),
    ],
)
def test_image_tokens_follow_the_tile_formula(
    size: tuple[int | None, int | None], detail: str, expected: int
) -> None:
    assert image_tokens(*size, detail=detail) == expected


def test_tool_calls_count_name_and_arguments_and_tools_their_json() -> None:
    tok = tokenizer("o200k_base")
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    call = {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    base = [{"role": "user", "content": "Weather?"}]
    with_call = [*base, {"role": "assistant", "tool_calls": [call]}]
    plain = tok.count_raw({"messages": [*base, {"role": "assistant"}]})
    assert tok.count_raw({"messages": with_call}) == plain + tok.count_text(
        "get_weather"
    ) + tok.count_text("{}")
    compact = json.dumps(tools, ensure_ascii=False, separators=(",", ":"))
    assert tok.count_raw({"messages": base, "tools": tools}) == tok.count_raw(
        {"messages": base}
    ) + tok.count_text(compact)


def test_preference_example_counts_input_plus_preferred_output() -> None:
    tok = tokenizer("o200k_base")
    user = {"role": "user", "content": "Hello?"}
    good = {"role": "assistant", "content": "Good morrow!"}
    bad = {"role": "assistant", "content": "Hi."}
    pref = {
        "input": {"messages": [user]},
        "preferred_output": [good],
        "non_preferred_output": [bad],
    }
    assert tok.count_raw(pref, "preference") == tok.count_raw({"messages": [user, good]})
    assert tok.count(pref) == tok.count_raw(pref, "preference")


def test_count_accepts_typed_examples() -> None:
    from finetune_kit.schema import Example, Message

    ex = Example(
        messages=[Message(role="user", content="Hi"), Message(role="assistant", content="Hail!")]
    )
    tok = tokenizer("o200k_base")
    assert tok.count(ex) == tok.count_raw(ex.to_dict())
    assert tok.count_messages(ex.messages) == tok.count_raw(ex.to_dict())


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o-mini-2024-07-18", "o200k_base"),
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-4o-2024-08-06", "o200k_base"),
        ("gpt-4.1-nano-2025-04-14", "o200k_base"),
        ("o4-mini-2025-04-16", "o200k_base"),
        ("ft:gpt-4o-mini-2024-07-18:org::abc", "o200k_base"),
        ("ft:gpt-3.5-turbo-0125:org:suffix:id:ckpt-step-10", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("gpt-4-0613", "cl100k_base"),
        ("babbage-002", "cl100k_base"),
        ("davinci-002", "cl100k_base"),
    ],
)
def test_model_names_map_to_their_encoding(model: str, encoding: str) -> None:
    assert encoding_name_for_model(model) == encoding


def test_family_fallback_when_tiktoken_does_not_know_the_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unknown(name: str) -> str:
        raise KeyError(name)

    monkeypatch.setattr(tiktoken, "encoding_name_for_model", unknown)
    assert encoding_name_for_model("gpt-4.1-mini-2025-04-14") == "o200k_base"
    assert encoding_name_for_model("ft:gpt-3.5-turbo-0613:o::x") == "cl100k_base"
    assert encoding_name_for_model("davinci-002") == "cl100k_base"


def test_unknown_model_lists_close_matches() -> None:
    with pytest.raises(UnknownModelError) as info:
        encoding_name_for_model("gtp-4o-mini")
    assert "gpt-4o-mini" in info.value.suggestions
    assert "gpt-4o-mini" in str(info.value)


@pytest.mark.parametrize(
    ("model", "limit"),
    [("gpt-3.5-turbo", 16_385), ("gpt-4o-mini", 65_536), ("gpt-4-0613", None)],
)
def test_for_model_knows_the_per_example_limit(model: str, limit: int | None) -> None:
    assert Tokenizer.for_model(model).example_limit == limit


@pytest.mark.parametrize(
    "failure",
    [
        OSError("network is unreachable"),
        pytest.param("requests", id="requests-ConnectionError"),
    ],
)
def test_offline_without_cache_raises_tokenizer_unavailable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, failure: Any
) -> None:
    import requests

    exc = (
        requests.exceptions.ConnectionError("Max retries exceeded")
        if failure == "requests"
        else failure
    )

    def no_network(blobpath: str) -> bytes:
        raise exc

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))  # an empty cache
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})  # forget loaded encodings
    monkeypatch.setattr(tiktoken.load, "read_file", no_network)
    with pytest.raises(TokenizerUnavailable) as info:
        Tokenizer("o200k_base")
    assert info.value.message == (
        f"tiktoken could not load the o200k_base encoding ({type(exc).__name__}: {exc}); it "
        "downloads the encoding file on first use, so without internet access it needs a "
        "cached copy"
    )
    assert info.value.hint == (
        "set TIKTOKEN_CACHE_DIR to a folder holding tiktoken's cached encoding files (copy them "
        "from a machine that has run tiktoken online), then retry"
    )
    assert info.value.__cause__ is exc


# -- the fast exact counter (bpe-openai, the `fast` extra) -----------------------------------


@functools.cache
def fast_tokenizer(encoding: str) -> Tokenizer:
    return Tokenizer(encoding, fast=True)


@pytest.mark.parametrize("encoding", ["cl100k_base", "o200k_base"])
def test_fast_counter_is_used_when_installed_and_not_by_default(encoding: str) -> None:
    assert fast_tokenizer(encoding).backend == "bpe-openai"
    assert Tokenizer(encoding).backend == "tiktoken"
    assert "backend=bpe-openai" in repr(fast_tokenizer(encoding))


@pytest.mark.parametrize("encoding", ["cl100k_base", "o200k_base"])
@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200) | MIXED)  # lone surrogates included: tiktoken counts those
def test_fast_counter_counts_every_string_as_tiktoken(encoding: str, text: str) -> None:
    expected = len(tiktoken.get_encoding(encoding).encode_ordinary(text))
    assert fast_tokenizer(encoding).count_text(text) == expected


@settings(max_examples=60, deadline=None)
@given(messages=CONVERSATION)
def test_fast_counter_counts_examples_as_the_cookbook(messages: list[dict[str, Any]]) -> None:
    fast = Tokenizer("cl100k_base", fast=True, cache_entries=0)
    assert fast.count_raw({"messages": messages}) == cookbook_count(messages, "cl100k_base")


def test_fast_counter_that_disagrees_with_tiktoken_is_not_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bindings = counting._bpe_openai()
    assert bindings is not None

    class OffByOne:
        def __init__(self, real: Any) -> None:
            self.real = real

        def count(self, text: str) -> int:
            return int(self.real.count(text)) + (1 if "1234" in text else 0)

    real = bindings.tokenizer_for_encoding
    monkeypatch.setattr(bindings, "tokenizer_for_encoding", lambda name: OffByOne(real(name)))
    counting._fast_counter.cache_clear()
    try:
        assert Tokenizer("cl100k_base", fast=True).backend == "tiktoken"
    finally:
        counting._fast_counter.cache_clear()


def test_without_the_fast_extra_tiktoken_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "bpe_openai._bindings", raising=False)
    monkeypatch.setitem(sys.modules, "bpe_openai", None)  # as if it were not installed
    counting._fast_counter.cache_clear()
    try:
        tok = Tokenizer("cl100k_base", fast=True)
        assert tok.backend == "tiktoken"
        assert tok.count_text("Good morrow") == len(tok.encoding.encode_ordinary("Good morrow"))
    finally:
        counting._fast_counter.cache_clear()


# -- pinned by mutation testing: image sizes, message keys, errors, the fast counter's loader ----


@pytest.mark.parametrize(
    ("size", "tokens"),
    [
        ((-5, 500), 765),  # unknown sizes: the assumed 1024 x 1024
        ((500, -5), 765),
        ((None, 500), 765),
        ((1, 1), 255),  # one tile
        ((513, 100), 425),  # just over one tile wide: two
        ((100, 513), 425),
        ((2049, 100), 765),  # fitted in 2048: four tiles, not five
        ((4096, 100), 765),
        ((769, 1537), 1105),  # shorter side cut to 768: 2 x 3 tiles, not 2 x 4
    ],
)
def test_image_tokens_at_the_edges_of_the_tile_formula(size: tuple[Any, Any], tokens: int) -> None:
    assert image_tokens(*size) == tokens


def _msg(**fields: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", **fields}]}


def test_message_keys_that_are_not_text_are_skipped_and_the_rest_still_counted() -> None:
    tok = Tokenizer.for_model("gpt-4o-mini")
    plain = tok.count_raw(_msg(content="a fine answer"))
    assert tok.count_raw(_msg(weight=1, content="a fine answer")) == plain
    assert tok.count_raw(_msg(name=None, content="a fine answer")) == plain


def test_function_calls_tool_calls_and_parts_add_up() -> None:
    tok = Tokenizer.for_model("gpt-4o-mini")
    call = {"name": "lookup", "arguments": '{"q": "weather"}'}
    content = tok.count_raw(_msg(content="let me look"))
    both = tok.count_raw(_msg(content="let me look", function_call=call))
    only_call = tok.count_raw(_msg(function_call=call))
    assert both > content and both > only_call
    tc = {"id": "c1", "type": "function", "function": call}
    one = tok.count_raw(_msg(content="x", tool_calls=[tc]))
    two = tok.count_raw(_msg(content="x", tool_calls=[tc, {**tc, "id": "c2"}]))
    assert two > one > tok.count_raw(_msg(content="x"))
    text = [{"type": "text", "text": "first part"}, {"type": "text", "text": "second part"}]
    assert tok.count_raw(_msg(content=text)) > tok.count_raw(_msg(content=text[1:]))
    odd_first = ["not a part", *text]
    assert tok.count_raw(_msg(content=odd_first)) == tok.count_raw(_msg(content=text))


def test_images_given_as_a_bare_url_or_with_an_odd_detail_count_as_auto() -> None:
    tok = Tokenizer.for_model("gpt-4o")
    base = tok.count_raw(_msg(content=[{"type": "text", "text": "see"}]))
    for image_url in ("https://x/a.png", {"url": "https://x/a.png", "detail": 5}):
        part = {"type": "image_url", "image_url": image_url}
        got = tok.count_raw(_msg(content=[{"type": "text", "text": "see"}, part]))
        assert got == base + image_tokens(), image_url


def test_functions_and_non_ascii_tools_are_counted_as_sent() -> None:
    tok = Tokenizer.for_model("gpt-4o-mini")
    fn = {"name": "météo", "description": "le temps à Tōkyō", "parameters": {}}
    bare = tok.count_raw(_msg(content="ok"))
    assert tok.count_raw({**_msg(content="ok"), "functions": [fn]}) > bare
    tools = tok.count_raw({**_msg(content="ok"), "tools": [{"type": "function", "function": fn}]})
    escaped = tok.count_text(json.dumps(fn, ensure_ascii=True, separators=(",", ":")))
    as_sent = tok.count_text(json.dumps(fn, ensure_ascii=False, separators=(",", ":")))
    assert escaped != as_sent
    assert tools - bare < escaped  # the tool is counted as UTF-8 text, not \\u escapes


def test_plain_dict_messages_and_preference_inputs_that_are_not_objects() -> None:
    tok = Tokenizer.for_model("gpt-4o-mini")
    msgs = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    assert tok.count_messages(msgs) > 0
    pref = {
        "input": "not an object",
        "preferred_output": [{"role": "assistant", "content": "yes"}],
        "non_preferred_output": [{"role": "assistant", "content": "no"}],
    }
    assert tok.count_raw(pref, "preference") > 0


def test_a_tokenizer_remembers_its_encoding_model_and_price_table() -> None:
    from finetune_kit.catalog.prices import PriceTable

    assert Tokenizer().encoding_name == "o200k_base"
    assert Tokenizer(model="m").model == "m"
    tok = Tokenizer.for_model("gpt-3.5-turbo", prices=PriceTable.load(as_of="2023-09-01"))
    assert (tok.model, tok.example_limit) == ("gpt-3.5-turbo", 4096)
    assert Tokenizer.for_model("gpt-3.5-turbo").example_limit == 16385


def test_counting_without_the_fast_counter_is_tiktokens_count() -> None:
    enc = tiktoken.get_encoding("o200k_base")
    for fast in (False, True):
        tok = Tokenizer("o200k_base", fast=fast)
        assert tok.count_text("naïve tokens, counted twice") == len(
            enc.encode_ordinary("naïve tokens, counted twice")
        )


def test_errors_name_the_unknown_model_and_encoding() -> None:
    with pytest.raises(UnknownModelError) as err:
        encoding_name_for_model("llama-zzz")
    assert err.value.message == "unknown model (no known tokenizer) 'llama-zzz'"
    with pytest.raises(ConfigError) as bad:
        counting.load_encoding("o300k")
    assert str(bad.value).startswith("unknown tiktoken encoding 'o300k'")
    names = ", ".join(sorted(tiktoken.list_encoding_names()))
    assert bad.value.hint == f"use one of {names}"
    with pytest.raises(ConfigError) as odd:
        Tokenizer().count(42)  # type: ignore[arg-type]
    assert str(odd.value) == "cannot count tokens of a int"


def test_the_fast_counters_module_is_loaded_from_its_file_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, counting._BPE_OPENAI, raising=False)
    module = counting._bpe_openai()
    assert module is not None and module.__name__ == counting._BPE_OPENAI
    assert sys.modules[counting._BPE_OPENAI] is module
    assert counting._bpe_openai() is module
    count = module.tokenizer_for_encoding("o200k_base").count
    assert count("hello world") == 2


def test_a_fast_tokenizer_counts_with_the_fast_counter_and_a_plain_one_never_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = counting._fast_counter("o200k_base")
    assert real is not None
    asked: list[str] = []

    def spy(text: str) -> int:
        asked.append(text)
        return real(text)

    monkeypatch.setattr(counting, "_fast_counter", lambda encoding: spy)
    enc = tiktoken.get_encoding("o200k_base")
    text, lone = "counted by bpe-openai", "a\ud800b"  # a lone surrogate: the fast one raises
    assert Tokenizer("o200k_base").count_text(text) == len(enc.encode_ordinary(text))
    assert asked == []
    fast = Tokenizer("o200k_base", fast=True)
    assert fast.count_text(text) == len(enc.encode_ordinary(text))
    assert asked == [text]
    assert fast.count_text(lone) == len(enc.encode_ordinary(lone)) == 3  # tiktoken's count
    assert asked == [text, lone]


def test_an_already_imported_fast_counter_module_is_reused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    imported = types.ModuleType(counting._BPE_OPENAI)
    monkeypatch.setitem(sys.modules, counting._BPE_OPENAI, imported)
    assert counting._bpe_openai() is imported


def test_no_fast_counter_module_without_the_package_or_when_it_is_no_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, counting._BPE_OPENAI, raising=False)
    monkeypatch.setitem(sys.modules, "bpe_openai", None)  # not installed
    assert counting._bpe_openai() is None
    plain = types.ModuleType("bpe_openai")
    plain.__spec__ = importlib.machinery.ModuleSpec("bpe_openai", None)  # a module, no folder
    monkeypatch.setitem(sys.modules, "bpe_openai", plain)
    assert counting._bpe_openai() is None


def test_odd_messages_parts_calls_and_tools_add_nothing_and_stop_nothing() -> None:
    tok = Tokenizer.for_model("gpt-4o-mini")
    hi = {"role": "user", "content": "hi"}
    one = tok.count_raw({"messages": [hi]})
    assert one == 3 + len(tok.encoding.encode("user")) + len(tok.encoding.encode("hi")) + 3
    assert tok.count_raw({"messages": ["not a message", hi]}) == one
    see = [{"type": "text", "text": "see"}]
    base = tok.count_raw(_msg(content=see))
    image = {"type": "image_url", "image_url": {"url": "https://x/a.png"}, "text": "a caption"}
    assert tok.count_raw(_msg(content=[*see, image])) == base + image_tokens()
    assert tok.count_raw(_msg(content=[*see, {"type": "text", "text": 5}])) == base
    plain = tok.count_raw(_msg(content="x"))
    assert tok.count_raw(_msg(content="x", tool_calls=[{"id": "c1", "type": "function"}])) == plain
    assert tok.count_raw(_msg(content="x", function_call=5)) == plain
    assert tok.count_raw({**_msg(content="x"), "tools": [{"type": "function", "f": {1}}]}) == plain
