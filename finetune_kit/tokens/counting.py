"""Token counts of fine-tuning examples, the way OpenAI's data-prep notebook counts them.

[`Tokenizer`][finetune_kit.Tokenizer] maps a model name (snapshot, alias or ``ft:`` name) to its
tiktoken encoding and counts one example with the method of OpenAI's cookbook notebook for chat
fine-tuning data:

* every message costs 3 tokens plus the encoded value of each of its keys (``role``,
  ``content``, ``name``, ``tool_call_id``, ...), plus 1 more when it has a ``name``;
* the example costs 3 more tokens that prime the reply.

The notebook only knows string values. For the rest of the format this module decides, and
the docs (``docs/cost.md``) say where the result is an approximation:

* ``weight`` is not counted (it is a training switch, not text the model reads);
* content parts: text parts count their text; an image counts a fixed estimate by ``detail``
  (see `finetune_kit.tokens.counting.image_tokens`) — approximate;
* tool calls and legacy ``function_call``: the function name plus the arguments string —
  approximate (OpenAI renders calls with a few formatting tokens of its own);
* ``tools`` / ``functions`` definitions: the compact JSON text of the list — approximate
  (OpenAI renders them in its own syntax);
* preference (DPO) examples: the input messages plus the preferred output, as one
  conversation — the billed example; the non-preferred output is not added (see docs).

Counting uses ``encode_ordinary``, which gives the same tokens as the notebook's
``encoding.encode`` for every text without special-token strings (``encode`` raises on those;
the validator reports them as ``special_token`` errors). Repeated strings — roles, system
prompts, tool definitions — are counted once and remembered in a bounded cache.

``Tokenizer(..., fast=True)`` counts with the exact BPE of the ``bpe-openai`` package (the
``fast`` extra) instead, about twice as fast as tiktoken, when it is installed and gives
tiktoken's counts on a set of probe strings; tiktoken stays the reference and counts whatever
the fast counter cannot take (strings with lone surrogates).
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import json
import math
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from finetune_kit._checks import Format, detect_format
from finetune_kit.catalog.prices import PriceTable, base_model_name
from finetune_kit.errors import ConfigError, TokenizerUnavailable, UnknownModelError

if TYPE_CHECKING:
    import tiktoken


__all__ = [
    "IMAGE_LOW_DETAIL_TOKENS",
    "IMAGE_TILE_TOKENS",
    "REPLY_PRIMING_TOKENS",
    "TOKENS_PER_MESSAGE",
    "TOKENS_PER_NAME",
    "Tokenizer",
    "encoding_name_for_model",
    "image_tokens",
    "load_encoding",
]

TOKENS_PER_MESSAGE = 3
"""Fixed tokens per message (the notebook's ``tokens_per_message``)."""
TOKENS_PER_NAME = 1
"""Extra tokens for a message with a ``name`` (the notebook's ``tokens_per_name``)."""
REPLY_PRIMING_TOKENS = 3
"""Tokens added once per example to prime the assistant's reply."""
IMAGE_LOW_DETAIL_TOKENS = 85
"""Tokens of an image sent with ``detail: low`` (OpenAI's vision guide)."""
IMAGE_TILE_TOKENS = 170
"""Tokens per 512 px tile of a high-detail image, on top of the 85 base tokens."""
ASSUMED_IMAGE_SIZE = (1024, 1024)
"""Image size assumed when unknown (the file only holds a URL): 765 tokens at high detail."""

# Families tiktoken may not know by name yet (checked after tiktoken's own table), most
# specific prefix first. Fine-tuning data for all of them is tokenized like the base model.
_FAMILY_ENCODINGS: tuple[tuple[str, str], ...] = (
    ("gpt-4o", "o200k_base"),
    ("chatgpt-4o", "o200k_base"),
    ("gpt-4.1", "o200k_base"),
    ("gpt-4.5", "o200k_base"),
    ("gpt-5", "o200k_base"),
    ("o1", "o200k_base"),
    ("o3", "o200k_base"),
    ("o4", "o200k_base"),
    ("gpt-4", "cl100k_base"),
    ("gpt-3.5", "cl100k_base"),
    ("gpt-35", "cl100k_base"),
    ("babbage-002", "cl100k_base"),
    ("davinci-002", "cl100k_base"),
)

DEFAULT_CACHE_ENTRIES = 4096
"""How many distinct strings the count cache holds before it starts over."""
DEFAULT_CACHE_CHARS = 4_000_000
"""How many characters (summed over cached strings) the count cache holds at most."""


def encoding_name_for_model(model: str) -> str:
    """The tiktoken encoding of a model (``o200k_base``, ``cl100k_base``, ...).

    tiktoken's own table is asked first; names it does not know fall back on the model family
    (gpt-4o / gpt-4.1 / o-series → ``o200k_base``; gpt-3.5 / gpt-4 / babbage-002 / davinci-002
    → ``cl100k_base``). Fine-tuned names (``ft:BASE:org:suffix:id``) use their base model.

    Args:
        model: A model name.

    Returns:
        The encoding name.

    Raises:
        UnknownModelError: Neither tiktoken nor the family table knows the model.
    """
    import tiktoken

    base = base_model_name(model)
    try:
        return str(tiktoken.encoding_name_for_model(base))
    except KeyError:
        pass
    for prefix, name in _FAMILY_ENCODINGS:
        if base.startswith(prefix):
            return name
    raise UnknownModelError(
        model, PriceTable.load().suggestions(base), what="model (no known tokenizer)"
    )


def load_encoding(name: str) -> tiktoken.Encoding:
    """Load a tiktoken encoding, turning a failed download into a clear error.

    tiktoken downloads an encoding's file on first use and caches it (in ``TIKTOKEN_CACHE_DIR``
    when that is set, else in a temporary folder).

    Args:
        name: The encoding, e.g. ``o200k_base``.

    Returns:
        The encoding.

    Raises:
        ConfigError: tiktoken has no encoding of that name.
        TokenizerUnavailable: The encoding file could not be downloaded or read (usually:
            offline with no cached copy).
    """
    import tiktoken

    if name not in tiktoken.list_encoding_names():
        raise ConfigError(
            f"unknown tiktoken encoding {name!r}",
            hint=f"use one of {', '.join(sorted(tiktoken.list_encoding_names()))}",
        )
    try:
        return tiktoken.get_encoding(name)
    except Exception as exc:  # requests/urllib/OS errors, hash mismatch, missing blobfile, ...
        raise TokenizerUnavailable(
            f"tiktoken could not load the {name} encoding "
            f"({type(exc).__name__}: {exc}); it downloads the encoding file on first use, "
            "so without internet access it needs a cached copy",
            hint="set TIKTOKEN_CACHE_DIR to a folder holding tiktoken's cached encoding files "
            "(copy them from a machine that has run tiktoken online), then retry",
        ) from exc


# Strings that exercise every branch of the pre-tokenizers (contractions, letters, digit runs,
# punctuation, whitespace runs, CJK, emoji, special-token text): a fast counter is only used
# when it gives tiktoken's count on every one of them.
_PROBES: tuple[str, ...] = (
    "",
    " ",
    "Hello, world! How's it going? I'M fine; you'll see, they'd've.",
    "   leading and trailing spaces   ",
    "tabs\tand\nnew\r\nlines\n\n\n  \n",
    "numbers 1 12 123 1234 12345 3.14159 -42 1e10 0x1F",
    "café naïve résumé über straße Zürich entraînement précision",
    "模型训练数据回答问题 学习価値 ありがとうございます 안녕하세요",
    "emoji 😀👍🏽 and symbols ∑∫√ ©®™ «quotes» — dashes…",
    "<|endoftext|> <|im_start|>user<|im_sep|> <|fim_prefix|>",
    "def f(x):\n    return {'a': [1, 2, 3]}  # code\n",
    "https://example.com/path?q=1&r=two#frag user@example.com",
    "a" * 300,
    " " * 200 + "x",
    "ÿþ\u200b\ufeff\u00a0\u3000 zero-width and odd spaces",
    "MixedCASE camelCase snake_case kebab-case SCREAMING_CASE",
)


_BPE_OPENAI = "bpe_openai._bindings"


def _bpe_openai() -> ModuleType | None:
    """bpe-openai's compiled module, or None when the package is not installed.

    It is loaded from its file without running the package's Python wrapper, whose import
    builds every vocabulary it ships as Python dicts (about 2 s of CPU and 60 MB); the
    compiled module needs none of that. It is registered under its own name, so importing
    ``bpe_openai`` later finds it.
    """
    loaded = sys.modules.get(_BPE_OPENAI)
    if loaded is not None:
        return loaded
    try:
        package = importlib.util.find_spec("bpe_openai")
    except (ImportError, ValueError):
        return None
    if package is None or not package.submodule_search_locations:
        return None
    for folder in package.submodule_search_locations:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / f"_bindings{suffix}"
            spec = importlib.util.spec_from_file_location(_BPE_OPENAI, path)
            if not path.is_file() or spec is None or spec.loader is None:
                continue
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[_BPE_OPENAI] = module
            return module
    return None


@functools.lru_cache(maxsize=8)
def _fast_counter(encoding: str) -> Callable[[str], int] | None:
    """bpe-openai's exact counter for ``encoding``, or None when it is missing or disagrees.

    Cached per process, so pool workers forked afterwards share the parent's tables.
    """
    try:
        module = _bpe_openai()
        if module is None:
            return None
        count: Callable[[str], int] = module.tokenizer_for_encoding(encoding).count
        reference = load_encoding(encoding).encode_ordinary
        if any(count(text) != len(reference(text)) for text in _PROBES):
            return None
    except Exception:  # an encoding it does not ship, a broken install: count with tiktoken
        return None
    return count


def image_tokens(
    width: int | None = None, height: int | None = None, detail: str | None = "auto"
) -> int:
    """Estimate the tokens of one image with OpenAI's published tile formula.

    ``low`` detail costs a flat 85 tokens. Otherwise the image is fitted in 2048 x 2048, scaled
    down so its shorter side is at most 768 px, and costs 85 + 170 per 512 px tile. ``auto``
    (and a missing ``detail``) is counted as ``high`` — the upper bound. When the size is not
    known, `ASSUMED_IMAGE_SIZE` is used (765 tokens).
    This is an estimate: OpenAI does not publish how images are billed in training.

    Args:
        width: Width in pixels, if known.
        height: Height in pixels, if known.
        detail: ``low``, ``high`` or ``auto``.

    Returns:
        The estimated tokens.
    """
    if detail == "low":
        return IMAGE_LOW_DETAIL_TOKENS
    if not width or not height or width <= 0 or height <= 0:
        width, height = ASSUMED_IMAGE_SIZE
    w, h = float(width), float(height)
    if max(w, h) > 2048:
        scale = 2048 / max(w, h)
        w, h = w * scale, h * scale
    if min(w, h) > 768:
        scale = 768 / min(w, h)
        w, h = w * scale, h * scale
    tiles = math.ceil(w / 512) * math.ceil(h / 512)
    return IMAGE_LOW_DETAIL_TOKENS + IMAGE_TILE_TOKENS * tiles


class Tokenizer:
    """Counts the tokens of fine-tuning examples for one tiktoken encoding.

    Build one with [`for_model`][finetune_kit.Tokenizer.for_model]. Counts of strings are cached
    (a plain dict, bounded by entries and characters, cleared when full), so repeated roles,
    system prompts and tool definitions are encoded once. A tokenizer is not thread-safe; use one
    per thread or process.

    Args:
        encoding: The tiktoken encoding name.
        model: The model it was made for, if any.
        example_limit: The model's per-example token limit, if known.
        cache_entries: Most distinct strings kept in the count cache.
        cache_chars: Most characters kept in the count cache.
        fast: Count with bpe-openai's exact BPE (the ``fast`` extra) when it is installed and
            agrees with tiktoken on the probe strings; else with tiktoken. Loading it costs
            about 50 ms and 30 MB once per process.

    Raises:
        TokenizerUnavailable: tiktoken cannot load the encoding (offline, no cached copy).

    Examples:
        >>> tok = Tokenizer.for_model("gpt-4o-mini")
        >>> tok.count_raw({"messages": [{"role": "user", "content": "Hi"}]}, "chat")
        8
    """

    def __init__(
        self,
        encoding: str = "o200k_base",
        *,
        model: str | None = None,
        example_limit: int | None = None,
        cache_entries: int = DEFAULT_CACHE_ENTRIES,
        cache_chars: int = DEFAULT_CACHE_CHARS,
        fast: bool = False,
    ) -> None:
        self.encoding_name = encoding
        self.model = model
        self.example_limit = example_limit
        self._encoding = load_encoding(encoding)
        self._encode = self._encoding.encode_ordinary
        self._fast = _fast_counter(encoding) if fast else None
        self._cache: dict[str, int] = {}
        self._cache_entries = max(0, cache_entries)
        self._cache_chars = max(0, cache_chars)
        self._cached_chars = 0

    @classmethod
    def for_model(cls, model: str, *, prices: PriceTable | None = None) -> Tokenizer:
        """The tokenizer of ``model``, with its per-example token limit from the price table.

        Args:
            model: A snapshot, alias or ``ft:`` name (e.g. ``gpt-4o-mini``,
                ``ft:gpt-4o-mini-2024-07-18:org::abc``).
            prices: The table to take the per-example limit from (default: the bundled one).

        Returns:
            The tokenizer. ``example_limit`` is ``None`` for models the table does not list.

        Raises:
            UnknownModelError: No tokenizer is known for the model.
            TokenizerUnavailable: tiktoken cannot load the encoding.
        """
        name = encoding_name_for_model(model)
        table = prices if prices is not None else PriceTable.load()
        try:
            limit = table.get(model).example_token_limit
        except UnknownModelError:
            limit = None
        return cls(name, model=model, example_limit=limit)

    @property
    def backend(self) -> str:
        """What counts the tokens: ``bpe-openai`` (see ``fast``) or ``tiktoken``."""
        return "tiktoken" if self._fast is None else "bpe-openai"

    @property
    def encoding(self) -> tiktoken.Encoding:
        """The underlying tiktoken encoding."""
        return self._encoding

    def __repr__(self) -> str:
        return (
            f"<Tokenizer {self.encoding_name} model={self.model!r} limit={self.example_limit}"
            f" backend={self.backend}>"
        )

    # -- strings -------------------------------------------------------------------------------

    def count_text(self, text: str) -> int:
        """Tokens of one string (special-token strings are counted as plain text).

        Args:
            text: The text.

        Returns:
            The number of tokens.
        """
        n = self._cache.get(text)
        if n is None:
            n = self._count_uncached(text)
        return n

    def _count_uncached(self, text: str) -> int:
        fast = self._fast
        if fast is None:
            n = len(self._encode(text))
        else:
            try:
                n = fast(text)
            except Exception:  # a lone surrogate cannot cross into Rust: tiktoken replaces it
                n = len(self._encode(text))
        size = len(text)
        if size <= self._cache_chars:
            if (
                len(self._cache) >= self._cache_entries
                or self._cached_chars + size > self._cache_chars
            ):
                self._cache.clear()
                self._cached_chars = 0
            if self._cache_entries:
                self._cache[text] = n
                self._cached_chars += size
        return n

    # -- examples ------------------------------------------------------------------------------

    def count_messages(self, messages: Iterable[Any]) -> int:
        """Tokens of a conversation: its messages plus the 3 tokens priming the reply.

        Args:
            messages: Message dicts (or typed messages with ``to_dict``).

        Returns:
            The number of tokens.
        """
        msgs = [m.to_dict() if hasattr(m, "to_dict") else m for m in messages]
        return self._messages(msgs) + REPLY_PRIMING_TOKENS

    def count_raw(self, obj: Mapping[str, Any], fmt: Format = "chat") -> int:
        """Tokens of one example as parsed from JSONL (the counter the validator calls).

        Args:
            obj: The example's JSON object.
            fmt: ``chat`` (supervised) or ``preference`` (DPO).

        Returns:
            The number of tokens (before the per-example limit is applied).
        """
        conv: Mapping[str, Any]
        if fmt == "preference":
            inp = obj.get("input")
            conv = inp if isinstance(inp, dict) else {}
            msgs = list(_as_list(conv.get("messages")))
            msgs.extend(_as_list(obj.get("preferred_output")))
        else:
            conv = obj
            msgs = _as_list(obj.get("messages"))
        total = self._messages(msgs) + REPLY_PRIMING_TOKENS
        for key in ("tools", "functions"):
            defs = conv.get(key)
            if defs:
                total += self._json_tokens(defs)
        return total

    def count(self, example: Any) -> int:
        """Tokens of one example: a typed ``Example`` / ``PreferenceExample`` or a dict.

        Args:
            example: The example.

        Returns:
            The number of tokens.
        """
        obj = example.to_dict() if hasattr(example, "to_dict") else example
        if not isinstance(obj, Mapping):
            raise ConfigError(f"cannot count tokens of a {type(obj).__name__}")
        if detect_format(obj) == "preference":
            return self.count_raw(obj, "preference")
        return self.count_raw(obj, "chat")

    def _messages(self, messages: Iterable[Any]) -> int:
        # The hot loop of every estimate: keep it flat and local.
        get = self._cache.get
        miss = self._count_uncached
        total = 0
        for m in messages:
            if not isinstance(m, dict):
                continue
            total += TOKENS_PER_MESSAGE
            for key, value in m.items():
                if type(value) is str:
                    n = get(value)
                    if n is None:
                        n = miss(value)
                    total += n
                    if key == "name":
                        total += TOKENS_PER_NAME
                elif value is None or key == "weight":
                    continue
                elif key == "content":
                    total += self._parts(value)
                elif key == "tool_calls":
                    total += self._tool_calls(value)
                elif key == "function_call":
                    total += self._call(value)
        return total

    def _parts(self, parts: Any) -> int:
        total = 0
        for part in _as_list(parts):
            if not isinstance(part, dict):
                continue
            kind = part.get("type")
            if kind == "text" and isinstance(part.get("text"), str):
                total += self.count_text(part["text"])
            elif kind == "image_url":
                image = part.get("image_url")
                detail = image.get("detail") if isinstance(image, dict) else None
                total += image_tokens(detail=detail if isinstance(detail, str) else "auto")
        return total

    def _tool_calls(self, calls: Any) -> int:
        total = 0
        for call in _as_list(calls):
            if isinstance(call, dict):
                total += self._call(call.get("function"))
        return total

    def _call(self, function: Any) -> int:
        if not isinstance(function, dict):
            return 0
        total = 0
        for key in ("name", "arguments"):
            value = function.get(key)
            if isinstance(value, str):
                total += self.count_text(value)
        return total

    def _json_tokens(self, value: Any) -> int:
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
        except (TypeError, ValueError):
            return 0
        return self.count_text(text)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
