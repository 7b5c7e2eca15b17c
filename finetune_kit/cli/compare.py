"""``finetune-kit compare``: where to train next — one file priced for several providers' models.

The file is read once; each ``--to PROVIDER:MODEL`` gets that provider's findings, tokens,
default epochs, training cost, usage and hosting per month and lifecycle dates, sorted by the
total over ``--months``. Prices are per 1M tokens, like ``estimate`` and ``usage``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from finetune_kit.cli._common import (
    FORMAT_OPTION,
    OutputFormat,
    app,
    console,
    errors_as_exit,
    print_json,
)
from finetune_kit.cli._options import (
    CONVENTIONS,
    EPOCHS,
    METHOD,
    MethodChoice,
    file_argument,
    price_options,
)
from finetune_kit.cli.cost import _per_1m

__all__ = ["compare_command"]

_INPUT_PRICE, _INPUT_PRICE_1K = price_options("input")
_OUTPUT_PRICE, _OUTPUT_PRICE_1K = price_options("output")


@app.command("compare")
def compare_command(
    file: Annotated[Path, file_argument("The JSONL training file (never modified).")],
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to",
            metavar="PROVIDER:MODEL",
            help="A target (openai, azure, together or fireworks); repeat for several.",
            show_default="one model on each of OpenAI, Azure, Together and Fireworks",
        ),
    ] = None,
    months: Annotated[
        int,
        typer.Option("--months", min=1, metavar="N", help="Horizon of the totals, in months."),
    ] = 3,
    input_tokens: Annotated[int, CONVENTIONS["input_tokens"].option()] = 4000,
    output_tokens: Annotated[int, CONVENTIONS["output_tokens"].option()] = 4000,
    requests_per_day: Annotated[int, CONVENTIONS["requests_per_day"].option()] = 1000,
    input_price_per_1m: Annotated[str | None, _INPUT_PRICE] = None,
    input_price_per_1k: Annotated[str | None, _INPUT_PRICE_1K] = None,
    output_price_per_1m: Annotated[str | None, _OUTPUT_PRICE] = None,
    output_price_per_1k: Annotated[str | None, _OUTPUT_PRICE_1K] = None,
    epochs: Annotated[int | None, EPOCHS] = None,
    method: Annotated[MethodChoice | None, METHOD] = None,
    prices_as_of: Annotated[str | None, CONVENTIONS["prices_as_of"].option()] = None,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
    output: Annotated[
        Path | None,
        CONVENTIONS["output"].option(
            "Also write the JSON report to this file.", default_text="none"
        ),
    ] = None,
) -> None:
    """Compare providers on your own data: findings, tokens, epochs, costs and dates per target.

    Usage costs follow the seed's arithmetic (tokens x price per request, x requests per day,
    x 30 days per month); the default scenario is 4,000 + 4,000 tokens x 1,000 requests a day.
    Together's and Fireworks' tables have no inference prices: give --input-price-per-1m and
    --output-price-per-1m to price their usage. Prices marked ? are unconfirmed.

    Exit code 0 (the comparison is a report, findings included), 2 on bad input.
    """
    from finetune_kit._io import atomic_write
    from finetune_kit.move.compare import compare

    input_1m = _per_1m(input_price_per_1m, input_price_per_1k, "input")
    output_1m = _per_1m(output_price_per_1m, output_price_per_1k, "output")
    with errors_as_exit():
        result = compare(
            file,
            to or None,
            months=months,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            requests_per_day=requests_per_day,
            input_per_1m=input_1m,
            output_per_1m=output_1m,
            n_epochs=epochs,
            method=None if method is None else method.value,
            prices_as_of=prices_as_of,
        )
        if output is not None:
            with atomic_write(output) as fh:
                fh.write(result.to_json() + "\n")
    if output_format is OutputFormat.json:
        print_json(result.to_dict())
        return
    console.print(result)
    console.print(result.summary(), soft_wrap=True)
    if output is not None:
        console.print(f"wrote {output}")
