"""Benchmark the PII detectors: precision/recall on the labelled corpus, and streaming throughput.

Usage:
    python benchmarks/bench_privacy.py            # corpus table + 200 MB streaming run
    python benchmarks/bench_privacy.py --size-mb 20 --strategy pseudonym
    python benchmarks/bench_privacy.py --no-tables --baseline /tmp/old   # before/after

The big file is generated once into ``benchmarks/_data/`` (gitignored). Each timed run happens in
its own subprocess, which reports its wall time, its CPU time (user + system, worker processes
included) and peak RSS (``resource.getrusage``), so the numbers of one run do not leak into the
other. The reference is a plain streaming copy of the same file: read a line, ``json.loads``,
``json.dumps``, write. With ``--baseline DIR`` (a checkout holding another version of
``finetune_kit``), that version redacts the same file in the same run and the outputs are
compared byte for byte. On a machine shared with other work, wall time (MB/s) depends on the
load; CPU seconds per MB much less.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "pii_corpus.jsonl"
CORPUS_INTL = ROOT / "tests" / "data" / "pii_corpus_intl.jsonl"
DATA = Path(__file__).resolve().parent / "_data"

# --------------------------------------------------------------------------- corpus table


def corpus_table() -> dict[str, dict[str, float]]:
    from finetune_kit.privacy.redaction import scan_text

    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    texts = []
    for raw in CORPUS.read_text(encoding="utf-8").splitlines():
        entry = json.loads(raw)
        text = entry["text"]
        texts.append(text)
        want = Counter((p["code"], p["value"]) for p in entry["pii"])
        got = Counter((m.code, text[m.start : m.end]) for m in scan_text(text))
        for (code, _), n in (want & got).items():
            tp[code] += n
        for (code, _), n in (got - want).items():
            fp[code] += n
        for (code, _), n in (want - got).items():
            fn[code] += n
    rows = {}
    print(f"{'code':22} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>9} {'recall':>7}")
    for code in sorted(set(tp) | set(fp) | set(fn)):
        p = tp[code] / (tp[code] + fp[code]) if tp[code] + fp[code] else 1.0
        r = tp[code] / (tp[code] + fn[code]) if tp[code] + fn[code] else 1.0
        rows[code] = {"precision": p, "recall": r}
        print(f"{code:22} {tp[code]:4} {fp[code]:4} {fn[code]:4} {p:9.3f} {r:7.3f}")
    total = sum(len(t.encode()) for t in texts)
    start = time.perf_counter()
    rounds = 200
    for _ in range(rounds):
        for t in texts:
            scan_text(t)
    took = time.perf_counter() - start
    print(
        f"scan_text on the corpus ({len(texts)} strings): "
        f"{total * rounds / 1e6 / took:.1f} MB/s, {len(texts) * rounds / took:,.0f} strings/s"
    )
    return rows


def intl_table() -> None:
    """Recall per kind and look-alikes kept per kind on the second corpus (docs/privacy.md)."""
    from finetune_kit.privacy.redaction import scan_text

    recall: dict[str, list[int]] = {}
    kept: dict[str, list[int]] = {}
    for raw in CORPUS_INTL.read_text(encoding="utf-8").splitlines():
        entry = json.loads(raw)
        text = entry["text"]
        got = {(m.code, text[m.start : m.end]) for m in scan_text(text, region=entry.get("region"))}
        if entry["pii"]:
            row = recall.setdefault(entry["kind"], [0, 0])
            for pii in entry["pii"]:
                row[0] += (pii["code"], pii["value"]) in got
                row[1] += 1
        else:
            row = kept.setdefault(entry["kind"], [0, 0])
            row[0] += not got
            row[1] += 1
    print(f"\n{CORPUS_INTL.relative_to(ROOT)}\n| kind | found | recall |\n|---|---:|---:|")
    for kind, (hit, n) in sorted(recall.items()):
        print(f"| {kind} | {hit} / {n} | {hit / n:.3f} |")
    hits, values = sum(v[0] for v in recall.values()), sum(v[1] for v in recall.values())
    print(f"| **all** | {hits} / {values} | **{hits / values:.3f}** |")
    print("\n| look-alike kind | kept | share kept |\n|---|---:|---:|")
    for kind, (ok, n) in sorted(kept.items()):
        print(f"| {kind} | {ok} / {n} | {ok / n:.3f} |")
    ok, n = sum(v[0] for v in kept.values()), sum(v[1] for v in kept.values())
    print(f"| **all** | {ok} / {n} | **{ok / n:.3f}** |")


def detect_secrets_table() -> None:
    """detect-secrets on the same corpus: secrets found, other strings flagged, speed."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import default_settings, transient_settings

    rows = [json.loads(raw) for raw in CORPUS_INTL.read_text(encoding="utf-8").splitlines()]
    secrets = [r for r in rows if r["kind"] in ("secret", "url_credentials")]
    others = [r for r in rows if r["kind"] not in ("secret", "url_credentials")]
    names = [
        c.__name__
        for c in get_mapping_from_secret_type_to_class().values()
        if "Entropy" not in c.__name__
    ]
    for label, settings in (
        ("all plugins", default_settings()),
        (
            "without the entropy plugins",
            transient_settings({"plugins_used": [{"name": n} for n in names]}),
        ),
    ):
        with settings:
            start = time.perf_counter()
            hit = 0
            for r in secrets:
                value = r["pii"][0]["value"]
                found = [
                    s.secret_value or "" for ln in r["text"].splitlines() for s in scan_line(ln)
                ]
                hit += any(f and (f in value or value in f) for f in found)
            flagged = sum(
                1
                for r in others
                if any(True for ln in r["text"].splitlines() for _ in scan_line(ln))
            )
            took = time.perf_counter() - start
        print(
            f"detect-secrets, {label}: {hit} / {len(secrets)} secrets found, "
            f"{flagged} / {len(others)} other strings flagged, {len(rows) / took:,.0f} strings/s"
        )


# --------------------------------------------------------------------------- big file

_QUESTIONS = [
    "How many epochs should I use when fine-tuning gpt-4o-mini-2024-07-18 on {n} examples?",
    "My job ftjob-{id} failed with invalid_tool_arguments on line {n}. What does that mean?",
    "Why is my validation loss {f} while training loss is {g} after {n} steps?",
    "I upgraded to openai=={v} and tiktoken 0.7.0, now counting {n} tokens takes {g} s.",
    "Can you explain the learning_rate_multiplier of {f} vs {g}?",
    (
        "Here is my code:\n```python\nimport json\n"
        "rows = [json.loads(l) for l in open('train.jsonl')]\n"
        "print(len(rows), sum(len(r['messages']) for r in rows))  # {n}\n```\nWhy is it slow?"
    ),
    "The estimate says ${f} for {n} tokens at $8.00/1M. Is that right for 3 epochs?",
    "Commit {sha} broke the tokenizer; file-{id} has {n} lines.",
]
_ANSWERS = [
    "Hark! For {n} examples, three epochs sufficeth; the cookbook's heuristic doth agree.",
    "Verily, the error saith thy arguments be not valid JSON. Check line {n}, good sir.",
    "A gap of {f} versus {g} may signal overfitting; lower the epochs or add data, I pray.",
    "Forsooth, version {v} counteth the same; {n} tokens at {g} s is but the first-call cost.",
    "A multiplier of {f} learneth faster than {g}, yet may stumble; start low and watch the loss.",
    (
        "Thy loop readeth every line twice. Stream it:\n```python\nfor line in open(p):\n"
        "    row = json.loads(line)\n```\nand {n} rows shall fly."
    ),
    "Aye, ${f} for {n} tokens is right: tokens times epochs times the price per million.",
    "Revert {sha} and re-run; the file of {n} lines shall then validate.",
]
_PII = [
    "Email me at jane.doe{n}@example.com.",
    "Call me on +44 20 7946 {n4}.",
    "My card 4242 4242 4242 4242 was charged twice.",
    "Refund to DE89 3704 0044 0532 0130 00 please.",
    "Key sk-proj-4fGh8JkL2mNp6QrS0tUv9WxY{n4}AbCd leaked.",
    "The server at 10.1.{b}.{c} is down.",
]


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        n=rng.randint(10, 99999),
        n4=f"{rng.randint(0, 9999):04d}",
        b=rng.randint(0, 255),
        c=rng.randint(1, 254),
        f=f"{rng.random() * 3:.3f}",
        g=f"{rng.random() * 3:.3f}",
        v=f"1.{rng.randint(30, 60)}.{rng.randint(0, 9)}",
        id="".join(rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGH0123456789") for _ in range(16)),
        sha="".join(rng.choice("0123456789abcdef") for _ in range(40)),
    )


def make_file(path: Path, size_mb: int, pii_rate: float = 0.03) -> None:
    """Write a chat JSONL of about ``size_mb`` MB; ``pii_rate`` of the examples hold PII."""
    if path.exists() and abs(path.stat().st_size - size_mb * 1e6) < size_mb * 1e6 * 0.05:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    target = size_mb * 1_000_000
    written = 0
    with path.open("w", encoding="utf-8") as fh:
        while written < target:
            k = rng.randrange(len(_QUESTIONS))
            user = _fill(_QUESTIONS[k], rng)
            if rng.random() < pii_rate:
                user += " " + _fill(rng.choice(_PII), rng)
            messages = [
                {"role": "system", "content": "Thou art a helpful assistant of the Bard's tongue."},
                {"role": "user", "content": user},
                {"role": "assistant", "content": _fill(_ANSWERS[k], rng)},
            ]
            if rng.random() < 0.1:
                args = json.dumps({"query": _fill(rng.choice(_QUESTIONS), rng), "top_k": 5})
                messages.append(
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "id": f"call_{rng.randint(0, 10**9)}",
                                "type": "function",
                                "function": {"name": "search_docs", "arguments": args},
                            }
                        ],
                    }
                )
            line = json.dumps({"messages": messages}, ensure_ascii=False) + "\n"
            fh.write(line)
            written += len(line.encode())


# --------------------------------------------------------------------------- timed children

_CHILD_REFERENCE = """
import json, resource, sys, time
src, dst = sys.argv[1], sys.argv[2]
t = time.perf_counter()
with open(src, "rb") as fi, open(dst, "wb") as fo:
    for raw in fi:
        fo.write(json.dumps(json.loads(raw), ensure_ascii=False).encode() + b"\\n")
took = time.perf_counter() - t
me = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": took, "maxrss_kb": me.ru_maxrss, "cpu": me.ru_utime + me.ru_stime}))
"""

_CHILD_REDACT = """
import json, resource, sys, time
from finetune_kit.privacy.redaction import redact_file
src, dst, strategy, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def cpu():
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
t, c = time.perf_counter(), cpu()
report = redact_file(src, dst, strategy=strategy, secret="bench-secret", workers=workers)
took, used = time.perf_counter() - t, cpu() - c
rss = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
          resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"seconds": took, "cpu": used, "maxrss_kb": rss,
                  "counts": report.counts, "changed": report.examples_changed,
                  "dropped": report.examples_dropped}))
"""


def _run(code: str, *args: str, path: Path | None = None) -> dict[str, object]:
    # From the data folder: `python -c` puts the working directory first on sys.path, and a
    # checkout there would shadow the version asked for (``path``, put on PYTHONPATH).
    env = {**os.environ, "PYTHONPATH": str(path)} if path is not None else None
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=DATA,
        env=env,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def streaming(size_mb: int, strategy: str, workers: int, baseline: Path | None = None) -> None:
    src = DATA / f"chat_{size_mb}mb.jsonl"
    print(f"\ngenerating {src.relative_to(ROOT)} ...", flush=True)
    make_file(src, size_mb)
    mb = src.stat().st_size / 1e6
    dst = DATA / f"chat_{size_mb}mb.redacted.jsonl"
    old = DATA / f"chat_{size_mb}mb.baseline.jsonl"
    print(f"load average before: {_load()}")
    runs = [("reference (loads+dumps copy)", _run(_CHILD_REFERENCE, str(src), str(dst)))]
    if baseline is not None:
        args = (str(src), str(old), strategy, str(workers))
        runs.append((f"baseline ({workers} workers)", _run(_CHILD_REDACT, *args, path=baseline)))
    for n in sorted({1, workers}):
        red = _run(_CHILD_REDACT, str(src), str(dst), strategy, str(n))
        runs.append((f"redact_file({strategy}, workers={n})", red))
    if baseline is not None:
        same = old.read_bytes() == dst.read_bytes()
        print(f"baseline output {'identical' if same else 'DIFFERENT'} to this version's")
        old.unlink()
    dst.unlink(missing_ok=True)
    print(f"file: {mb:.1f} MB; load average after: {_load()}")
    head = f"{'run':34} {'seconds':>8} {'MB/s':>7} {'CPU s':>7} {'CPU s/100MB':>11}"
    print(f"{head} {'peak RSS MB':>12}")
    for name, r in runs:
        secs = float(r["seconds"])  # type: ignore[arg-type]
        cpu = float(r["cpu"])  # type: ignore[arg-type]
        rss = float(r["maxrss_kb"]) / 1024  # type: ignore[arg-type]
        print(
            f"{name:34} {secs:8.2f} {mb / secs:7.1f} {cpu:7.2f} {cpu / mb * 100:11.2f} {rss:12.1f}"
        )
    print(
        f"redaction: {red['changed']} examples changed, {red['dropped']} dropped, "
        f"counts {red['counts']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--strategy", default="mask", choices=["mask", "pseudonym", "drop"])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-file", action="store_true", help="only the corpus tables")
    parser.add_argument("--no-tables", action="store_true", help="only the streaming run")
    parser.add_argument(
        "--baseline", type=Path, default=None, help="a checkout to compare with (same run)"
    )
    parser.add_argument(
        "--detect-secrets", action="store_true", help="also run detect-secrets on the corpus"
    )
    args = parser.parse_args()
    if not args.no_tables:
        corpus_table()
        intl_table()
    if args.detect_secrets:
        detect_secrets_table()
    if not args.no_file:
        baseline = args.baseline.resolve() if args.baseline is not None else None
        streaming(args.size_mb, args.strategy, args.workers, baseline)


if __name__ == "__main__":
    main()
