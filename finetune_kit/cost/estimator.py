"""What a fine-tuning job and the fine-tuned model will cost, before you spend anything.

[`CostEstimator.estimate_training`][finetune_kit.CostEstimator.estimate_training] validates and
counts a dataset in **one streaming pass** (the validator calls the tokenizer on every
structurally valid example) and prices the job: billed tokens per epoch (each example capped at
the model's per-example limit) x epochs x the training price. Big files are split into byte
ranges that a process pool scans in parallel; the results are merged in line order, so the
report is the same as a single-process run, finding for finding.

[`CostEstimator.estimate_usage`][finetune_kit.CostEstimator.estimate_usage] projects what calling
the fine-tuned model costs per request, per day and over a period.

Money is ``Decimal`` throughout (no ``0.1 + 0.2`` surprises); ``to_dict()`` gives plain JSON
numbers rounded to 6 decimal places (micro-dollars), so small per-request costs stay visible.

Examples:
    >>> from finetune_kit import CostEstimator
    >>> usage = CostEstimator().estimate_usage(
    ...     4000, 4000, 1000, input_per_1m=12, output_per_1m=16
    ... )
    >>> usage.daily_cost, usage.period_cost
    (Decimal('112'), Decimal('3360'))
"""

from __future__ import annotations

import bisect
import datetime as dt
import gc
import math
import multiprocessing
import os
import pickle
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from finetune_kit.catalog.prices import ModelPrice, PriceTable, to_decimal
from finetune_kit.errors import ConfigError, DataError, UnknownModelError
from finetune_kit.reading import Line, iter_jsonl, split_ranges
from finetune_kit.tokens.chat import ChatTokenizer, OpenAIChatTokenizer
from finetune_kit.tokens.counting import Tokenizer, encoding_name_for_model
from finetune_kit.tokens.registry import capped_total, open_model_info, tokenizer_for_model
from finetune_kit.validation.engine import (
    Finding,
    Format,
    Method,
    Validator,
    _duplicate,
    _example_digest,
    _FileState,
    _FindingsView,
    detect_format,
)

if TYPE_CHECKING:
    from rich.console import RenderableType

    from finetune_kit.dataset import Dataset
    from finetune_kit.schema import Example, PreferenceExample

__all__ = [
    "MAX_DEFAULT_EPOCHS",
    "MAX_TARGET_EXAMPLES",
    "MIN_DEFAULT_EPOCHS",
    "MIN_TARGET_EXAMPLES",
    "TARGET_EPOCHS",
    "CostEstimator",
    "ProgressCallback",
    "TrainingEstimate",
    "UsageEstimate",
    "default_epochs",
]

TARGET_EPOCHS = 3
"""Epochs OpenAI's notebook aims for by default."""
MIN_TARGET_EXAMPLES = 100
"""Below this many examples x epochs, the default raises the epochs."""
MAX_TARGET_EXAMPLES = 25_000
"""Above this many examples x epochs, the default lowers the epochs."""
MIN_DEFAULT_EPOCHS = 1
"""The default never goes below this."""
MAX_DEFAULT_EPOCHS = 25
"""The default never goes above this."""

PARALLEL_MIN_BYTES = 4 * 1024 * 1024
"""Files at least this big are scanned by a process pool (smaller ones in-process)."""
FAST_COUNT_MIN_BYTES = 1024 * 1024
"""Files at least this big are counted with the fast exact counter when it is installed
(``Tokenizer(fast=True)``: it takes about 50 ms to load and then half tiktoken's time)."""
_CHUNK_BYTES = 8 * 1024 * 1024
_PROGRESS_EVERY = 2048  # lines between progress callbacks in a serial scan
_MICRO = Decimal("0.000001")
_MILLION = Decimal(1_000_000)

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(bytes_done, bytes_total)`` while a file is scanned."""


def default_epochs(n_examples: int) -> int:
    """The epoch count OpenAI's data-prep notebook predicts for ``n_examples`` examples.

    Aim for 3 epochs; if that makes fewer than 100 example-passes, use ``min(25, 100 // n)``;
    if it makes more than 25,000, use ``max(1, 25,000 // n)``.

    Args:
        n_examples: Examples in the training file.

    Returns:
        The number of epochs (3 for an empty dataset).

    Examples:
        >>> [default_epochs(n) for n in (1, 10, 34, 8_334, 100_000)]
        [25, 10, 3, 2, 1]
    """
    if n_examples < 1:
        return TARGET_EPOCHS
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    if n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return TARGET_EPOCHS


def _pick(explicit: Decimal | float | str | None, table: Decimal | None) -> Decimal | None:
    return to_decimal(explicit) if explicit is not None else table


def _normal(value: Decimal) -> Decimal:
    """Drop trailing zeros but never show an exponent (``Decimal('112.000')`` → ``112``)."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


def _money(value: Decimal) -> float:
    """A Decimal amount as a JSON number, rounded to micro-dollars."""
    return float(value.quantize(_MICRO))


def _fmt_money(value: Decimal | None, currency: str = "USD") -> str:
    if value is None:
        return "—"
    sign = "$" if currency == "USD" else f"{currency} "
    cents = value.quantize(Decimal("0.01"))
    if cents == value or abs(value) >= 100:
        return f"{sign}{cents:,.2f}"
    text = f"{value.quantize(_MICRO):f}".rstrip("0")
    if len(text.split(".")[1]) < 2:
        text = f"{value:.2f}"
    return f"{sign}{text}"


def _per_1m_and_1k(value: Decimal, currency: str) -> str:
    return f"{_fmt_money(value, currency)} per 1M ({_fmt_money(value / 1000, currency)} per 1K)"


class _Ordered:
    """The sorted values of a histogram, by rank, without materialising the sorted list.

    Token counts repeat a lot, so the histogram stays small however many examples there are
    (a sorted copy of 300,000 counts would cost ~12 MB for a moment).
    """

    def __init__(self, histogram: Mapping[int, int]) -> None:
        self.values = sorted(histogram)
        self.ends: list[int] = []  # rank just past the last copy of each value
        rank = 0
        for v in self.values:
            rank += histogram[v]
            self.ends.append(rank)

    def __getitem__(self, rank: int) -> int:
        return self.values[bisect.bisect_right(self.ends, rank)]


def _percentile(ordered: _Ordered, n: int, q: float) -> float | None:
    """The q-th percentile with linear interpolation (numpy's default method)."""
    if not n:
        return None
    pos = (n - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    low = ordered[lo]
    return float(low + (ordered[hi] - low) * (pos - lo))


def _token_stats(counts: Sequence[int]) -> dict[str, float | int | None]:
    n = len(counts)
    ordered = _Ordered(Counter(counts))
    return {
        "min": ordered[0] if n else None,
        "max": ordered[n - 1] if n else None,
        "mean": round(sum(counts) / n, 2) if n else None,
        "median": _percentile(ordered, n, 50),
        "p5": _percentile(ordered, n, 5),
        "p95": _percentile(ordered, n, 95),
    }


@dataclass(frozen=True)
class TrainingEstimate(_FindingsView):
    """The priced estimate of one fine-tuning job.

    Attributes:
        model: The model asked for (alias, snapshot or ``ft:`` name).
        base_model: The snapshot it resolves to in the price table.
        method: ``supervised`` or ``dpo``.
        n_examples: Examples counted (valid structure).
        n_skipped: Examples not counted because they have errors.
        billed_tokens_per_epoch: Sum over examples of ``min(tokens, token_limit)``.
        total_tokens_per_epoch: Sum over examples of their full token counts.
        n_epochs: Epochs priced (given, or the provider's default: OpenAI's notebook rule on
            OpenAI and Azure, 1 on Together and Fireworks).
        epochs_from_default: True when ``n_epochs`` is the provider's default.
        training_tokens: ``billed_tokens_per_epoch x n_epochs`` (what OpenAI bills).
        training_cost: ``training_tokens x price_per_1m / 1,000,000`` (``None``: an open model
            with no known price).
        price_per_1m: Training price per 1M tokens (``None``: not known).
        currency: ``USD``.
        prices_as_of: The date of the price entry used (the table's date when no price is
            known for the model).
        price_source: Where the price comes from (or that it was overridden).
        token_limit: Per-example token limit (``None`` if unknown: no cap applied).
        n_truncated: Examples over the limit (OpenAI truncates them; they are billed at the cap).
        token_stats: ``min``, ``max``, ``mean``, ``median``, ``p5``, ``p95`` of per-example counts
            (true 5th/95th percentiles, linear interpolation; the notebook printed 10th/90th).
        token_counts: Per-example token counts (uncapped) in line order, for a histogram.
        findings: Every validation finding (errors and warnings), in line order.
        stats: The validation statistics (lines, formats, messages per example, ...).
        source: The file estimated, if any.
        trainable_tokens_per_epoch: Open models: sum over examples of the tokens that train
            (assistant messages with a weight other than 0, up to the cut at ``token_limit``);
            ``None`` for OpenAI models.
        chat_format: How the examples were rendered: ``openai`` (tiktoken, the cookbook's
            method), ``harmony`` (gpt-oss) or ``hf`` (a Hugging Face chat template).
        provider: Whose job was priced (``openai``, ``azure``, ``together``, ``fireworks``).
        epochs_note: How a default ``n_epochs`` was chosen, in words.
    """

    model: str
    base_model: str
    method: str
    n_examples: int
    n_skipped: int
    billed_tokens_per_epoch: int
    total_tokens_per_epoch: int
    n_epochs: int
    epochs_from_default: bool
    training_tokens: int
    training_cost: Decimal | None
    price_per_1m: Decimal | None
    currency: str
    prices_as_of: dt.date
    price_source: str
    token_limit: int | None
    n_truncated: int
    token_stats: Mapping[str, float | int | None]
    token_counts: Sequence[int] = field(repr=False, compare=False)
    findings: tuple[Finding, ...] = field(default=(), repr=False)
    stats: Mapping[str, Any] = field(default_factory=dict, repr=False)
    source: str | None = None
    trainable_tokens_per_epoch: int | None = None
    chat_format: str = "openai"
    provider: str = "openai"
    epochs_note: str = "default for this size"

    def summary(self) -> str:
        """One line: examples, tokens, epochs, cost."""
        return (
            f"{self.n_examples:,} examples, {self.billed_tokens_per_epoch:,} billed tokens/epoch "
            f"x {self.n_epochs} epochs = {self.training_tokens:,} tokens: "
            f"{_fmt_money(self.training_cost, self.currency)} on {self.base_model}"
            + ("" if self.training_cost is not None else " (no price known)")
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (the CLI's ``--format json`` contract); money rounded to 6 places."""
        return {
            "model": self.model,
            "base_model": self.base_model,
            "method": self.method,
            "n_examples": self.n_examples,
            "n_skipped": self.n_skipped,
            "billed_tokens_per_epoch": self.billed_tokens_per_epoch,
            "total_tokens_per_epoch": self.total_tokens_per_epoch,
            "n_epochs": self.n_epochs,
            "epochs_from_default": self.epochs_from_default,
            "training_tokens": self.training_tokens,
            "training_cost": _money(self.training_cost) if self.training_cost is not None else None,
            "currency": self.currency,
            "price_per_1m": _money(self.price_per_1m) if self.price_per_1m is not None else None,
            "price_per_1k": (
                _money(self.price_per_1m / 1000) if self.price_per_1m is not None else None
            ),
            "prices_as_of": self.prices_as_of.isoformat(),
            "price_source": self.price_source,
            "token_limit": self.token_limit,
            "n_truncated": self.n_truncated,
            "token_stats": dict(self.token_stats),
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "stats": dict(self.stats),
            "source": self.source,
            "trainable_tokens_per_epoch": self.trainable_tokens_per_epoch,
            "chat_format": self.chat_format,
            "provider": self.provider,
            "epochs_note": self.epochs_note if self.epochs_from_default else None,
        }

    def _pairs(self) -> list[tuple[str, object]]:
        s = self.token_stats

        def num(key: str) -> str:
            v = s.get(key)
            return "—" if v is None else f"{v:,.0f}" if key != "mean" else f"{v:,.1f}"

        limit = f"{self.token_limit:,}" if self.token_limit else "unknown (no cap)"
        epochs = f"{self.n_epochs}" + (f" ({self.epochs_note})" if self.epochs_from_default else "")
        return [
            (
                "model",
                f"{self.model} → {self.base_model}"
                if self.model != self.base_model
                else self.model,
            ),
            ("method", self.method),
            ("examples counted", f"{self.n_examples:,}"),
            ("examples with errors (not counted)", f"{self.n_skipped:,}"),
            (
                "tokens per example (min / median / max)",
                f"{num('min')} / {num('median')} / {num('max')}",
            ),
            ("tokens per example (mean, p5 / p95)", f"{num('mean')}, {num('p5')} / {num('p95')}"),
            ("per-example limit", limit),
            ("examples over the limit (truncated)", f"{self.n_truncated:,}"),
            ("billed tokens per epoch", f"{self.billed_tokens_per_epoch:,}"),
            *(
                [("trainable tokens per epoch", f"{self.trainable_tokens_per_epoch:,}")]
                if self.trainable_tokens_per_epoch is not None
                else []
            ),
            ("epochs", epochs),
            ("training tokens", f"{self.training_tokens:,}"),
            (
                "price",
                f"{_fmt_money(self.price_per_1m, self.currency)} per 1M tokens"
                if self.price_per_1m is not None
                else "unknown (--price-per-1m)",
            ),
            ("prices as of", self.prices_as_of.isoformat()),
            ("training cost", _fmt_money(self.training_cost, self.currency)),
            ("errors / warnings", f"{len(self.errors):,} / {len(self.warnings):,}"),
        ]

    def __rich__(self) -> RenderableType:
        from finetune_kit._render import key_value_table

        return key_value_table(self._pairs(), title="Training estimate")

    def _repr_html_(self) -> str:
        from finetune_kit._html import key_values

        return key_values(self._pairs(), caption=self.summary())


@dataclass(frozen=True)
class UsageEstimate:
    """What calling a fine-tuned model costs.

    Attributes:
        model: The model priced, or ``None`` when only explicit prices were given.
        input_tokens: Input tokens per request (cached ones included).
        cached_input_tokens: Of those, tokens billed at the cached-input price.
        output_tokens: Output tokens per request.
        requests_per_day: Requests per day.
        days: Days in the period.
        input_per_1m: Input price per 1M tokens.
        cached_input_per_1m: Cached-input price per 1M tokens (``None`` if not used).
        output_per_1m: Output price per 1M tokens.
        cost_per_request: Cost of one request.
        daily_cost: ``cost_per_request x requests_per_day``.
        period_cost: ``daily_cost x days``.
        currency: ``USD``.
        prices_as_of: The date of the model's price entry (``None`` with explicit prices only).
    """

    model: str | None
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    requests_per_day: int
    days: int
    input_per_1m: Decimal
    cached_input_per_1m: Decimal | None
    output_per_1m: Decimal
    cost_per_request: Decimal
    daily_cost: Decimal
    period_cost: Decimal
    currency: str = "USD"
    prices_as_of: dt.date | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (the CLI's ``--format json`` contract); money rounded to 6 places."""
        return {
            "model": self.model,
            "input_tokens": self.input_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "output_tokens": self.output_tokens,
            "requests_per_day": self.requests_per_day,
            "days": self.days,
            "input_per_1m": _money(self.input_per_1m),
            "cached_input_per_1m": (
                _money(self.cached_input_per_1m) if self.cached_input_per_1m is not None else None
            ),
            "output_per_1m": _money(self.output_per_1m),
            "cost_per_request": _money(self.cost_per_request),
            "daily_cost": _money(self.daily_cost),
            "period_cost": _money(self.period_cost),
            "currency": self.currency,
            "prices_as_of": self.prices_as_of.isoformat() if self.prices_as_of else None,
        }

    def summary(self) -> str:
        """One line: per request, per day, per period."""
        c = self.currency
        return (
            f"{_fmt_money(self.cost_per_request, c)} per request, "
            f"{_fmt_money(self.daily_cost, c)} per day, "
            f"{_fmt_money(self.period_cost, c)} per {self.days} days"
        )

    def _pairs(self) -> list[tuple[str, object]]:
        c = self.currency
        cached = (
            f" ({self.cached_input_tokens:,} cached at "
            f"{_fmt_money(self.cached_input_per_1m, c)} per 1M)"
            if self.cached_input_tokens
            else ""
        )
        return [
            ("model", self.model or "(explicit prices)"),
            ("input tokens per request", f"{self.input_tokens:,}{cached}"),
            ("output tokens per request", f"{self.output_tokens:,}"),
            ("input price", _per_1m_and_1k(self.input_per_1m, c)),
            ("output price", _per_1m_and_1k(self.output_per_1m, c)),
            ("requests per day", f"{self.requests_per_day:,}"),
            ("cost per request", _fmt_money(self.cost_per_request, c)),
            ("cost per day", _fmt_money(self.daily_cost, c)),
            (f"cost over {self.days} days", _fmt_money(self.period_cost, c)),
        ]

    def __rich__(self) -> RenderableType:
        from finetune_kit._render import key_value_table

        return key_value_table(self._pairs(), title="Usage estimate")

    def _repr_html_(self) -> str:
        from finetune_kit._html import key_values

        return key_values(self._pairs(), caption=self.summary())


# -- scanning ----------------------------------------------------------------------------------


@dataclass
class _ScanResult:
    """What one scan (a whole file, or one byte range of it) produces."""

    findings: list[Finding]
    counts: array[int]
    state: _FileState
    dup_digests: list[tuple[int, bytes]]
    trainable: array[int] | None = None  # open models: trainable tokens kept, per count


@dataclass(frozen=True)
class _ScanSpec:
    """Everything a worker needs besides the tokenizer and the validator."""

    model: str | None
    method: Method | None
    expected_format: Format | None
    file: str | None
    token_limit: int | None


@dataclass(frozen=True)
class _Plan:
    """How one estimate counts and prices: its counter, limit and training price."""

    counter: Tokenizer | _OpenCounter
    chat: ChatTokenizer | None
    base: str
    per_1m: Decimal | None
    currency: str
    price_source: str
    price_as_of: dt.date
    limit: int | None


class _OpenCounter:
    """An open model's chat tokenizer as the validator's counter (billed tokens).

    It keeps each counted example's trainable tokens (those left after the cut at the maximum
    training length) in counting order, which is the order of ``_ScanResult.counts``.
    """

    def __init__(self, chat: ChatTokenizer) -> None:
        self.chat = chat
        self.example_limit = chat.max_length
        self.trainable: array[int] = array("I")

    def count_raw(self, obj: Mapping[str, Any], fmt: Format) -> int:
        counts = self.chat.count_example(obj, fmt)
        self.trainable.append(counts.kept_trainable)
        return counts.billed

    def take(self) -> array[int]:
        out, self.trainable = self.trainable, array("I")
        return out


def _scan(
    validator: Validator,
    lines: Iterable[Line],
    tokenizer: Tokenizer | _OpenCounter | ChatTokenizer | None,
    spec: _ScanSpec,
    *,
    track_duplicates: bool,
    at_file_start: bool = True,
) -> _ScanResult:
    """Scan one stream of lines (a file, a byte range, a partition) into a mergeable result.

    ``tokenizer`` counts each valid example (``None``: no counting, as ``validate`` without a
    model); ``track_duplicates`` keeps the digests `_merge` needs to name a duplicate's first
    line across ranges; ``at_file_start`` is False for a range that starts after the file's
    first line.
    """
    state = _FileState()
    findings: list[Finding] = []
    counts: array[int] = array("I")
    dups: list[tuple[int, bytes]] = []
    append = counts.append
    for result in validator.scan(
        lines,
        model=spec.model,
        method=spec.method,
        expected_format=spec.expected_format,
        file=spec.file,
        counter=tokenizer.count_raw if tokenizer is not None else None,
        token_limit=spec.token_limit,
        state=state,
        at_file_start=at_file_start,
    ):
        if result.tokens is not None:
            append(result.tokens)
        if result.findings:
            findings.extend(result.findings)
            if track_duplicates and any(f.code == "duplicate_example" for f in result.findings):
                dups.append((result.line, _example_digest(result.value)))
    trainable = tokenizer.take() if isinstance(tokenizer, _OpenCounter) else None
    return _ScanResult(findings, counts, state, dups, trainable)


_WORKER: dict[str, Any] = {}


def _init_worker(encoding: str | ChatTokenizer, validator: Validator, fast: bool) -> None:
    # A worker only scans: parsed examples are freed by reference counting, and the cyclic
    # collector would spend ~6% of the time walking them for nothing.
    gc.disable()
    _WORKER["tokenizer"] = (
        Tokenizer(encoding, fast=fast) if isinstance(encoding, str) else _OpenCounter(encoding)
    )
    _WORKER["validator"] = validator


def _scan_range(path: str, start: int, end: int, spec: _ScanSpec) -> _ScanResult:
    return _scan(
        cast("Validator", _WORKER["validator"]),
        iter_jsonl(path, start=start, end=end),
        cast("Tokenizer | _OpenCounter", _WORKER["tokenizer"]),
        spec,
        track_duplicates=True,
        at_file_start=start == 0,
    )


def _tracked(lines: Iterable[Line], total: int, progress: ProgressCallback) -> Iterator[Line]:
    done = 0
    for i, line in enumerate(lines, 1):
        done += len(line.raw) + 1
        if i % _PROGRESS_EVERY == 0:
            progress(min(done, total), total)
        yield line
    progress(total, total)


def _first_format(path: str | Iterable[Line]) -> Format | None:
    """The format of the first example of a file or lines (what a single pass settles on)."""
    for line in iter_jsonl(path) if isinstance(path, str) else path:
        if isinstance(line.value, dict):
            fmt = detect_format(line.value)
            if fmt != "completion":
                return fmt
    return None


def _ships_to_workers(validator: Validator) -> bool:
    """Tell whether the validator can reach worker processes (always with fork, else by pickle)."""
    # Ask without fixing the start method for the whole program (allow_none=True).
    method = multiprocessing.get_start_method(allow_none=True)
    if (method or multiprocessing.get_all_start_methods()[0]) == "fork":
        return True
    try:
        pickle.dumps(validator)
    except Exception:
        return False
    return True


def _merge(results: Iterable[_ScanResult]) -> _ScanResult:
    """Fold range results, in file order, into one — identical to a single-process scan."""
    state = _FileState()
    findings: list[Finding] = []
    counts: array[int] = array("I")
    trainable: array[int] | None = None
    offset = 0
    for res in results:
        # A duplicate inside this range names the earliest line of its example, as a single
        # pass would: in an earlier range, or else in this one (numbered from 1 by the worker).
        digests = dict(res.dup_digests)
        for f in res.findings:
            if f.line is None:
                findings.append(f)
            elif f.code == "duplicate_example" and f.line in digests:
                digest = digests[f.line]
                first = state.seen.get(digest)
                if first is None:
                    first = res.state.seen[digest] + offset
                findings.append(_duplicate(f.line + offset, first))
            else:
                findings.append(replace(f, line=f.line + offset) if offset else f)
        findings.extend(state.merge(res.state, offset))
        counts.extend(res.counts)
        if res.trainable is not None:
            trainable = (trainable or array("I")) + res.trainable
        offset += res.state.n_lines
    findings.sort(key=lambda f: f.line if f.line is not None else math.inf)
    return _ScanResult(findings, counts, state, [], trainable)


class CostEstimator:
    """Prices fine-tuning jobs and fine-tuned model usage.

    Args:
        prices: The price table (default: the bundled one, as of today).
        as_of: Use prices as they were on this date (``YYYY-MM-DD`` or a date).
        validator: The [`Validator`][finetune_kit.Validator] whose rules run during the
            estimate (default: built-in plus registered and plugin rules, with the provider's
            profile). With a process pool it must be picklable unless processes are forked.
        provider: Whose job is priced: ``openai`` (default), ``azure``, ``together`` or
            ``fireworks``. It chooses the bundled price table (unless ``prices`` is given), the
            validation profile, the default epochs (OpenAI's rule on OpenAI and Azure, 1 on
            Together and Fireworks), the training length of open models and DPO prices
            (Together), and whether OpenAI's wind-down findings apply (OpenAI only).
    """

    def __init__(
        self,
        prices: PriceTable | None = None,
        *,
        as_of: dt.date | str | None = None,
        validator: Validator | None = None,
        provider: str | None = None,
    ) -> None:
        from finetune_kit.catalog.providers import price_table, provider_terms

        self.provider = provider or "openai"
        self.terms = provider_terms(self.provider)
        table = prices if prices is not None else price_table(self.provider)
        self.prices = table.as_of(as_of) if as_of is not None else table
        # personal-data scanning is for `validate`; pricing skips it (it would halve throughput)
        self.validator = (
            validator if validator is not None else Validator(pii="off", profile=self.provider)
        )

    def _price(
        self, model: str, method: str | None, training_per_1m: Any, token_limit: int | None
    ) -> ModelPrice:
        price = self.prices.get(model)
        if method == "dpo" and training_per_1m is None:  # Together prices DPO apart
            from finetune_kit.catalog.providers import tunable_models

            tunable = tunable_models(self.provider).get(price.model)
            if tunable is not None and tunable.dpo_per_1m is not None:
                price = replace(price, training_per_1m=tunable.dpo_per_1m)
        if training_per_1m is not None:
            price = replace(
                price,
                training_per_1m=to_decimal(training_per_1m),
                overridden=True,
                source=f"{price.source}; training price overridden",
            )
        if token_limit is not None:
            price = replace(price, example_token_limit=token_limit)
        if price.training_per_1m is None:
            raise ConfigError(
                f"no training price for {price.model} on {self.prices.date.isoformat()}",
                hint="pass training_per_1m (CLI: --price-per-1m)",
            )
        if method is not None and method not in price.methods:
            supporting = [r.model for r in self.prices.rows() if method in r.methods]
            raise ConfigError(
                f"{price.model} does not support {method} fine-tuning",
                hint=f"models that do: {', '.join(supporting) or 'none in the price table'}",
            )
        return price

    def estimate_training(
        self,
        data: Dataset
        | str
        | os.PathLike[str]
        | Iterable[Example | PreferenceExample | Mapping[str, Any]],
        model: str,
        n_epochs: int | None = None,
        method: Method | None = "supervised",
        jobs: int | None = None,
        progress: ProgressCallback | None = None,
        *,
        training_per_1m: Decimal | float | str | None = None,
        token_limit: int | None = None,
        today: dt.date | None = None,
        lifecycle: bool = True,
        tokenizer: str | os.PathLike[str] | ChatTokenizer | None = None,
    ) -> TrainingEstimate:
        """Validate, count and price a training file or dataset in one pass.

        OpenAI models are counted with tiktoken and the cookbook's method. An open-weight model
        of ``data/tokenizers.json`` (e.g. ``openai/gpt-oss-20b``), or any model with
        ``tokenizer`` given, is counted in its own tokens after its chat format (see
        [`tokenizer_for_model`][finetune_kit.tokenizer_for_model]): the estimate then also has
        ``trainable_tokens_per_epoch``, the limit is the model's maximum training length, and
        the cost is left empty when no price is known for the model.

        Args:
            data: A JSONL path, a [`Dataset`][finetune_kit.Dataset], or examples (typed or
                dicts; the line number of a finding is then the row index + 1).
            model: The base model (alias, snapshot or ``ft:`` name to continue from).
            n_epochs: Epochs to price; default: the provider's (OpenAI and Azure: the
                notebook's heuristic, [`default_epochs`][finetune_kit.default_epochs]; Together
                and Fireworks: 1).
            method: ``supervised`` or ``dpo``; examples in the other format are errors.
                ``None`` accepts the format of the first example.
            jobs: Worker processes for big files (default: one per core; 1 = no pool).
            progress: Called as ``progress(bytes_done, bytes_total)`` while a file is read.
            training_per_1m: Override the training price (USD per 1M tokens).
            token_limit: Override the per-example token limit.
            today: The day OpenAI's wind-down dates are judged on (default: the price table's
                date, which is today unless ``as_of`` was given).
            lifecycle: Add the lifecycle findings (``training_cutoff_near``,
                ``model_shutdown_scheduled``, ...; see ``finetune_kit.lifecycle``). OpenAI
                models only.
            tokenizer: A Hugging Face tokenizer folder, ``tokenizer.json`` or hub id, or a
                ready [`ChatTokenizer`][finetune_kit.ChatTokenizer] (its ``max_length`` is
                the limit), overriding the model's tokenizer.

        Returns:
            The [`TrainingEstimate`][finetune_kit.TrainingEstimate]; its ``findings`` hold every
            validation error and warning (the estimate covers the examples that could be
            counted).

        Raises:
            UnknownModelError: The model is not in the price table.
            ConfigError: Bad arguments, no training price, or a method the model lacks.
            DataError: The file cannot be read.
            TokenizerUnavailable: The model's tokenizer cannot be loaded.
        """
        _check_arguments(n_epochs, jobs, token_limit)
        source: str | None = None
        if isinstance(data, str | os.PathLike):
            source = str(data)
            plan = self._plan(model, method, training_per_1m, token_limit, tokenizer)
            result = self._scan_file(Path(data), model, method, plan.counter, jobs, progress)
            return self._priced(plan, result, model, method, n_epochs, today, lifecycle, source)
        return self._estimate_lines(
            _object_lines(data),
            model,
            n_epochs=n_epochs,
            method=method,
            training_per_1m=training_per_1m,
            token_limit=token_limit,
            today=today,
            lifecycle=lifecycle,
            tokenizer=tokenizer,
        )

    def _estimate_lines(
        self,
        lines: Iterable[Line],
        model: str,
        *,
        n_epochs: int | None = None,
        method: Method | None = "supervised",
        training_per_1m: Decimal | float | str | None = None,
        token_limit: int | None = None,
        today: dt.date | None = None,
        lifecycle: bool = True,
        tokenizer: str | os.PathLike[str] | ChatTokenizer | None = None,
        source: str | None = None,
        trainable: bool = False,
    ) -> TrainingEstimate:
        """Estimate from lines already read (``source``: the file they came from, if any).

        What ``estimate_training`` does for a small file, on lines read once: ``compare``
        reads a file once and prices it for many models this way. ``trainable`` also counts
        the trainable tokens of OpenAI models (a second count of each example, so the plain
        estimate leaves it out).
        """
        plan = self._plan(model, method, training_per_1m, token_limit, tokenizer, trainable)
        spec = _ScanSpec(model, method, None, source, plan.limit)
        result = _scan(self.validator, lines, plan.counter, spec, track_duplicates=False)
        return self._priced(plan, result, model, method, n_epochs, today, lifecycle, source)

    def _plan(
        self,
        model: str,
        method: Method | None,
        training_per_1m: Decimal | float | str | None,
        token_limit: int | None,
        tokenizer: str | os.PathLike[str] | ChatTokenizer | None,
        trainable: bool = False,
    ) -> _Plan:
        """The counter, limit and training price of ``model`` on this estimator's provider."""
        from finetune_kit.catalog.providers import training_limit

        if token_limit is None and not isinstance(tokenizer, ChatTokenizer):
            # Together and Fireworks train at their own length, shorter than the context
            token_limit = training_limit(self.provider, model, method)
        chat = _chat_tokenizer(model, tokenizer, token_limit)
        if chat is None:
            price = self._price(model, method, training_per_1m, token_limit)
            limit = price.example_token_limit
            counter: Tokenizer | _OpenCounter = (
                _OpenCounter(OpenAIChatTokenizer(price.model, max_length=limit))
                if trainable  # its billed count is Tokenizer.count_raw's
                else Tokenizer(
                    encoding_name_for_model(price.model), model=model, example_limit=limit
                )
            )
            return _Plan(
                counter=counter,
                chat=None,
                base=price.model,
                per_1m=price.training_per_1m,
                currency=price.currency,
                price_source=price.source,
                price_as_of=price.as_of,
                limit=price.example_token_limit,
            )
        base, per_1m, currency, price_source, as_of = self._open_price(
            model, method, training_per_1m
        )
        return _Plan(
            _OpenCounter(chat), chat, base, per_1m, currency, price_source, as_of, chat.max_length
        )

    def _priced(
        self,
        plan: _Plan,
        result: _ScanResult,
        model: str,
        method: Method | None,
        n_epochs: int | None,
        today: dt.date | None,
        lifecycle: bool,
        source: str | None,
    ) -> TrainingEstimate:
        """The estimate of a scanned file: billed tokens x epochs x price."""
        findings = [*result.findings, *self.validator.finish(result.state)]
        limit = plan.limit
        counts = result.counts
        n = len(counts)
        total = sum(counts)
        billed = capped_total(counts, limit)
        n_truncated = 0 if limit is None else sum(1 for c in counts if c > limit)
        epochs = n_epochs if n_epochs is not None else self.terms.default_epochs(n, default_epochs)
        training_tokens = billed * epochs
        per_1m = plan.per_1m
        cost = Decimal(training_tokens) * per_1m / _MILLION if per_1m is not None else None
        # OpenAI's wind-down dates concern OpenAI's own jobs only (not Azure, Together, ...)
        if lifecycle and plan.chat is None and self.terms.lifecycle == "openai":
            from finetune_kit.lifecycle import lifecycle_findings

            findings.extend(lifecycle_findings(model, today=today or self.prices.date))
        return TrainingEstimate(
            model=model,
            base_model=plan.base,
            method=method if method is not None else _method_of(result.state),
            n_examples=n,
            n_skipped=result.state.n_examples - n,
            billed_tokens_per_epoch=billed,
            total_tokens_per_epoch=total,
            n_epochs=epochs,
            epochs_from_default=n_epochs is None,
            training_tokens=training_tokens,
            training_cost=cost,
            price_per_1m=per_1m,
            currency=plan.currency,
            prices_as_of=plan.price_as_of,
            price_source=plan.price_source,
            token_limit=limit,
            n_truncated=n_truncated,
            token_stats=_token_stats(counts),
            token_counts=counts,
            findings=tuple(findings),
            stats=result.state.stats(),
            source=source,
            trainable_tokens_per_epoch=(
                sum(result.trainable) if result.trainable is not None else None
            ),
            chat_format=plan.chat.chat_format if plan.chat is not None else "openai",
            provider=self.provider,
            epochs_note=self.terms.epochs_note,
        )

    def _open_price(
        self, model: str, method: Method | None, training_per_1m: Any
    ) -> tuple[str, Decimal | None, str, str, dt.date]:
        """Base name, training price per 1M, currency, price source and its date (open model).

        Without a price entry the date is the table's.
        """
        info = open_model_info(model)
        base = info.model if info is not None else model
        try:
            price = self._price(model, method, training_per_1m, None)
        except UnknownModelError:
            if training_per_1m is not None:
                return (
                    base,
                    to_decimal(training_per_1m),
                    self.prices.currency,
                    "given by the user",
                    self.prices.date,
                )
            return (
                base,
                None,
                self.prices.currency,
                (
                    f"no training price for {base} in the price table: pass training_per_1m "
                    "(CLI: --price-per-1m)"
                ),
                self.prices.date,
            )
        return price.model, price.training_per_1m, price.currency, price.source, price.as_of

    def estimate_usage(
        self,
        input_tokens: int,
        output_tokens: int,
        requests_per_day: int,
        days: int = 30,
        model: str | None = None,
        *,
        cached_input_tokens: int = 0,
        input_per_1m: Decimal | float | str | None = None,
        output_per_1m: Decimal | float | str | None = None,
        cached_input_per_1m: Decimal | float | str | None = None,
    ) -> UsageEstimate:
        """Project the cost of calling a fine-tuned model.

        Prices come from the table for ``model`` (the fine-tuned inference prices of its base
        model) unless given explicitly; explicit prices win. Prices are per 1M tokens: for a
        per-1K price multiply by 1,000.

        Args:
            input_tokens: Input tokens per request (including cached ones).
            output_tokens: Output tokens per request.
            requests_per_day: Requests per day.
            days: Days in the period (default 30).
            model: The fine-tuned model or its base (alias, snapshot or ``ft:`` name).
            cached_input_tokens: Of the input tokens, how many are billed at the cached price.
            input_per_1m: Input price per 1M tokens.
            output_per_1m: Output price per 1M tokens.
            cached_input_per_1m: Cached input price per 1M tokens (default: the table's, else
                the input price).

        Returns:
            The [`UsageEstimate`][finetune_kit.UsageEstimate].

        Raises:
            ConfigError: A count is negative, or a price is missing.
            UnknownModelError: ``model`` is not in the price table.

        Examples:
            >>> est = CostEstimator().estimate_usage(
            ...     2000, 2000, 500, input_per_1m=12, output_per_1m=16
            ... )
            >>> str(est.daily_cost), str(est.period_cost)
            ('28', '840')
        """
        for name, value in (
            ("input_tokens", input_tokens),
            ("output_tokens", output_tokens),
            ("requests_per_day", requests_per_day),
            ("cached_input_tokens", cached_input_tokens),
        ):
            if value < 0:
                raise ConfigError(f"{name} must be >= 0, not {value}")
        if days < 1:
            raise ConfigError(f"days must be at least 1, not {days}")
        if cached_input_tokens > input_tokens:
            raise ConfigError("cached_input_tokens cannot exceed input_tokens")
        price = self.prices.get(model) if model is not None else None
        in_price = _pick(input_per_1m, price.input_per_1m if price else None)
        out_price = _pick(output_per_1m, price.output_per_1m if price else None)
        cached_price = _pick(cached_input_per_1m, price.cached_input_per_1m if price else None)
        if in_price is None or out_price is None:
            raise ConfigError(
                "no inference price: give a model from the price table or both the input "
                "and output prices",
                hint="CLI: --model MODEL, or --input-price-per-1k and --output-price-per-1k",
            )
        if cached_input_tokens and cached_price is None:
            cached_price = in_price
        fresh = input_tokens - cached_input_tokens
        per_request = (
            Decimal(fresh) * in_price
            + Decimal(cached_input_tokens) * (cached_price or Decimal(0))
            + Decimal(output_tokens) * out_price
        ) / _MILLION
        daily = per_request * requests_per_day
        return UsageEstimate(
            model=price.model if price else None,
            input_tokens=input_tokens,
            cached_input_tokens=cached_input_tokens,
            output_tokens=output_tokens,
            requests_per_day=requests_per_day,
            days=days,
            input_per_1m=in_price,
            cached_input_per_1m=cached_price if cached_input_tokens else None,
            output_per_1m=out_price,
            cost_per_request=_normal(per_request),
            daily_cost=_normal(daily),
            period_cost=_normal(daily * days),
            currency=price.currency if price else self.prices.currency,
            prices_as_of=price.as_of if price else None,
        )

    def _scan_file(
        self,
        path: Path,
        model: str,
        method: Method | None,
        tokenizer: Tokenizer | _OpenCounter,
        jobs: int | None,
        progress: ProgressCallback | None,
    ) -> _ScanResult:
        try:
            size = path.stat().st_size
        except FileNotFoundError as exc:
            raise DataError("file not found", file=path, hint="check the path") from exc
        except OSError as exc:
            raise DataError(f"cannot read file: {exc.strerror}", file=path) from exc
        if path.is_dir():
            raise DataError("is a directory, not a file", file=path)
        workers = jobs if jobs is not None else (os.cpu_count() or 1)
        file = str(path)
        limit = tokenizer.example_limit
        # only tiktoken counts have a fast twin; open models count in their own chat format
        fast = isinstance(tokenizer, Tokenizer) and size >= FAST_COUNT_MIN_BYTES
        if fast and isinstance(tokenizer, Tokenizer):  # loaded before the pool forks: shared
            tokenizer = Tokenizer(
                tokenizer.encoding_name, model=tokenizer.model, example_limit=limit, fast=True
            )
        if workers <= 1 or size < PARALLEL_MIN_BYTES or not _ships_to_workers(self.validator):
            spec = _ScanSpec(model, method, None, file, limit)
            lines: Iterable[Line] = iter_jsonl(path)
            if progress is not None:
                lines = _tracked(lines, size, progress)
            return _scan(self.validator, lines, tokenizer, spec, track_duplicates=False)

        fmt = None if method is not None else _first_format(file)
        spec = _ScanSpec(model, method, fmt, file, limit)
        n_parts = workers * max(1, math.ceil(size / (_CHUNK_BYTES * workers)))
        ranges = split_ranges(path, n_parts)
        with ProcessPoolExecutor(
            max_workers=min(workers, len(ranges)),
            initializer=_init_worker,
            initargs=(
                tokenizer.encoding_name if isinstance(tokenizer, Tokenizer) else tokenizer.chat,
                self.validator,
                fast,
            ),
        ) as pool:
            futures = [pool.submit(_scan_range, file, s, e, spec) for s, e in ranges]
            return _merge(_in_order(futures, ranges, size, progress))


def _chat_tokenizer(
    model: str, tokenizer: str | os.PathLike[str] | ChatTokenizer | None, token_limit: int | None
) -> ChatTokenizer | None:
    """The chat tokenizer of an open model (or of ``tokenizer``); ``None``: the OpenAI path."""
    if tokenizer is None:
        if open_model_info(model) is None:
            return None
        return tokenizer_for_model(model, max_length=token_limit)
    if isinstance(tokenizer, str | os.PathLike):
        return tokenizer_for_model(model, tokenizer=os.fspath(tokenizer), max_length=token_limit)
    if token_limit is not None:
        raise ConfigError(
            "token_limit cannot change a ready tokenizer's maximum length",
            hint="build the tokenizer with max_length=... instead",
        )
    return tokenizer


def _check_arguments(n_epochs: int | None, jobs: int | None, token_limit: int | None) -> None:
    """The estimate's own argument checks (before anything is read)."""
    if n_epochs is not None and not 1 <= n_epochs <= 50:
        raise ConfigError(f"n_epochs must be between 1 and 50, not {n_epochs}")
    if jobs is not None and jobs < 1:
        raise ConfigError(f"jobs must be at least 1, not {jobs}")
    if token_limit is not None and token_limit < 1:
        raise ConfigError(f"token_limit must be at least 1, not {token_limit}")


def _method_of(state: _FileState) -> str:
    """The method matching the file's most common format (when no method was asked for)."""
    common = state.formats.most_common(1)
    return "dpo" if common and common[0][0] == "preference" else "supervised"


def _in_order(
    futures: list[Future[_ScanResult]],
    ranges: list[tuple[int, int]],
    total: int,
    progress: ProgressCallback | None,
) -> Iterator[_ScanResult]:
    """Yield results in file order, reporting progress as any range completes."""
    sizes = {id(f): e - s for f, (s, e) in zip(futures, ranges, strict=True)}
    pending = set(futures)
    done_bytes = 0

    def settle(finished: Iterable[Future[_ScanResult]]) -> None:
        nonlocal done_bytes
        for f in finished:
            if f in pending:
                pending.discard(f)
                done_bytes += sizes[id(f)]
                if progress is not None:
                    progress(done_bytes, total)

    for fut in futures:
        while not fut.done():
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            settle(finished)
        settle([fut])
        yield fut.result()


def _object_lines(items: Iterable[Any]) -> Iterator[Line]:
    for i, item in enumerate(items):
        value = item.to_dict() if hasattr(item, "to_dict") else item
        yield Line(i + 1, b"", value, None)
