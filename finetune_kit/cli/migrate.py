"""``migrate``: re-train archived jobs on another provider (see ``finetune_kit.move``).

It reads the target provider's variables (``TOGETHER_API_KEY`` and ``TOGETHER_BASE_URL``,
``FIREWORKS_API_KEY``, ``FIREWORKS_ACCOUNT_ID`` and ``FIREWORKS_BASE_URL``, the Azure or OpenAI
ones); ``--dry-run`` needs none.
"""

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
    print_json,
)

__all__ = ["migrate"]

_ARCHIVE = typer.Argument(
    metavar="DIR", help="An archive made by `finetune-kit archive`.", show_default=False
)


@app.command()
def migrate(
    archive_dir: Annotated[Path, _ARCHIVE],
    to: Annotated[
        str,
        typer.Option(
            "--to",
            metavar="PROVIDER:MODEL",
            help="The provider and model to train there, e.g. together:openai/gpt-oss-20b.",
        ),
    ],
    job: Annotated[
        list[str] | None,
        typer.Option(
            metavar="JOB_ID",
            help="Only this archived job (repeat for more).",
            show_default="every archived job",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Check, fix, map and estimate; upload, create and write nothing."
        ),
    ] = False,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Re-train the archive's succeeded jobs on another provider, each exactly once.

    For every succeeded job: its archived files are checked against the target's rules (and
    safely fixed where that makes them clean: Azure's byte-order mark, blank lines, ...; every
    change is reported), its settings are mapped (epochs, learning rate, batch size, DPO beta,
    seed, suffix), the training is estimated, and the job is created there. DIR/migrations.json
    records every migration, so running it again creates nothing twice. Exit code 1 when a
    job could not be moved (data the target refuses, a method it lacks, a failed request).
    """
    from finetune_kit.move.migrate import migrate as run_migrate

    with errors_as_exit():
        report = run_migrate(archive_dir, to, jobs=job, dry_run=dry_run)
    if output_format is OutputFormat.json:
        print_json(report.to_dict())
    else:
        console.print(report)
    raise typer.Exit(EXIT_OK if report.complete else EXIT_FINDINGS)
