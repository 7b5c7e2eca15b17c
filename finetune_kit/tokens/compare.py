"""One dataset under several models' chat formats, side by side.

[`compare_tokens`][finetune_kit.compare_tokens] reads a JSONL file (or examples) once and counts
every example with each model's [`ChatTokenizer`][finetune_kit.ChatTokenizer]: per model the
examples counted, billed and trainable tokens, the share that trains, the longest example and
how many examples are cut at the model's maximum training length.

Examples:
    >>> from finetune_kit import compare_tokens
    >>> rows = [{"messages": [{"role": "user", "content": "Hi"},
    ...                       {"role": "assistant", "content": "Hello!"}]}]
    >>> table = compare_tokens(rows, ["gpt-4o-mini-2024-07-18", "openai/gpt-oss-20b"])
    >>> [(r.model, r.billed_tokens, r.trainable_tokens) for r in table.rows]
    [('gpt-4o-mini-2024-07-18', 14, 6), ('openai/gpt-oss-20b', 63, 8)]
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from finetune_kit._checks import detect_format
from finetune_kit.errors import ConfigError
from finetune_kit.reading import iter_jsonl
from finetune_kit.tokens.chat import ChatTokenizer
from finetune_kit.tokens.registry import tokenizer_for_model

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import RenderableType

__all__ = ["ModelTokens", "TokenComparison", "compare_tokens"]


@dataclass(frozen=True)
class ModelTokens:
    """One model's totals over a dataset.

    Attributes:
        model: The model.
        chat_format: ``openai``, ``harmony`` or ``hf``.
        n_examples: Examples counted.
        billed_tokens: Sum of billed tokens (full examples, before any cut).
        trainable_tokens: Sum of trainable tokens (assistant messages with weight not 0).
        longest: The longest example's billed tokens (0 when there are none).
        max_length: The maximum training length (``None``: unknown).
        n_truncated: Examples longer than ``max_length``.
    """

    model: str
    chat_format: str
    n_examples: int
    billed_tokens: int
    trainable_tokens: int
    longest: int
    max_length: int | None
    n_truncated: int

    @property
    def trainable_share(self) -> float:
        """Trainable tokens as a share of billed tokens (0 for no tokens)."""
        return self.trainable_tokens / self.billed_tokens if self.billed_tokens else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "model": self.model,
            "chat_format": self.chat_format,
            "n_examples": self.n_examples,
            "billed_tokens": self.billed_tokens,
            "trainable_tokens": self.trainable_tokens,
            "trainable_share": round(self.trainable_share, 4),
            "longest": self.longest,
            "max_length": self.max_length,
            "n_truncated": self.n_truncated,
        }


@dataclass(frozen=True)
class TokenComparison:
    """Totals of one dataset under several models (a table on a terminal, a DataFrame).

    Attributes:
        rows: One [`ModelTokens`][finetune_kit.ModelTokens] per model, in the order asked.
        n_skipped: Lines that are not countable examples (unparsable, not an object, legacy
            prompt/completion).
        source: The file counted, if any.
    """

    rows: tuple[ModelTokens, ...]
    n_skipped: int = 0
    source: str | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (the ``tokens --format json`` contract)."""
        return {
            "source": self.source,
            "n_skipped": self.n_skipped,
            "models": [r.to_dict() for r in self.rows],
        }

    def to_dataframe(self) -> pd.DataFrame:
        """One row per model (columns as in ``to_dict``), indexed by model."""
        import pandas as pd

        frame = pd.DataFrame([r.to_dict() for r in self.rows])
        indexed: pd.DataFrame = frame.set_index("model")
        return indexed

    def _cells(self) -> tuple[list[str], list[list[str]]]:
        head = [
            "model",
            "format",
            "examples",
            "billed",
            "trainable",
            "train %",
            "longest",
            "max len",
            "truncated",
        ]
        body = [
            [
                r.model,
                r.chat_format,
                f"{r.n_examples:,}",
                f"{r.billed_tokens:,}",
                f"{r.trainable_tokens:,}",
                f"{100 * r.trainable_share:.1f}",
                f"{r.longest:,}",
                f"{r.max_length:,}" if r.max_length else "—",
                f"{r.n_truncated:,}",
            ]
            for r in self.rows
        ]
        return head, body

    def to_markdown(self) -> str:
        """The table as Markdown (what ``docs/tokens.md`` shows)."""
        head, body = self._cells()
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)

    def __rich__(self) -> RenderableType:
        from rich import box
        from rich.table import Table

        # one column per model, so that a few models fit on a terminal of 80 columns
        head, body = self._cells()
        table = Table(
            title="Tokens per model", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
        )
        table.add_column("")
        for row in body:
            table.add_column(row[0], justify="right", min_width=max(len(c) for c in row))
        for i, name in enumerate(head[1:], 1):
            table.add_row(name, *(row[i] for row in body))
        return table

    def _repr_html_(self) -> str:
        return self.to_dataframe().to_html()


def compare_tokens(
    source: str | os.PathLike[str] | Iterable[Mapping[str, Any]],
    models: Sequence[str | ChatTokenizer],
    *,
    tokenizer: str | Path | None = None,
    max_length: int | None = None,
) -> TokenComparison:
    """Count one dataset under several models' chat formats, in one pass.

    Args:
        source: A JSONL path, or examples (dicts, or typed examples with ``to_dict``).
        models: Model names (OpenAI or open-weight, any mix) or ready
            [`ChatTokenizer`][finetune_kit.ChatTokenizer] objects.
        tokenizer: A Hugging Face tokenizer folder, file or hub id for the open-weight models
            named (see [`tokenizer_for_model`][finetune_kit.tokenizer_for_model]); OpenAI models
            keep tiktoken.
        max_length: Override every model's maximum training length.

    Returns:
        The [`TokenComparison`][finetune_kit.TokenComparison].

    Raises:
        ConfigError: No model given.
        UnknownModelError: A model has no known tokenizer.
        TokenizerUnavailable: A tokenizer cannot be loaded.
        DataError: The file cannot be read, or a template rejects an example.
    """
    if not models:
        raise ConfigError("give at least one model", hint="CLI: --model A --model B")
    counters = [m if not isinstance(m, str) else _counter(m, tokenizer, max_length) for m in models]
    n = [0] * len(counters)
    billed = [0] * len(counters)
    trainable = [0] * len(counters)
    longest = [0] * len(counters)
    truncated = [0] * len(counters)
    skipped = 0
    file: str | None = None
    if isinstance(source, str | os.PathLike):
        file = str(source)
        values: Iterable[Any] = (line.value for line in iter_jsonl(source))
    else:
        values = (x.to_dict() if hasattr(x, "to_dict") else x for x in source)
    for obj in values:
        fmt = detect_format(obj) if isinstance(obj, dict) else None
        if fmt is None or fmt == "completion":
            skipped += 1
            continue
        for i, counter in enumerate(counters):
            c = counter.count_example(obj, fmt)
            n[i] += 1
            billed[i] += c.billed
            trainable[i] += c.trainable
            longest[i] = max(longest[i], c.billed)
            truncated[i] += c.truncated
    rows = tuple(
        ModelTokens(
            model=c.model,
            chat_format=c.chat_format,
            n_examples=n[i],
            billed_tokens=billed[i],
            trainable_tokens=trainable[i],
            longest=longest[i],
            max_length=c.max_length,
            n_truncated=truncated[i],
        )
        for i, c in enumerate(counters)
    )
    return TokenComparison(rows, skipped, file)


def _counter(model: str, tokenizer: str | Path | None, max_length: int | None) -> ChatTokenizer:
    from finetune_kit.tokens.registry import open_model_info

    # --tokenizer names the open model's files; an OpenAI model next to it keeps tiktoken
    is_openai = tokenizer is not None and open_model_info(model) is None and _is_openai(model)
    return tokenizer_for_model(
        model, tokenizer=None if is_openai else tokenizer, max_length=max_length
    )


def _is_openai(model: str) -> bool:
    from finetune_kit.errors import UnknownModelError
    from finetune_kit.tokens.counting import encoding_name_for_model

    try:
        encoding_name_for_model(model)
    except UnknownModelError:
        return False
    return True
