"""Data commands: ``validate``, ``convert``, ``fix``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from finetune_kit.cli._common import (
    EXIT_FINDINGS,
    EXIT_OK,
    FORMAT_OPTION,
    OutputFormat,
    app,
    console,
    errors_as_exit,
    fail,
    print_json,
)
from finetune_kit.validation.engine import Method, PIIMode

METHOD_OPTION = typer.Option("--method", help="supervised (chat data) or dpo (preference data).")
PII_OPTION = typer.Option(
    "--pii", help="Personal data in the text: warn, error (refuse it) or off (do not look)."
)
MODEL_OPTION = typer.Option(
    "--model", "-m", help="Base model; also checks each example against its token limit."
)


def _method(value: str | None) -> Method | None:
    if value is None:
        return None
    if value not in ("supervised", "dpo"):
        fail(f"--method must be supervised or dpo, not {value!r}")
    return value  # type: ignore[return-value]


def _pii(value: str) -> PIIMode:
    if value not in ("warn", "error", "off"):
        fail(f"--pii must be warn, error or off, not {value!r}")
    return value  # type: ignore[return-value]


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="The JSONL file to check.")],
    model: Annotated[str | None, MODEL_OPTION] = None,
    method: Annotated[str | None, METHOD_OPTION] = None,
    pii: Annotated[str, PII_OPTION] = "warn",
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Check a JSONL file and report every problem, with line numbers and fixes.

    Exit code 1 when there is at least one error, 0 otherwise, 2 when the file cannot be read.
    """
    from finetune_kit.validation.engine import Validator

    with errors_as_exit():
        validator = Validator(pii=_pii(pii))
        report = validator.validate(file, model=model, method=_method(method))
    if output_format is OutputFormat.json:
        print_json(report.to_dict())
    else:
        console.print(f"[bold]{file}[/]")
        console.print(report)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_FINDINGS)


@app.command()
def convert(
    input_file: Annotated[Path, typer.Argument(help=".csv, .tsv, .xlsx, .parquet or .jsonl")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The JSONL file to write.")],
    user_column: Annotated[
        str | None, typer.Option("--user-column", "-u", help="Column with the user's message.")
    ] = None,
    assistant_column: Annotated[
        str | None, typer.Option("--assistant-column", "-a", help="Column with the answer.")
    ] = None,
    system_prompt: Annotated[
        str | None, typer.Option("--system-prompt", "-s", help="System prompt for every example.")
    ] = None,
    system_column: Annotated[
        str | None, typer.Option("--system-column", help="Column with a per-row system prompt.")
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="CSV encoding (default: UTF-8 with or without BOM, else cp1252)."),
    ] = None,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Build chat examples from a table (one row per example) and write them as JSONL."""
    from finetune_kit.dataset import Dataset

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
    input_file: Annotated[Path, typer.Argument(help="The JSONL file to repair (not modified).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where the fixed file goes.")],
    rejects: Annotated[
        Path | None,
        typer.Option(
            help="Where lines that still have errors go, with their findings "
            "(default: OUTPUT.rejects.jsonl, only when needed)."
        ),
    ] = None,
    method: Annotated[str | None, METHOD_OPTION] = None,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Apply only safe fixes (BOM, blank lines, cp1252, exact duplicates); set bad lines aside.

    Exit code 0 when the output is clean, 1 when lines were rejected or file-level errors
    remain, 2 on unreadable input.
    """
    from finetune_kit.validation.fixes import fix_file

    with errors_as_exit():
        report = fix_file(input_file, output, rejects=rejects, method=_method(method))
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
