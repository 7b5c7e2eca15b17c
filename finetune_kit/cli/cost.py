"""Cost commands: ``estimate`` (training), ``usage`` (inference) and ``prices`` (the table).

Prices on the command line are in USD **per 1M tokens**, like OpenAI's price list, ``prices``
and ``prices.json``; each price option has an explicit per-1K twin (``--training-price-per-1k``)
for prices quoted that way. ``--format json`` prints one JSON object; money in it is a plain
number in USD.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from finetune_kit.cli._common import (
    EXIT_FINDINGS,
    FORMAT_OPTION,
    OutputFormat,
    app,
    console,
    dask_options,
    err_console,
    errors_as_exit,
    fail,
    on_dask,
    print_json,
)
from finetune_kit.cli._options import (
    CONVENTIONS,
    ENGINE,
    EPOCHS,
    JOBS,
    METHOD,
    PROVIDER,
    SCHEDULER,
    TOKENIZER,
    Engine,
    MethodChoice,
    PIIChoice,
    Provider,
    file_argument,
    model_option,
    pii_option,
    price_options,
)
from finetune_kit.errors import ConfigError

if TYPE_CHECKING:
    from finetune_kit.validation.engine import Method

__all__ = ["estimate_command", "prices_command", "usage_command"]

_SHOWN_FINDINGS = 20
_METHOD_LABELS = {"supervised": "SFT", "dpo": "DPO", "vision": "vision"}


_TRAINING_PRICE, _TRAINING_PRICE_1K = price_options()
_INPUT_PRICE, _INPUT_PRICE_1K = price_options("input")
_OUTPUT_PRICE, _OUTPUT_PRICE_1K = price_options("output")
_PRICES_AS_OF = CONVENTIONS["prices_as_of"].option()


def _per_1m(per_1m: str | None, per_1k: str | None, what: str | None) -> Decimal | None:
    """The per-1M ``Decimal`` of a price typed per 1M or (explicitly) per 1K tokens."""
    name = f"--{what}-price" if what else "--price"
    if per_1m is not None and per_1k is not None:
        fail(f"give {name}-per-1m or {name}-per-1k, not both")
    if per_1m is None and per_1k is None:
        return None
    from finetune_kit.catalog.prices import to_decimal

    unit, text, factor = ("1M", per_1m, 1) if per_1m is not None else ("1K", per_1k, 1000)
    assert text is not None
    try:
        return to_decimal(text.strip()) * factor
    except ConfigError:
        example = "2.50" if unit == "1M" else "0.0025"
        fail(
            f"{name}-per-{unit.lower()} must be a price in USD per {unit} tokens, "
            f"like {example} (got {text!r})"
        )


class _ProgressBar:
    """A rich progress bar on stderr, started on the first update (after workers exist)."""

    def __init__(self) -> None:
        self._progress: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._progress is None:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("validating and counting"),
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("estimate", total=total)
        self._progress.update(self._task, completed=done)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def _price(value: Decimal | None) -> str:
    """``$0.40``, ``$1.875``, ``$25.00``: at least cents, never an exponent."""
    if value is None:
        return "—"
    text = f"{value.normalize():f}"
    whole, _, frac = text.partition(".")
    return f"${whole}.{frac.ljust(2, '0')}"


def _finding_text(finding: Any) -> str:
    """``line 7 messages[1]: [code] message — hint``; file-wide findings without a place."""
    where = f"line {finding.line}" if finding.line is not None else ""
    if where and finding.field:
        where += f" {finding.field}"
    text = f"[{finding.code}] {finding.message} — {finding.hint}"
    return f"{where}: {text}" if where else text


def _print_findings(title: str, findings: list[Any], style: str) -> None:
    if not findings:
        return
    console.print(f"[{style}]{title} ({len(findings):,})[/]")
    for f in findings[:_SHOWN_FINDINGS]:
        console.print(f"  {_finding_text(f)}", soft_wrap=True, markup=False)
    if len(findings) > _SHOWN_FINDINGS:
        console.print(
            f"  … and {len(findings) - _SHOWN_FINDINGS:,} more "
            "(`finetune-kit validate FILE` or --format json lists them all)"
        )


@app.command("estimate")
def estimate_command(
    file: Annotated[
        str,
        file_argument(
            "The JSONL training file (never modified); with --engine dask also JSONL or "
            "Parquet globs, folders and s3:// or gs:// URLs."
        ),
    ],
    model: Annotated[str, model_option("Base model: alias, snapshot or ft: name.")],
    epochs: Annotated[int | None, EPOCHS] = None,
    method: Annotated[MethodChoice | None, METHOD] = None,
    price_per_1m: Annotated[str | None, _TRAINING_PRICE] = None,
    price_per_1k: Annotated[str | None, _TRAINING_PRICE_1K] = None,
    prices_as_of: Annotated[str | None, _PRICES_AS_OF] = None,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
    jobs: Annotated[int | None, JOBS] = None,
    pii: Annotated[
        PIIChoice, pii_option("Also look for personal data (off: pricing does not need it).")
    ] = PIIChoice.off,
    provider: Annotated[Provider, PROVIDER] = Provider.openai,
    tokenizer: Annotated[str | None, TOKENIZER] = None,
    engine: Annotated[Engine, ENGINE] = Engine.local,
    scheduler: Annotated[str | None, SCHEDULER] = None,
) -> None:
    """Validate, count tokens and price a training job in one pass.

    --provider prices with that provider's table and checks with its rules. Open-weight
    models (e.g. openai/gpt-oss-20b) are counted in their own tokens after their chat format,
    with trainable tokens reported; --tokenizer overrides the tokenizer.

    Exit code 1 when the file has validation errors (the estimate still covers every example
    that could be counted), 2 on bad input (missing file, unknown model).
    """
    from finetune_kit.cost.estimator import PARALLEL_MIN_BYTES, CostEstimator
    from finetune_kit.validation.engine import Validator

    training_per_1m = _per_1m(price_per_1m, price_per_1k, None)
    dask = on_dask(engine, scheduler, jobs=jobs)
    validator = Validator(pii=pii.value, profile=provider.value)
    bar: _ProgressBar | None = None
    path = Path(file)
    try:
        big = path.is_file() and path.stat().st_size >= PARALLEL_MIN_BYTES
    except OSError:
        big = False
    if big and err_console.is_terminal and not dask:
        bar = _ProgressBar()
    try:
        with errors_as_exit():
            estimator = CostEstimator(
                provider=provider.value, as_of=prices_as_of, validator=validator
            )
            method_name: Method | None = None if method is None else method.value
            asked: dict[str, Any] = {
                "n_epochs": epochs,
                "method": method_name,
                "tokenizer": tokenizer,
                "training_per_1m": training_per_1m,
            }
            if dask:
                from finetune_kit.engines import dask as on_cluster

                options = dask_options(scheduler, jobs, output_format)
                result = on_cluster.estimate(file, model, estimator=estimator, **asked, **options)
            else:
                result = estimator.estimate_training(path, model, jobs=jobs, progress=bar, **asked)
    finally:
        if bar is not None:
            bar.close()
    if output_format is OutputFormat.json:
        print_json(result.to_dict())
    else:
        console.print(result)
        _print_findings("errors", result.errors, "bold red")
        _print_findings("warnings", result.warnings, "yellow")
        verdict = "[bold red]NOT OK[/]" if result.errors else "[bold green]OK[/]"
        console.print(f"{verdict}: {result.summary()}", soft_wrap=True)
    if result.errors:
        raise typer.Exit(EXIT_FINDINGS)


@app.command("usage")
def usage_command(
    input_tokens: Annotated[int, CONVENTIONS["input_tokens"].option()],
    output_tokens: Annotated[int, CONVENTIONS["output_tokens"].option()],
    requests_per_day: Annotated[int, CONVENTIONS["requests_per_day"].option()],
    days: Annotated[int, typer.Option("--days", min=1, help="Days in the period.")] = 30,
    model: Annotated[
        str | None,
        CONVENTIONS["model"].option(
            "Fine-tuned model or its base (its prices come from the table).",
            default_text="none: give both prices",
        ),
    ] = None,
    input_price_per_1m: Annotated[str | None, _INPUT_PRICE] = None,
    input_price_per_1k: Annotated[str | None, _INPUT_PRICE_1K] = None,
    output_price_per_1m: Annotated[str | None, _OUTPUT_PRICE] = None,
    output_price_per_1k: Annotated[str | None, _OUTPUT_PRICE_1K] = None,
    cached_input_tokens: Annotated[
        int,
        typer.Option(
            "--cached-input-tokens", min=0, help="Of the input, tokens hitting the cache."
        ),
    ] = 0,
    prices_as_of: Annotated[str | None, _PRICES_AS_OF] = None,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Project what calling a fine-tuned model costs per request, per day and per period.

    Give --model, or both an input and an output price (per 1M tokens, or per 1K with the
    -per-1k options); explicit prices win over the table.
    """
    from finetune_kit.cost.estimator import CostEstimator

    in_1m = _per_1m(input_price_per_1m, input_price_per_1k, "input")
    out_1m = _per_1m(output_price_per_1m, output_price_per_1k, "output")
    if model is None and (in_1m is None or out_1m is None):
        fail("give --model, or both --input-price-per-1m and --output-price-per-1m")
    with errors_as_exit():
        result = CostEstimator(as_of=prices_as_of).estimate_usage(
            input_tokens,
            output_tokens,
            requests_per_day,
            days,
            model,
            cached_input_tokens=cached_input_tokens,
            input_per_1m=in_1m,
            output_per_1m=out_1m,
        )
    if output_format is OutputFormat.json:
        print_json(result.to_dict())
    else:
        console.print(result)


@app.command("prices")
def prices_command(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", metavar="DATE", help="Prices as they were on DATE.", show_default="today"
        ),
    ] = None,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """List the bundled fine-tuning prices (USD per 1M tokens) with their as-of date."""
    from rich import box
    from rich.table import Table

    from finetune_kit.catalog.prices import PriceTable

    with errors_as_exit():
        table = PriceTable.load(as_of=as_of)
        rows = table.rows()
    if output_format is OutputFormat.json:
        print_json(table.to_dict())
        return

    grid = Table(
        title=f"Fine-tuning prices, {table.currency} per 1M tokens, as of {table.date.isoformat()}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    cells = [
        [
            r.model,
            _price(r.training_per_1m),
            _price(r.input_per_1m),
            _price(r.cached_input_per_1m),
            _price(r.output_per_1m),
            f"{r.example_token_limit:,}" if r.example_token_limit else "—",
            " ".join(_METHOD_LABELS.get(m, m) for m in r.methods),
            r.as_of.isoformat(),
        ]
        for r in rows
    ]
    headers = ["model", "train", "input", "cached", "output", "limit", "methods", "since"]
    for i, name in enumerate(headers):
        # Names and figures never shrink (a cut price misleads); methods and dates fold.
        width = max([len(name), *(len(c[i]) for c in cells)])
        folds = name in ("methods", "since")
        grid.add_column(
            name,
            justify="left" if folds or name == "model" else "right",
            min_width=None if folds else width,
            overflow="fold",
        )
    for row in cells:
        grid.add_row(*row)
    console.print(grid)
    aliases = ", ".join(f"{a} → {t}" for a, t in sorted(table.aliases().items()))
    if aliases:
        console.print(f"aliases: {aliases}", soft_wrap=True)
    console.print(
        "limit = training tokens per example; SFT = supervised; sources of every entry: "
        "`finetune-kit prices --format json`",
        soft_wrap=True,
    )


if __name__ == "__main__":  # pragma: no cover - lets benchmarks run the commands directly
    app()
