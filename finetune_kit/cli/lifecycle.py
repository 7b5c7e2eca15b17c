"""Wind-down commands: ``archive`` (keep every job and file) and ``lifecycle`` (the dates).

``archive`` reads the same variables as the job commands (``OPENAI_API_KEY``,
``OPENAI_BASE_URL``, ...), or the Azure ones with ``--provider azure``. The provider option and
[`job_client`][finetune_kit.cli.lifecycle.job_client] are shared with the job commands.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from finetune_kit.cli._common import (
    EXIT_FINDINGS,
    FORMAT_OPTION,
    OutputFormat,
    app,
    console,
    errors_as_exit,
    fail,
    print_json,
)
from finetune_kit.cli._options import DIR_ARGUMENT, PROVIDER, Provider

if TYPE_CHECKING:
    from finetune_kit.jobs.client import JobClient

__all__ = ["PROVIDER_OPTION", "Provider", "archive", "job_client", "lifecycle"]


PROVIDER_OPTION = PROVIDER
"""Use as ``provider: Annotated[Provider, PROVIDER_OPTION] = Provider.openai``."""


def job_client(provider: Provider = Provider.openai, poll_interval: float = 10.0) -> JobClient:
    """The job client the commands use, built from the provider's environment variables.

    Args:
        provider: ``openai``, ``azure`` or ``together``.
        poll_interval: Seconds between polls.

    Returns:
        A [`JobClient`][finetune_kit.JobClient].

    Raises:
        ConfigError: A required variable is missing.
    """
    from finetune_kit.jobs.client import JobClient

    return JobClient(provider=provider.value, poll_interval=poll_interval)


def _day(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        fail(f"{option} must be a date like 2026-05-07, not {value!r}")


@app.command()
def archive(
    out_dir: Annotated[Path, DIR_ARGUMENT],
    since: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="Only jobs created on or after this day (YYYY-MM-DD).",
            show_default="every job",
        ),
    ] = None,
    provider: Annotated[Provider, PROVIDER_OPTION] = Provider.openai,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Archive every fine-tuning job into DIR: records, files, metrics, events, checkpoints.

    Run it again at any time: it resumes, verifies what is there and downloads only what is
    missing. Exits 1 when something could not be archived.
    """
    from finetune_kit.jobs.archive import archive as run_archive

    start = _day(since, "--since")
    as_json = output_format is OutputFormat.json
    with errors_as_exit():
        client = job_client(provider)
        if as_json or not console.is_terminal:
            report = run_archive(client, out_dir, since=start)
        else:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            with Progress(
                TextColumn("archiving"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.description}"),
                console=console,
                transient=True,
            ) as bar:
                task = bar.add_task("", total=None)

                def progress(done: int, total: int, job_id: str) -> None:
                    bar.update(task, completed=done, total=total, description=job_id)

                report = run_archive(client, out_dir, since=start, progress=progress)
    if as_json:
        print_json(report.to_dict())
    else:
        console.print(report)
    if not report.complete:
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
def lifecycle(
    model: Annotated[
        str | None,
        typer.Argument(
            metavar="MODEL", help="A model (snapshot, alias or ft:) to check.", show_default=False
        ),
    ] = None,
    on: Annotated[
        str | None,
        typer.Option("--date", metavar="DATE", help="Judge on this day.", show_default="today"),
    ] = None,
    inference: Annotated[
        bool, typer.Option("--inference", help="Check calling MODEL, not training on it.")
    ] = False,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Show OpenAI's fine-tuning wind-down dates, or what they mean for MODEL.

    With MODEL, exits 1 when a lifecycle error applies (no new jobs, or the model shut down).
    """
    from finetune_kit.lifecycle import ModelLifecycle

    table = ModelLifecycle.load()
    today = _day(on, "--date") or dt.date.today()
    if model is None:
        if output_format is OutputFormat.json:
            print_json(table.to_dict())
        else:
            console.print(table)
        return
    found = table.findings(model, today=today, purpose="inference" if inference else "training")
    if output_format is OutputFormat.json:
        print_json(
            {
                "model": model,
                "base_model": table.resolve(model),
                "date": today.isoformat(),
                "findings": [f.to_dict() for f in found],
            }
        )
    elif not found:
        console.print(f"{model}: nothing to report on {today.isoformat()}")
    else:
        from rich.markup import escape

        for f in found:
            colour = "red" if f.severity.value == "error" else "yellow"
            console.print(f"[{colour}]{f.severity.value}[/] [bold]{f.code}[/]: {escape(f.message)}")
            console.print(f"  [dim]{escape(f.hint)}[/]")
    if any(f.severity.value == "error" for f in found):
        raise typer.Exit(EXIT_FINDINGS)
