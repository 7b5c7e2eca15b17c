"""Privacy command: ``finetune-kit redact``."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from finetune_kit.cli._common import (
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
    ENGINE,
    JOBS,
    PARTITIONED,
    SCHEDULER,
    Engine,
    file_argument,
    output_option,
)
from finetune_kit.privacy.redaction import SECRET_ENV, RedactionReport, list_detectors, redact_file


class StrategyChoice(str, enum.Enum):
    """How ``redact`` replaces what it finds."""

    mask = "mask"
    pseudonym = "pseudonym"
    drop = "drop"


def _default_kinds() -> str:
    return "all of " + ", ".join(d.kind for d in list_detectors() if d.default)


def _print_report(report: RedactionReport) -> None:
    table = Table(title="Personal data found", title_justify="left")
    table.add_column("kind")
    table.add_column("count", justify="right")
    table.add_column("example (masked)")
    first: dict[str, str] = {}
    for f in report.findings:
        first.setdefault(f.code, f.preview)
    for code, count in sorted(report.counts.items(), key=lambda kv: (-kv[1], kv[0])):
        table.add_row(code, f"{count:,}", first.get(code, ""))
    if report.counts:
        console.print(table)
    else:
        console.print("No personal data found.")
    console.print(
        f"Wrote [bold]{report.output_path}[/]: {report.lines:,} lines, "
        f"{report.examples_changed:,} examples changed, {report.examples_dropped:,} dropped "
        f"(strategy: {report.strategy})."
    )
    if report.unparsed_lines:
        numbers = ", ".join(str(n) for n in report.unparsed_line_numbers[:10])
        more = ", ..." if report.unparsed_lines > 10 else ""
        console.print(
            f"[yellow]warning:[/] {report.unparsed_lines:,} line(s) could not be parsed and were "
            f"copied unchanged, without redaction (lines {numbers}{more}); "
            "run `finetune-kit validate` to see why."
        )


STRATEGY_OPTION = typer.Option(
    "--strategy",
    help="mask: [EMAIL]...; pseudonym: consistent fake values; drop: drop the example.",
)
KINDS_OPTION = typer.Option(
    "--kinds",
    "-k",
    metavar="KINDS",
    help="Comma-separated kinds to look for.",
    show_default=_default_kinds(),
)
SECRET_OPTION = typer.Option(
    "--secret",
    envvar=SECRET_ENV,
    metavar="KEY",
    help="Key for pseudonyms (prefer the environment variable).",
    show_default="none",
)
PRESIDIO_OPTION = typer.Option(
    "--presidio", help="Also find person names and places (needs Presidio)."
)
REGION_OPTION = typer.Option(
    "--region",
    metavar="REGION",
    help="Default region (ISO 3166, e.g. ES, MX, US) for phone numbers without a country code.",
    show_default="none",
)
JOBS_OPTION = JOBS


@app.command("redact")
def redact(
    file: Annotated[
        str,
        file_argument(
            "The JSONL file to redact (never modified); with --engine dask also globs, "
            "folders and s3:// or gs:// URLs."
        ),
    ],
    output: Annotated[
        str,
        output_option("Where to write the redacted file (with --partitioned: a folder or URL)."),
    ],
    strategy: Annotated[StrategyChoice, STRATEGY_OPTION] = StrategyChoice.mask,
    kinds: Annotated[str | None, KINDS_OPTION] = None,
    secret: Annotated[str | None, SECRET_OPTION] = None,
    presidio: Annotated[bool, PRESIDIO_OPTION] = False,
    region: Annotated[str | None, REGION_OPTION] = None,
    jobs: Annotated[int | None, JOBS_OPTION] = None,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
    engine: Annotated[Engine, ENGINE] = Engine.local,
    scheduler: Annotated[str | None, SCHEDULER] = None,
    partitioned: Annotated[bool, PARTITIONED] = False,
) -> None:
    """Find personal data and secrets in a JSONL file and write a redacted copy."""
    from finetune_kit.privacy.redaction import Redactor

    path = Path(file)
    if on_dask(engine, scheduler, partitioned, jobs=jobs):
        from finetune_kit.engines import dask as on_cluster

        with errors_as_exit():
            redactor = Redactor(
                strategy.value, kinds=kinds, secret=secret, presidio=presidio, region=region
            )
            report = on_cluster.redact(
                file,
                output,  # kept as text: Path() would turn s3://bucket into s3:/bucket
                redactor=redactor,
                partitioned=partitioned,
                **dask_options(scheduler, jobs, output_format),
            )
        _show(report, output_format)
        return
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "file not found"
        fail(f"{path}: {what}")
    target = Path(output)
    if target.exists() and target.resolve() == path.resolve():
        fail(f"{output}: refusing to overwrite the input file (write to another path)")
    with errors_as_exit():
        redactor = Redactor(
            strategy.value, kinds=kinds, secret=secret, presidio=presidio, region=region
        )
        if output_format is OutputFormat.text and console.is_terminal:
            size = path.stat().st_size
            columns = (*Progress.get_default_columns()[:1], BarColumn(), DownloadColumn())
            with Progress(*columns, TimeRemainingColumn(), console=console, transient=True) as bar:
                task = bar.add_task("redacting", total=size)
                report = redact_file(
                    path,
                    target,
                    redactor=redactor,
                    workers=jobs,
                    progress=lambda done: bar.update(task, completed=done),
                )
        else:
            report = redact_file(path, target, redactor=redactor, workers=jobs)
    _show(report, output_format)


def _show(report: RedactionReport, output_format: OutputFormat) -> None:
    if output_format is OutputFormat.json:
        print_json(report.to_dict())
    else:
        _print_report(report)
