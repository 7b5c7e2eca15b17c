"""Benchmark: datasketch against rensa for the MinHash + LSH step of ``finetune-kit dedupe``.

Both get the same word shingles (3 words, from the examples of ``bench_estimate.py`` with the
system prompt left out, as ``dedupe --near`` compares them), 128 permutations:

- signatures per second (shingling not included; datasketch: ``MinHash.bulk`` with its
  default SHA-1 hashing; rensa: ``RMinHash.update`` + ``digest``);
- memory and time of each library's own LSH index holding every signature (threshold 0.8),
  next to the numpy banding finetune-kit uses (16 bands of 8 rows, low byte of each slot kept);
- agreement: the share of pairs both libraries call similar, on planted near-copies.

Needs ``pip install datasketch`` (not a dependency of finetune-kit).

Usage:
    python benchmarks/bench_minhash_libs.py            # 3,000 examples
    python benchmarks/bench_minhash_libs.py --n 10000
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_estimate import Generator  # noqa: E402


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    import numpy as np
    import rensa

    from finetune_kit.dedupe import NearConfig, NearIndex, example_words
    from finetune_kit.dedupe.signature import _shingles

    try:
        import datasketch
    except ImportError:
        raise SystemExit("pip install datasketch to run this comparison") from None
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=3000, help="examples")
    args = ap.parse_args()

    config = NearConfig()
    gen = Generator(seed=3)
    rng = random.Random(1)
    examples = [gen.example() for _ in range(args.n)]
    for ex in rng.sample(examples, args.n // 10):  # planted near-copies: a sentence appended
        copy = {"messages": [dict(m) for m in ex["messages"]]}
        copy["messages"][-1]["content"] += " " + rng.choice(gen.sentences)
        examples.append(copy)
    shingles = [_shingles(example_words(ex, config), config.shingle) for ex in examples]
    n = len(shingles)
    print(f"{n:,} examples, {sum(map(len, shingles)) / n:,.0f} shingles each on average")
    print(
        f"rensa {rensa.__version__ if hasattr(rensa, '__version__') else ''}, datasketch "
        f"{datasketch.__version__ if hasattr(datasketch, '__version__') else ''}"
    )

    t0 = time.perf_counter()
    r_sigs = []
    for sh in shingles:
        m = rensa.RMinHash(128, 1)
        m.update(sh)
        r_sigs.append(m)
    t_r = time.perf_counter() - t0
    encoded = [[s.encode("utf-8") for s in sh] for sh in shingles]
    t0 = time.perf_counter()
    d_sigs = datasketch.MinHash.bulk(encoded, num_perm=128, seed=1)
    t_d = time.perf_counter() - t0
    print(
        f"signatures: rensa {n / t_r:10,.0f}/s, datasketch {n / t_d:8,.0f}/s "
        f"(rensa {t_d / t_r:.1f}x faster)"
    )

    gc.collect()
    before = _rss_mib()
    t0 = time.perf_counter()
    r_lsh = rensa.RMinHashLSH(0.8, 128, 16)
    for i, m in enumerate(r_sigs):
        r_lsh.insert(i, m)
    r_cand = r_lsh.query_all(r_sigs)
    t_rl = time.perf_counter() - t0
    mem_r = _rss_mib() - before
    gc.collect()
    before = _rss_mib()
    t0 = time.perf_counter()
    d_lsh = datasketch.MinHashLSH(threshold=0.8, num_perm=128)
    for i, m in enumerate(d_sigs):
        d_lsh.insert(i, m)
    d_cand = [d_lsh.query(m) for m in d_sigs]
    t_dl = time.perf_counter() - t0
    mem_d = _rss_mib() - before
    gc.collect()
    before = _rss_mib()
    t0 = time.perf_counter()
    index = NearIndex(config)
    for i, m in enumerate(r_sigs):
        index.add(i + 1, np.asarray(m.digest(), np.uint32), 0, 1.0)
    from finetune_kit.dedupe import group_near

    groups, _, _ = group_near(index, None, "first")
    t_n = time.perf_counter() - t0
    mem_n = _rss_mib() - before
    print(
        f"LSH index + query of all: rensa {t_rl:6.2f} s, +{mem_r:5.1f} MiB; datasketch "
        f"{t_dl:6.2f} s, +{mem_d:5.1f} MiB; numpy banding + verification {t_n:6.2f} s, "
        f"+{mem_n:5.1f} MiB"
    )

    def similar(cands: list[list[int]], sigs: list[object], jac: object) -> set[tuple[int, int]]:
        out = set()
        for i, cs in enumerate(cands):
            for j in cs:
                if i < j and jac(sigs[i], sigs[j]) >= 0.8:  # type: ignore[operator]
                    out.add((i, j))
        return out

    r_pairs = similar(r_cand, r_sigs, lambda a, b: a.jaccard(b))
    d_pairs = similar(d_cand, d_sigs, lambda a, b: a.jaccard(b))
    ours = {p for g in groups for p in zip(g.lines[:-1], g.lines[1:], strict=True)}
    both = len(r_pairs & d_pairs) / max(1, len(r_pairs | d_pairs))
    print(
        f"similar pairs: rensa {len(r_pairs):,}, datasketch {len(d_pairs):,}, agreement "
        f"{both:.1%}; finetune-kit groups {len(groups):,} (planted {args.n // 10:,}, "
        f"{len(ours):,} linked pairs)"
    )


if __name__ == "__main__":
    main()
