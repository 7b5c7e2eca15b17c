"""A small fine-tuning service: asyncio workers that train one model per dataset.

Dataset paths go into a queue; a few workers take them one at a time and run each through
``AsyncJobClient.train`` (validate, upload, create the job, follow it), so several jobs run at
once. Every job event is logged, and every dataset ends as an ``Outcome``: ``succeeded``,
``failed`` or ``cancelled`` (the job ended badly: ``JobFailed``), ``rejected`` (the data has
validation errors: nothing was uploaded), ``timeout`` (still running when the wait ended: the job
is *not* cancelled) or ``error`` (any other finetune-kit error, such as a refused API call).

Offline, against finetune-kit's loopback emulator of the OpenAI API (the default)::

    python examples/service.py                    # three datasets cut from the bundled sample
    python examples/service.py --inject-failure   # the same, and the first job created fails
    python examples/service.py a.jsonl b.jsonl    # your own files, still on the emulator

Against the real API (reads ``OPENAI_API_KEY``; real jobs cost money)::

    python examples/service.py --no-emulator a.jsonl b.jsonl --model gpt-4.1-nano-2025-04-14

The exit code is 0 when every job succeeded, 1 otherwise, 2 on bad arguments. Submitting the
same file twice (or restarting the service) does not start a second job: finetune-kit finds
the existing upload and job and returns them (``job.reused``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from finetune_kit import (
    AsyncJobClient,
    Dataset,
    FinetuneKitError,
    JobEvent,
    JobFailed,
    JobTimeout,
    ValidationFailed,
)

log = logging.getLogger("finetune_service")

DEFAULT_MODEL = "gpt-4.1-nano-2025-04-14"


@dataclass(frozen=True)
class Outcome:
    """What became of one dataset."""

    path: Path
    status: str
    job_id: str | None = None
    fine_tuned_model: str | None = None
    detail: str = ""


class TrainingService:
    """Trains one model per dataset, at most ``concurrency`` jobs at a time.

    Args:
        jobs: The client (share one per process; it holds no per-job state).
        model: The base model to fine-tune.
        concurrency: How many datasets are in flight at once.
        timeout: Longest wait for one job, in seconds (``None``: no limit).
    """

    def __init__(
        self,
        jobs: AsyncJobClient,
        model: str,
        *,
        concurrency: int = 3,
        timeout: float | None = None,
    ) -> None:
        self.jobs = jobs
        self.model = model
        self.concurrency = concurrency
        self.timeout = timeout

    async def run(self, paths: Iterable[str | Path]) -> list[Outcome]:
        """Train on every dataset and return the outcomes in the order of ``paths``."""
        queue: asyncio.Queue[tuple[int, Path]] = asyncio.Queue()
        for index, path in enumerate(paths):
            queue.put_nowait((index, Path(path)))
        outcomes: dict[int, Outcome] = {}
        workers = [
            asyncio.create_task(self._worker(queue, outcomes), name=f"worker-{n}")
            for n in range(1, self.concurrency + 1)
        ]
        try:
            await queue.join()
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        return [outcomes[i] for i in sorted(outcomes)]

    async def _worker(
        self, queue: asyncio.Queue[tuple[int, Path]], out: dict[int, Outcome]
    ) -> None:
        while True:
            index, path = await queue.get()
            try:
                out[index] = await self.train_one(path)
            except Exception as exc:  # a worker must survive anything one dataset does
                log.exception("[%s] unexpected error", path.stem)
                out[index] = Outcome(path, "error", detail=repr(exc))
            finally:
                queue.task_done()

    async def train_one(self, path: Path) -> Outcome:
        """Validate, upload and train on one dataset, logging the job's events."""
        name = path.stem

        def on_event(event: JobEvent) -> None:
            if event.type != "metrics":  # one metrics event per step: too many to log
                log.info("[%s] %s", name, event.message)

        log.info("[%s] starting on %s", name, self.model)
        try:
            job = await self.jobs.train(
                path, self.model, suffix=_suffix(name), timeout=self.timeout, on_event=on_event
            )
        except ValidationFailed as exc:
            first = exc.report.errors[0]
            detail = f"{len(exc.report.errors)} error(s), first: line {first.line} {first.code}"
            log.warning("[%s] rejected: %s", name, detail)
            return Outcome(path, "rejected", detail=detail)
        except JobFailed as exc:
            job = exc.job
            detail = str(job.error) if job is not None and job.error else str(exc)
            status = job.status if job is not None else "failed"
            log.error("[%s] %s: %s", name, status, detail)
            return Outcome(path, status, job.id if job is not None else None, detail=detail)
        except JobTimeout as exc:
            log.warning("[%s] still %s after the timeout", name, exc.last_status)
            return Outcome(path, "timeout", exc.job_id, detail=str(exc))
        except FinetuneKitError as exc:
            log.error("[%s] %s", name, exc)
            return Outcome(path, "error", detail=str(exc))
        if job.reused:
            log.info("[%s] the same job already existed: %s", name, job.id)
        log.info("[%s] done: %s", name, job.fine_tuned_model)
        return Outcome(path, "succeeded", job.id, job.fine_tuned_model)


def _suffix(name: str) -> str:
    """A model-name suffix from a file name (letters, digits and dashes; OpenAI allows 64)."""
    return re.sub(r"[^A-Za-z0-9-]+", "-", name).strip("-")[:40] or "dataset"


def sample_parts(folder: Path, parts: int = 3) -> list[Path]:
    """Cut the bundled 50-example sample into ``parts`` JSONL files (10+ examples each)."""
    sample = Dataset.sample()
    size = -(-len(sample) // parts)
    return [
        sample[i * size : (i + 1) * size].to_jsonl(folder / f"sample-part-{i + 1}.jsonl")
        for i in range(parts)
    ]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, help="JSONL training files")
    parser.add_argument(
        "--emulator",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run against the loopback emulator (default) or, with --no-emulator, the real API",
    )
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"base model ({DEFAULT_MODEL})")
    parser.add_argument("--concurrency", type=int, default=3, help="jobs at once (3)")
    parser.add_argument("--timeout", type=float, default=None, help="longest wait per job (s)")
    parser.add_argument(
        "--inject-failure", action="store_true", help="emulator: make the first job created fail"
    )
    args = parser.parse_args(argv)
    if not args.emulator and not args.paths:
        parser.error("give the JSONL files to train on (the sample is for the emulator)")
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    return args


async def serve(args: argparse.Namespace, folder: Path) -> list[Outcome]:
    """Build the client (emulator or real API), run the service, close the client."""
    if args.emulator:
        from finetune_kit.testing import Emulator

        with Emulator(speed=2000) as emulator:
            log.info("emulator at %s: no real jobs, no cost", emulator.base_url)
            if args.inject_failure:
                emulator.fail_next_job("server_error", "The job failed due to an internal error.")
            async with emulator.async_client() as sdk:
                jobs = AsyncJobClient(sdk, poll_interval=0.05)
                service = TrainingService(
                    jobs, args.model, concurrency=args.concurrency, timeout=args.timeout
                )
                return await service.run(args.paths or sample_parts(folder))
    jobs = AsyncJobClient(poll_interval=15)  # reads OPENAI_API_KEY; raises ConfigError without
    try:
        service = TrainingService(
            jobs, args.model, concurrency=args.concurrency, timeout=args.timeout
        )
        return await service.run(args.paths)
    finally:
        await jobs.openai.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the service on the command line; return the exit code."""
    args = _parse(argv)
    # the service's own messages at INFO; the libraries' (one line per HTTP request) only above
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stdout)
    log.setLevel(logging.INFO)
    with tempfile.TemporaryDirectory(prefix="service-") as tmp:
        try:
            outcomes = asyncio.run(serve(args, Path(tmp)))
        except FinetuneKitError as exc:
            log.error("cannot start: %s", exc)
            return 2
    log.info("")
    for outcome in outcomes:
        where = outcome.fine_tuned_model or outcome.detail
        job = outcome.job_id or "-"
        log.info("%-24s %-10s %-32s %s", outcome.path.name, outcome.status, job, where)
    return 0 if all(o.status == "succeeded" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
