"""Benchmark: `finetune-kit dedupe --near` next to the exact pass, at 20 MB and 200 MB.

Generates chat datasets (the examples of ``bench_estimate.py``: 1-3 turns of ASCII, accented
and CJK text under a pool of shared system prompts) with 10% planted near-copies (a sentence
appended, two typos, or case changes) into ``benchmarks/_data/``, then runs, each in its own
subprocess so that its memory is measured alone:

(a) ``finetune-kit dedupe FILE --format json``          exact duplicates (the reference);
(b) ``finetune-kit dedupe FILE --near --format json``   MinHash + LSH near-duplicates.

For each size it prints wall and CPU time, examples per second, peak RSS (largest process) and
the peak summed PSS of the process tree, and the near pass's ratios to the exact pass measured
in the same run; at the end, how memory grows from 20 MB to 200 MB.

With ``--baseline DIR`` (a checkout holding another version of ``finetune_kit``), that
version's near pass runs on the same files in the same run, and the reports are compared.

Usage:
    python benchmarks/bench_dedupe.py                    # 20 MB and 200 MB
    python benchmarks/bench_dedupe.py --sizes 20 --jobs 1
    python benchmarks/bench_dedupe.py --baseline /tmp/old
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_estimate import DATA_DIR, Generator, Measure, _load, run_measured  # noqa: E402


def best_of(cmd: list[str], repeat: int, env: dict[str, str] | None = None) -> Measure:
    """The fastest of ``repeat`` runs; memory is the largest of them."""
    runs = [run_measured(cmd, env) for _ in range(max(1, repeat))]
    best = min(runs, key=lambda m: m.wall)
    best.peak_kib = max(m.peak_kib for m in runs)
    best.tree_kib = max(m.tree_kib for m in runs)
    return best


def _near_copy(example: dict[str, Any], rng: random.Random, gen: Generator) -> dict[str, Any]:
    copy = json.loads(json.dumps(example))
    last = copy["messages"][-1]
    kind = rng.randrange(3)
    if kind == 0:
        last["content"] += " " + rng.choice(gen.sentences)
    elif kind == 1:
        words = last["content"].split(" ")
        for i in rng.sample(range(len(words)), min(2, len(words))):
            w = words[i]
            if len(w) > 3:
                words[i] = w[0] + w[2] + w[1] + w[3:]
        last["content"] = " ".join(words)
    else:
        copy["messages"][1]["content"] = copy["messages"][1]["content"].upper()
    return copy


def generate(path: Path, size_mb: float, copies: float = 0.1) -> None:
    target = int(size_mb * 1024 * 1024)
    gen = Generator(seed=11)
    rng = random.Random(5)
    recent: list[dict[str, Any]] = []
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    written = n = 0
    t0 = time.perf_counter()
    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
        while written < target:
            if recent and rng.random() < copies:
                ex = _near_copy(rng.choice(recent), rng, gen)
            else:
                ex = gen.example()
                recent = [*recent[-499:], ex]
            line = json.dumps(ex, ensure_ascii=False) + "\n"
            fh.write(line)
            written += len(line.encode("utf-8"))
            n += 1
    tmp.replace(path)
    print(
        f"generated {path.name}: {n:,} examples, {written / 2**20:,.0f} MiB "
        f"in {time.perf_counter() - t0:.0f} s"
    )


def _line(label: str, m: Measure, n: int) -> str:
    return (
        f"  {label:<6} {m.wall:7.2f} s wall, {m.cpu:7.2f} s CPU, {n / m.wall:8,.0f} examples/s "
        f"({n / m.cpu:,.0f} per CPU-second); "
        f"peak RSS {m.peak_kib / 1024:5.0f} MiB (largest process), "
        f"{m.tree_kib / 1024:5.0f} MiB (all processes, PSS)"
    )


def _comparable(out: str) -> Any:
    """A JSON report without its timings."""
    report = json.loads(out)
    for key in ("scan_seconds", "group_seconds"):
        report["stats"].pop(key, None)
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[20, 200], help="sizes in MiB")
    ap.add_argument("--jobs", type=int, default=None, help="worker processes")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each; the fastest counts")
    ap.add_argument("--regenerate", action="store_true", help="rebuild the datasets")
    ap.add_argument("--baseline", type=Path, default=None, help="a checkout to compare with")
    args = ap.parse_args()
    env = None
    if args.baseline is not None:
        env = {**os.environ, "PYTHONPATH": str(args.baseline.resolve())}

    memory: dict[float, dict[str, int]] = {}
    for size in args.sizes:
        path = DATA_DIR / f"dedupe-{size:g}mb.jsonl"
        if args.regenerate or not path.exists():
            generate(path, size)
        print(f"dataset: {path.name} ({path.stat().st_size / 2**20:,.0f} MiB), load {_load()}")
        base = [sys.executable, "-m", "finetune_kit.cli", "dedupe", str(path)]
        base += ["--format", "json"] + (["--jobs", str(args.jobs)] if args.jobs else [])
        exact = best_of(base, args.repeat)
        near = best_of([*base, "--near"], args.repeat)
        e_stats = json.loads(exact.out)["stats"]
        n_stats = json.loads(near.out)["stats"]
        n = e_stats["examples_in"]
        print(_line("exact", exact, n))
        print(f"         {e_stats['n_groups']:,} groups, {e_stats['examples_removed']:,} removed")
        print(_line("near", near, n))
        print(
            f"         {n_stats['n_groups']:,} groups, {n_stats['examples_removed']:,} removed, "
            f"{n_stats['candidate_pairs']:,} candidate pairs verified; scan "
            f"{n_stats['scan_seconds']:.1f} s, grouping {n_stats['group_seconds']:.1f} s"
        )
        print(
            f"  near / exact: {near.wall / exact.wall:.2f}x wall, {near.cpu / exact.cpu:.2f}x "
            f"CPU, {near.peak_kib / exact.peak_kib:.2f}x peak RSS; load after {_load()}"
        )
        memory[size] = {"exact": exact.peak_kib, "near": near.peak_kib}
        if env is not None:
            old = best_of([*base, "--near"], args.repeat, env)
            print(_line("before", old, n) + " (--baseline)")
            same = _comparable(old.out) == _comparable(near.out)
            print(f"         baseline report {'identical' if same else 'DIFFERENT'}")
            memory[size]["before"] = old.peak_kib
    if len(memory) > 1:
        small, big = min(memory), max(memory)
        for mode in memory[small]:
            a, b = memory[small][mode], memory[big][mode]
            print(
                f"memory {mode}: {a / 1024:.0f} MiB at {small:g} MB -> {b / 1024:.0f} MiB at "
                f"{big:g} MB ({b / a:.2f}x for {big / small:g}x the data)"
            )


if __name__ == "__main__":
    main()
