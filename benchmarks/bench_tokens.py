"""Benchmark: gpt-oss (harmony) counting against tiktoken's plain count, on the same file.

Uses the chat file of ``bench_estimate.py`` (default about 200 MB, ~60,000 examples, generated
into ``benchmarks/_data/`` the same way and reused when present) and times, in this process,
one after the other on the same parsed examples:

(a) the reference: tiktoken's plain count, ``len(o200k_base.encode_ordinary(text))`` of every
    message's content (no chat format, no trainable split);
(b) ``HarmonyTokenizer.count_example``: the example rendered in the harmony format (default
    system message, developer instructions, channels), billed **and** trainable tokens, and
    the cut at the maximum training length;
(c) for comparison, finetune-kit's OpenAI count (``Tokenizer.count_raw``, the cookbook method
    with its cache of repeated strings such as system prompts, which (b) has too).

All read the same parsed lines (parsing is timed separately and not included; the parsed
objects are frozen out of the garbage collector's way). It prints the wall times, the ratios
(b)/(a) and (b)/(c) and the totals. With ``--estimate`` it also times the whole
``finetune-kit estimate`` pass (validation + counting, one process per core) for
``gpt-4o-mini-2024-07-18`` and ``openai/gpt-oss-20b`` with ``--price-per-1m``.

Usage:
    python benchmarks/bench_tokens.py                 # ~200 MB
    python benchmarks/bench_tokens.py --size-mb 20    # quicker
    python benchmarks/bench_tokens.py --estimate      # + the full estimate pass, both models
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_estimate import DATA_DIR, generate  # noqa: E402


def _load(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def plain_tiktoken(examples: list[dict[str, Any]]) -> int:
    import tiktoken

    encode = tiktoken.get_encoding("o200k_base").encode_ordinary
    total = 0
    for ex in examples:
        for m in ex["messages"]:
            total += len(encode(m["content"]))
    return total


def cookbook(examples: list[dict[str, Any]]) -> int:
    from finetune_kit.tokens import Tokenizer

    count = Tokenizer("o200k_base").count_raw
    return sum(count(ex, "chat") for ex in examples)


def harmony(examples: list[dict[str, Any]]) -> tuple[int, int, int]:
    from finetune_kit.tokens import HarmonyTokenizer

    tok = HarmonyTokenizer("openai/gpt-oss-20b", max_length=4096)
    billed = trainable = truncated = 0
    for ex in examples:
        c = tok.count_example(ex)
        billed += c.billed
        trainable += c.trainable
        truncated += c.truncated
    return billed, trainable, truncated


def _timed(fn: Any, *args: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def _estimate(path: Path, model: str) -> float:
    cmd = [
        sys.executable,
        "-m",
        "finetune_kit.cli",
        "estimate",
        str(path),
        "--model",
        model,
        "--price-per-1m",
        "0.40",
        "--format",
        "json",
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    took = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"estimate failed for {model}: {proc.stderr.strip()}")
    data = json.loads(proc.stdout)
    print(
        f"  estimate {model}: {took:.1f} s, billed/epoch {data['billed_tokens_per_epoch']:,}, "
        f"trainable/epoch {data.get('trainable_tokens_per_epoch')}"
    )
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=200)
    parser.add_argument("--system-pool", type=int, default=8)
    parser.add_argument("--estimate", action="store_true", help="also time the estimate pass")
    args = parser.parse_args()

    path = DATA_DIR / f"chat-{args.size_mb:g}mb-pool{args.system_pool}.jsonl"
    if not path.exists():
        generate(path, args.size_mb, args.system_pool)
    t_parse, examples = _timed(_load, path)
    # The parsed file stays in memory for all three counts: keep the cyclic collector from
    # walking it again and again (the estimate's workers disable it for the same reason).
    gc.freeze()
    size = path.stat().st_size / 2**20
    print(f"{path.name}: {len(examples):,} examples, {size:,.0f} MiB (parsed in {t_parse:.1f} s)")

    t_plain, plain = _timed(plain_tiktoken, examples)
    t_harmony, (billed, trainable, truncated) = _timed(harmony, examples)
    t_cookbook, cookbook_total = _timed(cookbook, examples)
    print(f"(a) tiktoken plain count (o200k_base): {t_plain:6.1f} s  {plain:,} tokens")
    print(
        f"(b) gpt-oss harmony billed+trainable:  {t_harmony:6.1f} s  billed {billed:,}, "
        f"trainable {trainable:,} ({100 * trainable / billed:.1f}%), "
        f"{truncated:,} over 4,096 tokens"
    )
    print(
        f"(c) finetune-kit OpenAI count (cached):   {t_cookbook:6.1f} s  {cookbook_total:,} tokens"
    )
    print(f"ratio (b)/(a): {t_harmony / t_plain:.2f}x the time of the plain count")
    print(f"ratio (b)/(c): {t_harmony / t_cookbook:.2f}x the time of the OpenAI count")
    print(f"format overhead: {billed - plain:,} tokens ({100 * (billed - plain) / plain:.1f}%)")

    if args.estimate:
        del examples
        t_openai = _estimate(path, "gpt-4o-mini-2024-07-18")
        t_oss = _estimate(path, "openai/gpt-oss-20b")
        print(f"estimate ratio gpt-oss / gpt-4o-mini: {t_oss / t_openai:.2f}x")


if __name__ == "__main__":
    main()
