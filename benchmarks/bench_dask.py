"""Benchmark: the Dask engine with 1 and 2 workers against the one-machine path, same run.

On the 200 MiB file of ``bench_estimate.py`` (generated into ``benchmarks/_data/`` when
missing, same seed and shape), it times in one run, one after the other:

- ``finetune-kit estimate FILE --jobs 1`` and ``--jobs 2`` (the one-machine path: one process,
  or a process pool over byte ranges), each in its own process, with its peak memory;
- ``engines.dask.estimate`` on a ``LocalCluster`` of 1, then 2 worker processes (one thread
  each), started once per size outside the timing; the figures per worker (peak RSS and CPU
  seconds) come from the workers themselves (``Client.run``);
- the same for ``validate`` (one machine: one process; Dask: 2 workers).

Then it checks that the Dask results are identical to the one-machine ones (every finding, the
token totals, the stats) and prints it. The machine this runs on may be shared: throughput
ratios measured side by side in one run mean more than the absolute figures.

Usage:
    python benchmarks/bench_dask.py                  # 200 MiB, blocks of 32 MiB
    python benchmarks/bench_dask.py --size-mb 50 --blocksize 8MiB
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_estimate import DATA_DIR, MODEL, _load, generate, run_measured  # noqa: E402


def _worker_figures() -> dict[str, float]:
    """Run on a worker: its peak RSS (MiB) and CPU seconds so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"peak_mib": usage.ru_maxrss / 1024, "cpu": usage.ru_utime + usage.ru_stime}


def _cli(args: list[str]) -> tuple[Any, float, str]:
    """Run a command in its own process: its JSON, wall time, and CPU time and peak memory."""
    cmd = [sys.executable, "-c", "from finetune_kit.cli import main; main()", *args]
    m = run_measured([*cmd, "--format", "json"])
    return json.loads(m.out), m.wall, f"{m.cpu:.1f} s CPU, peak RSS {m.peak_kib / 1024:.0f} MiB"


def _on_dask(
    what: str, path: Path, workers: int, blocksize: str
) -> tuple[Any, float, list[dict[str, float]], float]:
    """Run ``what`` on a fresh local cluster; result, wall time, per-worker figures, start-up."""
    import logging

    from distributed import Client, LocalCluster

    from finetune_kit import Validator
    from finetune_kit.engines import dask as on_dask

    t0 = time.perf_counter()
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: __import__("finetune_kit.engines.dask"))  # imports outside timing
        startup = time.perf_counter() - t0
        before = client.run(_worker_figures)
        here = _worker_figures()["cpu"]  # this process: the client, the scheduler, the nannies
        t1 = time.perf_counter()
        if what == "estimate":
            result: Any = on_dask.estimate(str(path), MODEL, client=client, blocksize=blocksize)
        else:
            result = on_dask.validate(
                str(path), validator=Validator(), client=client, blocksize=blocksize
            )
        wall = time.perf_counter() - t1
        here = _worker_figures()["cpu"] - here
        after = client.run(_worker_figures)
    figures = [
        {"peak_mib": after[w]["peak_mib"], "cpu": after[w]["cpu"] - before[w]["cpu"]}
        for w in sorted(after)
    ]
    figures.append({"peak_mib": _worker_figures()["peak_mib"], "cpu": here, "driver": 1.0})
    # compared with the command line's JSON: through JSON the same way (money as strings)
    return json.loads(json.dumps(result.to_dict(), default=str)), wall, figures, startup


def _figures(figures: list[dict[str, float]]) -> str:
    """``workers: ...; driver: ...`` (peak RSS and CPU seconds of each process)."""
    workers = [f for f in figures if "driver" not in f]
    (driver,) = [f for f in figures if "driver" in f]
    total = sum(f["cpu"] for f in figures)
    each = ", ".join(f"{f['peak_mib']:.0f} MiB peak / {f['cpu']:.1f} s CPU" for f in workers)
    return f"workers: {each}; client+scheduler: {driver['cpu']:.1f} s CPU; all: {total:.1f} s CPU"


def _line(label: str, wall: float, size_mib: float, extra: str) -> None:
    print(f"{label:34} {wall:7.2f} s  {size_mib / wall:6.1f} MiB/s  {extra}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mb", type=float, default=200, help="dataset size in MiB")
    ap.add_argument("--blocksize", default="32MiB", help="bytes per Dask partition")
    ap.add_argument("--skip-validate", action="store_true", help="only time the estimate")
    args = ap.parse_args()

    path = DATA_DIR / f"chat-{args.size_mb:g}mb-pool8.jsonl"
    if not path.exists():
        generate(path, args.size_mb, "pooled", 8)
    size_mib = path.stat().st_size / 2**20
    print(f"dataset: {path.name} ({size_mib:,.0f} MiB), blocks of {args.blocksize}, load {_load()}")

    same = True
    local: dict[int, tuple[Any, float]] = {}
    for jobs in (1, 2):
        out, wall, figures = _cli(["estimate", str(path), "--model", MODEL, "--jobs", str(jobs)])
        local[jobs] = (out, wall)
        _line(f"estimate, one machine, --jobs {jobs}", wall, size_mib, figures)
    for workers in (1, 2):
        out, wall, figures, startup = _on_dask("estimate", path, workers, args.blocksize)
        per_worker = _figures(figures)
        overhead = wall / local[workers][1]
        started = (wall + startup) / local[workers][1]
        _line(
            f"estimate, Dask, {workers} worker(s)",
            wall,
            size_mib,
            f"{overhead:.2f}x the --jobs {workers} wall ({started:.2f}x "
            f"with the cluster's start, {startup:.1f} s); {per_worker}",
        )
        identical = out == local[1][0]
        same &= identical
        print(f"  identical to the one-machine estimate (findings, tokens, stats): {identical}")
    print(
        f"estimate: {local[1][0]['n_examples']:,} examples, "
        f"{local[1][0]['total_tokens_per_epoch']:,} tokens per epoch"
    )
    if not args.skip_validate:
        out, wall, figures = _cli(["validate", str(path)])
        _line("validate, one machine (one process)", wall, size_mib, figures)
        d_out, d_wall, figures, startup = _on_dask("validate", path, 2, args.blocksize)
        per_worker = _figures(figures)
        _line(
            "validate, Dask, 2 workers",
            d_wall,
            size_mib,
            f"{wall / d_wall:.2f}x faster than one process; {per_worker}",
        )
        identical = d_out == out
        same &= identical
        print(
            f"  identical to the one-machine validation ({len(out['errors'])} errors, "
            f"{len(out['warnings'])} warnings): {identical}"
        )
    print(f"results identical on {path.name}: {same}; load after: {_load()}")
    if not same:
        raise SystemExit("the Dask results differ from the one-machine results")


if __name__ == "__main__":
    main()
