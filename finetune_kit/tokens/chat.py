"""Chat-format-aware token counts: billed and trainable tokens, and where an example is cut.

A fine-tuning provider bills and limits an example in **its model's** tokens, after the model's
chat format has been applied, and trains only on the tokens of assistant messages. A
[`ChatTokenizer`][finetune_kit.ChatTokenizer] renders one example the way its model is trained
on it and returns an [`ExampleTokens`][finetune_kit.ExampleTokens]:

* ``billed``: every token of the rendered example;
* ``trainable``: the tokens of assistant messages whose ``weight`` is not 0;
* where the example would be truncated at the model's maximum training length (``cut_at``,
  ``cut_message``) and how many trainable tokens survive the cut (``kept_trainable``).

Three implementations exist, picked by [`tokenizer_for_model`][finetune_kit.tokenizer_for_model]
(``tokens/registry.py``):

* OpenAI models: tiktoken with the cookbook's method
  ([`OpenAIChatTokenizer`][finetune_kit.OpenAIChatTokenizer], the same counts as
  [`Tokenizer`][finetune_kit.Tokenizer]);
* gpt-oss: OpenAI's harmony format through ``openai-harmony``
  ([`HarmonyTokenizer`][finetune_kit.HarmonyTokenizer], exact);
* Hugging Face models: a ``tokenizer.json`` and the model's Jinja chat template
  ([`HFChatTokenizer`][finetune_kit.HFChatTokenizer]).

Which model uses which format is data: ``finetune_kit/data/tokenizers.json``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    from finetune_kit.tokens.counting import Tokenizer

__all__ = [
    "ChatTokenizer",
    "ExampleTokens",
    "OpenAIChatTokenizer",
    "RenderedExample",
    "Segment",
]

ChatFormat = Literal["openai", "harmony", "hf"]
"""The chat formats finetune-kit renders: OpenAI's cookbook count, harmony, a Jinja template."""


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of consecutive rendered tokens that belong to one message.

    Attributes:
        message: Index of the message in the example's ``messages`` (for a preference example:
            in ``input.messages`` followed by ``preferred_output``); ``None`` for tokens of the
            format itself (the default system message, tool definitions, reply priming).
        tokens: How many tokens.
        trainable: True when the tokens are trained on (an assistant message with a weight
            other than 0).
    """

    message: int | None
    tokens: int
    trainable: bool


@dataclass(frozen=True, slots=True)
class ExampleTokens:
    """The token counts of one example under one model's chat format.

    Attributes:
        billed: Every token of the rendered example (before truncation).
        trainable: Tokens of assistant messages whose ``weight`` is not 0.
        max_length: The maximum training length applied (``None``: unknown, no cut).
        cut_at: The token index where the example is cut (``max_length``), or ``None`` when it
            fits.
        cut_message: The index of the message in which the cut falls, or ``None``.
        kept_trainable: Trainable tokens left after the cut.
    """

    billed: int
    trainable: int
    max_length: int | None = None
    cut_at: int | None = None
    cut_message: int | None = None
    kept_trainable: int = 0

    @property
    def truncated(self) -> bool:
        """True when the example is longer than the maximum training length."""
        return self.cut_at is not None

    @classmethod
    def from_segments(cls, segments: Iterable[Segment], max_length: int | None) -> ExampleTokens:
        """Sum segments and find the cut at ``max_length``.

        Args:
            segments: The rendered example's segments, in order.
            max_length: The maximum training length (``None``: no cut).

        Returns:
            The counts.
        """
        billed = trainable = kept = 0
        cut_message: int | None = None
        cut = False
        for seg in segments:
            start = billed
            billed += seg.tokens
            if seg.trainable:
                trainable += seg.tokens
            if max_length is None or billed <= max_length:
                if seg.trainable:
                    kept += seg.tokens
            elif not cut:
                cut = True
                cut_message = seg.message
                if seg.trainable:
                    kept += max(0, max_length - start)
        return cls(
            billed=billed,
            trainable=trainable,
            max_length=max_length,
            cut_at=max_length if cut else None,
            cut_message=cut_message,
            kept_trainable=kept,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "billed": self.billed,
            "trainable": self.trainable,
            "max_length": self.max_length,
            "truncated": self.truncated,
            "cut_at": self.cut_at,
            "cut_message": self.cut_message,
            "kept_trainable": self.kept_trainable,
        }


@dataclass(frozen=True)
class RenderedExample:
    """One example rendered token by token (for pictures and debugging).

    Attributes:
        tokens: The token texts, in order (special tokens as their names, e.g. ``<|end|>``).
        trainable: For each token, whether it is trained on.
        messages: For each token, the index of its message (``None`` for format tokens).
    """

    tokens: tuple[str, ...]
    trainable: tuple[bool, ...]
    messages: tuple[int | None, ...]


@runtime_checkable
class ChatTokenizer(Protocol):
    """Counts examples in one model's tokens, after its chat format is applied.

    Attributes:
        model: The model the tokenizer is for.
        chat_format: ``openai``, ``harmony`` or ``hf``.
        max_length: The model's maximum training length, when known.
    """

    model: str
    chat_format: ChatFormat
    max_length: int | None

    def count_example(self, obj: Mapping[str, Any], fmt: str = "chat") -> ExampleTokens:
        """Billed and trainable tokens of one example (its JSON object), and where it is cut."""
        ...

    def count_raw(self, obj: Mapping[str, Any], fmt: str = "chat") -> int:
        """Billed tokens of one example (the counter the validator calls)."""
        ...

    def render(self, obj: Mapping[str, Any], fmt: str = "chat") -> RenderedExample:
        """The example's rendered tokens with their trainable flags."""
        ...


def example_messages(obj: Mapping[str, Any], fmt: str) -> tuple[list[Any], int]:
    """The messages a format renders and how many of them are the prompt.

    A chat example renders its ``messages``; a preference (DPO) example renders
    ``input.messages`` followed by ``preferred_output`` (the non-preferred output is not part of
    the billed conversation).

    Args:
        obj: The example's JSON object.
        fmt: ``chat`` or ``preference``.

    Returns:
        The messages and, for a preference example, the index where the preferred output
        starts (``0`` for chat: every assistant message may train).
    """
    if fmt == "preference":
        inp = obj.get("input")
        msgs = list(_as_list(inp.get("messages"))) if isinstance(inp, dict) else []
        start = len(msgs)
        msgs.extend(_as_list(obj.get("preferred_output")))
        return msgs, start
    return list(_as_list(obj.get("messages"))), 0


def example_tools(obj: Mapping[str, Any], fmt: str) -> list[dict[str, Any]]:
    """The function definitions of an example (``tools`` or legacy ``functions``) as dicts.

    Args:
        obj: The example's JSON object.
        fmt: ``chat`` or ``preference``.

    Returns:
        ``{"name", "description", "parameters"}`` dicts, in order.
    """
    conv = obj.get("input") if fmt == "preference" else obj
    if not isinstance(conv, dict):
        return []
    out: list[dict[str, Any]] = []
    for tool in _as_list(conv.get("tools")):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            out.append(fn)
    for fn in _as_list(conv.get("functions")):
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            out.append(fn)
    return out


def trains(message: Any, index: int, first_output: int) -> bool:
    """Tell whether a message is trained on: an assistant message with a weight other than 0.

    Args:
        message: The message dict.
        index: Its index in the rendered messages.
        first_output: Index of the first message that may train (preference: the preferred
            output).

    Returns:
        True when the message's tokens are trainable.
    """
    if not isinstance(message, dict) or message.get("role") != "assistant":
        return False
    return index >= first_output and message.get("weight", 1) != 0


def message_text(content: Any) -> list[str]:
    """The text pieces of a message's ``content`` (a string, or the text of text parts)."""
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    for part in _as_list(content):
        if isinstance(part, dict) and part.get("type") == "text":
            text = part.get("text")
            if isinstance(text, str):
                out.append(text)
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# -- OpenAI models: the cookbook count, per message ----------------------------------------------


class OpenAIChatTokenizer:
    """OpenAI models through the cookbook's method, split into billed and trainable tokens.

    ``billed`` equals [`Tokenizer.count_raw`][finetune_kit.Tokenizer.count_raw]. ``trainable``
    is the cookbook count of the assistant messages with a weight other than 0 (their 3 framing
    tokens included). OpenAI truncates an example from the end at its per-example limit.

    Args:
        model: An OpenAI model (snapshot, alias or ``ft:`` name).
        max_length: Override the per-example limit (default: the price table's).

    Raises:
        UnknownModelError: No tiktoken encoding is known for the model.
        TokenizerUnavailable: tiktoken cannot load the encoding.
    """

    chat_format: ChatFormat = "openai"

    def __init__(self, model: str, *, max_length: int | None = None) -> None:
        from finetune_kit.tokens.counting import Tokenizer

        self._tok: Tokenizer = Tokenizer.for_model(model)
        self.model = model
        self.max_length = max_length if max_length is not None else self._tok.example_limit

    def __repr__(self) -> str:
        return f"<OpenAIChatTokenizer {self.model!r} {self._tok.encoding_name}>"

    def count_raw(self, obj: Mapping[str, Any], fmt: str = "chat") -> int:
        """Billed tokens of one example (what `Tokenizer.count_raw` counts)."""
        return self._tok.count_raw(obj, "preference" if fmt == "preference" else "chat")

    def _segments(self, obj: Mapping[str, Any], fmt: str) -> list[Segment]:
        from finetune_kit.tokens.counting import REPLY_PRIMING_TOKENS

        msgs, first = example_messages(obj, fmt)
        conv = obj.get("input") if fmt == "preference" else obj
        segs: list[Segment] = []
        if isinstance(conv, dict):
            for key in ("tools", "functions"):
                defs = conv.get(key)
                if defs:
                    segs.append(Segment(None, self._tok._json_tokens(defs), False))
        for i, m in enumerate(msgs):
            if isinstance(m, dict):
                segs.append(Segment(i, self._tok._messages([m]), trains(m, i, first)))
        segs.append(Segment(None, REPLY_PRIMING_TOKENS, False))
        return segs

    def count_example(self, obj: Mapping[str, Any], fmt: str = "chat") -> ExampleTokens:
        """Billed and trainable tokens of one example, and where OpenAI cuts it."""
        return ExampleTokens.from_segments(self._segments(obj, fmt), self.max_length)

    def render(self, obj: Mapping[str, Any], fmt: str = "chat") -> RenderedExample:
        """Token texts of the example's values, flagged (framing tokens shown as ``<|frame|>``)."""
        from finetune_kit.tokens.counting import REPLY_PRIMING_TOKENS, TOKENS_PER_MESSAGE

        enc = self._tok.encoding
        msgs, first = example_messages(obj, fmt)
        tokens: list[str] = []
        flags: list[bool] = []
        owners: list[int | None] = []
        for i, m in enumerate(msgs):
            if not isinstance(m, dict):
                continue
            train = trains(m, i, first)
            pieces = ["<|frame|>"] * TOKENS_PER_MESSAGE
            for key, value in m.items():
                if key != "weight" and isinstance(value, str):
                    pieces.extend(enc.decode([t]) for t in enc.encode_ordinary(value))
            tokens.extend(pieces)
            flags.extend([train] * len(pieces))
            owners.extend([i] * len(pieces))
        tokens.extend(["<|frame|>"] * REPLY_PRIMING_TOKENS)
        flags.extend([False] * REPLY_PRIMING_TOKENS)
        owners.extend([None] * REPLY_PRIMING_TOKENS)
        return RenderedExample(tuple(tokens), tuple(flags), tuple(owners))
