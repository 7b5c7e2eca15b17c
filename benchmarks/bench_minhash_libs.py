"""Benchmark: datasketch against rensa for the MinHash + LSH step of ``finetune-kit dedupe``.

Both get the same word shingles (3 words, from the examples of ``bench_estimate.py`` with the
system prompt left out, as ``dedupe --near`` compares them), 128 permutations:

- signatures per second (shingling not included; datasketch: ``MinHash.bulk`` with its
  default SHA-1 hashing, on the first 2,000; rensa: ``RMinHash.update``);
- memory and time of each library's own LSH index holding the same (rensa) signatures
  (threshold 0.8), next to finetune-kit's ``NearIndex`` and grouping (16 bands of 8 rows, the
  low byte of each slot kept);
- the similar pairs found through rensa's index and through finetune-kit's grouping.

Needs ``pip install datasketch`` (not a dependency of finetune-kit).

Usage:
    python benchmarks/bench_minhash_libs.py             # 20,000 examples + 2,000 copies
    python benchmarks/bench_minhash_libs.py --n 3000
"""

from __future__ import annotations

import argparse
import gc
import itertools
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

    from finetune_kit.dedupe import NearConfig, NearIndex, example_words, group_near
    from finetune_kit.dedupe.signature import _shingles

    try:
        import datasketch
    except ImportError:
        raise SystemExit("pip install datasketch to run this comparison") from None
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20_000, help="examples (plus 10%% near-copies)")
    ap.add_argument("--n-datasketch", type=int, default=2_000, help="signatures timed there")
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
    del examples
    n = len(shingles)
    print(
        f"{n:,} examples, {sum(map(len, shingles)) / n:,.0f} shingles each on average; "
        f"datasketch {datasketch.__version__}"
    )

    gc.collect()
    before = _rss_mib()
    t0 = time.perf_counter()
    r_sigs = []
    for sh in shingles:
        m = rensa.RMinHash(128, 1)
        m.update(sh)
        r_sigs.append(m)
    t_r = time.perf_counter() - t0
    mem_objects = _rss_mib() - before
    k = min(n, args.n_datasketch)
    encoded = [[s.encode("utf-8") for s in sh] for sh in shingles[:k]]
    t0 = time.perf_counter()
    datasketch.MinHash.bulk(encoded, num_perm=128, seed=1)
    t_d = time.perf_counter() - t0
    print(
        f"signatures: rensa {n / t_r:9,.0f}/s, datasketch {k / t_d:7,.0f}/s "
        f"(rensa {k / t_d and (n / t_r) / (k / t_d):.0f}x faster); {n:,} rensa RMinHash "
        f"objects: +{mem_objects:.0f} MiB"
    )
    digests = [np.asarray(m.digest(), dtype=np.uint64) for m in r_sigs]

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
    for i, d in enumerate(digests):  # the same signatures, as datasketch objects
        d_lsh.insert(i, datasketch.LeanMinHash(seed=1, hashvalues=d, scheme="legacy"))
    t_dl = time.perf_counter() - t0
    mem_d = _rss_mib() - before
    del d_lsh
    gc.collect()
    before = _rss_mib()
    t0 = time.perf_counter()
    index = NearIndex(config)
    for i, d in enumerate(digests):
        index.add(i + 1, d.astype(np.uint32), 0, 1.0)
    groups, _, _ = group_near(index, None, "first")
    t_n = time.perf_counter() - t0
    mem_n = _rss_mib() - before
    cols = index.columns()
    state = sum(getattr(cols, f).nbytes for f in ("lines", "sig", "bands", "keys", "length"))
    state += cols.weight.nbytes
    print(
        f"index of {n:,} signatures (+ query): rensa RMinHashLSH {t_rl:5.2f} s, "
        f"+{mem_r:4.0f} MiB (plus its RMinHash objects); datasketch MinHashLSH (insert only) "
        f"{t_dl:5.2f} s, +{mem_d:4.0f} MiB; finetune-kit NearIndex + grouping {t_n:5.2f} s, "
        f"+{mem_n:4.0f} MiB (its arrays: {state / 2**20:.1f} MiB, {state / n:.0f} bytes each)"
    )

    r_pairs = {
        (i, j)
        for i, cs in enumerate(r_cand)
        for j in cs
        if i < j and r_sigs[i].jaccard(r_sigs[j]) >= 0.8
    }
    ours = {(a - 1, b - 1) for g in groups for a, b in itertools.combinations(g.lines, 2)}
    print(
        f"similar pairs (planted {args.n // 10:,}): rensa's index {len(r_pairs):,}, "
        f"finetune-kit {len(ours):,}, both {len(ours & r_pairs):,}"
    )


if __name__ == "__main__":
    main()
