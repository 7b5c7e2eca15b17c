"""The ``export`` command: OpenAI chat JSONL to another provider's fine-tuning format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
from finetune_kit.cli._options import file_argument, output_option


def _known() -> str:
    from finetune_kit.export.convert import FORMATS

    return ", ".join(FORMATS)


@app.command("export")
def export_command(
    file: Annotated[Path, file_argument("The OpenAI JSONL file (never modified).")],
    to: Annotated[
        str,
        typer.Option(
            "--to",
            "-t",
            metavar="FORMAT",
            help="Target: hf-messages, hf-preference, vertex-gemini, bedrock-conversation, "
            "mistral.",
        ),
    ],
    output: Annotated[Path, output_option("The JSONL file to write.")],
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Convert OpenAI chat JSONL to another provider's format, saying what could not carry over.

    Prints what was dropped or changed (per kind, with line numbers) and what the target's
    documented rules found. Exit code 0 when written cleanly, 1 when lines were skipped or
    the target's rules found errors (the file is still written), 2 on bad input.
    """
    from finetune_kit.export.convert import FORMATS, export_file

    input_file = file

    if to not in FORMATS:
        fail(f"unknown format {to!r}; known formats: {_known()}")
    if output.exists() and input_file.exists() and output.resolve() == input_file.resolve():
        fail("refusing to overwrite the input file; choose another --output")
    with errors_as_exit():
        report = export_file(input_file, to, output)
    if output_format is OutputFormat.json:
        print_json(report.to_dict())
    else:
        console.print(report)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_FINDINGS)
