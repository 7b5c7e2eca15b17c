"""The ``dedupe`` command: exact or near-duplicate examples, leaks into validation data."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any

import typer

from finetune_kit.cli._common import (
    EXIT_OK,
    OutputFormat,
    app,
    console,
    dask_options,
    errors_as_exit,
    fail,
    on_dask,
    print_json,
)
from finetune_kit.cli._options import (
    CONVENTIONS,
    ENGINE,
    EPOCHS,
    FORMAT,
    JOBS,
    PARTITIONED,
    SCHEDULER,
    THRESHOLD,
    Engine,
    file_argument,
    validation_option,
)

__all__ = ["dedupe_command"]


class KeepChoice(str, enum.Enum):
    """Which example of a group ``dedupe`` keeps."""

    first = "first"
    longest = "longest"
    weight = "weight"


@app.command("dedupe")
def dedupe_command(
    file: Annotated[
        str,
        file_argument(
            "The JSONL training file (never modified); with --engine dask also JSONL or "
            "Parquet globs, folders and s3:// or gs:// URLs."
        ),
    ],
    near: Annotated[
        bool,
        typer.Option(
            "--near",
            help="Near-duplicates (MinHash + LSH on word shingles), not only exact copies.",
        ),
    ] = False,
    threshold: Annotated[float | None, THRESHOLD] = None,
    validation: Annotated[
        Path | None,
        validation_option("Validation file: report its examples that copy FILE's."),
    ] = None,
    output: Annotated[
        str | None,  # text, not Path: Path() would turn s3://bucket into s3:/bucket
        CONVENTIONS["output"].option(
            "Write the kept examples here (in order, atomically).", default_text="none: report only"
        ),
    ] = None,
    keep: Annotated[
        KeepChoice,
        typer.Option(help="Example kept in a group: first, longest, or most trained (weight)."),
    ] = KeepChoice.first,
    include_system: Annotated[
        bool, typer.Option("--include-system", help="Compare system prompts too.")
    ] = False,
    model: Annotated[
        str | None,
        CONVENTIONS["model"].option(
            "Price the saving (tokens and dollars) for MODEL.", default_text="none: no pricing"
        ),
    ] = None,
    epochs: Annotated[int | None, EPOCHS] = None,
    jobs: Annotated[int | None, JOBS] = None,
    output_format: Annotated[OutputFormat, FORMAT] = OutputFormat.text,
    engine: Annotated[Engine, ENGINE] = Engine.local,
    scheduler: Annotated[str | None, SCHEDULER] = None,
    partitioned: Annotated[bool, PARTITIONED] = False,
) -> None:
    """Find duplicate examples (exact, or near with --near) and leaks into a validation file.

    With -o, writes every line except the dropped copies. With --model, reports the training
    tokens and dollars saved (an estimate before minus after). Exit code 0, or 2 on bad input.
    """
    from finetune_kit.dedupe import NearConfig, dedupe_file

    if not near and (threshold is not None or include_system):
        fail("--threshold and --include-system apply to near-duplicates: add --near")
    config = NearConfig(system=include_system) if near else None
    dask = on_dask(engine, scheduler, partitioned, jobs=jobs)
    if dask and (validation is not None or model is not None):
        fail("--validation and --model run on one machine: drop them or --engine dask")
    with errors_as_exit():
        asked: dict[str, Any] = {
            "near": near,
            "threshold": threshold,
            "keep": keep.value,
            "config": config,
        }
        if dask:
            from finetune_kit.engines import dask as on_cluster

            options = dask_options(scheduler, jobs, output_format)
            report = on_cluster.dedupe(file, output, partitioned=partitioned, **asked, **options)
        else:
            report = dedupe_file(
                file,
                output,
                validation=validation,
                model=model,
                n_epochs=epochs,
                jobs=jobs,
                **asked,
            )
    if output_format is OutputFormat.json:
        print_json(report.to_dict())
    else:
        console.print(f"[bold]{file}[/]")
        console.print(report)
        if output is not None:
            console.print(f"wrote {report.stats['examples_out']:,} examples to {output}")
    raise typer.Exit(EXIT_OK)
