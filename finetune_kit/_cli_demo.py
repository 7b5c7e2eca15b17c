"""``finetune-kit demo``: the whole story on the bundled sample, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.rule import Rule

from finetune_kit._cli_common import EXIT_FINDINGS, app, console, errors_as_exit


@app.command()
def demo(
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="Where the demo writes its files.")
    ] = Path("demo-output"),
) -> None:
    """Run the tutorial on the bundled 50-example Shakespearean ML Q&A sample."""
    from finetune_kit.dataset import SAMPLE_SYSTEM_PROMPT, Dataset, sample_csv_path

    with errors_as_exit():
        output_dir.mkdir(parents=True, exist_ok=True)
        console.print(Rule("1. Build the dataset from the CSV"))
        dataset = Dataset.sample()
        jsonl = dataset.to_jsonl(output_dir / "train.jsonl")
        console.print(f"read {sample_csv_path().name}: {len(dataset)} examples")
        console.print(f"system prompt: [italic]{SAMPLE_SYSTEM_PROMPT}[/]")
        console.print(f"wrote [bold]{jsonl}[/]")
        console.print(Rule("2. Validate"))
        report = dataset.validate()
        console.print(report)
    if not report.ok:
        raise typer.Exit(EXIT_FINDINGS)
