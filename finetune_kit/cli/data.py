"""Data commands: ``validate``, ``convert``, ``fix``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from finetune_kit.cli._common import (
    EXIT_FINDINGS,
    EXIT_OK,
    FORMAT_OPTION,
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
    METHOD,
    PARTITIONED,
    PII,
    PROVIDER,
    SCHEDULER,
    THRESHOLD,
    TOKENIZER,
    Engine,
    MethodChoice,
    PIIChoice,
    Provider,
    file_argument,
    output_option,
    validation_option,
)
from finetune_kit.validation.engine import Method

_TABLES = "required for tables"


def _method(value: MethodChoice | None) -> Method | None:
    return None if value is None else value.value


@app.command()
def validate(
    file: Annotated[
        str,
        file_argument(
            "The JSONL file to check (never modified); with --engine dask also JSONL or "
            "Parquet globs, folders and s3:// or gs:// URLs."
        ),
    ],
    model: Annotated[
        str | None,
        CONVENTIONS["model"].option(
            "Base model; also checks each example against its token limit.",
            default_text="none: no token limit",
        ),
    ] = None,
    method: Annotated[MethodChoice | None, METHOD] = None,
    pii: Annotated[PIIChoice, PII] = PIIChoice.warn,
    near: Annotated[
        bool,
        typer.Option("--near", help="Also warn about near-duplicates (near_duplicate) and leaks."),
    ] = False,
    threshold: Annotated[float | None, THRESHOLD] = None,
    validation: Annotated[
        Path | None,
        validation_option(
            "With --near: warn about FILE examples that VFILE copies (validation_leak)."
        ),
    ] = None,
    provider: Annotated[Provider, PROVIDER] = Provider.openai,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
    tokenizer: Annotated[str | None, TOKENIZER] = None,
    engine: Annotated[Engine, ENGINE] = Engine.local,
    scheduler: Annotated[str | None, SCHEDULER] = None,
) -> None:
    """Check a JSONL file and report every problem, with line numbers and fixes.

    --provider applies that provider's rules (Azure: UTF-8 with BOM; Together: alternating
    turns, its limits). Exit code 1 when there is at least one error, 0 otherwise, 2 when the
    file cannot be read.
    """
    from finetune_kit.validation.engine import Validator

    if not near and (threshold is not None or validation is not None):
        fail("--threshold and --validation look for near-duplicates: add --near")
    dask = on_dask(engine, scheduler)
    if dask and validation is not None:
        fail("--validation runs on one machine: drop --engine dask or --validation")
    with errors_as_exit():
        validator = Validator(pii=pii.value, profile=provider.value)
        asked: dict[str, Any] = {"model": model, "method": _method(method), "tokenizer": tokenizer}
        if dask:
            from finetune_kit.engines import dask as on_cluster

            options = dask_options(scheduler, None, output_format)
            report = on_cluster.validate(file, validator=validator, **asked, **options)
        else:
            report = validator.validate(file, **asked)
        if near:
            from finetune_kit.dedupe import find_duplicates, with_near_findings

            if dask:
                found = on_cluster.dedupe(file, near=True, threshold=threshold, scheduler=scheduler)
            else:
                found = find_duplicates(file, near=True, threshold=threshold, validation=validation)
            report = with_near_findings(report, found)
    if output_format is OutputFormat.json:
        print_json(report.to_dict())
    else:
        console.print(f"[bold]{file}[/]")
        console.print(report)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_FINDINGS)


@app.command()
def convert(
    file: Annotated[Path, file_argument("A .csv, .tsv, .xlsx, .parquet or .jsonl file.")],
    output: Annotated[Path, output_option("The JSONL file to write.")],
    user_column: Annotated[
        str | None,
        typer.Option(
            "--user-column",
            "-u",
            metavar="COLUMN",
            help="Column with the user's message.",
            show_default=_TABLES,
        ),
    ] = None,
    assistant_column: Annotated[
        str | None,
        typer.Option(
            "--assistant-column",
            "-a",
            metavar="COLUMN",
            help="Column with the answer.",
            show_default=_TABLES,
        ),
    ] = None,
    system_prompt: Annotated[str | None, CONVENTIONS["system_prompt"].option()] = None,
    system_column: Annotated[
        str | None,
        typer.Option(
            "--system-column",
            metavar="COLUMN",
            help="Column with a per-row system prompt.",
            show_default="none",
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            metavar="ENCODING",
            help="CSV encoding.",
            show_default="UTF-8 with or without BOM, else cp1252",
        ),
    ] = None,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Build chat examples from a table (one row per example) and write them as JSONL."""
    from finetune_kit.dataset import Dataset

    input_file = file
    if input_file.suffix.lower() not in {".jsonl", ".json"} and not (
        user_column and assistant_column
    ):
        fail("tables need --user-column and --assistant-column")
    if output.exists() and output.resolve() == input_file.resolve():
        fail("refusing to overwrite the input file; choose another --output")
    kwargs: dict[str, str | None] = {}
    if input_file.suffix.lower() not in {".jsonl", ".json"}:
        kwargs = {
            "user": user_column,
            "assistant": assistant_column,
            "system_prompt": system_prompt,
            "system": system_column,
        }
        if input_file.suffix.lower() in {".csv", ".tsv", ".txt"}:
            kwargs["encoding"] = encoding
    with errors_as_exit():
        dataset = Dataset.from_file(input_file, **kwargs)
        dataset.to_jsonl(output)
        report = dataset.validate()
    if output_format is OutputFormat.json:
        print_json({"output": str(output), "n_examples": len(dataset), **report.to_dict()})
    else:
        console.print(f"wrote [bold]{len(dataset)}[/] examples to [bold]{output}[/]")
        console.print(report)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_FINDINGS)


@app.command()
def fix(
    file: Annotated[
        str,
        file_argument(
            "The JSONL file to repair (never modified); with --engine dask also JSONL or "
            "Parquet globs, folders and s3:// or gs:// URLs."
        ),
    ],
    output: Annotated[
        str,  # text, not Path: Path() would turn s3://bucket into s3:/bucket
        output_option("Where the fixed file goes (with --partitioned: a folder or URL)."),
    ],
    rejects: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH",
            help="Where lines that still have errors go, with their findings.",
            show_default="OUTPUT.rejects.jsonl, only when needed",
        ),
    ] = None,
    method: Annotated[MethodChoice | None, METHOD] = None,
    provider: Annotated[Provider, PROVIDER] = Provider.openai,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
    engine: Annotated[Engine, ENGINE] = Engine.local,
    scheduler: Annotated[str | None, SCHEDULER] = None,
    partitioned: Annotated[bool, PARTITIONED] = False,
) -> None:
    """Apply only safe fixes (BOM, blank lines, cp1252, exact duplicates); set bad lines aside.

    With --provider azure the output starts with the byte-order mark Azure OpenAI requires.
    With --engine dask the fixes run on a Dask cluster and write the same bytes.
    Exit code 0 when the output is clean, 1 when lines were rejected or file-level errors
    remain, 2 on unreadable input.
    """
    from finetune_kit.validation.engine import Validator
    from finetune_kit.validation.fixes import fix_file

    azure = provider is Provider.azure
    # lines are checked after their BOMs were stripped: Azure's checks are OpenAI's then
    validator = Validator(plugins=False, profile="openai" if azure else provider.value)
    asked: dict[str, Any] = {
        "rejects": rejects,
        "method": _method(method),
        "validator": validator,
        "bom": azure,
    }
    dask = on_dask(engine, scheduler, partitioned)
    with errors_as_exit():
        if dask:
            from finetune_kit.engines import dask as on_cluster

            options = dask_options(scheduler, None, output_format)
            report = on_cluster.fix(file, output, partitioned=partitioned, **asked, **options)
        else:
            report = fix_file(file, output, **asked)
    if output_format is OutputFormat.json:
        print_json(report.to_dict())
    else:
        table = Table("fix", "lines", "what was done")
        for code, n, what in report.describe():
            table.add_row(code, str(n), what)
        if report.describe():
            console.print(table)
        else:
            console.print("no safe fix was needed")
        console.print(f"wrote [bold]{report.n_written}[/] lines to [bold]{output}[/]")
        if report.n_rejected:
            console.print(
                f"[red]{report.n_rejected} line(s) still have errors[/] and were moved to "
                f"[bold]{report.rejects}[/] with their findings"
            )
        for finding in report.file_findings:
            console.print(f"[red]{finding.code}[/]: {finding.message} — {finding.hint}")
    raise typer.Exit(EXIT_OK if report.ok else EXIT_FINDINGS)
