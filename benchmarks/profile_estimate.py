"""Where `estimate`'s time goes, stage by stage, in CPU microseconds per example.

Runs each stage of the estimate pass on its own, in this process, over the first
``--slice-mb`` MiB of a benchmark file (``bench_estimate.py`` writes them), and prints a table:

- read: cut the file into lines (``reading._iter_raw_lines``);
- parse: decode and parse every line (``iter_jsonl``, minus reading);
- rules: the validation engine without counting (every built-in rule, the tallies and the
  duplicate digest; parsed lines given in memory);
- of which digest: the duplicate digest alone (canonical JSON + hash; a plain example's
  messages hashed directly since the plain fast path);
- counting: ``Tokenizer.count_raw`` on every parsed example (a fresh cache), with the counter
  ``estimate`` uses on big files (tiktoken, or bpe-openai where the ``fast`` extra is in);
- worker pass: what one worker does for its byte ranges (read + parse + rules + counting);
- transfer: pickling and unpickling the result of each 8 MiB range;
- merge: folding the range results into one in the parent;
- process start: starting a pool of two workers with the estimate's initializer.

CPU time (``time.process_time``) is measured, not wall time, so other load on the machine
changes the figures less. The script imports only what both the current code and the code
before the plain fast path have, so the same command measures both (point ``PYTHONPATH`` at
an older checkout).

Usage:
    python benchmarks/profile_estimate.py --shape words
    python benchmarks/profile_estimate.py --shape pooled --slice-mb 40
"""

from __future__ import annotations

import argparse
import gc
import inspect
import os
import pickle
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA_DIR = HERE / "_data"
MODEL = "gpt-3.5-turbo"


def _cpu(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.process_time()
    result = func()
    return time.process_time() - start, result


def _slice(path: Path, mib: float) -> Path:
    """The first ``mib`` MiB of ``path``, whole lines, as a file beside it."""
    out = path.with_name(f"{path.stem}.first{mib:g}mb.jsonl")
    if not out.exists() or out.stat().st_mtime < path.stat().st_mtime:
        with path.open("rb") as src:
            data = src.read(int(mib * 2**20))
        out.write_bytes(data[: data.rfind(b"\n") + 1])
    return out


def _noop(_: int) -> int:
    return os.getpid()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", choices=["pooled", "words"], default="words")
    ap.add_argument("--size-mb", type=float, default=200, help="which benchmark file")
    ap.add_argument("--slice-mb", type=float, default=20, help="MiB of it to profile")
    ap.add_argument("--file", type=Path, help="profile this file instead")
    args = ap.parse_args()

    from finetune_kit.cost import estimator
    from finetune_kit.reading import _iter_raw_lines, iter_jsonl
    from finetune_kit.tokens import Tokenizer, encoding_name_for_model
    from finetune_kit.validation import Validator, engine

    suffix = "words" if args.shape == "words" else "pool8"
    source = args.file or DATA_DIR / f"chat-{args.size_mb:g}mb-{suffix}.jsonl"
    if not source.exists():
        raise SystemExit(f"{source} is missing: run bench_estimate.py --shape {args.shape} first")
    path = _slice(source, args.slice_mb) if args.file is None else source
    file = str(path)
    gc.disable()  # as in the workers

    validator = Validator(pii="off")
    encoding = encoding_name_for_model(MODEL)
    fast = "fast" in inspect.signature(Tokenizer).parameters
    size = path.stat().st_size
    use_fast = fast and size >= getattr(estimator, "FAST_COUNT_MIN_BYTES", 0)

    def tokenizer() -> Any:
        return Tokenizer(encoding, fast=True) if use_fast else Tokenizer(encoding)

    backend = getattr(tokenizer(), "backend", "tiktoken")
    spec = estimator._ScanSpec(MODEL, "supervised", "chat", file, 16_385)
    list(validator.scan(iter_jsonl(file), model=MODEL, method="supervised"))  # warm imports

    t_read, _ = _cpu(lambda: sum(1 for _ in _iter_raw_lines(file)))
    t_parse, lines = _cpu(lambda: list(iter_jsonl(file)))
    t_parse -= t_read
    values = [line.value for line in lines]
    n = len(values)
    t_rules, _ = _cpu(
        lambda: sum(1 for _ in validator.scan(lines, model=MODEL, method="supervised"))
    )
    digest = getattr(engine, "_example_digest", None) or getattr(engine, "_canonical_hash", None)
    t_digest, _ = _cpu(lambda: [digest(v) for v in values])
    tok = tokenizer()
    t_count, counts = _cpu(lambda: [tok.count_raw(v, "chat") for v in values])

    chunk = estimator._CHUNK_BYTES
    ranges = estimator.split_ranges(file, max(1, size // chunk))
    tok = tokenizer()
    t_pass, results = _cpu(
        lambda: [
            estimator._scan(
                validator,
                iter_jsonl(file, start=s, end=e),
                tok,
                spec,
                track_duplicates=True,
            )
            for s, e in ranges
        ]
    )
    t_transfer, blobs = _cpu(lambda: [pickle.loads(pickle.dumps(r)) for r in results])
    n_bytes = sum(len(pickle.dumps(r)) for r in results)
    t_merge, merged = _cpu(lambda: estimator._merge(blobs))
    assert list(merged.counts) == counts, "the worker pass and the counting stage disagree"

    init_args: tuple[Any, ...] = (encoding, validator)
    if len(inspect.signature(estimator._init_worker).parameters) == 3:
        init_args = (*init_args, use_fast)
    wall = time.perf_counter()
    with ProcessPoolExecutor(2, initializer=estimator._init_worker, initargs=init_args) as pool:
        list(pool.map(_noop, range(2)))
    t_start = time.perf_counter() - wall

    def row(name: str, seconds: float, note: str = "") -> None:
        print(f"| {name} | {seconds / n * 1e6:,.1f} | {seconds:,.2f} | {note} |")

    print(
        f"{path.name}: {n:,} examples, {size / 2**20:,.1f} MiB, {sum(counts):,} tokens; "
        f"counter {backend}; Python {sys.version.split()[0]}; load "
        + "/".join(f"{x:.2f}" for x in os.getloadavg())
    )
    print("\n| stage | CPU us per example | CPU s | note |")
    print("| --- | ---: | ---: | --- |")
    row("read", t_read)
    row("parse", t_parse)
    row("rules (engine, no counting)", t_rules)
    row("of which duplicate digest", t_digest)
    row("counting", t_count, backend)
    row("worker pass (read to counts)", t_pass, f"{len(ranges)} ranges")
    row("result transfer (pickle both ways)", t_transfer, f"{n_bytes / 2**10:,.0f} KiB")
    row("merge in the parent", t_merge)
    print(f"| process start (2 workers, wall) | | {t_start:.2f} | once per run |")


if __name__ == "__main__":
    main()
