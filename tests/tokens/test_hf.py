"""Hugging Face chat templates: a tiny local tokenizer and template, totals computed by hand."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from finetune_kit.errors import ConfigError, DataError, TokenizerUnavailable
from finetune_kit.tokens.hf import HFChatTokenizer
from finetune_kit.tokens.registry import tokenizer_for_model

WORDS = ["hello", "world", "how", "are", "you", "fine", "thanks", "a", "b", "c"]
SPECIALS = ["<s>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]
# Every message: <|role|> + its words + <|end|>; an assistant header is the generation prompt.
TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
# The same format, with the assistant content marked the way transformers' masks expect.
GENERATION_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}{% if m.role == 'assistant' %}<|assistant|>"
    "{% generation %}{{ m.content }}<|end|>{% endgeneration %}\n"
    "{% else %}<|{{ m.role }}|>{{ m.content }}<|end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)

EXAMPLE = {
    "messages": [
        {"role": "system", "content": "a b"},  # <|system|> a b <|end|>: 4
        {"role": "user", "content": "hello world"},  # 4
        {"role": "assistant", "content": "fine thanks"},  # <|assistant|> + 3 trainable
        {"role": "user", "content": "how are you"},  # 5
        {"role": "assistant", "content": "fine", "weight": 0},  # 3, none trainable
    ]
}
# <s> + 4 + 4 + 4 + 5 + 3
BILLED = 21


def _tokenizer() -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(WORDS)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.add_special_tokens(SPECIALS)
    return tok


def _hf(template: str = TEMPLATE, max_length: int | None = None) -> HFChatTokenizer:
    return HFChatTokenizer(
        _tokenizer(),
        template,
        model="tiny",
        special_tokens={"bos_token": "<s>", "eos_token": "<|end|>"},
        max_length=max_length,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    _tokenizer().save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps(
            {"chat_template": TEMPLATE, "bos_token": {"content": "<s>"}, "eos_token": "<|end|>"}
        ),
        encoding="utf-8",
    )
    return tmp_path


def test_totals_and_trainable_tokens_match_hand_count() -> None:
    counts = _hf().count_example(EXAMPLE)
    assert counts.billed == BILLED
    assert counts.trainable == 3  # "fine thanks <|end|>"; the weight-0 answer does not train


def test_every_assistant_message_trains_without_weights() -> None:
    ex = {"messages": [{**m} for m in EXAMPLE["messages"]]}
    del ex["messages"][4]["weight"]
    assert _hf().count_example(ex).trainable == 3 + 2


def test_generation_blocks_give_the_same_spans_as_prefix_rendering() -> None:
    by_prefix = _hf().count_example(EXAMPLE)
    by_blocks = _hf(GENERATION_TEMPLATE).count_example(EXAMPLE)
    assert by_blocks == by_prefix


def test_trainable_spans_are_the_assistant_content_and_end_token() -> None:
    rendered = _hf().render(EXAMPLE)
    assert len(rendered.tokens) == BILLED
    trained = [t for t, f in zip(rendered.tokens, rendered.trainable, strict=True) if f]
    assert trained == ["fine", "thanks", "<|end|>"]
    assert rendered.messages[0] == 0 and rendered.messages[-1] == 4


def test_cut_inside_the_first_answer_keeps_its_first_tokens() -> None:
    # 9 tokens before "<|assistant|>" (index 9); max length 11 keeps "<|assistant|> fine"
    counts = _hf(max_length=11).count_example(EXAMPLE)
    assert counts.truncated and counts.cut_at == 11
    assert counts.cut_message == 2
    assert counts.kept_trainable == 1


def test_cut_on_the_assistant_header_keeps_nothing_trainable() -> None:
    counts = _hf(max_length=10).count_example(EXAMPLE)
    assert (counts.cut_message, counts.kept_trainable) == (2, 0)


def test_example_within_max_length_is_not_cut() -> None:
    counts = _hf(max_length=BILLED).count_example(EXAMPLE)
    assert not counts.truncated and counts.kept_trainable == counts.trainable


def test_count_raw_is_the_billed_count() -> None:
    assert _hf().count_raw(EXAMPLE) == BILLED


def test_load_from_folder_reads_template_and_special_tokens(folder: Path) -> None:
    tok = HFChatTokenizer.load(folder, model="tiny")
    assert tok.count_example(EXAMPLE).billed == BILLED


def test_load_from_tokenizer_file_takes_template_beside_it(folder: Path) -> None:
    tok = HFChatTokenizer.load(folder / "tokenizer.json")
    assert tok.count_raw(EXAMPLE) == BILLED


def test_chat_template_jinja_file_wins_over_config(folder: Path) -> None:
    (folder / "chat_template.jinja").write_text(GENERATION_TEMPLATE, encoding="utf-8")
    tok = HFChatTokenizer.load(folder)
    assert tok.chat_template == GENERATION_TEMPLATE


def test_tokenizer_option_overrides_the_table_for_any_model(folder: Path) -> None:
    tok = tokenizer_for_model("my-org/my-model", tokenizer=folder, max_length=12)
    assert tok.chat_format == "hf"
    assert tok.count_example(EXAMPLE).cut_at == 12


def test_folder_without_template_is_a_clear_error(tmp_path: Path) -> None:
    _tokenizer().save(str(tmp_path / "tokenizer.json"))
    with pytest.raises(ConfigError, match="no usable chat template"):
        HFChatTokenizer.load(tmp_path)


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no tokenizer"):
        HFChatTokenizer.load(tmp_path / "nope")


def test_template_rejection_is_a_data_error() -> None:
    strict = (
        "{% if messages[0].role != 'user' %}"
        "{{ raise_exception('must start with user') }}{% endif %}" + TEMPLATE
    )
    with pytest.raises(DataError, match="must start with user"):
        _hf(strict).count_example(EXAMPLE)


def test_template_that_rewrites_earlier_turns_is_refused() -> None:
    moody = "{% for m in messages %}{% if loop.last %}[last]{% endif %}{{ m.content }}{% endfor %}"
    with pytest.raises(ConfigError, match="generation"):
        _hf(moody).count_example(EXAMPLE)


def test_hub_model_offline_names_the_tokenizer_option(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    def offline(*_args: Any, **_kwargs: Any) -> str:
        raise huggingface_hub.errors.LocalEntryNotFoundError("offline")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", offline)
    with pytest.raises(TokenizerUnavailable) as info:
        tokenizer_for_model("Qwen/Qwen3-8B")
    assert "--tokenizer" in (info.value.hint or "")


def test_tokenizer_pickles_for_worker_processes(folder: Path) -> None:
    for tok in (_hf(max_length=11), HFChatTokenizer.load(folder, max_length=11)):
        copy = pickle.loads(pickle.dumps(tok))
        assert copy.count_example(EXAMPLE) == tok.count_example(EXAMPLE)
