"""``finetune-kit demo``: the whole story on the bundled sample — offline by default.

Steps: build the dataset from the CSV, validate it, price it for two models, train on the
loopback emulator (or the real API with ``--real``), plot the metrics and the token counts,
and ask the fine-tuned model a question.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table

from finetune_kit.cli._common import EXIT_FINDINGS, app, console, errors_as_exit, fail
from finetune_kit.cli._options import CONVENTIONS, PROVIDER, Provider

if TYPE_CHECKING:
    import pandas as pd

    from finetune_kit.cost.estimator import TrainingEstimate, UsageEstimate
    from finetune_kit.dataset import Dataset
    from finetune_kit.jobs.client import JobClient
    from finetune_kit.jobs.models import Job

COMPARE_MODELS = ("gpt-3.5-turbo-0125", "gpt-4o-mini-2024-07-18")
TRAIN_MODEL = "gpt-4o-mini-2024-07-18"
# per provider: the models compared, the one trained, and the variables a real run needs
_DEMO: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "openai": (COMPARE_MODELS, TRAIN_MODEL, ("OPENAI_API_KEY",)),
    "together": (
        ("openai/gpt-oss-20b", "openai/gpt-oss-120b"),
        "openai/gpt-oss-20b",
        ("TOGETHER_API_KEY",),
    ),
    "fireworks": (
        ("accounts/fireworks/models/gpt-oss-20b", "accounts/fireworks/models/gpt-oss-120b"),
        "accounts/fireworks/models/gpt-oss-20b",
        ("FIREWORKS_API_KEY", "FIREWORKS_ACCOUNT_ID"),
    ),
}
QUESTION = "What is overfitting?"
REQUESTS_PER_DAY = 1_000


def _estimates_table(estimates: list[TrainingEstimate], usage: list[UsageEstimate]) -> Table:
    table = Table(title="Training estimate (and what using the model would cost)")
    table.add_column("", style="bold")
    for est in estimates:
        table.add_column(est.base_model, justify="right")
    rows: list[tuple[str, list[str]]] = [
        ("examples", [f"{e.n_examples:,}" for e in estimates]),
        ("billed tokens per epoch", [f"{e.billed_tokens_per_epoch:,}" for e in estimates]),
        ("epochs", [str(e.n_epochs) for e in estimates]),
        ("training tokens", [f"{e.training_tokens:,}" for e in estimates]),
        ("training price / 1M tokens", [f"${e.price_per_1m:,.2f}" for e in estimates]),
        ("training cost", [f"${e.training_cost:,.4f}" for e in estimates]),
    ]
    if usage:  # inference prices are in the table (OpenAI's; not Together's)
        rows += [
            ("cost per request", [f"${u.cost_per_request:,.6f}" for u in usage]),
            (f"per day ({REQUESTS_PER_DAY:,} requests)", [f"${u.daily_cost:,.2f}" for u in usage]),
            ("per 30 days", [f"${u.period_cost:,.2f}" for u in usage]),
        ]
    for label, values in rows:
        table.add_row(label, *values)
    return table


@app.command()
def demo(
    output_dir: Annotated[
        Path,
        typer.Option("--output-dir", metavar="DIR", help="Where the demo writes its files."),
    ] = Path("demo-output"),
    real: Annotated[
        bool,
        typer.Option(
            "--real", help="Train on the real OpenAI API (needs OPENAI_API_KEY; costs money)."
        ),
    ] = False,
    yes: Annotated[bool, CONVENTIONS["yes"].option("Do not ask before a real job.")] = False,
    provider: Annotated[Provider, PROVIDER] = Provider.openai,
) -> None:
    """Run the tutorial end to end on the bundled 50-example Shakespearean ML Q&A sample.

    Offline by default: the job runs on the loopback emulator (no real job, no cost).
    """
    from finetune_kit._io import atomic_write
    from finetune_kit.cost.estimator import CostEstimator
    from finetune_kit.dataset import SAMPLE_SYSTEM_PROMPT, Dataset, sample_csv_path
    from finetune_kit.jobs.client import JobClient

    started = time.monotonic()
    if provider is Provider.azure:
        fail("the offline demo runs on openai, together or fireworks (Azure speaks OpenAI's API)")
    compare, train_model, needed = _DEMO[provider.value]
    missing = [name for name in needed if not os.environ.get(name)]
    if real and missing:
        fail(f"--real needs {' and '.join(missing)} (the offline demo needs nothing)")
    with errors_as_exit():
        output_dir.mkdir(parents=True, exist_ok=True)

        console.print(Rule("1. Build the dataset from the CSV"))
        csv_path = output_dir / "faq.csv"
        with atomic_write(csv_path, binary=True) as fh:  # the bundled sample, to look at
            fh.write(sample_csv_path().read_bytes())
        dataset = Dataset.from_csv(
            csv_path, user="question", assistant="answer", system_prompt=SAMPLE_SYSTEM_PROMPT
        )
        train_path = dataset.to_jsonl(output_dir / "train.jsonl")
        console.print(f"wrote {csv_path}, read it: {len(dataset)} question/answer rows")
        console.print(f"system prompt: [italic]{SAMPLE_SYSTEM_PROMPT}[/]")
        console.print(f"wrote [bold]{train_path}[/]")

        console.print(Rule("2. Validate"))
        report = dataset.validate()
        console.print(report)
        if not report.ok:
            raise typer.Exit(EXIT_FINDINGS)

        console.print(Rule("3. Estimate the cost"))
        estimator = CostEstimator(provider=provider.value)
        estimates = [estimator.estimate_training(train_path, m) for m in compare]
        answer_tokens = int(estimates[-1].token_stats.get("mean") or 100)
        usage = [
            estimator.estimate_usage(answer_tokens, 120, REQUESTS_PER_DAY, 30, model=m)
            for m in compare
            if provider is Provider.openai  # the other tables hold no inference prices
        ]
        console.print(_estimates_table(estimates, usage))
        if usage:
            console.print(
                f"[dim]usage assumes {answer_tokens} input and 120 output tokens per request "
                f"(the sample's mean example length and a three-sentence answer)[/]"
            )
        for finding in estimates[-1].warnings:
            console.print(
                f"[yellow]warning[/] {escape(f'[{finding.code}]')} {escape(finding.message)}"
            )
        cost = estimates[-1].training_cost

        console.print(Rule("4. Train"))
        with ExitStack() as stack:
            if real:
                if not yes and sys.stdin.isatty():
                    typer.confirm(
                        f"Start a REAL fine-tuning job on {train_model} for about ${cost:.2f}?",
                        abort=True,
                    )
                client = JobClient(provider=provider.value, poll_interval=15)
                where = f"the {client.provider.facts.title} API"
            else:
                from finetune_kit.testing import Emulator, FireworksEmulator, TogetherEmulator

                emulators = {"together": TogetherEmulator, "fireworks": FireworksEmulator}
                emulator: Emulator | TogetherEmulator | FireworksEmulator = emulators.get(
                    provider.value, Emulator
                )(speed=2000)
                stack.enter_context(emulator)
                client = JobClient(emulator.client(), poll_interval=0.1)
                title = client.provider.facts.title
                console.print(
                    Panel(
                        f"Using the loopback {title} emulator at {emulator.base_url}: no real "
                        f"job, no cost. It speaks {title}'s API, so the same code runs against "
                        f"the real one (`finetune-kit demo --real`).",
                        title="EMULATOR",
                        border_style="yellow",
                    )
                )
                where = "the emulator"
            job = _train(client, dataset, where, train_model)

            console.print(Rule("5. Metrics and plots"))
            frame = client.metrics(job)
            frame.to_csv(output_dir / "metrics.csv", index=False)
            pngs = _plots(frame, estimates[-1], output_dir, job.id)
            last = frame.dropna(subset=["train_loss"]).iloc[-1]
            console.print(
                f"{len(frame)} steps; final train loss {last['train_loss']:.3f}; wrote "
                f"{output_dir / 'metrics.csv'}, " + ", ".join(str(p) for p in pngs)
            )

            console.print(Rule("6. Try the fine-tuned model"))
            answer = client.ask(
                job.fine_tuned_model or train_model, QUESTION, system=SAMPLE_SYSTEM_PROMPT
            )
            console.print(f"[bold]Q:[/] {QUESTION}")
            console.print(f"[bold]A ({job.fine_tuned_model}):[/] {escape(answer)}")
    console.print(Rule())
    console.print(f"done in {time.monotonic() - started:.1f} s; files in [bold]{output_dir}[/]")


def _train(client: JobClient, dataset: Dataset, where: str, model: str = TRAIN_MODEL) -> Job:
    """Upload, create and follow the job with the live view; exit 1 unless it succeeds."""
    from finetune_kit.cli.jobs import _Follow
    from finetune_kit.lifecycle import LifecycleWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LifecycleWarning)  # step 3 has shown them already
        training = client.upload(dataset)
        console.print(f"uploaded {training.filename} to {where} as {training.id}")
        job = client.create_job(training, model, suffix="bard", seed=42)
    console.print(f"created job [bold]{job.id}[/] on {model}")
    follow = _Follow(enabled=True)
    with follow:
        job = client.wait(
            job, on_event=follow.on_event, on_poll=follow.on_poll, raise_on_failure=False
        )
    console.print(job)
    if not job.succeeded:
        fail(f"the job {job.status}: {job.error}", code=EXIT_FINDINGS)
    return job


def _plots(
    frame: pd.DataFrame, estimate: TrainingEstimate, folder: Path, job_id: str
) -> list[Path]:
    """The loss curve and the token histogram as PNG files."""
    from finetune_kit.plots import metrics_plot, save_figure, token_histogram

    loss = save_figure(metrics_plot(frame, title=f"Fine-tuning {job_id}"), folder / "loss.png")
    hist = save_figure(
        token_histogram(
            estimate.token_counts, limit=estimate.token_limit, model=estimate.base_model
        ),
        folder / "tokens.png",
    )
    return [loss, hist]
