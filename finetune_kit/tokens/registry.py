"""Which model uses which tokenizer: ``data/tokenizers.json`` and the factory over it.

[`tokenizer_for_model`][finetune_kit.tokenizer_for_model] returns the
[`ChatTokenizer`][finetune_kit.ChatTokenizer] of a model: tiktoken for OpenAI models, harmony for
gpt-oss, a Hugging Face tokenizer and chat template for the other open-weight models of the
table (or for any model given ``tokenizer=``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from finetune_kit._checks import detect_format
from finetune_kit.errors import ConfigError, UnknownModelError
from finetune_kit.tokens.chat import ChatFormat, ChatTokenizer, OpenAIChatTokenizer

__all__ = [
    "TokenizerInfo",
    "billed_tokens",
    "capped_total",
    "open_model_info",
    "tokenizer_for_model",
]


@dataclass(frozen=True)
class TokenizerInfo:
    """One row of ``data/tokenizers.json``: how an open-weight model renders and counts.

    Attributes:
        model: The canonical model id (e.g. ``openai/gpt-oss-20b``).
        chat_format: ``harmony`` or ``hf``.
        max_length: The maximum training length, when known.
        hub_id: The Hugging Face repository holding ``tokenizer.json`` and the chat template
            (``hf`` models).
        aliases: Other names providers use for the model.
        source: Where the facts come from.
        note: Caveats (unconfirmed values, provider differences).
    """

    model: str
    chat_format: ChatFormat
    max_length: int | None
    hub_id: str | None
    aliases: tuple[str, ...]
    source: str
    note: str = ""


@cache
def _table() -> dict[str, TokenizerInfo]:
    raw = json.loads(
        (resources.files("finetune_kit") / "data" / "tokenizers.json").read_text("utf-8")
    )
    out: dict[str, TokenizerInfo] = {}
    for row in raw["models"]:
        info = TokenizerInfo(
            model=row["model"],
            chat_format=row["chat_format"],
            max_length=row.get("max_length"),
            hub_id=row.get("hub_id"),
            aliases=tuple(row.get("aliases", ())),
            source=raw["sources"][row["source"]]["title"],
            note=row.get("note", ""),
        )
        for name in (info.model, *info.aliases):
            out[name.lower()] = info
    return out


def open_model_info(model: str) -> TokenizerInfo | None:
    """The tokenizer facts of an open-weight model, or ``None`` for other models.

    Names are matched case-insensitively against the model ids and their provider aliases
    (``openai/gpt-oss-20b``, ``gpt-oss-20b``, ``accounts/fireworks/models/gpt-oss-20b``, ...).

    Args:
        model: A model name.

    Returns:
        The row of ``data/tokenizers.json``, or ``None``.
    """
    return _table().get(model.strip().lower())


def open_models() -> list[TokenizerInfo]:
    """Every open-weight model of ``data/tokenizers.json``, once each."""
    seen: dict[str, TokenizerInfo] = {}
    for info in _table().values():
        seen.setdefault(info.model, info)
    return list(seen.values())


def tokenizer_for_model(
    model: str,
    *,
    tokenizer: str | Path | None = None,
    max_length: int | None = None,
) -> ChatTokenizer:
    """The chat tokenizer that counts ``model``'s tokens the way it is trained.

    * ``tokenizer`` given: a Hugging Face tokenizer from that folder, ``tokenizer.json`` file
      or hub id, with its chat template (it overrides the table);
    * a gpt-oss model: [`HarmonyTokenizer`][finetune_kit.HarmonyTokenizer];
    * another open-weight model of ``data/tokenizers.json``: its Hugging Face tokenizer by hub
      id (from the local Hugging Face cache, or downloaded when online);
    * otherwise an OpenAI model: [`OpenAIChatTokenizer`][finetune_kit.OpenAIChatTokenizer].

    Args:
        model: The model name.
        tokenizer: A local folder or ``tokenizer.json`` file, or a hub id.
        max_length: Override the maximum training length.

    Returns:
        The tokenizer.

    Raises:
        UnknownModelError: The model is neither an OpenAI model nor in the table.
        TokenizerUnavailable: The tokenizer cannot be loaded (offline, no copy); the message
            names ``--tokenizer`` or the environment variable to set.
        ConfigError: ``max_length`` is not positive.
    """
    if max_length is not None and max_length < 1:
        raise ConfigError(f"max_length must be at least 1, not {max_length}")
    info = open_model_info(model)
    if tokenizer is not None:
        from finetune_kit.tokens.hf import HFChatTokenizer

        limit = max_length if max_length is not None else (info.max_length if info else None)
        return HFChatTokenizer.load(tokenizer, model=model, max_length=limit)
    if info is not None:
        limit = max_length if max_length is not None else info.max_length
        if info.chat_format == "harmony":
            from finetune_kit.tokens.harmony import HarmonyTokenizer

            return HarmonyTokenizer(model, max_length=limit)
        from finetune_kit.tokens.hf import HFChatTokenizer

        assert info.hub_id is not None
        return HFChatTokenizer.load(info.hub_id, model=model, max_length=limit)
    try:
        return OpenAIChatTokenizer(model, max_length=max_length)
    except UnknownModelError as exc:
        known = [i.model for i in open_models()]
        raise UnknownModelError(
            model, [*exc.suggestions, *_close(model, known)], what="model (no known tokenizer)"
        ) from exc


def billed_tokens(examples: Iterable[Mapping[str, Any]], model: str) -> int:
    """Billed tokens of one epoch over ``examples``, as `estimate` counts them for ``model``.

    Each example is counted by the model's tokenizer (see `tokenizer_for_model`) and capped at
    its maximum training length. The emulators bill their jobs with this, so an estimate and a
    finished emulated job agree.

    Args:
        examples: Parsed chat or preference examples.
        model: The model the job trains.

    Returns:
        The sum over examples of ``min(tokens, max_length)``.

    Raises:
        UnknownModelError: No tokenizer is known for the model.
        TokenizerUnavailable: The tokenizer cannot be loaded.
    """
    chat = tokenizer_for_model(model)
    counts = (
        chat.count_raw(obj, "preference" if detect_format(obj) == "preference" else "chat")
        for obj in examples
    )
    return capped_total(counts, chat.max_length)


def capped_total(counts: Iterable[int], limit: int | None) -> int:
    """The billed sum of per-example token counts: each capped at ``limit`` (``None``: no cap).

    Providers truncate an example longer than the training length and bill it at the cap.
    """
    if limit is None:
        return sum(counts)
    return sum(c if c <= limit else limit for c in counts)


def _close(model: str, names: Sequence[str]) -> list[str]:
    import difflib

    return difflib.get_close_matches(model, names, n=3, cutoff=0.5)
