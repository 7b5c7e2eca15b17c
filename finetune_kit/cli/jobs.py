"""Job commands: train, status, events, metrics, checkpoints, cancel, pause, resume, list, ask.

They read ``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_ORG_ID`` and ``OPENAI_PROJECT_ID``
like the ``openai`` SDK does. Point ``OPENAI_BASE_URL`` at ``finetune-kit emulator`` to try
everything offline.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from finetune_kit.cli._common import (
    EXIT_FINDINGS,
    EXIT_OK,
    FORMAT_OPTION,
    OutputFormat,
    app,
    console,
    err_console,
    errors_as_exit,
    fail,
    print_json,
)
from finetune_kit.cli._options import (
    CONVENTIONS,
    EPOCHS,
    METHOD,
    PII,
    YES,
    MethodChoice,
    PIIChoice,
    file_argument,
    model_option,
)
from finetune_kit.cli.lifecycle import PROVIDER_OPTION, Provider, job_client
from finetune_kit.errors import JobTimeout

if TYPE_CHECKING:
    from finetune_kit.cost.estimator import TrainingEstimate
    from finetune_kit.jobs.client import JobClient
    from finetune_kit.jobs.models import Job, JobEvent
    from finetune_kit.validation.engine import Method

JOB_ARGUMENT = typer.Argument(metavar="JOB_ID", help="The job id (ftjob-...).", show_default=False)
_POLL_INTERVAL = CONVENTIONS["poll_interval"].option()


def _client(poll_interval: float = 10.0, provider: Provider = Provider.openai) -> JobClient:
    return job_client(provider, poll_interval)


def _print_job(job: Job, output_format: OutputFormat) -> None:
    if output_format is OutputFormat.json:
        print_json(job.to_dict())
    else:
        console.print(job)


class _Follow:
    """A live view of a running job on a TTY; plain event lines elsewhere."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.start = time.monotonic()
        self.status = "starting"
        self.step: Any = "—"
        self.loss: Any = "—"
        self.last = ""
        self.live: Live | None = None

    def _table(self) -> Table:
        table = Table(show_header=False, box=None)
        table.add_column(style="bold")
        table.add_column()
        table.add_row("status", self.status)
        table.add_row("elapsed", f"{time.monotonic() - self.start:,.0f} s")
        table.add_row("step", str(self.step))
        table.add_row("train loss", str(self.loss))
        table.add_row("last event", self.last)
        return table

    def __enter__(self) -> _Follow:
        if self.enabled and console.is_terminal:
            self.live = Live(self._table(), console=console, refresh_per_second=4)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def on_event(self, event: JobEvent) -> None:
        if event.type == "metrics":
            total = event.data.get("total_steps")
            self.step = f"{event.data.get('step')}/{total}" if total else event.data.get("step")
            loss = event.data.get("train_loss")
            self.loss = f"{loss:.4f}" if isinstance(loss, int | float) else loss
        else:
            self.last = event.message
            if self.enabled and self.live is None:
                console.print(str(event), markup=False)
        self._refresh()

    def on_poll(self, job: Job) -> None:
        self.status = job.status
        self._refresh()

    def _refresh(self) -> None:
        if self.live is not None:
            self.live.update(self._table())


def _print_estimate(estimate: TrainingEstimate) -> None:
    console.print(estimate)


@app.command()
def train(
    file: Annotated[Path, file_argument("Training data (JSONL, never modified).")],
    model: Annotated[str, model_option("Base model to fine-tune.")],
    validation_file: Annotated[
        Path | None,
        typer.Option(metavar="PATH", help="Validation data (JSONL).", show_default="none"),
    ] = None,
    validation_split: Annotated[
        float | None,
        typer.Option(
            metavar="SHARE",
            min=0.0,
            max=0.5,
            help="Hold out this share of FILE for validation.",
            show_default="none",
        ),
    ] = None,
    epochs: Annotated[int | None, EPOCHS] = None,
    method: Annotated[MethodChoice | None, METHOD] = None,
    suffix: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="Added to the model's name.", show_default="none"),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(metavar="N", help="Seed (also for the split).", show_default="random"),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Follow the job.")] = False,
    poll_interval: Annotated[float, _POLL_INTERVAL] = 10.0,
    timeout: Annotated[
        float | None,
        typer.Option(
            metavar="SECONDS",
            help="Stop waiting after this many seconds.",
            show_default="wait until it ends",
        ),
    ] = None,
    yes: Annotated[bool, YES] = False,
    pii: Annotated[PIIChoice, PII] = PIIChoice.warn,
    provider: Annotated[Provider, PROVIDER_OPTION] = Provider.openai,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Validate and price FILE, then upload it and start a fine-tuning job.

    Asks for confirmation on a terminal unless --yes. With --wait, follows the job and exits
    0 only if it succeeded.
    """
    from finetune_kit.cost.estimator import CostEstimator
    from finetune_kit.lifecycle import LIFECYCLE_CODES, LifecycleWarning
    from finetune_kit.validation.engine import Validator

    if validation_file is not None and validation_split is not None:
        fail("give --validation-file or --validation-split, not both")
    method_name: Method | None = None if method is None else method.value
    with errors_as_exit():
        estimator = CostEstimator(
            provider=provider.value, validator=Validator(profile=provider.value)
        )
        estimate = estimator.estimate_training(file, model, n_epochs=epochs, method=method_name)
    text = output_format is OutputFormat.text
    wind_down = [f for f in estimate.findings if f.code in LIFECYCLE_CODES]
    if text:
        _print_estimate(estimate)
        for f in wind_down:
            colour = "red" if f.severity.value == "error" else "yellow"
            err_console.print(f"[{colour}]{f.code}[/]: {escape(f.message)}")
            err_console.print(f"  [dim]{escape(f.hint)}[/]")
    if not estimate.ok:
        if not text:
            print_json({"status": "invalid", **estimate.to_dict()})
        else:
            data_errors = any(f.code not in LIFECYCLE_CODES for f in estimate.errors)
            reason = "the data has errors" if data_errors else "OpenAI no longer accepts this job"
            err_console.print(f"[red]{reason}; nothing was uploaded[/]")
        raise typer.Exit(EXIT_FINDINGS)
    if (
        not yes
        and sys.stdin.isatty()
        and console.is_terminal
        and estimate.training_cost is not None
    ):
        typer.confirm(
            f"Start a fine-tuning job on {model} for about "
            f"{estimate.currency} {estimate.training_cost:.2f}?",
            abort=True,
        )
    with errors_as_exit(), warnings.catch_warnings():
        warnings.simplefilter("ignore", LifecycleWarning)  # printed above already
        client = _client(poll_interval, provider)
        job = client.train(
            file,
            model,
            validation_data=validation_file,
            validation_split=validation_split,
            method=cast("Method", estimate.method),  # what the file holds (or --method)
            n_epochs=epochs,
            suffix=suffix,
            seed=seed,
            wait=False,
            pii=pii.value,
        )
        if text:
            console.print(
                f"started [bold]{job.id}[/] ({job.status})" + (" — reused" if job.reused else "")
            )
        if wait:
            job = _follow(client, job, timeout=timeout, show=text)
    summary = {
        "id": job.id,
        "status": job.status,
        "model": job.model,
        "fine_tuned_model": job.fine_tuned_model,
        "training_file": job.training_file,
        "validation_file": job.validation_file,
        "trained_tokens": job.trained_tokens,
        "estimated_cost": (
            float(round(estimate.training_cost, 6)) if estimate.training_cost is not None else None
        ),
        "currency": estimate.currency,
        "error": None
        if job.error is None
        else {"code": job.error.code, "message": job.error.message},
        "provider": job.provider,
        "provider_status": job.provider_status,
    }
    if text:
        console.print(job)
    else:
        print_json(summary)
    if wait and not job.succeeded:
        if text and job.error:
            err_console.print(f"[red]job {job.status}:[/] {job.error}")
        raise typer.Exit(EXIT_FINDINGS)


def _follow(client: JobClient, job: Job, *, timeout: float | None, show: bool) -> Job:
    follow = _Follow(enabled=show)
    with follow:
        try:
            return client.wait(
                job,
                timeout=timeout,
                on_event=follow.on_event,
                on_poll=follow.on_poll,
                raise_on_failure=False,
            )
        except JobTimeout as exc:
            fail(str(exc), code=EXIT_FINDINGS)


@app.command()
def status(
    job_id: Annotated[str, JOB_ARGUMENT],
    provider: Annotated[Provider, PROVIDER_OPTION] = Provider.openai,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Show a job."""
    with errors_as_exit():
        job = _client(provider=provider).get(job_id)
    _print_job(job, output_format)


@app.command()
def events(
    job_id: Annotated[str, JOB_ARGUMENT],
    follow: Annotated[bool, typer.Option("--follow", help="Keep printing until it ends.")] = False,
    poll_interval: Annotated[float, _POLL_INTERVAL] = 10.0,
    provider: Annotated[Provider, PROVIDER_OPTION] = Provider.openai,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Print a job's events, oldest first (with --follow, new ones as they come)."""
    as_json = output_format is OutputFormat.json

    def show(event: JobEvent) -> None:
        if as_json:
            print_json(
                {
                    "id": event.id,
                    "created_at": event.created_at,
                    "level": event.level,
                    "type": event.type,
                    "message": event.message,
                    "data": event.data,
                }
            )
        else:
            console.print(str(event), markup=False)

    with errors_as_exit():
        client = _client(poll_interval, provider)
        if follow:
            client.wait(job_id, on_event=show, raise_on_failure=False)
        else:
            for event in client.events(job_id):
                show(event)


@app.command()
def metrics(
    job_id: Annotated[str, JOB_ARGUMENT],
    output: Annotated[
        Path | None,
        CONVENTIONS["output"].option("Write the metrics as CSV here.", default_text="none"),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(metavar="PATH", help="Write a loss/accuracy PNG here.", show_default="none"),
    ] = None,
    provider: Annotated[Provider, PROVIDER_OPTION] = Provider.openai,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Training metrics per step (from the result file, or live from events)."""
    from finetune_kit._io import atomic_write

    with errors_as_exit():
        frame = _client(provider=provider).metrics(job_id)
        if output is not None:
            with atomic_write(output) as fh:
                frame.to_csv(fh, index=False)
        if plot is not None:
            from finetune_kit.plots import metrics_plot, save_figure

            save_figure(metrics_plot(frame, title=f"{job_id} ({frame.attrs.get('status')})"), plot)
    if output_format is OutputFormat.json:
        print_json(frame.to_dict(orient="records"))
        return
    table = Table(*[str(c) for c in frame.columns])
    shown = (
        frame
        if len(frame) <= 20
        else frame.iloc[list(range(10)) + list(range(len(frame) - 10, len(frame)))]
    )
    for row in shown.itertuples(index=False):
        table.add_row(*[_cell(v) for v in row])
    console.print(table)
    console.print(
        f"{len(frame)} steps"
        + (f"; wrote {output}" if output else "")
        + (f"; plot {plot}" if plot else "")
    )


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return str(value)


@app.command()
def checkpoints(
    job_id: Annotated[str, JOB_ARGUMENT],
    provider: Annotated[Provider, PROVIDER_OPTION] = Provider.openai,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """List a job's checkpoints (one per epoch, the last three kept)."""
    with errors_as_exit():
        items = _client(provider=provider).checkpoints(job_id)
    if output_format is OutputFormat.json:
        print_json([vars(c) for c in items])
        return
    table = Table("step", "checkpoint model", "train loss", "valid loss")
    for c in items:
        table.add_row(
            str(c.step_number),
            c.fine_tuned_model_checkpoint,
            str(c.metrics.get("train_loss", "—")),
            str(c.metrics.get("valid_loss", "—")),
        )
    console.print(table)


def _job_action(
    action: str, job_id: str, output_format: OutputFormat, provider: Provider = Provider.openai
) -> None:
    with errors_as_exit():
        job = getattr(_client(provider=provider), action)(job_id)
    _print_job(job, output_format)


@app.command()
def cancel(
    job_id: Annotated[str, JOB_ARGUMENT],
    provider: Annotated[Provider, PROVIDER_OPTION] = Provider.openai,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Cancel a job that has not ended."""
    _job_action("cancel", job_id, output_format, provider)


@app.command()
def pause(
    job_id: Annotated[str, JOB_ARGUMENT],
    provider: Annotated[Provider, PROVIDER_OPTION] = Provider.openai,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Pause a running job."""
    _job_action("pause", job_id, output_format, provider)


@app.command()
def resume(
    job_id: Annotated[str, JOB_ARGUMENT],
    provider: Annotated[Provider, PROVIDER_OPTION] = Provider.openai,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Resume a paused job."""
    _job_action("resume", job_id, output_format, provider)


@app.command("list")
def list_jobs(
    limit: Annotated[
        int, typer.Option(metavar="N", min=1, help="How many jobs, newest first.")
    ] = 20,
    provider: Annotated[Provider, PROVIDER_OPTION] = Provider.openai,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """List recent fine-tuning jobs."""
    with errors_as_exit():
        jobs = _client(provider=provider).list(limit)
    if output_format is OutputFormat.json:
        print_json([j.to_dict() for j in jobs])
        return
    table = Table("id", "status", "model", "fine-tuned model")
    for j in jobs:
        table.add_row(j.id, j.status, j.model, j.fine_tuned_model or "—")
    console.print(table)


@app.command()
def ask(
    model: Annotated[
        str,
        typer.Argument(
            metavar="MODEL",
            help="The model, e.g. ft:gpt-4o-mini-...:my-org::abc.",
            show_default=False,
        ),
    ],
    question: Annotated[
        str, typer.Argument(metavar="QUESTION", help="What to ask.", show_default=False)
    ],
    system: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="A system prompt.", show_default="none"),
    ] = None,
    provider: Annotated[Provider, PROVIDER_OPTION] = Provider.openai,
    output_format: Annotated[OutputFormat, FORMAT_OPTION] = OutputFormat.text,
) -> None:
    """Ask a (fine-tuned) model one question."""
    with errors_as_exit():
        answer = _client(provider=provider).ask(model, question, system=system)
    if output_format is OutputFormat.json:
        print_json({"model": model, "question": question, "answer": answer})
    else:
        console.print(answer, markup=False)
    raise typer.Exit(EXIT_OK)
