"""Where to train next, and what it costs: one dataset priced for several providers' models.

[`compare`][finetune_kit.compare] reads the file **once** (the lines are parsed a single time)
and then, for every ``provider:model`` target, runs the estimator on those lines with that
provider's validation profile, tokenizer, limits, default epochs and prices. So each target's
figures are exactly what ``finetune-kit estimate --provider P -m M`` prints. Then it adds:

- **usage**: input tokens x input price + output tokens x output price per request, per 1,000
  requests and per month (requests per day x days per month), the seed's arithmetic;
- **hosting**: the hourly fee of a deployed fine-tune (Azure's $1.70/h) x hours per month;
- **lifecycle**: the last day for new training jobs and the day the model (Azure: the
  fine-tuned deployment) stops;
- **total** over a horizon of months: training + months x (usage + hosting), the sort key.

Every price carries its as-of date, its source and a status: ``confirmed``, ``unconfirmed``
(marked ``?`` in tables), ``given`` (yours) or ``unknown`` (no figure: the total is then
incomplete and shown as a lower bound, after the complete ones).

Examples:
    >>> from finetune_kit import Dataset, compare
    >>> rows = Dataset.sample().to_records()
    >>> result = compare(rows, ["openai:gpt-4.1-mini", "together:openai/gpt-oss-20b"])
    >>> [(r.target.provider, r.estimate.n_epochs, r.complete) for r in result.rows]
    [('openai', 3, True), ('together', 1, False)]

    Together's table has no inference price (its total is incomplete, so it comes second);
    ``input_per_1m=`` and ``output_per_1m=`` give one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from finetune_kit.catalog.prices import to_decimal
from finetune_kit.catalog.providers import provider_terms, tunable_models
from finetune_kit.cost.estimator import (
    CostEstimator,
    TrainingEstimate,
    UsageEstimate,
    _fmt_money,
    _money,
    _normal,
    _object_lines,
)
from finetune_kit.errors import ConfigError, UnknownModelError
from finetune_kit.reading import Line, iter_jsonl
from finetune_kit.validation.engine import Finding, Severity

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import RenderableType

    from finetune_kit.dataset import Dataset
    from finetune_kit.schema import Example, PreferenceExample
    from finetune_kit.validation.engine import Method

__all__ = [
    "DEFAULT_TARGETS",
    "Comparison",
    "PricePoint",
    "Target",
    "TargetCost",
    "compare",
]

DEFAULT_TARGETS = (
    "openai:gpt-4.1-mini-2025-04-14",
    "azure:gpt-4.1-mini-2025-04-14",
    "together:openai/gpt-oss-20b",
    "fireworks:accounts/fireworks/models/gpt-oss-20b",
)
"""What ``compare`` prices when no target is given: one model on each provider."""

_PROVIDERS = ("openai", "azure", "together", "fireworks")
_WORST = 3  # findings shown per target, errors first
_HOURS_PER_DAY = 24

Status = Literal["confirmed", "unconfirmed", "given", "unknown"]
"""How sure a figure is: from a source, a best guess, yours, or not known at all."""
_MARKS = {"confirmed": "", "unconfirmed": "?", "given": "!", "unknown": ""}


@dataclass(frozen=True)
class Target:
    """One place to train: a provider and its name for the model.

    Attributes:
        provider: ``openai``, ``azure``, ``together`` or ``fireworks``.
        model: The provider's model id (``gpt-4.1-mini``, ``openai/gpt-oss-20b``,
            ``accounts/fireworks/models/gpt-oss-20b``).
    """

    provider: str
    model: str

    @classmethod
    def parse(cls, text: str | Target) -> Target:
        """``PROVIDER:MODEL`` (split at the first colon, so ``ft:`` names work) as a target.

        Raises:
            ConfigError: No colon, or an unknown provider.
        """
        if isinstance(text, Target):
            return text
        provider, sep, model = text.strip().partition(":")
        provider = provider.strip().lower()
        if not sep or not model.strip():
            raise ConfigError(
                f"target {text!r} is not PROVIDER:MODEL",
                field="to",
                hint="e.g. together:openai/gpt-oss-20b or azure:gpt-4.1-mini",
            )
        if provider not in _PROVIDERS:
            raise ConfigError(
                f"target {text!r}: unknown provider {provider!r}",
                field="to",
                hint=f"use one of {', '.join(_PROVIDERS)}",
            )
        return cls(provider, model.strip())

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"


@dataclass(frozen=True)
class PricePoint:
    """One price used, with where it comes from.

    Attributes:
        what: ``training``, ``input``, ``output`` or ``hosting``.
        amount: USD per ``unit`` (``None``: not known).
        unit: ``1M tokens`` or ``hour``.
        as_of: The day the figure is from (``None`` when it is not known).
        source: Where it comes from (a public page, or that you gave it).
        status: ``confirmed``, ``unconfirmed``, ``given`` or ``unknown``.
    """

    what: str
    amount: Decimal | None
    unit: str
    as_of: dt.date | None
    source: str
    status: Status

    def cell(self) -> str:
        """``$5.00/1M · 2025-04-14``, with ``?`` when unconfirmed and ``!`` when yours."""
        if self.amount is None:
            return "unknown"
        unit = "/1M" if self.unit == "1M tokens" else "/h"
        when = f" · {self.as_of.isoformat()}" if self.as_of else ""
        return f"{_fmt_money(self.amount)}{_MARKS[self.status]}{unit}{when}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "what": self.what,
            "amount": _money(self.amount) if self.amount is not None else None,
            "unit": self.unit,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "source": self.source,
            "status": self.status,
        }


@dataclass(frozen=True)
class TargetCost:
    """One target's figures (a column of the terminal table, a row of the DataFrame).

    Attributes:
        target: The provider and model.
        title: The provider's name for people.
        estimate: The training estimate, exactly as ``estimate`` makes it for this provider
            (with trainable tokens for OpenAI models too).
        finding_counts: Validation findings by code.
        worst: The worst findings (errors first, in line order).
        usage: The usage projection per month, ``None`` without inference prices.
        prices: Every price used (training, input, output, hosting).
        hosting_per_month: Hosting fee per month (0: none; ``None``: charged, not known).
        total: Training + months x (usage + hosting) per month, of the known parts.
        missing: What the total leaves out because it is not known.
        training_available_until: The first day no new job can be created, if announced.
        shutdown_date: The first day the model (Azure: its fine-tuned deployment) stops.
        lifecycle_source: Where those dates come from.
        epochs_status: ``confirmed`` or ``unconfirmed`` (the provider's default epochs).
        limit_status: ``confirmed`` or ``unconfirmed`` (the per-example length limit).
        notes: What to know before choosing this target.
    """

    target: Target
    title: str
    estimate: TrainingEstimate = field(repr=False)
    finding_counts: Mapping[str, int]
    worst: tuple[Finding, ...]
    usage: UsageEstimate | None
    prices: tuple[PricePoint, ...]
    hosting_per_month: Decimal | None
    total: Decimal
    missing: tuple[str, ...]
    training_available_until: dt.date | None
    shutdown_date: dt.date | None
    lifecycle_source: str
    epochs_status: Status
    limit_status: Status
    notes: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """True when every part of the total is known."""
        return not self.missing

    @property
    def cost_per_1k_requests(self) -> Decimal | None:
        """What 1,000 requests cost (``None`` without inference prices)."""
        return _normal(self.usage.cost_per_request * 1000) if self.usage is not None else None

    @property
    def usage_per_month(self) -> Decimal | None:
        """What a month of requests costs (``None`` without inference prices)."""
        return self.usage.period_cost if self.usage is not None else None

    def price(self, what: str) -> PricePoint:
        """The price used for ``training``, ``input``, ``output`` or ``hosting``."""
        return next(p for p in self.prices if p.what == what)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (money rounded to 6 places)."""
        est = self.estimate

        def money(value: Decimal | None) -> float | None:
            return _money(value) if value is not None else None

        return {
            "provider": self.target.provider,
            "model": self.target.model,
            "title": self.title,
            "base_model": est.base_model,
            "chat_format": est.chat_format,
            "method": est.method,
            "errors": len(est.errors),
            "warnings": len(est.warnings),
            "finding_counts": dict(self.finding_counts),
            "worst_findings": [f.to_dict() for f in self.worst],
            "n_examples": est.n_examples,
            "n_skipped": est.n_skipped,
            "billed_tokens_per_epoch": est.billed_tokens_per_epoch,
            "trainable_tokens_per_epoch": est.trainable_tokens_per_epoch,
            "token_limit": est.token_limit,
            "token_limit_status": self.limit_status,
            "n_truncated": est.n_truncated,
            "n_epochs": est.n_epochs,
            "epochs_from_default": est.epochs_from_default,
            "epochs_status": self.epochs_status,
            "training_tokens": est.training_tokens,
            "training_cost": money(est.training_cost),
            "cost_per_1k_requests": money(self.cost_per_1k_requests),
            "usage_per_month": money(self.usage_per_month),
            "hosting_per_month": money(self.hosting_per_month),
            "total": _money(self.total),
            "complete": self.complete,
            "missing": list(self.missing),
            "prices": [p.to_dict() for p in self.prices],
            "training_available_until": _iso(self.training_available_until),
            "shutdown_date": _iso(self.shutdown_date),
            "lifecycle_source": self.lifecycle_source,
            "notes": list(self.notes),
        }


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value is not None else "none announced"


def _finding_line(f: Finding) -> str:
    where = f"line {f.line}" if f.line is not None else "file"
    return f"{where}: {f.severity.value} [{f.code}] {f.message}"


@dataclass(frozen=True)
class Comparison:
    """One dataset priced for several targets, cheapest total first.

    Attributes:
        rows: One [`TargetCost`][finetune_kit.TargetCost] per target: complete totals
            from cheapest, then incomplete ones (lower bounds) from cheapest.
        months: The horizon the totals cover.
        input_tokens: Input tokens per request assumed.
        output_tokens: Output tokens per request assumed.
        requests_per_day: Requests per day assumed.
        days_per_month: Days per month (the seed's 30).
        hosting_hours_per_month: Hours a deployment is billed per month (24 x days).
        today: The day prices and dates are judged on.
        source: The file compared, if any.
    """

    rows: tuple[TargetCost, ...]
    months: int
    input_tokens: int
    output_tokens: int
    requests_per_day: int
    days_per_month: int
    hosting_hours_per_month: int
    today: dt.date
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (the ``compare --format json`` contract)."""
        return {
            "source": self.source,
            "today": self.today.isoformat(),
            "months": self.months,
            "assumptions": {
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens,
                "requests_per_day": self.requests_per_day,
                "days_per_month": self.days_per_month,
                "hosting_hours_per_month": self.hosting_hours_per_month,
            },
            "currency": "USD",
            "targets": [r.to_dict() for r in self.rows],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The same data as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_dataframe(self) -> pd.DataFrame:
        """One row per target (flat columns of ``to_dict``), in the sorted order."""
        import pandas as pd

        records = []
        for row in self.rows:
            data = row.to_dict()
            prices = data.pop("prices")
            data.pop("worst_findings")
            data["finding_counts"] = ", ".join(f"{k}: {v}" for k, v in row.finding_counts.items())
            data["notes"] = "; ".join(row.notes)
            data["missing"] = ", ".join(row.missing)
            for p in prices:
                data[f"{p['what']}_price"] = p["amount"]
                data[f"{p['what']}_price_as_of"] = p["as_of"]
                data[f"{p['what']}_price_status"] = p["status"]
            records.append(data)
        frame: pd.DataFrame = pd.DataFrame.from_records(records)
        return frame

    def summary(self) -> str:
        """One line: the cheapest complete target and its total."""
        best = next((r for r in self.rows if r.complete), None)
        if best is None:
            return f"{len(self.rows)} targets; no total is complete (prices missing)"
        return (
            f"cheapest over {self.months} month(s): {best.target} at "
            f"{_fmt_money(best.total)} ({len(self.rows)} targets)"
        )

    def _cells(self) -> tuple[list[str], list[tuple[str, list[str]]]]:
        """The column titles and the labelled rows of the table (shared by text and HTML)."""
        heads = [f"{r.title}\n{r.target.model}" for r in self.rows]
        m = self.months

        def est(fn: Any) -> list[str]:
            return [fn(r) for r in self.rows]

        def money(value: Decimal | None) -> str:
            return _fmt_money(value) if value is not None else "unknown"

        def findings(r: TargetCost) -> str:
            return ", ".join(f"{code} x{n:,}" for code, n in r.finding_counts.items()) or "none"

        def mark(text: str, status: Status) -> str:
            return f"{text}{_MARKS[status]}"

        rows: list[tuple[str, list[str]]] = [
            ("rank", [str(i) for i, _ in enumerate(self.rows, 1)]),
            (
                f"total, {m} month(s)",
                est(lambda r: money(r.total) if r.complete else f">= {money(r.total)}"),
            ),
            (
                "errors / warnings",
                est(lambda r: f"{len(r.estimate.errors):,} / {len(r.estimate.warnings):,}"),
            ),
            ("findings by code", est(findings)),
            ("examples counted", est(lambda r: f"{r.estimate.n_examples:,}")),
            ("chat format", est(lambda r: r.estimate.chat_format)),
            ("billed tokens / epoch", est(lambda r: f"{r.estimate.billed_tokens_per_epoch:,}")),
            (
                "trainable tokens / epoch",
                est(
                    lambda r: (
                        f"{r.estimate.trainable_tokens_per_epoch:,}"
                        if r.estimate.trainable_tokens_per_epoch is not None
                        else "unknown"
                    )
                ),
            ),
            (
                "length limit (truncated)",
                est(
                    lambda r: (
                        (
                            mark(f"{r.estimate.token_limit:,}", r.limit_status)
                            if r.estimate.token_limit
                            else "unknown"
                        )
                        + f" ({r.estimate.n_truncated:,})"
                    )
                ),
            ),
            (
                "epochs",
                est(
                    lambda r: (
                        mark(str(r.estimate.n_epochs), r.epochs_status)
                        + (f" ({r.estimate.epochs_note})" if r.estimate.epochs_from_default else "")
                    )
                ),
            ),
            ("training tokens", est(lambda r: f"{r.estimate.training_tokens:,}")),
            ("training price", est(lambda r: r.price("training").cell())),
            ("training cost", est(lambda r: money(r.estimate.training_cost))),
            ("input price", est(lambda r: r.price("input").cell())),
            ("output price", est(lambda r: r.price("output").cell())),
            ("usage per 1,000 requests", est(lambda r: money(r.cost_per_1k_requests))),
            ("usage per month", est(lambda r: money(r.usage_per_month))),
            ("hosting price", est(lambda r: r.price("hosting").cell())),
            ("hosting per month", est(lambda r: money(r.hosting_per_month))),
            ("training available until", est(lambda r: _day(r.training_available_until))),
            ("model shutdown", est(lambda r: _day(r.shutdown_date))),
        ]
        return heads, rows

    def _legend(self) -> list[str]:
        """The lines under the table: assumptions, marks, findings, notes, sources."""
        out = [
            (
                f"usage: {self.input_tokens:,} input + {self.output_tokens:,} output tokens per "
                f"request, {self.requests_per_day:,} requests/day, "
                f"{self.days_per_month} days/month; "
                f"hosting {self.hosting_hours_per_month:,} h/month; totals = training + "
                f"{self.months} x (usage + hosting) per month"
            ),
            (
                "? unconfirmed (check with the provider)  ! given by you  "
                "· the date each price is from"
            ),
        ]
        for r in self.rows:
            for f in r.worst:
                out.append(f"{r.target}: {_finding_line(f)}")
            for note in r.notes:
                out.append(f"{r.target}: {note}")
        sources: dict[str, list[str]] = {}  # source -> what it prices, in order
        for r in self.rows:
            for p in r.prices:
                if p.status != "given" and (p.amount is not None or p.what == "hosting"):
                    sources.setdefault(p.source, []).append(f"{r.title} {p.what}")
        out.extend(f"source of {', '.join(whats)}: {s}" for s, whats in sources.items())
        return out

    def __rich__(self) -> RenderableType:
        from rich import box
        from rich.console import Group
        from rich.table import Table
        from rich.text import Text

        heads, rows = self._cells()
        table = Table(
            title=f"Where to train: {self.source or 'the examples'}, as of {self.today}",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        table.add_column("", no_wrap=True)
        for head in heads:
            table.add_column(head, justify="right", overflow="fold")
        for label, values in rows:
            table.add_row(label, *values)
        return Group(table, *(Text(line) for line in self._legend()))

    def _repr_html_(self) -> str:
        from finetune_kit._html import table

        heads, rows = self._cells()
        html = table(
            ["", *heads], [[label, *values] for label, values in rows], caption=self.summary()
        )
        notes = "".join(f"<li>{_escape(line)}</li>" for line in self._legend())
        return f"{html}<ul>{notes}</ul>"


def _escape(text: str) -> str:
    from html import escape

    return escape(text)


# -- building the comparison -----------------------------------------------------------------


def _read_once(
    data: Dataset
    | str
    | os.PathLike[str]
    | Iterable[Example | PreferenceExample | Mapping[str, Any]],
) -> tuple[list[Line], str | None]:
    if isinstance(data, str | os.PathLike):
        return list(iter_jsonl(data)), str(data)
    return list(_object_lines(data)), None


def _training_point(est: TrainingEstimate, unconfirmed: bool) -> PricePoint:
    status: Status = (
        "unknown" if est.price_per_1m is None else "unconfirmed" if unconfirmed else "confirmed"
    )
    return PricePoint(
        "training",
        est.price_per_1m,
        "1M tokens",
        est.prices_as_of if est.price_per_1m is not None else None,
        est.price_source,
        status,
    )


def _usage(
    estimator: CostEstimator,
    model: str,
    input_tokens: int,
    output_tokens: int,
    requests_per_day: int,
    days: int,
    input_per_1m: Decimal | None,
    output_per_1m: Decimal | None,
) -> UsageEstimate | None:
    """The month of requests, or ``None`` when an inference price is missing."""
    try:
        return estimator.estimate_usage(
            input_tokens,
            output_tokens,
            requests_per_day,
            days,
            model,
            input_per_1m=input_per_1m,
            output_per_1m=output_per_1m,
        )
    except UnknownModelError:
        if input_per_1m is None or output_per_1m is None:
            return None
        return estimator.estimate_usage(
            input_tokens,
            output_tokens,
            requests_per_day,
            days,
            input_per_1m=input_per_1m,
            output_per_1m=output_per_1m,
        )
    except ConfigError:  # no inference price in the table and none given
        return None


def _inference_points(
    estimator: CostEstimator,
    model: str,
    given: Mapping[str, Decimal | None],
    unconfirmed: bool,
) -> list[PricePoint]:
    try:
        entry = estimator.prices.get(model)
    except UnknownModelError:
        entry = None
    out = []
    for what in ("input", "output"):
        mine = given[what]
        table_price = getattr(entry, f"{what}_per_1m") if entry is not None else None
        if mine is not None:
            out.append(PricePoint(what, mine, "1M tokens", None, "given by you", "given"))
        elif table_price is not None and entry is not None:
            status: Status = "unconfirmed" if unconfirmed else "confirmed"
            out.append(
                PricePoint(what, table_price, "1M tokens", entry.as_of, entry.source, status)
            )
        else:
            out.append(
                PricePoint(
                    what,
                    None,
                    "1M tokens",
                    None,
                    f"no fine-tuned inference price for {model} in the bundled table: "
                    "give one (--input-price-per-1m, --output-price-per-1m)",
                    "unknown",
                )
            )
    return out


def _lifecycle(
    target: Target, base_model: str, today: dt.date
) -> tuple[dt.date | None, dt.date | None, str]:
    """Last day for new jobs, shutdown (Azure: deployment retirement) and their source."""
    terms = provider_terms(target.provider)
    if terms.lifecycle == "openai":
        from finetune_kit.lifecycle import ModelLifecycle

        table = ModelLifecycle.load()
        entry = table.get(base_model)
        final = table.final_cutoff
        source = str(entry.source) if entry is not None else str(final.source) if final else ""
        return (
            table.training_cutoff(base_model, today=today),
            table.shutdown_date(base_model, today=today),
            source,
        )
    if terms.lifecycle == "azure":
        dates = terms.models.get(base_model)
        if dates is None:
            return None, None, f"no retirement dates for {base_model} in the bundled data"
        return dates.training_available_until, dates.deployment_retires, str(dates.source)
    return (
        None,
        None,
        f"the bundled data knows no retirement dates for {base_model} on {terms.title}",
    )


def _notes(
    row_target: Target,
    est: TrainingEstimate,
    training_until: dt.date | None,
    shutdown: dt.date | None,
    today: dt.date,
    horizon_end: dt.date,
    prices_note: str,
) -> list[str]:
    notes = []
    if training_until is not None and training_until <= today:
        notes.append(f"new training jobs are no longer possible (since {training_until})")
    elif training_until is not None:
        notes.append(f"train before {training_until} ({(training_until - today).days} days left)")
    if shutdown is not None and shutdown <= horizon_end:
        what = (
            "the fine-tuned deployment retires"
            if row_target.provider == "azure"
            else ("the model and its fine-tunes shut down")
        )
        notes.append(
            f"{what} on {shutdown}, before the horizon ends ({horizon_end}): "
            "the usage and hosting counted after that day cannot happen"
        )
    if prices_note:
        notes.append(prices_note)
    if est.n_skipped:
        notes.append(f"{est.n_skipped:,} example(s) with errors are not counted")
    return notes


def compare(
    data: Dataset
    | str
    | os.PathLike[str]
    | Iterable[Example | PreferenceExample | Mapping[str, Any]],
    targets: Sequence[str | Target] | None = None,
    *,
    months: int = 3,
    input_tokens: int = 4000,
    output_tokens: int = 4000,
    requests_per_day: int = 1000,
    days_per_month: int = 30,
    input_per_1m: Decimal | float | str | None = None,
    output_per_1m: Decimal | float | str | None = None,
    n_epochs: int | None = None,
    method: Method | None = None,
    prices_as_of: dt.date | str | None = None,
) -> Comparison:
    """Price one training file for several ``provider:model`` targets, reading it once.

    Each target is estimated as ``estimate --provider P -m M`` does it (its validation
    profile, tokenizer and chat format, length limit, default epochs and training price), then
    its usage, hosting and lifecycle are added and the targets are sorted by their total over
    ``months``.

    Args:
        data: A JSONL path, a [`Dataset`][finetune_kit.Dataset], or examples.
        targets: ``PROVIDER:MODEL`` strings or [`Target`][finetune_kit.move.Target]s
            (default: [`DEFAULT_TARGETS`][finetune_kit.move.DEFAULT_TARGETS], one model on
            each of OpenAI, Azure, Together and Fireworks).
        months: The horizon of the totals.
        input_tokens: Input tokens per request (the default is the seed's scenario).
        output_tokens: Output tokens per request.
        requests_per_day: Requests per day.
        days_per_month: Days in a month.
        input_per_1m: Inference input price per 1M tokens for every target, instead of the
            tables' (Together's and Fireworks' have none).
        output_per_1m: Inference output price per 1M tokens for every target.
        n_epochs: Epochs for every target (default: each provider's own default).
        method: ``supervised`` or ``dpo`` (default: detected from the file).
        prices_as_of: Use prices and dates as they were on this day (default: today).

    Returns:
        The [`Comparison`][finetune_kit.Comparison], cheapest complete total first.

    Raises:
        ConfigError: A bad target, count or price.
        UnknownModelError: A model a provider does not list.
        DataError: The file cannot be read.
        TokenizerUnavailable: A model's tokenizer cannot be loaded.
    """
    for name, value in (
        ("months", months),
        ("days_per_month", days_per_month),
    ):
        if value < 1:
            raise ConfigError(f"{name} must be at least 1, not {value}")
    if n_epochs is not None and not 1 <= n_epochs <= 50:
        raise ConfigError(f"n_epochs must be between 1 and 50, not {n_epochs}")
    parsed = [Target.parse(t) for t in (targets if targets else DEFAULT_TARGETS)]
    given = {
        "input": to_decimal(input_per_1m) if input_per_1m is not None else None,
        "output": to_decimal(output_per_1m) if output_per_1m is not None else None,
    }
    lines, source = _read_once(data)
    estimators: dict[str, CostEstimator] = {}
    hours = _HOURS_PER_DAY * days_per_month
    rows: list[TargetCost] = []
    today: dt.date | None = None
    for target in parsed:
        estimator = estimators.get(target.provider)
        if estimator is None:
            estimator = CostEstimator(provider=target.provider, as_of=prices_as_of)
            estimators[target.provider] = estimator
        today = estimator.prices.date
        terms = estimator.terms
        est = estimator._estimate_lines(
            lines,
            target.model,
            n_epochs=n_epochs,
            method=method,
            source=source,
            trainable=True,
        )
        usage = _usage(
            estimator,
            target.model,
            input_tokens,
            output_tokens,
            requests_per_day,
            days_per_month,
            given["input"],
            given["output"],
        )
        tunable = tunable_models(target.provider).get(est.base_model)
        guessed = set(terms.unconfirmed) | set(tunable.unconfirmed if tunable else ())
        hosting = terms.hosting
        hosting_month = hosting.per_hour * hours if hosting.per_hour is not None else None
        prices = [
            _training_point(est, unconfirmed=bool({"training_price", "prices"} & guessed)),
            *_inference_points(
                estimator,
                target.model,
                given,
                unconfirmed=bool({"inference_price", "prices"} & guessed),
            ),
            PricePoint(
                "hosting",
                hosting.per_hour,
                "hour",
                hosting.as_of,
                str(hosting.source),
                "unknown"
                if hosting.per_hour is None
                else "unconfirmed"
                if "hosting" in guessed
                else "confirmed",
            ),
        ]
        missing = []
        if est.training_cost is None:
            missing.append("training price")
        if usage is None:
            missing.append("inference price")
        if hosting_month is None:
            missing.append("hosting price")
        total = (
            (est.training_cost or Decimal(0))
            + months * (usage.period_cost if usage is not None else Decimal(0))
            + months * (hosting_month or Decimal(0))
        )
        until, shutdown, lifecycle_source = _lifecycle(target, est.base_model, today)
        horizon_end = today + dt.timedelta(days=months * days_per_month)
        counts = Counter(f.code for f in est.findings)
        worst = sorted(
            est.findings,
            key=lambda f: (f.severity is not Severity.ERROR, f.line if f.line else 0),
        )[:_WORST]
        rows.append(
            TargetCost(
                target=target,
                title=terms.title,
                estimate=est,
                finding_counts=dict(counts.most_common()),
                worst=tuple(worst),
                usage=usage,
                prices=tuple(prices),
                hosting_per_month=hosting_month,
                total=total,
                missing=tuple(missing),
                training_available_until=until,
                shutdown_date=shutdown,
                lifecycle_source=lifecycle_source,
                epochs_status="unconfirmed" if "epochs" in guessed else "confirmed",
                limit_status=(
                    "unconfirmed"
                    if {"context_sft", "example_token_limit"} & guessed
                    else "confirmed"
                ),
                notes=tuple(
                    _notes(
                        target,
                        est,
                        until,
                        shutdown,
                        today,
                        horizon_end,
                        terms.prices_note,
                    )
                ),
            )
        )
    rows.sort(key=lambda r: (not r.complete, r.total))
    return Comparison(
        rows=tuple(rows),
        months=months,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        requests_per_day=requests_per_day,
        days_per_month=days_per_month,
        hosting_hours_per_month=hours,
        today=today or dt.date.today(),
        source=source,
    )
